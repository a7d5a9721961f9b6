#pragma once
// Evaluation segments (SPEC 6): cold users and long-tail items by an absolute threshold or a
// quantile of the training counts, their complements (warm, head), and equal-count buckets by
// history length and by popularity. Every segment reports its size.
#include "data/dataset.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct Segment
{
    std::string name;           // "overall", "cold", "warm", "tail", "head", "hist_1".. , "pop_1"..
    std::string kind;           // "all", "users" or "items": what membership is defined on
    std::string description;    // e.g. "users with |H(u)| < 19"
    std::vector<bool> members;  // by user or item index; empty for "all"
    std::uint32_t memberCount = 0;  // users or items in the segment
    std::int64_t testInteractions = 0;
    std::int64_t validationInteractions = 0;
    double lo = 0;  // range of the count the segment covers: [lo, hi)
    double hi = 0;

    bool contains(std::uint32_t user, std::uint32_t item) const
    {
        if (kind == "all")
            return true;
        return kind == "users" ? members[user] : members[item];
    }
};

struct Segmentation
{
    // Resolved absolute thresholds: Cold(u) = |H(u)| < tauUser, Tail(i) = pop(i) < tauItem.
    double tauUser = 0;
    double tauItem = 0;
    std::vector<Segment> segments;

    const Segment* find(const std::string& name) const;
};

// Cold(u) = |H(u)| < tau_u and Tail(i) = pop(i) < tau_i (strict), the rules of the cold and tail
// segments, of the gate's inputs and of the LLM candidate sampling.
bool isColdUser(std::uint32_t historyLength, double tauUser);
bool isTailItem(std::uint32_t popularity, double tauItem);

// Resolves a threshold on `counts` (absolute: returned as is; quantile q: the smallest t such
// that at least a share q of the entries has count < t).
double resolveThreshold(const Threshold& threshold, const std::vector<std::uint32_t>& counts);

// The entries a quantile threshold is taken over: the positive counts (users with a training
// history, items with training interactions), as computeSegments() resolves them; entities with
// none fall below any positive threshold.
std::vector<std::uint32_t> quantileBase(const std::vector<std::uint32_t>& counts);

// A share that, as a quantile threshold over `base` (quantileBase()), cuts where "count below tau"
// does: the same entries fall below. The fewest decimals that do, at least three (up to nine).
// Nullopt when no entry is below tau (a quantile always takes at least one).
std::optional<double> shareForCut(const std::vector<std::uint32_t>& base, double tau);

Segmentation computeSegments(const Dataset& dataset, const SegmentSpec& spec);

// Summary for `sllmr dataset inspect --json` and the store: users, items, interactions, train,
// validation, test, segments, preprocessing report, files.
nlohmann::json datasetSummary(const Dataset& dataset, const Segmentation& segmentation);

}  // namespace sllmr
