#include "model/cin_layer.h"

#include <algorithm>

namespace sllmr {
namespace model_detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per block: the block's products (rows x H m floats) stay within about 512 KiB.
std::int64_t cinBlockRows(std::int64_t width)
{
    return std::clamp<std::int64_t>(131072 / std::max<std::int64_t>(width, 1), 256, 8192);
}

// The kernel orders a row's products field-major, z[j H + a] = x[a] x0[j], so that every inner
// loop runs over H contiguous floats (vectorised at -O3, core/CMakeLists.txt); the weight's columns
// (h m + j) are permuted to match once per call: [K, H m] <-> [K, m H].
torch::Tensor toFieldMajor(const torch::Tensor& weight, std::int64_t h, std::int64_t m)
{
    return weight.view({weight.size(0), h, m}).transpose(1, 2).reshape({weight.size(0), m * h});
}

torch::Tensor fromFieldMajor(const torch::Tensor& weight, std::int64_t h, std::int64_t m)
{
    return weight.view({weight.size(0), m, h}).transpose(1, 2).reshape({weight.size(0), h * m});
}

// z[r, j H + a] = x0[n0 + r, j] x[n0 + r, a] for the rows of one block.
void cinProducts(const float* x, const float* x0, std::int64_t n0, std::int64_t rows,
                 std::int64_t h, std::int64_t m, float* z)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + (n0 + r) * h;
        const float* x0r = x0 + (n0 + r) * m;
        for (std::int64_t j = 0; j < m; ++j) {
            const float s = x0r[j];
            float* zj = z + (r * m + j) * h;
            for (std::int64_t a = 0; a < h; ++a)
                zj[a] = s * xr[a];
        }
    }
}

// From one block's gz = d out / d z (field-major): gx[a] = sum_j gz[j H + a] x0[j] and
// gx0[j] = sum_a gz[j H + a] x[a], for the rows whose gradient is wanted (null: not wanted).
void cinInputGradients(const float* gz, const float* x, const float* x0, std::int64_t n0,
                       std::int64_t rows, std::int64_t h, std::int64_t m, float* gx, float* gx0)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* gzr = gz + r * m * h;
        const float* xr = x + (n0 + r) * h;
        const float* x0r = x0 + (n0 + r) * m;
        if (gx) {
            float* gxr = gx + (n0 + r) * h;
            std::fill(gxr, gxr + h, 0.0f);
            for (std::int64_t j = 0; j < m; ++j) {
                const float s = x0r[j];
                const float* gzj = gzr + j * h;
                for (std::int64_t a = 0; a < h; ++a)
                    gxr[a] += gzj[a] * s;
            }
        }
        if (gx0) {
            float* gx0r = gx0 + (n0 + r) * m;
            for (std::int64_t j = 0; j < m; ++j) {
                const float* gzj = gzr + j * h;
                float sum = 0.0f;
                for (std::int64_t a = 0; a < h; ++a)
                    sum += gzj[a] * xr[a];
                gx0r[j] = sum;
            }
        }
    }
}

struct CinLayerFunction : public torch::autograd::Function<CinLayerFunction>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& x0In, const torch::Tensor& weight,
                                 const torch::Tensor& bias)
    {
        const auto x = xIn.contiguous();
        const auto x0 = x0In.contiguous();
        const auto n = x.size(0), h = x.size(1), m = x0.size(1);
        const auto wf = toFieldMajor(weight, h, m);  // [K, m H]
        const auto wt = wf.t();
        auto out = torch::empty({n, weight.size(0)}, x.options());
        const auto block = cinBlockRows(h * m);
        auto z = torch::empty({std::min(block, n), h * m}, x.options());
        const float* xp = x.data_ptr<float>();
        const float* x0p = x0.data_ptr<float>();
        for (std::int64_t n0 = 0; n0 < n; n0 += block) {
            const auto rows = std::min(block, n - n0);
            const auto zb = z.narrow(0, 0, rows);
            cinProducts(xp, x0p, n0, rows, h, m, zb.data_ptr<float>());
            auto ob = out.narrow(0, n0, rows);
            torch::addmm_out(ob, bias, zb, wt);
        }
        ctx->save_for_backward({x, x0, wf});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& x = saved[0];
        const auto& x0 = saved[1];
        const auto& wf = saved[2];  // field-major
        const auto g = grads[0].contiguous();
        const auto n = x.size(0), h = x.size(1), m = x0.size(1);
        const bool wantX = ctx->needs_input_grad(0), wantX0 = ctx->needs_input_grad(1);
        const bool wantW = ctx->needs_input_grad(2);
        torch::Tensor gx, gx0, gwf, gb;
        if (wantX)
            gx = torch::empty({n, h}, x.options());
        if (wantX0)
            gx0 = torch::empty({n, m}, x.options());
        if (wantW)
            gwf = torch::zeros_like(wf);
        if (ctx->needs_input_grad(3))
            gb = g.sum(0);
        const auto block = cinBlockRows(h * m);
        const auto buffer = std::min(block, n);
        auto z = wantW ? torch::empty({buffer, h * m}, x.options()) : torch::Tensor();
        auto gz = (wantX || wantX0) ? torch::empty({buffer, h * m}, x.options()) : torch::Tensor();
        const float* xp = x.data_ptr<float>();
        const float* x0p = x0.data_ptr<float>();
        for (std::int64_t n0 = 0; n0 < n; n0 += block) {
            const auto rows = std::min(block, n - n0);
            const auto gb0 = g.narrow(0, n0, rows);
            if (wantW) {
                const auto zb = z.narrow(0, 0, rows);
                cinProducts(xp, x0p, n0, rows, h, m, zb.data_ptr<float>());
                gwf.addmm_(gb0.t(), zb);
            }
            if (!wantX && !wantX0)
                continue;
            auto gzb = gz.narrow(0, 0, rows);
            torch::mm_out(gzb, gb0, wf);  // d out / d z: [rows, m H]
            cinInputGradients(gzb.data_ptr<float>(), xp, x0p, n0, rows, h, m,
                              wantX ? gx.data_ptr<float>() : nullptr,
                              wantX0 ? gx0.data_ptr<float>() : nullptr);
        }
        return {gx, gx0, wantW ? fromFieldMajor(gwf, h, m) : torch::Tensor(), gb};
    }
};

}  // namespace

torch::Tensor cinLayer(const torch::Tensor& x, const torch::Tensor& x0, const torch::Tensor& weight,
                       const torch::Tensor& bias)
{
    const auto isFloatCpu = [](const torch::Tensor& t) {
        return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat;
    };
    const bool loops = isFloatCpu(x) && isFloatCpu(x0) && isFloatCpu(weight) && isFloatCpu(bias) &&
                       x.dim() == 2 && x0.dim() == 2 && x.size(0) == x0.size(0) &&
                       weight.dim() == 2 && weight.size(1) == x.size(1) * x0.size(1);
    if (!loops) {
        const auto z = (x.unsqueeze(2) * x0.unsqueeze(1)).reshape({x.size(0), -1});
        return bias.defined() ? torch::addmm(bias, z, weight.t()) : torch::mm(z, weight.t());
    }
    return CinLayerFunction::apply(x, x0, weight, bias);
}

}  // namespace model_detail
}  // namespace sllmr
