#include "train/lazy_adam.h"

#include "common/error.h"
#include "train/adam_row.h"

namespace sllmr {

LazyAdam::LazyAdam(std::vector<torch::Tensor> params, double lr, double beta1, double beta2,
                   double eps)
    : m_params(std::move(params))
{
    m_settings.lr = static_cast<float>(lr);
    m_settings.beta1 = static_cast<float>(beta1);
    m_settings.beta2 = static_cast<float>(beta2);
    m_settings.eps = static_cast<float>(eps);
    for (const auto& p : m_params) {
        if (!p.is_contiguous() || p.scalar_type() != torch::kFloat || p.dim() < 1)
            throw Error(ErrorKind::Internal, "lazy Adam needs contiguous float tables");
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
        const auto& g = m_params[k].grad();
        if (!g.defined())
            continue;
        if (g.is_sparse()) {
            updateRows(k, g._indices()[0].contiguous(), g._values().contiguous());
        } else {
            // A dense gradient (sparse embeddings switched off): update the rows it touches.
            const auto rows = g.abs().sum(1).nonzero().squeeze(1).contiguous();
            updateRows(k, rows, g.index_select(0, rows).contiguous());
        }
    }
}

// The gradient rows (a row may repeat, as in an uncoalesced sparse gradient) are grouped by row
// in first-seen order and summed per row in their given order; then one Adam update per distinct
// row. This is the coalescing and the dozen tensor operations a step used to take, as plain
// loops: m_slot maps a table row to its group while a step runs and is reset after it.
void LazyAdam::updateRows(std::size_t k, const torch::Tensor& rows, const torch::Tensor& values)
{
    const auto n = rows.numel();
    if (n == 0)
        return;
    const auto width = values.numel() / n;
    const auto* row = rows.data_ptr<std::int64_t>();
    const auto* grad = values.data_ptr<float>();
    auto* param = m_params[k].data_ptr<float>();
    auto* exp = m_exp[k].data_ptr<float>();
    auto* expSq = m_expSq[k].data_ptr<float>();
    auto* steps = m_steps[k].data_ptr<float>();
    const auto tableRows = m_params[k].size(0);

    if (static_cast<std::int64_t>(m_slot.size()) < tableRows)
        m_slot.resize(static_cast<std::size_t>(tableRows), -1);
    m_distinct.clear();
    m_sum.clear();
    for (std::int64_t e = 0; e < n; ++e) {
        const auto r = row[e];
        if (r < 0 || r >= tableRows)
            throw Error(ErrorKind::Internal, "lazy Adam: gradient row outside its table");
        const float* g = grad + e * width;
        auto& slot = m_slot[static_cast<std::size_t>(r)];
        if (slot < 0) {
            slot = static_cast<std::int64_t>(m_distinct.size());
            m_distinct.push_back(r);
            m_sum.insert(m_sum.end(), g, g + width);
        } else {
            float* sum = m_sum.data() + slot * width;
            for (std::int64_t j = 0; j < width; ++j)
                sum[j] += g[j];
        }
    }
    for (std::size_t d = 0; d < m_distinct.size(); ++d) {
        const auto r = m_distinct[d];
        m_slot[static_cast<std::size_t>(r)] = -1;
        const float t = steps[r] += 1.0f;
        adamRow(param + r * width, exp + r * width, expSq + r * width,
                m_sum.data() + static_cast<std::int64_t>(d) * width, width, t, m_settings);
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
