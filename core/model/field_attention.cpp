#include "model/field_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sllmr::model_detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

float dot(const float* __restrict x, const float* __restrict y, std::int64_t n)
{
    float sum = 0.0f;
    for (std::int64_t j = 0; j < n; ++j)
        sum += x[j] * y[j];
    return sum;
}

// out += a * x
void axpy(float a, const float* __restrict x, float* __restrict out, std::int64_t n)
{
    for (std::int64_t j = 0; j < n; ++j)
        out[j] += a * x[j];
}

torch::Tensor composed(const torch::Tensor& projected, std::int64_t heads, std::int64_t headDim)
{
    const auto b = projected.size(0);
    const auto m = projected.size(1);
    const auto width = heads * headDim;
    auto part = [&](std::int64_t k) {  // [B, m, H, d']
        return projected.narrow(2, k * width, width).reshape({b, m, heads, headDim});
    };
    const auto scores = (part(0).unsqueeze(2) * part(1).unsqueeze(1)).sum(-1);  // [B, a, b, H]
    const auto weights = torch::softmax(scores, 2);
    const auto out = (weights.unsqueeze(-1) * part(2).unsqueeze(1)).sum(2);  // [B, m, H, d']
    return torch::relu(out.reshape({b, m, width}) + projected.narrow(2, 3 * width, width));
}

struct FieldAttention : public torch::autograd::Function<FieldAttention>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& projectedIn,
                                 std::int64_t heads, std::int64_t headDim)
    {
        const auto projected = projectedIn.contiguous();
        const auto rows = projected.size(0);
        const auto m = projected.size(1);
        const auto width = heads * headDim;
        const auto stride = 4 * width;  // floats per field of a row
        auto out = torch::empty({rows, m, width}, projected.options());
        auto weights = torch::empty({rows, heads, m, m}, projected.options());
        const auto* p = projected.data_ptr<float>();
        auto* o = out.data_ptr<float>();
        auto* w = weights.data_ptr<float>();
        std::vector<float> head(static_cast<std::size_t>(headDim));
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* pr = p + r * m * stride;
            for (std::int64_t h = 0; h < heads; ++h) {
                const auto at = h * headDim;
                for (std::int64_t a = 0; a < m; ++a) {
                    // Softmax over b of <q_a, k_b>, less its maximum as torch::softmax does.
                    float* wa = w + ((r * heads + h) * m + a) * m;
                    float top = -std::numeric_limits<float>::infinity();
                    for (std::int64_t b = 0; b < m; ++b) {
                        wa[b] = dot(pr + a * stride + at, pr + b * stride + width + at, headDim);
                        top = std::max(top, wa[b]);
                    }
                    float sum = 0.0f;
                    for (std::int64_t b = 0; b < m; ++b) {
                        wa[b] = std::exp(wa[b] - top);
                        sum += wa[b];
                    }
                    std::fill(head.begin(), head.end(), 0.0f);
                    for (std::int64_t b = 0; b < m; ++b) {
                        wa[b] /= sum;
                        axpy(wa[b], pr + b * stride + 2 * width + at, head.data(), headDim);
                    }
                    const float* res = pr + a * stride + 3 * width + at;
                    float* oa = o + (r * m + a) * width + at;
                    for (std::int64_t j = 0; j < headDim; ++j)
                        oa[j] = std::max(head[j] + res[j], 0.0f);
                }
            }
        }
        ctx->save_for_backward({projected, weights, out});
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["headDim"] = headDim;
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& projected = saved[0];
        const auto& weights = saved[1];
        const auto& out = saved[2];
        const auto heads = ctx->saved_data["heads"].toInt();
        const auto headDim = ctx->saved_data["headDim"].toInt();
        const auto grad = grads[0].contiguous();
        const auto rows = projected.size(0);
        const auto m = projected.size(1);
        const auto width = heads * headDim;
        const auto stride = 4 * width;
        auto gProjected = torch::zeros_like(projected);
        const auto* p = projected.data_ptr<float>();
        const auto* w = weights.data_ptr<float>();
        const auto* o = out.data_ptr<float>();
        const auto* g = grad.data_ptr<float>();
        auto* gp = gProjected.data_ptr<float>();
        std::vector<float> gWeight(static_cast<std::size_t>(m));
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* pr = p + r * m * stride;
            float* gpr = gp + r * m * stride;
            for (std::int64_t h = 0; h < heads; ++h) {
                const auto at = h * headDim;
                for (std::int64_t a = 0; a < m; ++a) {
                    // Through the ReLU (its output > 0, as Torch's threshold backward) into the
                    // residual block, which holds the gradient of the weighted sum too.
                    const float* oa = o + (r * m + a) * width + at;
                    const float* ga = g + (r * m + a) * width + at;
                    float* gres = gpr + a * stride + 3 * width + at;
                    for (std::int64_t j = 0; j < headDim; ++j)
                        gres[j] = oa[j] > 0.0f ? ga[j] : 0.0f;
                    // The weighted sum: values and weights; then the softmax's Jacobian.
                    const float* wa = w + ((r * heads + h) * m + a) * m;
                    float mean = 0.0f;
                    for (std::int64_t b = 0; b < m; ++b) {
                        gWeight[b] = dot(gres, pr + b * stride + 2 * width + at, headDim);
                        axpy(wa[b], gres, gpr + b * stride + 2 * width + at, headDim);
                        mean += wa[b] * gWeight[b];
                    }
                    for (std::int64_t b = 0; b < m; ++b) {
                        const float gScore = wa[b] * (gWeight[b] - mean);
                        axpy(gScore, pr + b * stride + width + at, gpr + a * stride + at, headDim);
                        axpy(gScore, pr + a * stride + at, gpr + b * stride + width + at, headDim);
                    }
                }
            }
        }
        return {gProjected, torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor fieldAttention(const torch::Tensor& projected, std::int64_t heads,
                             std::int64_t headDim)
{
    const bool loops = projected.device().is_cpu() && projected.scalar_type() == torch::kFloat &&
                       projected.dim() == 3 && projected.size(2) == 4 * heads * headDim &&
                       heads > 0 && headDim > 0;
    if (!loops)
        return composed(projected, heads, headDim);
    return FieldAttention::apply(projected, heads, headDim);
}

}  // namespace sllmr::model_detail
