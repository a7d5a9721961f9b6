#pragma once
// xDeepFM's CIN layer (model/xdeepfm.h) as one autograd function with hand-written loops. It has a
// file of its own so that only these loops are compiled at -O3 (core/CMakeLists.txt), like
// keep_mask.cpp and train/adam_row.cpp.
#include <torch/torch.h>

namespace sllmr {
namespace model_detail {

// One CIN layer over rows n (a row is one (example, embedding coordinate)):
//   out[n, k] = bias[k] + sum_{h, j} weight[k, h m + j] x[n, h] x0[n, j],
// i.e. torch::addmm(bias, (x.unsqueeze(2) * x0.unsqueeze(1)).view({N, H m}), weight.t()), with
// x [N, H], x0 [N, m], weight [K, H m], bias [K]. For float CPU tensors the [N, H m] products are
// never held whole: forward and backward form them in blocks of rows that stay in cache, so the
// layer needs no more memory than its inputs and outputs. Autograd reaches x, x0, weight and bias;
// the weight's and bias's gradients sum the blocks in order, so the result is the composed
// form's up to float order, and the same on every call. Other tensors take the composed form.
torch::Tensor cinLayer(const torch::Tensor& x, const torch::Tensor& x0, const torch::Tensor& weight,
                       const torch::Tensor& bias);

}  // namespace model_detail
}  // namespace sllmr
