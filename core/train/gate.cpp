#include "train/gate.h"

#include "common/thread_generator.h"
#include "data/segments.h"
#include "train/losses.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sllmr {
namespace {

// The reliability BCE keeps a(u,i,j) within [kBceClamp, 1 - kBceClamp], in both forms.
constexpr double kBceClamp = 1e-6;

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
    return torch::binary_cross_entropy(aPair.index_select(0, idx).clamp(kBceClamp, 1.0 - kBceClamp),
                                       floatTensor(labels));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

float sigmoid(float x)
{
    return 1.0f / (1.0f + std::exp(-x));
}

// q from the probability p as uncertaintyFromProbability() computes it, in float.
float uncertaintyOf(float p, GateUncertainty variant)
{
    if (variant == GateUncertainty::Margin)
        return 2.0f * (1.0f - std::max(p, 1.0f - p));
    const float q = std::clamp(p, 1e-7f, static_cast<float>(1.0 - 1e-7));
    return -(q * std::log2(q) + (1.0f - q) * std::log2(1.0f - q));
}

// The weight on a pair's hinge: 1[a(u,i,j) > tau_a] with the hard switch, else a(u,i,j).
float hingeWeight(float aPair, bool hard, float tauA)
{
    if (!hard)
        return aPair;
    return aPair > tauA ? 1.0f : 0.0f;
}

struct FusedPairSetup
{
    const GateSpec* spec;
    const GateInputs* inputs;
    const GatePairs* pairs;
    float margin;
};

// composedPairTerms() as one autograd function (modes off, threshold, paper, reliability; q from
// the probability). Outputs: L_llm [], the reliability BCE [] (0 when it does not apply) and a as
// used [2P]; gradients reach the pairs' logits and, for a gate that learns, its weight and bias,
// as through the composed operations.
struct FusedPairTerms : public torch::autograd::Function<FusedPairTerms>
{
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& sHigher,
                                 const torch::Tensor& sLower, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const torch::Tensor& mask,
                                 const FusedPairSetup& setup)
    {
        const auto& spec = *setup.spec;
        const auto& pairs = *setup.pairs;
        const auto& cold = setup.inputs->cold();
        const auto& tail = setup.inputs->tail();
        const auto np = sHigher.size(0);
        const auto hi = sHigher.contiguous();
        const auto lo = sLower.contiguous();
        const auto* sh = hi.data_ptr<float>();
        const auto* sl = lo.data_ptr<float>();
        const auto w = weight.contiguous();
        const auto m = mask.contiguous();
        const float* wp = w.data_ptr<float>();
        const float* mp = m.data_ptr<float>();
        const float b = bias.data_ptr<float>()[0];

        // Per side: z (times the input mask, as the net multiplies it) and a: net(z) for a gate
        // that learns, the rule over the unmasked z for the threshold gate, 1 for the gate off.
        const bool learns = gateLearns(spec.mode);
        const std::array<bool, 3> enabled{spec.useCold, spec.useTail, spec.useUncertainty};
        const auto tauQ = static_cast<float>(spec.tauQ);
        auto z = torch::empty({2 * np, 3});
        auto a = torch::empty({2 * np});
        auto* zp = z.data_ptr<float>();
        auto* ap = a.data_ptr<float>();
        for (std::int64_t k = 0; k < 2 * np; ++k) {
            const bool higher = k < np;
            const auto pair = static_cast<std::size_t>(higher ? k : k - np);
            const float s = higher ? sh[pair] : sl[pair];
            const auto item = higher ? pairs.higher[pair] : pairs.lower[pair];
            const float c = cold[pairs.users[pair]];
            const float t = tail[item];
            const float q = uncertaintyOf(sigmoid(s), spec.uncertainty);
            float* zk = zp + 3 * k;
            zk[0] = c * mp[0];
            zk[1] = t * mp[1];
            zk[2] = q * mp[2];
            if (learns)
                ap[k] = sigmoid(zk[0] * wp[0] + zk[1] * wp[1] + zk[2] * wp[2] + b);
            else if (spec.mode == GateMode::Threshold)
                ap[k] =
                    thresholdRule(spec.rule, enabled, {c > 0.5f, t > 0.5f, q > tauQ}) ? 1.0f : 0.0f;
            else
                ap[k] = 1.0f;
        }

        // Per pair: a(u,i,j), the weight on the hinge, the hinge; L_llm their mean product.
        const bool hard = hardSwitchApplies(spec);
        const auto tauA = static_cast<float>(spec.tauA);
        auto aPair = torch::empty({np});
        auto hinge = torch::empty({np});
        auto* pp = aPair.data_ptr<float>();
        auto* hp = hinge.data_ptr<float>();
        double llm = 0;
        for (std::int64_t k = 0; k < np; ++k) {
            pp[k] = (ap[k] + ap[np + k]) * 0.5f;
            const float weightK = hingeWeight(pp[k], hard, tauA);
            hp[k] = std::max(0.0f, setup.margin - (sh[k] - sl[k]));
            llm += static_cast<double>(weightK * hp[k]);
        }

        // The reliability BCE over the labelled pairs, a(u,i,j) clamped as reliabilityLoss does.
        const bool reliability = spec.mode == GateMode::Reliability;
        const auto labelled = static_cast<std::int64_t>(pairs.labelledRows.size());
        double gate = 0;
        if (reliability) {
            for (std::int64_t r = 0; r < labelled; ++r) {
                const auto x =
                    std::clamp(pp[pairs.labelledRows[static_cast<std::size_t>(r)]],
                               static_cast<float>(kBceClamp), static_cast<float>(1.0 - kBceClamp));
                const float y = pairs.labels[static_cast<std::size_t>(r)];
                gate -= static_cast<double>(y * std::max(std::log(x), -100.0f) +
                                            (1.0f - y) * std::max(std::log(1.0f - x), -100.0f));
            }
        }

        auto used = hard ? (a > tauA).to(torch::kFloat) : a.clone();
        ctx->mark_non_differentiable({used});
        ctx->save_for_backward({z, a, aPair, hinge});
        ctx->saved_data["hard"] = hard;
        ctx->saved_data["tau_a"] = spec.tauA;
        ctx->saved_data["paper"] = spec.mode == GateMode::Paper;
        ctx->saved_data["learns"] = learns;
        ctx->saved_data["rows"] = torch::tensor(pairs.labelledRows, torch::kLong);
        ctx->saved_data["labels"] =
            reliability ? torch::tensor(pairs.labels, torch::kFloat) : torch::empty({0});
        const auto pairCount = static_cast<double>(std::max<std::int64_t>(np, 1));
        const auto labelCount = static_cast<double>(std::max<std::int64_t>(labelled, 1));
        return {torch::tensor(static_cast<float>(llm / pairCount)),
                torch::tensor(static_cast<float>(gate / labelCount)), used};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto* z = saved[0].data_ptr<float>();
        const auto* a = saved[1].data_ptr<float>();
        const auto* aPair = saved[2].data_ptr<float>();
        const auto* hinge = saved[3].data_ptr<float>();
        const bool hard = ctx->saved_data["hard"].toBool();
        const auto tauA = static_cast<float>(ctx->saved_data["tau_a"].toDouble());
        const bool paper = ctx->saved_data["paper"].toBool();
        const bool learns = ctx->saved_data["learns"].toBool();
        const auto rowsT = ctx->saved_data["rows"].toTensor();
        const auto labelsT = ctx->saved_data["labels"].toTensor();
        const auto np = saved[2].size(0);
        const float gLlm = grads[0].defined() ? grads[0].item<float>() : 0.0f;
        const float gGate = grads[1].defined() ? grads[1].item<float>() : 0.0f;

        // L_llm: the hinge's gradient reaches the logits where it is positive; the weight's
        // reaches the paper gate (soft, or straight through the hard switch), not the reliability
        // gate, which learns from its labels only.
        auto dHigher = torch::empty({np});
        auto dLower = torch::empty({np});
        auto* dh = dHigher.data_ptr<float>();
        auto* dl = dLower.data_ptr<float>();
        std::vector<float> dA(static_cast<std::size_t>(2 * np), 0.0f);
        const float scale = gLlm / static_cast<float>(np);
        for (std::int64_t k = 0; k < np; ++k) {
            const float weightK = hingeWeight(aPair[k], hard, tauA);
            const float dHinge = scale * weightK;
            dh[k] = hinge[k] > 0 ? -dHinge : 0.0f;
            dl[k] = hinge[k] > 0 ? dHinge : 0.0f;
            if (paper) {
                const float dPair = scale * hinge[k];
                dA[static_cast<std::size_t>(k)] += 0.5f * dPair;
                dA[static_cast<std::size_t>(np + k)] += 0.5f * dPair;
            }
        }
        // The reliability BCE: binary_cross_entropy's gradient, through the clamp.
        const auto labelled = rowsT.numel();
        if (labelsT.numel() > 0 && labelled > 0) {
            const auto* rows = rowsT.data_ptr<std::int64_t>();
            const auto* labels = labelsT.data_ptr<float>();
            const float gateScale = gGate / static_cast<float>(labelled);
            const auto bottom = static_cast<float>(kBceClamp);
            const auto top = static_cast<float>(1.0 - kBceClamp);
            for (std::int64_t r = 0; r < labelled; ++r) {
                const auto k = rows[r];
                const float p = aPair[k];
                if (p < bottom || p > top)
                    continue;
                const float dPair = gateScale * (p - labels[r]) / std::max((1.0f - p) * p, 1e-12f);
                dA[static_cast<std::size_t>(k)] += 0.5f * dPair;
                dA[static_cast<std::size_t>(np + k)] += 0.5f * dPair;
            }
        }
        // No gradient at all (undefined, as the composed path leaves it) where the gate is not in
        // the loss: a gate that does not learn, or the reliability gate without a labelled pair.
        // A defined zero would make Adam step (and count the step) where it did not before.
        if (!learns || (!paper && labelled == 0))
            return {dHigher,         dLower,          torch::Tensor(),
                    torch::Tensor(), torch::Tensor(), torch::Tensor()};
        // a = sigmoid(z . w + b).
        double dW[3] = {0, 0, 0};
        double dB = 0;
        for (std::int64_t k = 0; k < 2 * np; ++k) {
            const float dPre = dA[static_cast<std::size_t>(k)] * (1.0f - a[k]) * a[k];
            for (int c = 0; c < 3; ++c)
                dW[c] += static_cast<double>(z[3 * k + c] * dPre);
            dB += static_cast<double>(dPre);
        }
        auto dWeight = torch::tensor(
            {static_cast<float>(dW[0]), static_cast<float>(dW[1]), static_cast<float>(dW[2])});
        auto dBias = torch::tensor({static_cast<float>(dB)});
        return {dHigher, dLower, dWeight, dBias, torch::Tensor(), torch::Tensor()};
    }
};

