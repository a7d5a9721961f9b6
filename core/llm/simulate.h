#pragma once
// A simulated LLM for teaching and validation: writes a pointwise score file for a dataset from a
// declared reliability profile instead of asking a model. Per (user, item) pair the first rule
// that applies decides how it is scored: `cold` (users with |H(u)| < tau_u), then `tail` (items
// with pop(i) < tau_i), then `default`. Behaviours: "accurate" (the user's known positives near 1,
// sampled non-positives near 0, Gaussian noise of the rule's `noise`), "noisy" (uniform in [0,1],
// blind to the truth) and "adversarial" (positives near 0, non-positives near 1). The file's
// header says `source: simulated` and carries the profile, so loadScores() reports it as such.
//
// Same dataset, profile and seed give the same file. Bad profiles are Error(Usage) naming the key.
#include "data/dataset.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sllmr {

struct SimulatedBehaviour
{
    std::string behaviour = "noisy";  // "accurate", "noisy", "adversarial"
    double noise = 0.1;               // standard deviation around the target (accurate/adversarial)
};

struct SimulationProfile
{
    SimulatedBehaviour fallback;             // "default"
    std::optional<SimulatedBehaviour> cold;  // cold users
    std::optional<SimulatedBehaviour> tail;  // long-tail items
    int trainPositives = 10;       // per user: sampled training positives that get a score
    bool heldOut = true;           // validation and test positives get a score
    int negativesPerPositive = 1;  // sampled non-positives per scored positive
    std::uint64_t seed = 42;
};

// Reads {"default": {"behaviour":..,"noise":..}, "cold": {..}, "tail": {..},
// "train_positives": 10, "held_out": true, "negatives_per_positive": 1, "seed": 42}; every key is
// optional.
SimulationProfile simulationProfileFromJson(const nlohmann::json& j,
                                            const std::string& prefix = "profile");
nlohmann::json toJson(const SimulationProfile& profile);

struct SimulationReport
{
    std::int64_t rows = 0;
    std::int64_t users = 0;
    std::int64_t cold = 0;      // rows decided by the cold rule
    std::int64_t tail = 0;      // by the tail rule
    std::int64_t fallback = 0;  // by the default rule
    double tauUser = 0;
    double tauItem = 0;
};

// Writes the score file to `path` (header comments, then user_id, item_id, score).
SimulationReport simulateScores(const Dataset& dataset, double tauUser, double tauItem,
                                const SimulationProfile& profile, const std::string& path);

}  // namespace sllmr
