#include "model/backbone.h"

#include "common/json_util.h"
#include "model/autoint.h"
#include "model/dcnv1.h"
#include "model/dcnv2.h"
#include "model/deepfm.h"
#include "model/din.h"
#include "model/layers.h"
#include "model/mf.h"
#include "model/xdeepfm.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_set>

namespace sllmr {
namespace {

// json_util's readers would accept 64.5 for an integer setting (nlohmann truncates); refuse it.
void requireIntegers(const nlohmann::json& j, const char* key, const std::string& prefix)
{
    if (!j.is_object() || !j.contains(key))
        return;
    const auto& v = j.at(key);
    const bool ok = v.is_array() ? std::all_of(v.begin(), v.end(),
                                               [](const auto& e) { return e.is_number_integer(); })
                                 : v.is_number_integer();
    if (!ok)
        throw Error(ErrorKind::Usage,
                    "setting '" + json_util::keyPath(prefix, key) + "' must be " +
                        (v.is_array() ? "a list of integers" : "an integer"),
                    {}, 0, "see 'sllmr config describe' for the expected type");
}

}  // namespace

void to_json(nlohmann::json& j, const ModelSpec& spec)
{
    j = nlohmann::json{{"type", spec.type},
                       {"dim", spec.dim},
                       {"hidden", spec.hidden},
                       {"cross_layers", spec.crossLayers},
                       {"cin_layers", spec.cinLayers},
                       {"attention_layers", spec.attentionLayers},
                       {"attention_heads", spec.attentionHeads},
                       {"attention_dim", spec.attentionDim},
                       {"history_length", spec.historyLength},
                       {"din_attention", spec.dinAttention},
                       {"dropout", spec.dropout},
                       {"item_features", spec.itemFeatures},
                       {"sparse_embeddings", spec.sparseEmbeddings}};
}

ModelSpec modelSpecFromJson(const nlohmann::json& j, const std::string& prefix)
{
    using namespace json_util;
    requireKeys(j,
                {"type", "dim", "hidden", "cross_layers", "cin_layers", "attention_layers",
                 "attention_heads", "attention_dim", "history_length", "din_attention", "dropout",
                 "item_features", "sparse_embeddings"},
                prefix);
    for (const char* key : {"dim", "hidden", "cross_layers", "cin_layers", "attention_layers",
                            "attention_heads", "attention_dim", "history_length", "din_attention"})
        requireIntegers(j, key, prefix);
    ModelSpec s;
    readChoice(j, "type", s.type, {"mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"},
               prefix);  // = backboneTypes()
    readRange(j, "dim", s.dim, 1, 1024, prefix);
    auto readSizes = [&](const char* key, std::vector<int>& sizes, bool allowEmpty) {
        read(j, key, sizes, prefix);
        if (sizes.empty() && !allowEmpty)
            throw Error(ErrorKind::Usage, "setting '" + keyPath(prefix, key) + "' is empty", {}, 0,
                        "give at least one layer size (1 .. 4096)");
        for (std::size_t k = 0; k < sizes.size(); ++k)
            if (sizes[k] < 1 || sizes[k] > 4096)
                throw Error(ErrorKind::Usage,
                            "setting '" + keyPath(prefix, key) + "' has the layer size " +
                                std::to_string(sizes[k]) + " at position " + std::to_string(k) +
                                ", which is out of range",
                            {}, 0,
                            std::string("allowed: 1 .. 4096 each") +
                                (allowEmpty ? " (an empty list means no layer)" : ""));
    };
    readSizes("hidden", s.hidden, true);
    readRange(j, "cross_layers", s.crossLayers, 0, 10, prefix);
    readSizes("cin_layers", s.cinLayers, true);
    readRange(j, "attention_layers", s.attentionLayers, 1, 10, prefix);
    readRange(j, "attention_heads", s.attentionHeads, 1, 16, prefix);
    readRange(j, "attention_dim", s.attentionDim, 1, 512, prefix);
    readRange(j, "history_length", s.historyLength, 1, 200, prefix);
    readSizes("din_attention", s.dinAttention, false);
    readRange(j, "dropout", s.dropout, 0.0, 0.9, prefix);
    read(j, "item_features", s.itemFeatures, prefix);
    read(j, "sparse_embeddings", s.sparseEmbeddings, prefix);
    return s;
}

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
