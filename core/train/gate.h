#pragma once
// The S-LLMR gate (SPEC 4), every formula of it in one place; training (train/trainer.cpp), the
// trainer's gate view, the run inspector and the gate preview call these functions.
//
//   inputs     z(u,i) = [Cold(u), Tail(i), q(u,i)]            GateInputs (thresholds resolved once)
//   q          margin, entropy or dropout variance, no grad   uncertainty()
//   a(u,i)     per mode: 1, learned sigmoid(w.z+b), the rule  activation(), GateImpl
//   pair       a(u,i,j) = (a(u,i) + a(u,j)) / 2               pairActivation()
//   weight     what multiplies the hinge (detach, hard, ST)   pairWeight()
//   label      does the LLM's order agree with positives      ReliabilityLabels, reliabilityLabel()
//   all        a batch's pair terms (L_llm, the gate's BCE)    pairTerms(), composed or fused
//
// The settings and the torch-free rules (Cold, Tail, the threshold rule, default thresholds) are
// in train/gate_spec.h. Nothing here throws except on misuse of tensor shapes.
#include "data/user_item_set.h"
#include "model/backbone.h"
#include "train/gate_spec.h"

#include <torch/torch.h>

#include <array>
#include <optional>
#include <vector>

namespace sllmr {

// The gate network: a(u,i) = sigmoid(w . z + b), four parameters; a switched-off input has its
// column zeroed, so its weight never moves.
class GateImpl : public torch::nn::Module
{
public:
    explicit GateImpl(const GateSpec& spec);

    // z: [N, 3] float; returns a: [N] in (0, 1).
    torch::Tensor forward(const torch::Tensor& z);

    // Binary mask of enabled inputs, [3].
    const torch::Tensor& inputMask() const { return m_mask; }

    // w_cold, w_tail, w_q, b.
    std::array<double, 4> parameterValues() const;

    torch::Tensor weight;  // [3]
    torch::Tensor bias;    // [1]

private:
    torch::Tensor m_mask;
};
TORCH_MODULE(Gate);

// Cold(u) and Tail(i) of every user and item at the resolved thresholds, computed once per run.
class GateInputs
{
public:
    GateInputs() = default;
    GateInputs(const GateSpec& spec, const Dataset& dataset, const Segmentation& segmentation);

