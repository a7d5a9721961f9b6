#include "model/xdeepfm.h"

#include <algorithm>
#include <string>

namespace sllmr {

using namespace model_detail;

XDeepFMImpl::XDeepFMImpl(const ModelSpec& spec, const BackboneContext& context)
{
    m_numItems = context.numItems;
    m_fields = register_module("fields", FieldEmbeddings(spec, context, /*withFirstOrder=*/true));
    const std::int64_t m = m_fields->numFields();
    std::int64_t previous = m;
    std::int64_t pooled = 0;
    for (std::size_t k = 0; k < spec.cinLayers.size(); ++k) {
        const std::int64_t h = spec.cinLayers[k];
        m_cin.push_back(register_module("cin" + std::to_string(k), makeLinear(previous * m, h)));
        m_maxCinWidth = std::max(m_maxCinWidth, previous * m * spec.dim);
        previous = h;
        pooled += h;
    }
    if (!m_cin.empty())
        m_cinOut = register_module("cin_out", makeLinear(pooled, 1, /*bias=*/false));
    m_dnn = register_module("dnn", Mlp(m * spec.dim, spec.hidden, spec.dropout));
}

torch::Tensor XDeepFMImpl::cin(const torch::Tensor& x0)
{
    const auto b = x0.size(0);
    const auto m = x0.size(1);
    const auto d = x0.size(2);
    // Channels last: a row per (example, coordinate), so that each layer is one map over the
    // H_{k-1} m pair axis (cinLayer).
    const auto base = x0.transpose(1, 2).reshape({b * d, m});  // [B d, m]
    auto x = base;                                             // [B d, H_{k-1}]
    std::vector<torch::Tensor> pooled;
    for (auto& layer : m_cin) {
        x = cinLayer(x, base, layer->weight, layer->bias);
        pooled.push_back(x.view({b, d, -1}).sum(1));
    }
    return applyLinear(m_cinOut, torch::cat(pooled, 1)).squeeze(1);
}

torch::Tensor XDeepFMImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto x0 = m_fields->stacked(users, items);
    auto logit = m_fields->userWeight(users) + m_fields->itemWeight(items) +
                 m_dnn(x0.view({x0.size(0), -1}));
    if (!m_cin.empty())
        logit = logit + cin(x0);
    return logit;
}

torch::Tensor XDeepFMImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);
    const auto d = m_fields->dim();
    const auto m = m_fields->numFields();
    const auto eu = m_fields->users(u);       // [U, d]
    const auto items = m_fields->allItems();  // [N, (m - 1) d]
    const auto itemWidth = items.size(1);
    const auto wu = m_fields->userWeight(u);
    const auto wI = m_fields->allItemWeights();

    auto& first = m_dnn->first();
    const auto w1 = first->weight;
    const auto userPart = inferenceLinear(eu, w1.narrow(1, 0, d), first->bias);
    const auto itemPart = inferenceLinear(items, w1.narrow(1, d, itemWidth));

    auto out = wu.unsqueeze(1) + wI.unsqueeze(0);  // [U, N]
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            auto logits =
                m_dnn->forwardFromSum(userPart.narrow(0, ub, uc), itemPart.narrow(0, ib, ic));
            if (!m_cin.empty()) {
                const auto x0 =
                    torch::cat({eu.narrow(0, ub, uc).unsqueeze(1).expand({uc, ic, d}),
                                items.narrow(0, ib, ic).unsqueeze(0).expand({uc, ic, itemWidth})},
                               2)
                        .view({uc * ic, m, d});
                logits = logits + cin(x0);
            }
            out.narrow(0, ub, uc).narrow(1, ib, ic).add_(logits.view({uc, ic}));
        },
        rowsForWidth(std::max(m_maxCinWidth, m_dnn->maxWidth())));
    return out;
}

}  // namespace sllmr
