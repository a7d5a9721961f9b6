#pragma once
// The result of evaluating a model on the test interactions: metrics per segment, segment sizes
// and the AUC of every evaluated interaction. Plain types, no Torch (see eval/evaluator.h for the
// evaluation itself).
#include "store/experiment_store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sllmr {

struct Evaluation
{
    std::string protocol;  // e.g. "full ranking, all test users"
    // metrics[segment][metric]; sizes[segment] = test interactions evaluated in the segment.
    std::map<std::string, std::map<std::string, double>> metrics;
    std::map<std::string, std::int64_t> sizes;
    std::vector<InteractionMetric> perInteraction;  // AUC of every evaluated test interaction
    std::int64_t unseenItems = 0;  // evaluated test interactions whose item has no training row
};

// {"overall": {"auc": .., "size": ..}, ...} as `sllmr run --json` prints it.
nlohmann::json evaluationJson(const Evaluation& evaluation);

}  // namespace sllmr
