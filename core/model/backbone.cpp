#include "model/backbone.h"

#include "common/error.h"
#include "model/autoint.h"
#include "model/dcnv1.h"
#include "model/dcnv2.h"
#include "model/deepfm.h"
#include "model/din.h"
#include "model/layers.h"
#include "model/mf.h"
#include "model/xdeepfm.h"

#include <algorithm>
#include <unordered_set>

namespace sllmr {

torch::Tensor BackboneImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);
    auto out = torch::empty({numUsers, m_numItems}, u.options().dtype(torch::kFloat));
    model_detail::forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto blockUsers = u.narrow(0, ub, uc).repeat_interleave(ic);
            const auto blockItems = torch::arange(ib, ib + ic, u.options()).repeat({uc});
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(
                forward(blockUsers, blockItems).view({uc, ic}));
        });
    return out;
}

BackboneImpl::RowScorer BackboneImpl::rowScorer()
{
    return [this](const torch::Tensor& users, const torch::Tensor& items) {
        torch::NoGradGuard noGrad;
        return forward(users, items);
    };
}

std::vector<torch::Tensor> BackboneImpl::sparseParameters()
{
    std::vector<torch::Tensor> result;
    for (const auto& m : modules(/*include_self=*/false)) {
        if (const auto* e = dynamic_cast<const torch::nn::EmbeddingImpl*>(m.get())) {
            if (e->options.sparse())
                result.push_back(e->weight);
        } else if (const auto* b = dynamic_cast<const torch::nn::EmbeddingBagImpl*>(m.get())) {
            if (b->options.sparse())
                result.push_back(b->weight);
        }
    }
    return result;
}

std::vector<torch::Tensor> BackboneImpl::denseParameters()
{
    std::unordered_set<const c10::TensorImpl*> sparse;
    for (const auto& p : sparseParameters())
        sparse.insert(p.unsafeGetTensorImpl());
    std::vector<torch::Tensor> result;
    for (const auto& p : parameters())
        if (!sparse.count(p.unsafeGetTensorImpl()))
            result.push_back(p);
    return result;
}

std::shared_ptr<BackboneImpl> makeBackbone(const ModelSpec& spec, const BackboneContext& context)
{
    if (context.numUsers <= 0 || context.numItems <= 0)
        throw Error(ErrorKind::Usage, "a backbone needs at least one user and one item");
    if (spec.type == "mf")
        return std::make_shared<MFImpl>(spec, context);
    if (spec.type == "deepfm")
        return std::make_shared<DeepFMImpl>(spec, context);
    if (spec.type == "dcnv2")
        return std::make_shared<DCNv2Impl>(spec, context);
    if (spec.type == "xdeepfm")
        return std::make_shared<XDeepFMImpl>(spec, context);
    if (spec.type == "autoint")
        return std::make_shared<AutoIntImpl>(spec, context);
    if (spec.type == "dcnv1")
        return std::make_shared<DCNv1Impl>(spec, context);
    if (spec.type == "din")
        return std::make_shared<DINImpl>(spec, context);
    std::string list;
    for (const auto& t : backboneTypes())
        list += (list.empty() ? "" : ", ") + t;
    throw Error(ErrorKind::Usage, "unknown backbone type '" + spec.type + "'", {}, 0,
                "known types: " + list);
}

std::vector<std::string> backboneTypes()
{
    return {"mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"};
}

}  // namespace sllmr
