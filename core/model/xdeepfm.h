#pragma once
// xDeepFM (Lian et al. 2018) over the fields [user id, item id, item features] (m = 2 or 3
// fields of spec.dim values, as in DeepFM):
//   s(u,i) = w_u + w_i + w_f                                   linear (first order)
//          + CIN(X0)                                           Compressed Interaction Network
//          + DNN([e_u, e_i, e_f])                              hidden ReLU + dropout, linear to 1
// CIN: X^0 = the m field vectors; X^k_h = sum_{a,b} W^k_{h,a,b} (X^{k-1}_a * X^0_b) (elementwise
// products, a 1x1 convolution over the H_{k-1} x m pairs, with a bias, identity activation as in
// the paper); every layer's feature maps are sum-pooled over the embedding dimension and a linear
// map of their concatenation gives the CIN logit. spec.cinLayers gives H_1..H_K (empty: no CIN).
// The cost per row is sum_k H_{k-1} m H_k dim multiply-adds, so the default [32, 32] at dim 64
// costs about the same as DCNv2's cross layers; the paper's [128, 128] (at its dim 10) costs 16x
// more here.
// - Init: field embeddings N(0, 0.01); first-order weights 0; CIN and DNN Xavier-uniform, bias 0;
//   all from torch's global generator.
// - Dropout only in the DNN.
#include "model/backbone.h"
#include "model/cin_layer.h"
#include "model/layers.h"

#include <torch/torch.h>

#include <vector>

namespace sllmr {
class XDeepFMImpl : public BackboneImpl
{
public:
    XDeepFMImpl(const ModelSpec& spec, const BackboneContext& context);

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;

    // The linear part and the DNN's first layer (split by columns) are precomputed per user and
    // per item; the CIN runs per block of the cross product (every layer mixes user and item).
    torch::Tensor scoreAll(const torch::Tensor& users) override;

    bool hasDropout() const override { return m_dnn->hasDropout(); }

private:
    torch::Tensor cin(const torch::Tensor& x0);  // [B, m, d] -> [B]

    model_detail::FieldEmbeddings m_fields{nullptr};
    std::vector<torch::nn::Linear> m_cin;  // [H_{k-1} m] -> [H_k]
    torch::nn::Linear m_cinOut{nullptr};   // [sum H_k] -> 1, no bias
    model_detail::Mlp m_dnn{nullptr};
    std::int64_t m_maxCinWidth = 0;  // largest H_{k-1} m d, for the block size
};
TORCH_MODULE(XDeepFM);

}  // namespace sllmr
