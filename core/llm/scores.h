#pragma once
// LLM score files (SPEC 7): pointwise scores in [0,1], ratings on a known scale, or ranked lists,
// normalized to r(u,i) in [0,1] and matched to a dataset. An optional candidate file adds the
// items that were offered to the LLM but not returned, with a default score (0.5). Delimited with
// RFC 4180 quoting; UTF-8, Latin-1 or Windows-1252. A row with an empty value (an LLM that did not
// answer) is skipped, scored with the candidate default, or an error, as `missing` says. Nothing
// is dropped silently: every row ends up in exactly one of matched / duplicates / unknown users /
// unknown items / missing values skipped, and the report says so. Lines starting with '#' are
// comments; those before the first data line of the form '# key: value' are the file's provenance
// (model, template, date, or 'source: simulated' for a simulated LLM) and are reported as is.
// A run config may name a simulated LLM instead of a file (`scores.simulate`, a profile of
// llm/simulate.h): loadRunScores() then simulates the scores for the run's dataset.
#include "data/dataset.h"
#include "llm/simulate.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct ScoreFileSpec
{
    std::string path;
    std::string name;
    // "rank" (rank 1 best), "pointwise" (score in [0,1]), "rating" (on [ratingMin, ratingMax]),
    // "auto" (from the header: a 'rank' column means rank, 'rating' rating, else pointwise).
    std::string kind = "auto";
    std::string delimiter;        // empty: detect
    std::string header = "auto";  // "auto", "yes", "no"
    std::string userColumn;       // names or 0-based indices; empty: detect
    std::string itemColumn;
    std::string valueColumn;
    double ratingMin = 1.0;
    double ratingMax = 5.0;
    // Ranks: "linear" 1 - (rank-1)/N_u, with N_u = max(list length, largest rank) of the user, or
    // "exponential" exp(-decay * (rank-1)).
    std::string rankMapping = "linear";
    double decay = 0.1;
    std::string candidatesPath;  // user, item[, rank] or user<TAB>item item item ...
    double candidateDefault = 0.5;
    std::string encoding = "utf-8";  // "utf-8", "latin1", "cp1252" (score and candidate files)
    // An empty value cell: "skip" the row (counted), score it "default" (candidateDefault, as is),
    // or "error".
    std::string missing = "skip";
    // Entries whose pair is a validation or test positive: "keep" them (a warning says when they
    // are over-represented) or "drop" them before anything is built from the scores.
    std::string heldOut = "keep";
    // Instead of a file (then `path` and `candidatesPath` are empty): a simulated LLM with this
    // profile, computed for the run's dataset (the same dataset, profile and seed give the same
    // scores). The kind is pointwise.
    std::optional<SimulationProfile> simulate;

    // A score file or a simulated LLM is named.
    bool given() const noexcept { return !path.empty() || simulate.has_value(); }
    // What the scores come from, for messages and the store: the path, or "simulated LLM".
    std::string source() const;
    void resolvePaths(const std::string& baseDir);
};

void to_json(nlohmann::json& j, const ScoreFileSpec& spec);
ScoreFileSpec scoreSpecFromJson(const nlohmann::json& j, const std::string& prefix = "scores");

struct ScoreReport
{
    std::int64_t rows = 0;          // data rows in the score file
    std::int64_t matched = 0;       // first occurrences with known user and item: the scores
    std::int64_t duplicates = 0;    // repeated (user, item) rows; the first is kept
    std::int64_t unknownUsers = 0;  // rows whose user is not in the dataset
    std::int64_t unknownItems = 0;  // rows whose user is known but item is not
    std::int64_t distinctUnknownUsers = 0;
    std::int64_t distinctUnknownItems = 0;
    std::int64_t outOfRange = 0;  // values outside the scale, clamped into it (reported)
    // Rows whose value cell is empty; skipped, or scored with the candidate default (then also
    // counted in matched, duplicates or unknown like any row), as missingPolicy says.
    std::int64_t missingValues = 0;
    std::string missingPolicy;
    // Rows (duplicates included) whose pair is a known positive of the training history (train or
    // the validation slice carved from it).
    std::int64_t inTrain = 0;
    std::int64_t inTest = 0;        // rows (duplicates included) whose pair is a test positive
    std::int64_t usersCovered = 0;  // dataset users with at least one score
    std::int64_t itemsCovered = 0;
    std::int64_t candidatesAdded = 0;    // candidate pairs without an LLM answer, scored by default
    std::int64_t candidatesUnknown = 0;  // candidate entries whose user or item is not in the data
    std::int64_t maxRank = 0;
    std::string kind;         // resolved kind
    std::string contentHash;  // file bytes plus how they were read (kind, columns, mapping)
    std::vector<std::string> warnings;  // e.g. first lines of unknown ids
    std::int64_t commentLines = 0;      // lines starting with '#', skipped
    // '# key: value' comment lines before the first data line (e.g. model, template_hash, source).
    std::map<std::string, std::string> provenance;
    bool simulated = false;  // provenance says 'source: simulated': not a real LLM's opinion
    // Selection check over the matched entries (candidates included) whose pair is not a training
    // positive: how many are held-out (validation or test) positives, and how many a random
    // choice of the same users' unseen items would give (sum over entries of
    // held-out(u) / unseen(u)).
    std::int64_t unseenEntries = 0;
    std::int64_t heldOutEntries = 0;
    double expectedHeldOut = 0;
    std::int64_t heldOutDropped = 0;  // entries removed by held_out = "drop"
};

// A warning when held-out positives are over-represented among the scored entries: at least
// kHeldOutRatio times what random unseen items would give, at least kHeldOutShare of the entries
// and 3 entries above chance; else "". Such a file scores the items the evaluation asks about,
// e.g. a rating-prediction file that rates only each user's test items.
inline constexpr double kHeldOutRatio = 10.0;
inline constexpr double kHeldOutShare = 0.2;
std::string heldOutWarning(const ScoreReport& report);

// Scores grouped by user (CSR): items and r of user u are [offsets[u], offsets[u+1]).
struct ScoreSet
{
    ScoreFileSpec spec;
    std::vector<std::uint32_t> offsets;
    std::vector<std::uint32_t> items;
    std::vector<float> values;
    ScoreReport report;

    std::size_t size() const noexcept { return items.size(); }
};

ScoreSet loadScores(const ScoreFileSpec& spec, const Dataset& dataset,
                    const LoadControl& control = {});
// loadScores(), or for a spec with `simulate` the simulated LLM's scores for `dataset` with the
// cold and tail thresholds of its segmentation (written to a temporary file by simulateScores and
// read back as a pointwise file, so the report, provenance and content hash are those of that
// file; the returned spec is `spec`).
ScoreSet loadRunScores(const ScoreFileSpec& spec, const Dataset& dataset, double tauUser,
                       double tauItem, const LoadControl& control = {});

nlohmann::json scoreReportJson(const ScoreReport& report);

}  // namespace sllmr