PairTerms composedPairTerms(const GateSpec& spec, GateImpl& net, const GateInputs& inputs,
                            BackboneImpl& model, const GatePairs& pairs,
                            const torch::Tensor& sHigher, const torch::Tensor& sLower,
                            const torch::Tensor& sideUsers, const torch::Tensor& sideItems,
                            double margin, double randomRate)
{
    const auto np = sHigher.size(0);
    const auto hinge = pairHinge(sHigher, sLower, margin);
    std::vector<std::uint32_t> users(pairs.users);
    users.insert(users.end(), pairs.users.begin(), pairs.users.end());
    std::vector<std::uint32_t> items(pairs.higher);
    items.insert(items.end(), pairs.lower.begin(), pairs.lower.end());
    const auto q = uncertainty(spec, model, torch::cat({sHigher, sLower}), sideUsers, sideItems);
    const auto z = inputs.z(users, items, q);
    const auto aSide = activation(spec, net, z, randomRate, RandomGate::Draw);
    const auto aPair = pairActivation(aSide.slice(0, 0, np), aSide.slice(0, np, 2 * np));
    PairTerms terms;
    terms.llm = hingeLoss(pairWeight(spec, aPair), hinge);
    if (spec.mode == GateMode::Reliability)
        terms.gate = reliabilityLoss(aPair, pairs.labelledRows, pairs.labels);
    terms.aUsed = activationAsUsed(spec, aSide);
    return terms;
}

}  // namespace

