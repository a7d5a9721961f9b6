#include "model/autoint.h"

#include "model/field_attention.h"

#include <string>

namespace sllmr {

using namespace model_detail;

AutoIntImpl::AutoIntImpl(const ModelSpec& spec, const BackboneContext& context)
    : m_heads(spec.attentionHeads), m_headDim(spec.attentionDim)
{
    m_numItems = context.numItems;
    m_fields = register_module("fields", FieldEmbeddings(spec, context, /*withFirstOrder=*/false));
    const std::int64_t m = m_fields->numFields();
    const std::int64_t width = m_heads * m_headDim;
    std::int64_t in = spec.dim;
    for (int l = 0; l < spec.attentionLayers; ++l) {
        m_projections.push_back(register_module("attention" + std::to_string(l),
                                                makeLinear(in, 4 * width, /*bias=*/false)));
        in = width;
    }
    m_out = register_module("out", makeLinear(m * width, 1));
    if (!spec.hidden.empty())
        m_dnn = register_module("dnn", Mlp(m * spec.dim, spec.hidden, spec.dropout));
}

torch::Tensor AutoIntImpl::project(std::size_t layer, const torch::Tensor& x)
{
    const auto b = x.size(0);
    const auto m = x.size(1);
    return applyLinear(m_projections[layer], x.reshape({b * m, x.size(2)})).view({b, m, -1});
}

torch::Tensor AutoIntImpl::interact(const torch::Tensor& projected) const
{
    // With m <= 3 fields the attention matrices are 3 x 3: plain loops per row and head
    // (model/field_attention.h).
    return fieldAttention(projected, m_heads, m_headDim);
}

torch::Tensor AutoIntImpl::finish(const torch::Tensor& projected, std::size_t fromLayer)
{
    auto x = interact(projected);
    for (std::size_t l = fromLayer; l < m_projections.size(); ++l)
        x = interact(project(l, x));
    return applyLinear(m_out, x.reshape({x.size(0), -1})).squeeze(1);
}

torch::Tensor AutoIntImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto x0 = m_fields->stacked(users, items);
    auto logit = finish(project(0, x0), 1);
    if (!m_dnn.is_empty())
        logit = logit + m_dnn(x0.view({x0.size(0), -1}));
    return logit;
}

torch::Tensor AutoIntImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);
    const auto d = m_fields->dim();
    const auto m = m_fields->numFields();
    const auto eu = m_fields->users(u);       // [U, d]
    const auto items = m_fields->allItems();  // [N, (m - 1) d]
    const auto itemWidth = items.size(1);
    const auto userProjected = project(0, eu.unsqueeze(1));                     // [U, 1, P]
    const auto itemProjected = project(0, items.view({m_numItems, m - 1, d}));  // [N, m - 1, P]
    const auto p = userProjected.size(2);

    torch::Tensor userPart, itemPart;
    std::int64_t widest = std::max(m * p, m * m * m_heads * m_headDim);
    if (!m_dnn.is_empty()) {
        auto& first = m_dnn->first();
        const auto w1 = first->weight;
        userPart = inferenceLinear(eu, w1.narrow(1, 0, d), first->bias);
        itemPart = inferenceLinear(items, w1.narrow(1, d, itemWidth));
        widest = std::max(widest, m_dnn->maxWidth());
    }

    auto out = torch::empty({numUsers, m_numItems}, eu.options());
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto projected =
                torch::cat(
                    {userProjected.narrow(0, ub, uc).unsqueeze(1).expand({uc, ic, 1, p}),
                     itemProjected.narrow(0, ib, ic).unsqueeze(0).expand({uc, ic, m - 1, p})},
                    2)
                    .view({uc * ic, m, p});
            auto logits = finish(projected, 1);
            if (!m_dnn.is_empty()) {
                logits = logits + m_dnn->forwardFromSum(userPart.narrow(0, ub, uc),
                                                        itemPart.narrow(0, ib, ic));
            }
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(logits.view({uc, ic}));
        },
        rowsForWidth(widest));
    return out;
}

}  // namespace sllmr