    const GateThresholds& thresholds() const { return m_thresholds; }
    const std::vector<float>& cold() const { return m_cold; }  // by user: 1 or 0
    const std::vector<float>& tail() const { return m_tail; }  // by item: 1 or 0
    // z for rows (users[k], items[k]) with their uncertainty q [N]: [N, 3].
    torch::Tensor z(const std::vector<std::uint32_t>& users,
                    const std::vector<std::uint32_t>& items, const torch::Tensor& q) const;

private:
    GateThresholds m_thresholds;
    std::vector<float> m_cold;
    std::vector<float> m_tail;
};

// q(u,i) in [0,1] from probabilities p, without gradient: Margin (a) 2(1-max(p,1-p)); any other
// variant (b) the binary entropy of p in bits.
torch::Tensor uncertaintyFromProbability(const torch::Tensor& p, GateUncertainty variant);
// q (c): the variance of p over `passes` forwards of (users, items), times 4 and clipped to [0,1],
// without gradient. The model stays in the mode the caller set (training mode for dropout to act).
torch::Tensor dropoutUncertainty(BackboneImpl& model, const torch::Tensor& users,
                                 const torch::Tensor& items, int passes);
// Whether q comes from dropout passes: variant Dropout and a backbone that has dropout (without
// dropout the entropy (b) is used).
bool usesDropoutPasses(const GateSpec& spec, const BackboneImpl& model);
// q(u,i) of rows with backbone logits `logits` as the spec defines it.
torch::Tensor uncertainty(const GateSpec& spec, BackboneImpl& model, const torch::Tensor& logits,
                          const torch::Tensor& users, const torch::Tensor& items);

// Threshold mode: 1 where the spec's rule (thresholdRule) holds over Cold = z0 > 0.5,
// Tail = z1 > 0.5 and q = z2 > tau_q, else 0. z: [N, 3]; returns [N].
torch::Tensor thresholdActivation(const GateSpec& spec, const torch::Tensor& z);

// How the random mode gives a: Bernoulli draws (training) or the rate itself (its expected value,
// what the inspector shows).
enum class RandomGate { Draw, Expected };
// a(u,i) [N] as the mode defines it, before any hard switch: Off 1, Threshold the rule's 0/1,
// Random per `random` at `randomRate`, Paper and Reliability net(z).
torch::Tensor activation(const GateSpec& spec, GateImpl& net, const torch::Tensor& z,
                         double randomRate, RandomGate random);

// Whether the hard switch a -> 1[a > tau_a] applies: set, and a gate that learns.
bool hardSwitchApplies(const GateSpec& spec);
// a as used: 1[a > tau_a] (float) where the hard switch applies, else a itself (detached).
torch::Tensor activationAsUsed(const GateSpec& spec, const torch::Tensor& a);

// a(u,i,j) = (a(u,i) + a(u,j)) / 2 for pairs (i above j).
torch::Tensor pairActivation(const torch::Tensor& aHigher, const torch::Tensor& aLower);
// What multiplies the hinge of a pair: the soft a(u,i,j) (paper gate: gradient reaches the gate);
// detached for the reliability gate, which learns only from its labels; with the hard switch
// 1[a > tau_a], passing the soft gate's gradient straight through for the paper gate.
torch::Tensor pairWeight(const GateSpec& spec, const torch::Tensor& aPair);

// Reliability label of an LLM pair (higher above lower) of one user (SPEC 4): true when only
// `higher` is a supervision positive, false when only `lower` is, none otherwise.
std::optional<bool> reliabilityLabel(bool higherPositive, bool lowerPositive);

// The supervision positives of the reliability gate (train, or the validation slice) and the
// labels they give.
class ReliabilityLabels
{
public:
    ReliabilityLabels() = default;
    ReliabilityLabels(const GateSpec& spec, const Dataset& dataset);
    std::optional<bool> label(std::uint32_t user, std::uint32_t higher, std::uint32_t lower) const;

private:
    UserItemSet m_positives;
};

// The reliability gate's loss: BCE of a(u,i,j) of the labelled pairs (rows of aPair) against their
// labels. Undefined tensor when no pair is labelled.
torch::Tensor reliabilityLoss(const torch::Tensor& aPair, const std::vector<std::int64_t>& rows,
                              const std::vector<float>& labels);

// One batch's LLM pairs for pairTerms(): the user, higher and lower item of each pair, and the
// pairs that carry a reliability label (rows) with their labels (1: the LLM's order holds).
struct GatePairs
{
    const std::vector<std::uint32_t>& users;
    const std::vector<std::uint32_t>& higher;
    const std::vector<std::uint32_t>& lower;
    std::vector<std::int64_t> labelledRows;
    std::vector<float> labels;
};

// What a batch's pairs add to its loss.
struct PairTerms
{
    torch::Tensor llm;    // L_llm = mean over pairs of weight * hinge, []
    torch::Tensor gate;   // the reliability BCE, []; undefined in other modes or with no label
    torch::Tensor aUsed;  // a(u,i) of both sides (higher sides, then lower) as used, no gradient
};

// How pairTerms() computes: Fastest is Fused where it applies (fusedPairTermsApply), else
// Composed, the functions above one after another. Tests ask for each form.
enum class PairTermsForm { Fastest, Composed, Fused };

// Whether the fused form covers this gate: every mode but random (which draws its a), with q from
// the probability (margin or entropy, not dropout passes).
bool fusedPairTermsApply(const GateSpec& spec, const BackboneImpl& model);

// The pair terms of one batch (SPEC 4, 5): q of both sides of every pair from their logits (or
// dropout passes over sideUsers, sideItems: [2P], higher sides then lower), z, a, a(u,i,j), the
// weight, the hinge with `margin`, L_llm, and the reliability BCE on the labelled pairs.
// sHigher, sLower: the pairs' logits [P], with their gradient.
// The fused form is the same formulas as one autograd function, forward and backward as plain
// loops over the pairs; composed, they were about 30 small tensor operations each way a batch,
// most of what the gate costs a step. Both give the same values and gradients up to the order
// of float additions (tst_gate compares them in every mode they share), so a value within an ulp
// of tau_a or tau_q may switch the other way. The gate's parameters get no gradient (undefined)
// where it is not in the loss, in both forms. Throws std::invalid_argument when the logits, pairs
// and labels differ in size, or when Fused is asked for where it does not apply.
PairTerms pairTerms(const GateSpec& spec, GateImpl& net, const GateInputs& inputs,
                    BackboneImpl& model, const GatePairs& pairs, const torch::Tensor& sHigher,
                    const torch::Tensor& sLower, const torch::Tensor& sideUsers,
                    const torch::Tensor& sideItems, double margin, double randomRate,
                    PairTermsForm form = PairTermsForm::Fastest);

}  // namespace sllmr
