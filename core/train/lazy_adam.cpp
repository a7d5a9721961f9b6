#include "train/lazy_adam.h"

namespace sllmr {

LazyAdam::LazyAdam(std::vector<torch::Tensor> params, double lr, double beta1, double beta2,
                   double eps)
    : m_params(std::move(params)), m_lr(lr), m_beta1(beta1), m_beta2(beta2), m_eps(eps)
{
    for (const auto& p : m_params) {
        m_exp.push_back(torch::zeros_like(p));
        m_expSq.push_back(torch::zeros_like(p));
        m_steps.push_back(torch::zeros({p.size(0)}, torch::kFloat));
    }
}

void LazyAdam::zeroGrad()
{
    for (auto& p : m_params)
        if (p.grad().defined())
            p.mutable_grad() = torch::Tensor();
}

void LazyAdam::step()
{
    torch::NoGradGuard noGrad;
    for (std::size_t k = 0; k < m_params.size(); ++k) {
        auto& p = m_params[k];
        const auto& g = p.grad();
        if (!g.defined())
            continue;
        torch::Tensor rows;
        torch::Tensor values;
        if (g.is_sparse()) {
            const auto c = g.coalesce();
            rows = c.indices()[0];
            values = c.values();
        } else {
            // A dense gradient (sparse embeddings switched off): update the rows it touches.
            rows = g.abs().sum(1).nonzero().squeeze(1);
            values = g.index_select(0, rows);
        }
        if (rows.numel() == 0)
            continue;
        auto m = m_exp[k].index_select(0, rows).mul_(m_beta1).add_(values, 1.0 - m_beta1);
        auto v =
            m_expSq[k].index_select(0, rows).mul_(m_beta2).addcmul_(values, values, 1.0 - m_beta2);
        auto t = m_steps[k].index_select(0, rows).add_(1.0);
        m_exp[k].index_copy_(0, rows, m);
        m_expSq[k].index_copy_(0, rows, v);
        m_steps[k].index_copy_(0, rows, t);
        const auto correction1 = (1.0 - torch::pow(m_beta1, t)).unsqueeze(1);
        const auto correction2 = (1.0 - torch::pow(m_beta2, t)).unsqueeze(1);
        const auto update = (m / correction1) / ((v / correction2).sqrt() + m_eps);
        p.index_add_(0, rows, update, -m_lr);
    }
}

std::vector<torch::Tensor> LazyAdam::state() const
{
    std::vector<torch::Tensor> out;
    for (std::size_t k = 0; k < m_params.size(); ++k) {
        out.push_back(m_exp[k]);
        out.push_back(m_expSq[k]);
        out.push_back(m_steps[k]);
    }
    return out;
}

void LazyAdam::setState(const std::vector<torch::Tensor>& state)
{
    torch::NoGradGuard noGrad;
    for (std::size_t k = 0; k < m_params.size() && 3 * k + 2 < state.size(); ++k) {
        m_exp[k].copy_(state[3 * k]);
        m_expSq[k].copy_(state[3 * k + 1]);
        m_steps[k].copy_(state[3 * k + 2]);
    }
}

}  // namespace sllmr
