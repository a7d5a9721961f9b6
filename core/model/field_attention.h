#pragma once
// AutoInt's interacting layer after its projections (model/autoint.h) as one autograd function
// with hand-written loops. Composed from tensor operations it was a dozen broadcast products,
// sums, a softmax, a residual sum and a ReLU forward, and as many nodes back, per layer and
// batch; its matrices are m x m with m <= 3 fields. It has a file of its own so that only these
// loops are compiled at -O3 (core/CMakeLists.txt), like cin_layer.cpp.
#include <torch/torch.h>

#include <cstdint>

namespace sllmr::model_detail {

// projected [B, m, 4 W] holds per row and field the queries, keys, values and residual maps of
// every head (W = heads * headDim; each of the four blocks is heads blocks of headDim). Returns
// [B, m, W]: for row r, field a and head h,
//   weights(a, .) = softmax over b of <q_a^h, k_b^h>,
//   out_a^h = ReLU(sum_b weights(a, b) v_b^h + res_a^h).
// The gradient reaches `projected`. For float CPU tensors the loops run; the result is the
// composed form's up to float order, and the same on every call. Other tensors take the composed
// form.
torch::Tensor fieldAttention(const torch::Tensor& projected, std::int64_t heads,
                             std::int64_t headDim);

}  // namespace sllmr::model_detail
