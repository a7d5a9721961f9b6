#pragma once
// Per-segment evaluation of a trained backbone (SPEC 6): full-ranking AUC per test interaction
// (the paper's number), GAUC, NDCG@K, Recall@K, HR@K, MRR; the LLM alone per segment; segment
// sizes. A seeded share of users and sampled negatives are offered, and the protocol is part of
// every report.
#include "data/segments.h"
#include "eval/eval_spec.h"
#include "eval/evaluation.h"
#include "llm/scores.h"
#include "model/backbone.h"
#include "store/experiment_store.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace sllmr {

// Evaluates `model` (put in eval mode) on the dataset's test interactions.
Evaluation evaluate(BackboneImpl& model, const Dataset& dataset, const Segmentation& segmentation,
                    const ScoreSet* scores, const EvalSpec& spec, std::uint64_t seed,
                    const std::atomic<bool>* cancel = nullptr);

}  // namespace sllmr
