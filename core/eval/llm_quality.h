#pragma once
// How good the LLM is on its own, per evaluation segment (SPEC 6), before any training: for every
// test interaction (u, i) that the LLM scored, the AUC of r(u, i) against r of the user's scored
// items that are not known positives (train, validation or test), ties counting one half. Test
// interactions without a score, or whose user has no scored negative, are left out of the AUC and
// counted in the coverage. The evaluator uses the same per-user function, so the numbers agree.
#include "data/segments.h"
#include "llm/scores.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sllmr {

// LLM-alone AUC of each of `tests` (items of user u); NaN where undefined. `known[j]` must be
// non-zero for every known positive of u and `isTest[j]` for every test item of u.
std::vector<double> llmAucForUser(const ScoreSet& scores, std::uint32_t user,
                                  std::span<const std::uint32_t> tests,
                                  const std::vector<std::uint8_t>& known,
                                  const std::vector<std::uint8_t>& isTest);

struct LlmSegmentQuality
{
    std::string segment;
    std::int64_t testInteractions = 0;
    std::int64_t scoredTests = 0;   // test interactions with a defined LLM AUC
    double auc = 0;                 // mean LLM AUC over scoredTests (NaN when none)
    std::int64_t entries = 0;       // scored (u, i) entries that fall in the segment
    std::int64_t usersCovered = 0;  // segment users (all users for item segments) with a score
};

// Rows for "overall" and every user or item segment except the history/popularity buckets.
std::vector<LlmSegmentQuality> llmQualityBySegment(const Dataset& dataset,
                                                   const Segmentation& segmentation,
                                                   const ScoreSet& scores);

}  // namespace sllmr
