#pragma once
// Matrix products on plain row-major float memory through oneDNN's sgemm, which LibTorch's CPU
// build links (Debian's does; found at run time), and through LibTorch's own products when it is
// not there or oneDNN is disabled (at::globalContext().userEnabledMkldnn()). LibTorch sends its
// matrix products to the system BLAS (OpenBLAS on Debian); for the shapes of this engine, a
// training batch or a scoring chunk of a few hundred rows by 64-512 columns, oneDNN's sgemm is
// 20-35% faster on one core (bench/README.md, "Scoring through the hidden layers in chunks").
//
// A product runs on the calling thread only (OpenMP's count for that thread is set to one for
// the call and restored), as OpenBLAS does in this engine (common/torch_runtime.cpp): split over
// threads, oneDNN may split a product's sums, and the numbers would change with the thread count.
// Parallelism comes from the callers (scoring chunks, batch shares).
#include <torch/torch.h>

#include <cstdint>

namespace sllmr::model_detail {

// Whether products go to oneDNN's sgemm.
bool productsUseOneDnn();

// A strided 2-D float CPU tensor with at least one row: what the hand-written forwards and
// backwards of this folder (and the products below) take; others go through LibTorch's modules.
bool isFloatRows(const torch::Tensor& t);

// c[m, n] = a[m, k] b[k, n], all row-major and contiguous. oneDNN takes another kernel for a
// single row (m = 1), which rounds differently: a caller that needs a row's bits to be the same
// alone and among others passes m >= 2 (MlpScorer pads).
void rowMajorProduct(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b,
                     float* c);

// a b, and bias + a b with bias [n] added to every row, for 2-D float CPU tensors each contiguous
// or the transpose of a contiguous tensor (other layouts are copied first). The same values as
// torch::mm and torch::addmm up to float rounding. For the forward and backward of hand-written
// autograd functions: they record no autograd themselves (a fallback to LibTorch would, under
// grad mode).
torch::Tensor product(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor productPlus(const torch::Tensor& bias, const torch::Tensor& a,
                          const torch::Tensor& b);

// c = a b, or c += a b when `add`, written in place: c a float [m, n] whose rows are contiguous
// (a contiguous tensor, or columns narrowed out of one), a and b as above. The same values as
// torch::mm_out and addmm_ up to float rounding; no autograd. Throws std::invalid_argument when c
// does not fit the product.
void productInto(torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b, bool add);

}  // namespace sllmr::model_detail
