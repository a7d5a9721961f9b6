#pragma once
// AutoInt (Song et al. 2019) over the fields [user id, item id, item features] (m = 2 or 3 field
// vectors of spec.dim values): spec.attentionLayers interacting layers, each multi-head
// self-attention over the fields with a residual connection,
//   head h: a_h = softmax_b(<W_Q^h e_a, W_K^h e_b>), e'_a^h = sum_b a_h(a, b) W_V^h e_b
//   e'_a = ReLU([e'_a^1, ..., e'_a^H] + W_Res e_a)
// (spec.attentionHeads heads of spec.attentionDim values; no scaling of the dot product, as in the
// paper), then a linear map of the concatenated final field vectors to one logit. When
// spec.hidden is non-empty a DNN over [e_u, e_i, e_f] is added to the logit (AutoInt+).
// - Init: field embeddings N(0, 0.01); attention, output and DNN Xavier-uniform, biases 0; all
//   from torch's global generator.
// - Dropout only in the DNN: hasDropout() is false when spec.hidden is empty.
#include "model/backbone.h"
#include "model/layers.h"

#include <torch/torch.h>

#include <vector>

namespace sllmr {

class AutoIntImpl : public BackboneImpl
{
public:
    AutoIntImpl(const ModelSpec& spec, const BackboneContext& context);

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;

    // The first layer's projections (W_Q, W_K, W_V, W_Res of every head) act on one field at a
    // time, so they are computed once per user and once per item; per block of the cross product
    // only the attention itself and the later layers run. The DNN's first layer splits by
    // columns as in DeepFM.
    torch::Tensor scoreAll(const torch::Tensor& users) override;

    bool hasDropout() const override { return !m_dnn.is_empty() && m_dnn->hasDropout(); }

private:
    // One interacting layer from its projections [B, m, 4 H d'] (Q, K, V, Res).
    torch::Tensor interact(const torch::Tensor& projected) const;
    torch::Tensor project(std::size_t layer, const torch::Tensor& x);  // [B, m, w] -> [B, m, 4Hd']
    // Layers from `fromLayer` on and the output, from the projections of layer fromLayer - 1.
    torch::Tensor finish(const torch::Tensor& projected, std::size_t fromLayer);

    model_detail::FieldEmbeddings m_fields{nullptr};
    std::int64_t m_heads = 0;
    std::int64_t m_headDim = 0;
    std::vector<torch::nn::Linear> m_projections;  // per layer, no bias
    torch::nn::Linear m_out{nullptr};
    model_detail::Mlp m_dnn{nullptr};  // null when spec.hidden is empty
};
TORCH_MODULE(AutoInt);

}  // namespace sllmr
