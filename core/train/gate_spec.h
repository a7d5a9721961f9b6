#pragma once
// The gate's settings and its torch-free rules (SPEC 4): which inputs it reads, how a(u,i) is set
// (the mode), the thresholds of Cold(u) and Tail(i) and how they default to the segments', and
// the threshold mode's rule. Plain types, no Torch: the Studio's pages and the gate preview use
// these rules; the tensor side of the gate (q, a, pair weights, reliability labels) is
// train/gate.h.
#include "common/choice.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace sllmr {

struct Segmentation;

// What a(u,i) is: 1 ("off"), learned by the paper's objective, learned to predict reliability,
// a hand-set rule on the inputs, or Bernoulli draws.
enum class GateMode { Off, Paper, Reliability, Threshold, Random };
inline std::span<const char* const> choiceNames(GateMode)
{
    static constexpr std::array<const char*, 5> names{"off", "paper", "reliability", "threshold",
                                                      "random"};
    return names;
}
// Paper and Reliability gates have parameters that learn (and a hard switch can apply).
constexpr bool gateLearns(GateMode m)
{
    return m == GateMode::Paper || m == GateMode::Reliability;
}

// q(u,i): (a) 2(1-max(p,1-p)), (b) binary entropy in bits, (c) variance of p over dropout passes.
enum class GateUncertainty { Margin, Entropy, Dropout };
inline std::span<const char* const> choiceNames(GateUncertainty)
{
    static constexpr std::array<const char*, 3> names{"margin", "entropy", "dropout"};
    return names;
}

// Threshold mode: any or all of the enabled conditions.
enum class GateRule { Any, All };
inline std::span<const char* const> choiceNames(GateRule)
{
    static constexpr std::array<const char*, 2> names{"any", "all"};
    return names;
}

// Reliability labels from the positives of train or of the validation slice.
enum class GateSupervision { Train, Validation };
inline std::span<const char* const> choiceNames(GateSupervision)
{
    static constexpr std::array<const char*, 2> names{"train", "validation"};
    return names;
}

struct GateSpec
{
    GateMode mode = GateMode::Reliability;
    bool useCold = true;
    bool useTail = true;
    bool useUncertainty = true;
    GateUncertainty uncertainty = GateUncertainty::Entropy;
    int dropoutPasses = 5;
    std::optional<double> tauUser;  // Cold(u) = |H(u)| < tau_u; default: the cold segment's
    std::optional<double> tauItem;  // Tail(i) = pop(i) < tau_i; default: the tail segment's
    double tauQ = 0.5;              // threshold mode: q > tau_q
    GateRule rule = GateRule::Any;  // threshold mode: any or all enabled conditions
    bool hard = false;              // a -> 1[a > tau_a]
    double tauA = 0.5;
    double randomRate = 0.5;        // random mode: Bernoulli rate...
    std::int64_t referenceRun = 0;  // ...or the mean activation of this earlier run (0: none)
    GateSupervision supervision = GateSupervision::Train;
    double learningRate = 1e-2;  // gate parameters (paper and reliability modes)
    double lossWeight = 1.0;     // weight of the reliability BCE in the total loss
};

// The thresholds the gate uses: the spec's when set, else the segmentation's (cold, tail). Cold(u)
// and Tail(i) at those thresholds are data/segments.h's isColdUser() and isTailItem().
struct GateThresholds
{
    double tauUser = 0;
    double tauItem = 0;
};
GateThresholds resolveGateThresholds(const GateSpec& spec, const Segmentation& segmentation);

// The threshold mode's rule (SPEC 4) over the conditions Cold, Tail and q > tau_q: `enabled`
// says which inputs the gate reads, `holds` whether each condition holds. True when any (rule Any)
// or all (rule All) enabled conditions hold; false when no input is enabled.
bool thresholdRule(GateRule rule, const std::array<bool, 3>& enabled,
                   const std::array<bool, 3>& holds);

}  // namespace sllmr
