#include "train/gate.h"

namespace sllmr {

GateImpl::GateImpl(const GateSpec& spec)
{
    // Start neutral (a = 0.5 everywhere): the paper gives no initialisation.
    weight = register_parameter("weight", torch::zeros({3}));
    bias = register_parameter("bias", torch::zeros({1}));
    m_mask = torch::tensor({spec.useCold ? 1.0f : 0.0f, spec.useTail ? 1.0f : 0.0f,
                            spec.useUncertainty ? 1.0f : 0.0f});
}

torch::Tensor GateImpl::forward(const torch::Tensor& z)
{
    return torch::sigmoid(torch::matmul(z * m_mask, weight) + bias);
}

std::array<double, 4> GateImpl::parameterValues() const
{
    torch::NoGradGuard noGrad;
    const auto w = weight.detach().to(torch::kDouble);
    return {w[0].item<double>(), w[1].item<double>(), w[2].item<double>(),
            bias.detach().to(torch::kDouble).item<double>()};
}

torch::Tensor thresholdActivation(const GateSpec& spec, const torch::Tensor& mask,
                                  const torch::Tensor& z)
{
    std::vector<torch::Tensor> conds;
    if (mask[0].item<float>() > 0)
        conds.push_back(z.select(1, 0) > 0.5);
    if (mask[1].item<float>() > 0)
        conds.push_back(z.select(1, 1) > 0.5);
    if (mask[2].item<float>() > 0)
        conds.push_back(z.select(1, 2) > spec.tauQ);
    if (conds.empty())
        return torch::zeros({z.size(0)});
    auto acc = conds.front();
    for (std::size_t c = 1; c < conds.size(); ++c)
        acc = spec.rule == "all" ? acc.logical_and(conds[c]) : acc.logical_or(conds[c]);
    return acc.to(torch::kFloat);
}

torch::Tensor uncertaintyFromProbability(const torch::Tensor& p, const std::string& variant)
{
    torch::NoGradGuard noGrad;
    if (variant == "margin")
        return 2.0 * (1.0 - torch::max(p, 1.0 - p));
    const auto q = p.clamp(1e-7, 1.0 - 1e-7);
    return -(q * torch::log2(q) + (1.0 - q) * torch::log2(1.0 - q));
}

}  // namespace sllmr
