#include "model/dcnv2.h"

#include "model/item_fields.h"

#include <string>

namespace sllmr {

using namespace model_detail;

DCNv2Impl::DCNv2Impl(const ModelSpec& spec, const BackboneContext& context) : m_dim(spec.dim)
{
    m_numItems = context.numItems;
    const bool sparse = spec.sparseEmbeddings;
    m_user = register_module("user", makeEmbedding(context.numUsers, spec.dim, sparse, 0.01));
    m_item = register_module("item", makeEmbedding(context.numItems, spec.dim, sparse, 0.01));
    std::int64_t fields = 2;
    if (ItemFeatureFieldImpl::available(spec, context)) {
        m_features = register_module(
            "features", ItemFeatureField(context, spec.dim, sparse, /*withBias=*/false));
        ++fields;
    }
    const std::int64_t width = fields * spec.dim;
    for (int l = 0; l < spec.crossLayers; ++l)
        m_cross.push_back(register_module("cross" + std::to_string(l), makeLinear(width, width)));
    m_dnn = register_module("dnn", Mlp(width, spec.hidden, spec.dropout));
}

torch::Tensor DCNv2Impl::cross(const torch::Tensor& x0, torch::Tensor x, std::size_t fromLayer)
{
    const bool inference = !torch::GradMode::is_enabled();
    for (std::size_t l = fromLayer; l < m_cross.size(); ++l) {
        auto& layer = m_cross[l];
        const auto wx = inference ? inferenceLinear(x, layer->weight, layer->bias) : layer(x);
        x = torch::addcmul(x, x0, wx);
    }
    return x;
}

torch::Tensor DCNv2Impl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto x0 = torch::cat({m_user(users), itemColumns(m_item, m_features, items)}, 1);
    return m_dnn(cross(x0, x0, 0));
}

torch::Tensor DCNv2Impl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);

    const auto eu = m_user(u);         // [U, d]
    auto itemFields = m_item->weight;  // [N, d] or [N, 2d] with the feature field
    if (!m_features.is_empty())
        itemFields = torch::cat({itemFields, m_features->embed(m_features->allBags())}, 1);
    const auto itemWidth = itemFields.size(1);
    const auto width = m_dim + itemWidth;

    // The first affine map of x0, split by columns: W [u | I] x0 + b = (W_u e_u + b) + W_I e_I.
    auto& first = m_cross.empty() ? m_dnn->first() : m_cross.front();
    const auto w = first->weight;  // [out, width]
    const auto userPart = inferenceLinear(eu, w.narrow(1, 0, m_dim), first->bias);
    const auto itemPart = inferenceLinear(itemFields, w.narrow(1, m_dim, itemWidth));
    const auto outWidth = w.size(0);

    auto out = torch::empty({numUsers, m_numItems}, eu.options());
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto pre =
                (userPart.narrow(0, ub, uc).unsqueeze(1) + itemPart.narrow(0, ib, ic).unsqueeze(0))
                    .view({uc * ic, outWidth});
            torch::Tensor logits;
            if (m_cross.empty()) {
                logits = m_dnn->forwardFrom(pre);
            } else {
                const auto x0 =
                    torch::cat(
                        {eu.narrow(0, ub, uc).unsqueeze(1).expand({uc, ic, m_dim}),
                         itemFields.narrow(0, ib, ic).unsqueeze(0).expand({uc, ic, itemWidth})},
                        2)
                        .view({uc * ic, width});
                logits = m_dnn(cross(x0, torch::addcmul(x0, x0, pre), 1));
            }
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(logits.view({uc, ic}));
        },
        rowsForWidth(std::max(width, m_dnn->maxWidth())));
    return out;
}

}  // namespace sllmr
