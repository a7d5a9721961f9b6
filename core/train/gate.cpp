#include "train/gate.h"

#include "common/thread_generator.h"
#include "data/segments.h"

namespace sllmr {
namespace {

torch::Tensor floatTensor(const std::vector<float>& v)
{
    return torch::from_blob(const_cast<float*>(v.data()), {static_cast<std::int64_t>(v.size())},
                            torch::kFloat)
        .clone();
}

}  // namespace

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

GateInputs::GateInputs(const GateSpec& spec, const Dataset& dataset,
                       const Segmentation& segmentation)
    : m_thresholds(resolveGateThresholds(spec, segmentation))
{
    m_cold.resize(dataset.numUsers());
    for (std::uint32_t u = 0; u < dataset.numUsers(); ++u)
        m_cold[u] = isColdUser(dataset.historyLength[u], m_thresholds.tauUser) ? 1.0f : 0.0f;
    m_tail.resize(dataset.numItems());
    for (std::uint32_t i = 0; i < dataset.numItems(); ++i)
        m_tail[i] = isTailItem(dataset.popularity[i], m_thresholds.tauItem) ? 1.0f : 0.0f;
}

torch::Tensor GateInputs::z(const std::vector<std::uint32_t>& users,
                            const std::vector<std::uint32_t>& items, const torch::Tensor& q) const
{
    std::vector<float> cold(users.size());
    std::vector<float> tail(items.size());
    for (std::size_t k = 0; k < users.size(); ++k) {
        cold[k] = m_cold[users[k]];
        tail[k] = m_tail[items[k]];
    }
    return torch::stack({floatTensor(cold), floatTensor(tail), q}, 1);
}

torch::Tensor uncertaintyFromProbability(const torch::Tensor& p, GateUncertainty variant)
{
    torch::NoGradGuard noGrad;
    if (variant == GateUncertainty::Margin)
        return 2.0 * (1.0 - torch::max(p, 1.0 - p));
    const auto q = p.clamp(1e-7, 1.0 - 1e-7);
    return -(q * torch::log2(q) + (1.0 - q) * torch::log2(1.0 - q));
}

torch::Tensor dropoutUncertainty(BackboneImpl& model, const torch::Tensor& users,
                                 const torch::Tensor& items, int passes)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> p;
    for (int t = 0; t < passes; ++t)
        p.push_back(torch::sigmoid(model.forward(users, items)));
    // A probability's variance is at most 1/4: scaled to [0, 1].
    return (torch::stack(p).var(0, /*unbiased=*/false) * 4.0).clamp(0.0, 1.0);
}

bool usesDropoutPasses(const GateSpec& spec, const BackboneImpl& model)
{
    return spec.uncertainty == GateUncertainty::Dropout && model.hasDropout();
}

torch::Tensor uncertainty(const GateSpec& spec, BackboneImpl& model, const torch::Tensor& logits,
                          const torch::Tensor& users, const torch::Tensor& items)
{
    if (usesDropoutPasses(spec, model))
        return dropoutUncertainty(model, users, items, spec.dropoutPasses);
    return uncertaintyFromProbability(torch::sigmoid(logits.detach()), spec.uncertainty);
}

torch::Tensor thresholdActivation(const GateSpec& spec, const torch::Tensor& z)
{
    const auto rows = z.detach().to(torch::kFloat).contiguous();
    const auto n = rows.size(0);
    auto out = torch::empty({n}, torch::kFloat);
    const float* zp = rows.data_ptr<float>();
    float* op = out.data_ptr<float>();
    const std::array<bool, 3> enabled{spec.useCold, spec.useTail, spec.useUncertainty};
    const auto tauQ = static_cast<float>(spec.tauQ);  // compared in float, as z is
    for (std::int64_t k = 0; k < n; ++k) {
        const float* r = zp + 3 * k;
        op[k] = thresholdRule(spec.rule, enabled, {r[0] > 0.5f, r[1] > 0.5f, r[2] > tauQ}) ? 1.0f
                                                                                           : 0.0f;
    }
    return out;
}

torch::Tensor activation(const GateSpec& spec, GateImpl& net, const torch::Tensor& z,
                         double randomRate, RandomGate random)
{
    const auto n = z.size(0);
    switch (spec.mode) {
        case GateMode::Off:
            return torch::ones({n});
        case GateMode::Threshold:
            return thresholdActivation(spec, z);
        case GateMode::Random:
            if (random == RandomGate::Draw)
                return (torch::rand({n}, threadGenerator()) < randomRate).to(torch::kFloat);
            return torch::full({n}, randomRate, torch::kFloat);
        case GateMode::Paper:
        case GateMode::Reliability:
            break;
    }
    return net.forward(z);
}

bool hardSwitchApplies(const GateSpec& spec)
{
    return spec.hard && gateLearns(spec.mode);
}

torch::Tensor activationAsUsed(const GateSpec& spec, const torch::Tensor& a)
{
    if (hardSwitchApplies(spec))
        return (a.detach() > spec.tauA).to(torch::kFloat);
    return a.detach();
}

torch::Tensor pairActivation(const torch::Tensor& aHigher, const torch::Tensor& aLower)
{
    return (aHigher + aLower) * 0.5;
}

torch::Tensor pairWeight(const GateSpec& spec, const torch::Tensor& aPair)
{
    if (hardSwitchApplies(spec)) {
        const auto hard = (aPair.detach() > spec.tauA).to(torch::kFloat);
        // Straight-through for the paper gate: forward hard, gradient of the soft gate.
        return spec.mode == GateMode::Paper ? hard + aPair - aPair.detach() : hard;
    }
    return spec.mode == GateMode::Reliability ? aPair.detach() : aPair;
}

std::optional<bool> reliabilityLabel(bool higherPositive, bool lowerPositive)
{
    if (higherPositive == lowerPositive)
        return std::nullopt;
    return higherPositive;
}

ReliabilityLabels::ReliabilityLabels(const GateSpec& spec, const Dataset& dataset)
    : m_positives(
          dataset.numUsers(),
          {spec.supervision == GateSupervision::Validation ? &dataset.validation : &dataset.train})
{}

std::optional<bool> ReliabilityLabels::label(std::uint32_t user, std::uint32_t higher,
                                             std::uint32_t lower) const
{
    return reliabilityLabel(m_positives.contains(user, higher), m_positives.contains(user, lower));
}

torch::Tensor reliabilityLoss(const torch::Tensor& aPair, const std::vector<std::int64_t>& rows,
                              const std::vector<float>& labels)
{
    if (rows.empty())
        return {};
    const auto idx = torch::tensor(rows, torch::kLong);
    return torch::binary_cross_entropy(aPair.index_select(0, idx).clamp(1e-6, 1.0 - 1e-6),
                                       floatTensor(labels));
}

}  // namespace sllmr
