#include "model/dcnv1.h"

#include <cmath>

namespace sllmr {

using namespace model_detail;

DCNv1Impl::DCNv1Impl(const ModelSpec& spec, const BackboneContext& context)
{
    m_numItems = context.numItems;
    m_fields = register_module("fields", FieldEmbeddings(spec, context, /*withFirstOrder=*/false));
    const std::int64_t width = m_fields->numFields() * m_fields->dim();
    const double bound = std::sqrt(6.0 / static_cast<double>(width + 1));  // Xavier, [width, 1]
    {
        torch::NoGradGuard noGrad;
        m_crossWeight = torch::empty({spec.crossLayers, width}).uniform_(-bound, bound);
        m_crossBias = torch::zeros({spec.crossLayers, width});
    }
    if (spec.crossLayers > 0) {  // an empty parameter would never receive a gradient
        m_crossWeight = register_parameter("cross_weight", m_crossWeight);
        m_crossBias = register_parameter("cross_bias", m_crossBias);
    }
    m_out = register_module("combine", makeLinear(width, 1, /*bias=*/false));
    m_dnn = register_module("dnn", Mlp(width, spec.hidden, spec.dropout));
}

torch::Tensor DCNv1Impl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    // The closed form of scoreAll (dcnv1.h): x0 enters only through x0 . w_l and x0 . c, a
    // [B, L + 1] table whose user part, like the DNN's user columns (forwardSharedLead), is
    // computed once per distinct user of the batch; then scalars per row, instead of L passes over
    // [B, width] rows forward and back.
    const auto user = distinctIds(users);
    const auto eu = m_fields->users(user.values);    // [U, d]
    const auto itemFields = m_fields->items(items);  // [B, width - d]
    const auto d = eu.size(1);
    const auto layers = m_crossWeight.size(0);
    const auto w = torch::cat({m_crossWeight, m_out->weight}, 0);  // [L + 1, width]: w_l, then c
    const auto dots = torch::mm(eu, w.narrow(1, 0, d).t()).index_select(0, user.rowOf) +
                      torch::mm(itemFields, w.narrow(1, d, itemFields.size(1)).t());
    torch::Tensor alpha;  // alpha_l; undefined while it is 1
    torch::Tensor beta;   // beta_l = b_0 + ... + b_{l-1}; undefined while it is 0
    for (std::int64_t l = 0; l < layers; ++l) {
        const auto next = dots.select(1, l) + 1.0;
        alpha = alpha.defined() ? alpha * next : next;
        if (beta.defined()) {
            alpha = alpha + beta.dot(m_crossWeight[l]);
            beta = beta + m_crossBias[l];
        } else {
            beta = m_crossBias[l];
        }
    }
    auto cross = dots.select(1, layers);
    if (alpha.defined())
        cross = alpha * cross + beta.dot(m_out->weight.squeeze(0));
    return cross + m_dnn->forwardSharedLead(eu, user.rowOf, itemFields);
}

torch::Tensor DCNv1Impl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);
    const auto d = m_fields->dim();
    const auto eu = m_fields->users(u);       // [U, d]
    const auto items = m_fields->allItems();  // [N, width - d]
    const auto itemWidth = items.size(1);
    const auto layers = m_crossWeight.size(0);

    // Scalar tables: column l < L is x0 . w_l, column L is x0 . c.
    const auto w = torch::cat({m_crossWeight, m_out->weight}, 0);  // [L + 1, width]
    const auto userDots = torch::mm(eu, w.narrow(1, 0, d).t());    // [U, L + 1]
    const auto itemDots = torch::mm(items, w.narrow(1, d, itemWidth).t());
    // beta_l . w_l and beta_L . c.
    std::vector<double> betaDotW(static_cast<std::size_t>(layers));
    auto beta = torch::zeros({w.size(1)});
    for (std::int64_t l = 0; l < layers; ++l) {
        betaDotW[static_cast<std::size_t>(l)] = beta.dot(m_crossWeight[l]).item<double>();
        beta = beta + m_crossBias[l];
    }
    const double betaDotC = beta.dot(m_out->weight.squeeze(0)).item<double>();

    auto out = torch::empty({numUsers, m_numItems}, eu.options());
    auto& first = m_dnn->first();
    const auto w1 = first->weight;  // [H1, width]
    const auto userPart = inferenceLinear(eu, w1.narrow(1, 0, d), first->bias);
    const auto itemPart = inferenceLinear(items, w1.narrow(1, d, itemWidth));
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto ud = userDots.narrow(0, ub, uc);
            const auto id = itemDots.narrow(0, ib, ic);
            auto dots = [&](std::int64_t l) {
                return ud.select(1, l).unsqueeze(1) + id.select(1, l).unsqueeze(0);  // [uc, ic]
            };
            auto alpha = torch::ones({uc, ic}, eu.options());
            for (std::int64_t l = 0; l < layers; ++l)
                alpha = alpha * (dots(l) + 1.0) + betaDotW[static_cast<std::size_t>(l)];
            const auto crossLogit = alpha * dots(layers) + betaDotC;
            const auto dnn =
                m_dnn->forwardFromSum(userPart.narrow(0, ub, uc), itemPart.narrow(0, ib, ic));
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(crossLogit + dnn.view({uc, ic}));
        },
        rowsForWidth(m_dnn->maxWidth()));
    return out;
}

}  // namespace sllmr
