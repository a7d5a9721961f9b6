#pragma once
// What a gate configuration would switch on before any training (SPEC 4): for the Cold(u) and
// Tail(i) rules at given thresholds tau_u and tau_i, how many users, items, LLM-scored entries and
// candidate LLM pairs are activated, per evaluation segment. The Studio recomputes this on every
// threshold change, so the index is built once per (dataset, scores) and each preview is linear
// in the number of scored entries.
//
// The uncertainty input q(u,i) depends on the trained backbone and is unknown before training: a
// rule that involves q gives a range [lo, hi] (q condition false for every entry / true for every
// entry) instead of a single number. The rules are the gate's own (train/gate_spec.h). Nothing here
// throws.
#include "data/segments.h"
#include "llm/scores.h"
#include "train/gate_spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sllmr {

struct GatePreviewSpec
{
    double tauUser = 0;  // Cold(u) = |H(u)| < tauUser
    double tauItem = 0;  // Tail(i) = pop(i) < tauItem
    bool useCold = true;
    bool useTail = true;
    bool useUncertainty = true;
    GateRule rule = GateRule::Any;  // the threshold gate's rule over the enabled conditions
};

// Counts for one evaluation segment. `lo` and `hi` are equal unless the rule involves q.
struct GatePreviewRow
{
    std::string segment;
    std::int64_t users = 0;      // users in the segment (all users for item segments)
    std::int64_t coldUsers = 0;  // of those, Cold(u) = 1
    std::int64_t items = 0;      // items in the segment (all items for user segments)
    std::int64_t tailItems = 0;  // of those, Tail(i) = 1
    std::int64_t entries = 0;    // LLM-scored (u, i) in the segment
    double activeEntriesLo = 0;  // entries the rule activates
    double activeEntriesHi = 0;
    std::int64_t pairs = 0;    // candidate LLM pairs (r_i != r_j) of users in the segment
    double activePairsLo = 0;  // sum over pairs of (a_i + a_j) / 2, the trainer's pair weight
    double activePairsHi = 0;
};

class GatePreviewIndex
{
public:
    // Both references are only read during construction.
    GatePreviewIndex(const Dataset& dataset, const Segmentation& segmentation,
                     const ScoreSet& scores);

    // Rows in the segmentation's order, for "overall" and every user or item segment except the
    // history/popularity buckets.
    std::vector<GatePreviewRow> preview(const GatePreviewSpec& spec) const;

private:
    struct Entry
    {
        std::uint32_t user;
        std::uint32_t item;
        std::uint32_t otherPairs;  // scored items of the user with a different r
    };
    std::vector<Entry> m_entries;
    std::vector<std::uint32_t> m_history;
    std::vector<std::uint32_t> m_popularity;
    std::vector<std::int64_t> m_userPairs;  // candidate pairs per user
    std::vector<const Segment*> m_segments;
    Segmentation m_segmentation;
};

}  // namespace sllmr
