#include "train/dense_adam.h"

#include "common/error.h"
#include "train/adam_row.h"

#include <memory>
#include <string>

namespace sllmr {

namespace {

// Whether adamTensor gives this LibTorch's Adam to the bit: a few steps of both on a probe of 67
// floats (vector body and tail), with gradients from a fixed formula (no random draw). LibTorch
// picks its kernels at run time (ATEN_CPU_CAPABILITY can force ones without fused multiply-add),
// so this is checked rather than assumed; where it differs, the optimizer's own step runs.
bool adamTensorMatchesTorch()
{
    if (!adamTensorAvailable())
        return false;
    torch::NoGradGuard noGrad;
    const auto n = 67;
    auto theirs = torch::arange(n, torch::kFloat).mul_(0.37).sin_().requires_grad_(true);
    auto ours = theirs.detach().clone();
    auto exp = torch::zeros({n});
    auto expSq = torch::zeros({n});
    torch::optim::Adam reference({theirs}, torch::optim::AdamOptions(1e-3));
    for (int step = 1; step <= 4; ++step) {
        const auto grad = torch::arange(n, torch::kFloat).mul_(0.71 * step).cos_().mul_(0.3);
        theirs.mutable_grad() = grad.clone();
        reference.step();
        adamTensor(ours.data_ptr<float>(), exp.data_ptr<float>(), expSq.data_ptr<float>(),
                   grad.data_ptr<float>(), n, step, 1e-3, 0.9, 0.999, 1e-8);
    }
    return torch::equal(ours, theirs.detach());
}

}  // namespace

DenseAdam::DenseAdam(std::vector<torch::Tensor> params, double lr)
    : m_adam(params, torch::optim::AdamOptions(lr))
{
    static const bool matches = adamTensorMatchesTorch();
    m_fused = matches;
    for (const auto& p : params)
        m_fused =
            m_fused && p.device().is_cpu() && p.scalar_type() == torch::kFloat && p.is_contiguous();
}

void DenseAdam::zeroGrad()
{
    if (!m_fused) {
        m_adam.zero_grad();
        return;
    }
    for (auto& group : m_adam.param_groups())
        for (auto& p : group.params())
            if (p.grad().defined())
                p.mutable_grad() = torch::Tensor();
}

void DenseAdam::step()
{
    if (!m_fused) {
        m_adam.step();
        return;
    }
    for (auto& group : m_adam.param_groups()) {
        const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
        if (options.weight_decay() != 0 || options.amsgrad()) {
            m_adam.step();  // options no run sets (a checkpoint could only carry them)
            return;
        }
    }
    torch::NoGradGuard noGrad;
    auto& state = m_adam.state();
    for (auto& group : m_adam.param_groups()) {
        const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
        const auto [beta1, beta2] = options.betas();
        for (auto& p : group.params()) {
            // The optimizer's own key and state, created as its step creates them.
            const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
            auto found = state.find(key);
            const auto& grad = p.grad();
            if (found == state.end()) {
                if (!grad.defined())
                    continue;  // never stepped and no gradient: the optimizer skips it too
                auto fresh = std::make_unique<torch::optim::AdamParamState>();
                fresh->step(0);
                fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                found = state.emplace(key, std::move(fresh)).first;
            }
            auto& s = static_cast<torch::optim::AdamParamState&>(*found->second);
            if (grad.defined() && grad.is_sparse())
                throw Error(ErrorKind::Internal, "dense Adam: a sparse gradient");
            s.step(s.step() + 1);
            const auto g = grad.defined() ? grad.contiguous() : torch::Tensor();
            adamTensor(p.data_ptr<float>(), s.exp_avg().data_ptr<float>(),
                       s.exp_avg_sq().data_ptr<float>(),
                       g.defined() ? g.data_ptr<float>() : nullptr, p.numel(), s.step(),
                       options.lr(), beta1, beta2, options.eps());
        }
    }
}

void DenseAdam::save(torch::serialize::OutputArchive& archive) const
{
    m_adam.save(archive);
}

bool DenseAdam::load(torch::serialize::InputArchive& archive)
{
    m_adam.load(archive);
    auto& state = m_adam.state();
    for (auto& group : m_adam.param_groups()) {
        for (auto& p : group.params()) {
            const auto found = state.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
            if (found == state.end())
                continue;
            auto& s = static_cast<torch::optim::AdamParamState&>(*found->second);
            for (const auto& moment : {s.exp_avg(), s.exp_avg_sq()})
                if (!moment.defined() || moment.sizes() != p.sizes() ||
                    moment.scalar_type() != p.scalar_type() || !moment.device().is_cpu())
                    return false;
            s.exp_avg(s.exp_avg().contiguous());
            s.exp_avg_sq(s.exp_avg_sq().contiguous());
        }
    }
    return true;
}

}  // namespace sllmr
