// ModelSpec as JSON: the model section of a run config, read key by key with the reasons a bad
// value is refused. Torch-free (the run config and the fuzz target of tests/fuzz link it alone).
#include "model/model_spec.h"

#include "common/error.h"
#include "common/json_util.h"

#include <nlohmann/json.hpp>

#include <algorithm>

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

}  // namespace sllmr
