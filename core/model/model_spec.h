#pragma once
// ModelSpec: the backbone part of a run config (type and sizes), as plain data. Torch-free, so
// that the run config, the Studio and the CLI compile without the LibTorch headers; the modules
// themselves are built from it by makeBackbone() (model/backbone.h).
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace sllmr {

struct ModelSpec
{
    // "mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"
    std::string type = "mf";
    int dim = 64;                              // embedding dimension (paper: 64)
    std::vector<int> hidden = {256, 128};      // DNN layer sizes (all CTR backbones)
    int crossLayers = 3;                       // DCNv2 and DCNv1 cross layers
    std::vector<int> cinLayers = {32, 32};     // xDeepFM CIN feature maps per layer
    int attentionLayers = 3;                   // AutoInt interacting layers
    int attentionHeads = 2;                    // AutoInt heads per layer
    int attentionDim = 32;                     // AutoInt attention size per head
    int historyLength = 10;                    // DIN: most recent training items per user
    std::vector<int> dinAttention = {80, 40};  // DIN local activation unit (PReLU) sizes
    double dropout = 0.1;                      // DNN dropout; MF: dropout on the embeddings
    bool itemFeatures = true;      // use the dataset's item-side categorical fields if any
    bool sparseEmbeddings = true;  // sparse gradients: a step touches only the rows it uses
};

void to_json(nlohmann::json& j, const ModelSpec& spec);
ModelSpec modelSpecFromJson(const nlohmann::json& j, const std::string& prefix = "model");

// Backbone types makeBackbone() knows.
std::vector<std::string> backboneTypes();

}  // namespace sllmr
