#pragma once
// DCNv2 (Wang et al. 2021, "DCN V2"), stacked structure: x0 = [e_u, e_i, e_f] (fields as in
// DeepFM), then L cross layers with full-rank W_l,
//   x_{l+1} = x0 * (W_l x_l + b_l) + x_l        (* elementwise),
// then the DNN (hidden ReLU + dropout) on x_L, then a linear output to one logit. Stacked is the
// paper's main structure; with spec.hidden empty the output reads x_L directly, and with
// crossLayers = 0 the model is a plain DNN over the fields.
// - Init: field embeddings N(0, 0.01); cross and DNN layers Xavier-uniform, bias 0; all from
//   torch's global generator.
// - Dropout only in the DNN: hasDropout() is false when spec.hidden is empty.
#include "model/backbone.h"
#include "model/layers.h"

#include <torch/torch.h>

#include <vector>

namespace sllmr {

class DCNv2Impl : public BackboneImpl
{
public:
    DCNv2Impl(const ModelSpec& spec, const BackboneContext& context);

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;

    // Looks up the user fields once for the given users and the item fields (ids and feature
    // bags) once for all items, and splits the first affine map of x0 (W_0 of the first cross
    // layer, or the DNN's first layer when there is none) by columns into a user table and an
    // item table. The cross product is then only broadcast sums plus the remaining layers, run per
    // block of rows.
    torch::Tensor scoreAll(const torch::Tensor& users) override;

    bool hasDropout() const override { return m_dnn->hasDropout(); }

private:
    torch::Tensor cross(const torch::Tensor& x0, torch::Tensor x, std::size_t fromLayer);

    std::int64_t m_dim = 0;
    torch::nn::Embedding m_user{nullptr};
    torch::nn::Embedding m_item{nullptr};
    model_detail::ItemFeatureField m_features{nullptr};  // null when the field is absent
    std::vector<torch::nn::Linear> m_cross;              // W_l, b_l: [D, D], [D]
    model_detail::Mlp m_dnn{nullptr};
};
TORCH_MODULE(DCNv2);

}  // namespace sllmr
