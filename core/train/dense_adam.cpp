#include "train/dense_adam.h"

#include "common/error.h"
#include "train/adam_row.h"

#include <memory>
#include <string>

namespace sllmr {

DenseAdam::DenseAdam(std::vector<torch::Tensor> params, double lr)
    : m_adam(params, torch::optim::AdamOptions(lr))
{
    m_fused = adamTensorAvailable();
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
            s.exp_avg(s.exp_avg().contiguous());  // as loaded from a checkpoint: made sure of
            s.exp_avg_sq(s.exp_avg_sq().contiguous());
            const auto g = grad.defined() ? grad.contiguous() : torch::Tensor();
            adamTensor(p.data_ptr<float>(), s.exp_avg().data_ptr<float>(),
                       s.exp_avg_sq().data_ptr<float>(),
                       g.defined() ? g.data_ptr<float>() : nullptr, p.numel(), s.step(),
                       options.lr(), beta1, beta2, options.eps());
        }
    }
}

}  // namespace sllmr
