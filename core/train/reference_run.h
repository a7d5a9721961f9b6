#pragma once
// Evaluation of a non-learned reference method (train/reference_scorer.h) through the same
// evaluator as the trained backbones: the scorer is wrapped in the backbone interface (scoreAll and
// forward), so full and sampled ranking, segments and the LLM-alone columns are computed the same
// way. The runner calls this instead of training for methods isReferenceMethod() accepts.
#include "eval/evaluator.h"
#include "train/reference_scorer.h"
#include "train/run_config.h"

#include <memory>

namespace sllmr {

// A backbone whose logits are a reference scorer's scores; it has no parameters.
std::shared_ptr<BackboneImpl> referenceBackbone(std::shared_ptr<const ReferenceScorer> scorer);

// Builds the scorer of config.method.name and evaluates it. `scores` is needed by "llm" (Error
// Usage otherwise).
Evaluation evaluateReferenceMethod(const RunConfig& config, const Dataset& dataset,
                                   const Segmentation& segmentation, const ScoreSet* scores,
                                   const std::atomic<bool>* cancel = nullptr);

}  // namespace sllmr
