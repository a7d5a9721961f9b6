#include "train/adam_row.h"

#include "common/vector_clones.h"

#include <cmath>

namespace sllmr {

// Compiled for AVX-512, AVX2 and the baseline: the same floats each way (no contraction here).
SLLMR_VECTOR_CLONES void adamRow(float* __restrict param, float* __restrict exp,
                                 float* __restrict expSq, const float* __restrict grad,
                                 std::int64_t width, float t, const AdamSettings& s)
{
    const float step = s.lr / (1.0f - std::pow(s.beta1, t));
    const float rootCorrection2 = std::sqrt(1.0f - std::pow(s.beta2, t));
    const float keep1 = s.beta1;
    const float keep2 = s.beta2;
    const float take1 = 1.0f - s.beta1;
    const float take2 = 1.0f - s.beta2;
    const float eps = s.eps;
    for (std::int64_t j = 0; j < width; ++j) {
        const float g = grad[j];
        const float m = keep1 * exp[j] + take1 * g;
        const float v = keep2 * expSq[j] + take2 * g * g;
        exp[j] = m;
        expSq[j] = v;
        param[j] -= step * (m / (std::sqrt(v) / rootCorrection2 + eps));
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define SLLMR_FMA_TARGET __attribute__((target("avx2,fma")))
bool adamTensorAvailable()
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
#define SLLMR_FMA_TARGET
bool adamTensorAvailable()
{
    return false;
}
#endif

SLLMR_FMA_TARGET void adamTensor(float* __restrict param, float* __restrict exp,
                                 float* __restrict expSq, const float* __restrict grad,
                                 std::int64_t n, std::int64_t t, double lr, double beta1,
                                 double beta2, double eps)
{
    const double correction1 = 1 - std::pow(beta1, static_cast<double>(t));
    const double correction2 = 1 - std::pow(beta2, static_cast<double>(t));
    const auto keep1 = static_cast<float>(beta1);
    const auto take1 = static_cast<float>(1 - beta1);
    const auto keep2 = static_cast<float>(beta2);
    const auto take2 = static_cast<float>(1 - beta2);
    const auto root2 = static_cast<float>(std::sqrt(correction2));
    const auto epsilon = static_cast<float>(eps);
    const auto step = static_cast<float>(-(lr / correction1));
    for (std::int64_t j = 0; j < n; ++j) {
        const float g = grad ? grad[j] : 0.0f;
        const float m = std::fma(g, take1, exp[j] * keep1);
        const float v = std::fma(take2 * g, g, expSq[j] * keep2);
        exp[j] = m;
        expSq[j] = v;
        param[j] = param[j] + (step * m) / (std::sqrt(v) / root2 + epsilon);
    }
}

}  // namespace sllmr
