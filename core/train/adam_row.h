#pragma once
// One Adam update of one parameter row, as plain float loops: the arithmetic of the lazy Adam
// (train/lazy_adam.h) without Torch, so that it can be compiled for vector units (no errno for
// sqrt; see core/CMakeLists.txt).
#include <cstdint>

namespace sllmr {

struct AdamSettings
{
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
};

// The t-th update (t >= 1) of `width` parameters from their gradient: the moments move towards
// g and g^2, and param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), the form
// torch::optim::Adam uses.
void adamRow(float* param, float* exp, float* expSq, const float* grad, std::int64_t width, float t,
             const AdamSettings& s);

// True on x86-64 processors with AVX2 and fused multiply-add, which adamTensor() needs.
bool adamTensorAvailable();

// torch::optim::Adam's update (no weight decay, no AMSGrad) of n parameters at step t >= 1,
// operation for operation as LibTorch 1.13's vectorised kernels compute it: the moments through
// fused multiply-adds (exp * beta1 + (1 - beta1) * g, then expSq * beta2 + ((1 - beta2) * g) * g),
// denom = sqrt(expSq) / sqrt(1 - beta2^t) + eps, param += (-lr / (1 - beta1^t)) * exp / denom,
// with the bias corrections in double and the scalars rounded to float where Torch rounds them.
// Bit for bit the same parameters and moments as the optimizer's step (tst_train checks it),
// without its eight tensor operations per parameter. grad may be null: a zero gradient, as a
// parameter whose gradient was zeroed and not written gets. Only where adamTensorAvailable().
void adamTensor(float* param, float* exp, float* expSq, const float* grad, std::int64_t n,
                std::int64_t t, double lr, double beta1, double beta2, double eps);

}  // namespace sllmr
