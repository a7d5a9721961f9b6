#pragma once
// Checks that catch experiments which would otherwise report numbers that mislead, run before and
// after training (the runner reports them as warnings and stores them with the run):
// - the LLM score file over-represents held-out positives (llm/scores.h, heldOutWarning);
// - the reliability gate has nothing to learn from: it is trained on pairs where exactly one side
//   is a scored supervision positive (gate.supervision: train or validation positives); with none,
//   it stays at its initial activation (about 0.5) and the gated run is a fixed-weight hinge.
// No Torch, no I/O.
#include "data/dataset.h"
#include "llm/scores.h"
#include "train/gate_spec.h"

#include <cstdint>
#include <string>

namespace sllmr {

// Scored entries whose pair is a supervision positive (train or validation positives).
std::int64_t scoredSupervisionPositives(const Dataset& dataset, const ScoreSet& scores,
                                        GateSupervision supervision);

// Warning before training when `positives` is 0 (the gate cannot learn), else "".
std::string gateSupervisionWarning(std::int64_t positives, GateSupervision supervision);

// Warning after training when the labelled pairs were none or under 1% of the pairs, else "".
std::string labelledPairsWarning(std::int64_t labelledPairs, std::int64_t pairs);

// The line a warning is stored as in the run's notes.
inline constexpr const char* kWarningPrefix = "warning: ";

}  // namespace sllmr
