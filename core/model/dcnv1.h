#pragma once
// DCN (Wang et al. 2017, "Deep & Cross Network"), the original vector cross network, over the
// fields x0 = [e_u, e_i, e_f] (as in DeepFM):
//   x_{l+1} = x0 (x_l . w_l) + b_l + x_l       (w_l, b_l: vectors of x0's width)
// run in parallel with the DNN on x0; the combination layer is one linear map of [x_L, h_DNN],
// written here as c . x_L + DNN(x0) (the DNN's output layer is the h_DNN part and carries the
// global bias). spec.crossLayers = 0 leaves c . x0 (a linear term) next to the DNN; with
// spec.hidden empty the DNN is a linear map of x0.
// - Init: field embeddings N(0, 0.01); w_l and c Xavier-uniform as [width, 1] matrices; b_l 0;
//   DNN Xavier-uniform, bias 0; all from torch's global generator.
// - Dropout only in the DNN.
#include "model/backbone.h"
#include "model/layers.h"

#include <torch/torch.h>

namespace sllmr {

class DCNv1Impl : public BackboneImpl
{
public:
    DCNv1Impl(const ModelSpec& spec, const BackboneContext& context);

    // The vector cross network has a closed form: x_l = alpha_l x0 + beta_l with a scalar
    // alpha_l per row (alpha_0 = 1, alpha_{l+1} = alpha_l (1 + x0 . w_l) + beta_l . w_l) and a
    // constant vector beta_l = b_0 + ... + b_{l-1}. x0 . w_l and x0 . c split into a user and an
    // item part, so the cross side of the cross product is a few [U] and [N] tables combined per
    // block; the DNN's first layer splits by columns as in DeepFM. forward() uses the same closed
    // form per row (the same sums as the layer recursion, in another order).
    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor scoreAll(const torch::Tensor& users) override;

    bool hasDropout() const override { return m_dnn->hasDropout(); }

private:
    model_detail::FieldEmbeddings m_fields{nullptr};
    torch::Tensor m_crossWeight;       // [L, width]
    torch::Tensor m_crossBias;         // [L, width]
    torch::nn::Linear m_out{nullptr};  // c: [1, width], no bias
    model_detail::Mlp m_dnn{nullptr};
};
TORCH_MODULE(DCNv1);

}  // namespace sllmr