bool fusedPairTermsApply(const GateSpec& spec, const BackboneImpl& model)
{
    // The random gate draws from the generator, dropout passes run the model: both stay composed
    // so that they draw what they always drew.
    return spec.mode != GateMode::Random && !usesDropoutPasses(spec, model);
}

PairTerms pairTerms(const GateSpec& spec, GateImpl& net, const GateInputs& inputs,
                    BackboneImpl& model, const GatePairs& pairs, const torch::Tensor& sHigher,
                    const torch::Tensor& sLower, const torch::Tensor& sideUsers,
                    const torch::Tensor& sideItems, double margin, double randomRate,
                    PairTermsForm form)
{
    const auto np = static_cast<std::size_t>(sHigher.dim() == 1 ? sHigher.size(0) : -1);
    if (sLower.sizes() != sHigher.sizes() || np != pairs.users.size() ||
        np != pairs.higher.size() || np != pairs.lower.size() ||
        pairs.labels.size() != pairs.labelledRows.size())
        throw std::invalid_argument("pairTerms: logits, pairs and labels do not match");
    // The loops read float CPU tensors; anything else is composed.
    const auto plain = [](const torch::Tensor& t) {
        return t.scalar_type() == torch::kFloat && t.device().is_cpu();
    };
    const bool loops = plain(sHigher) && plain(sLower) && plain(net.weight) && plain(net.bias);
    const bool fused = form == PairTermsForm::Fused || (form == PairTermsForm::Fastest && loops &&
                                                        fusedPairTermsApply(spec, model));
    if (!fused)
        return composedPairTerms(spec, net, inputs, model, pairs, sHigher, sLower, sideUsers,
                                 sideItems, margin, randomRate);
    if (!fusedPairTermsApply(spec, model) || !loops)
        throw std::invalid_argument(
            "pairTerms: the fused form needs a gate that does not draw, "
            "q from the probability and float CPU tensors");
    const FusedPairSetup setup{&spec, &inputs, &pairs, static_cast<float>(margin)};
    const auto out =
        FusedPairTerms::apply(sHigher, sLower, net.weight, net.bias, net.inputMask(), setup);
    PairTerms terms;
    terms.llm = out[0];
    if (spec.mode == GateMode::Reliability && !pairs.labelledRows.empty())
        terms.gate = out[1];
    terms.aUsed = out[2];
    return terms;
}

}  // namespace sllmr
