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

}  // namespace sllmr
