#include "train/adam_row.h"

#include <cmath>

namespace sllmr {

void adamRow(float* __restrict param, float* __restrict exp, float* __restrict expSq,
             const float* __restrict grad, std::int64_t width, float t, const AdamSettings& s)
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

}  // namespace sllmr
