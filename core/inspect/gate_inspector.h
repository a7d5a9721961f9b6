#pragma once
// RunInspector: what the S-LLMR gate (SPEC 4) did in one completed run. It reloads the run's
// config from the store, the dataset, segmentation and LLM scores, and the model and gate of the
// run's `best.pt`, then answers run-level views (activation by history and popularity, the
// Cold x Tail grid, the distribution of a, parameters and activation per epoch) and drill-downs to
// one user or one item (scored items, candidate LLM pairs with z, a, hinge, reliability labels;
// test items with their full-ranking rank and AUC).
//
// Everything returned is a plain value type that can be copied across threads. Construction is the
// long call (about a second on the demo); it polls `cancel` between stages and while loading. The
// inspector owns all it loaded; use one inspector on one thread (Torch grad mode is per thread).
//
// Failure: Error(NotFound) for an unknown run, user or item, or a deleted checkpoint;
// Error(Usage) for a run that is not completed; Error(BadInput) when the dataset or score file
// changed since the run (content hash differs from the one stored with the run).
//
// What `a` means per gate mode: "paper"/"reliability" sigmoid(w.z + b) of the final gate
// (before a hard switch; "active" is a > tau_a), "threshold" the rule's 0/1, "off" 1, "random"
// the sampling rate (the expected value of the per-pair draw). q(u,i) comes from the final
// backbone in evaluation mode. A pair (i above j) is weighted by (a(u,i) + a(u,j)) / 2, or by
// 1[that > tau_a] with the hard switch: a, the weight, the hinge and the reliability label come
// from the functions training calls (train/gate.h, train/losses.h).
#include "store/experiment_store.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct InspectOptions
{
    const std::atomic<bool>* cancel = nullptr;              // aborts with Error(Cancelled)
    std::function<void(const std::string& stage)> onStage;  // "loading data", ...
};

// Facts about the inspected run.
struct InspectedRun
{
    std::int64_t runId = 0;
    std::string name;
    std::string model;      // backbone type
    std::string method;     // none, kd, pointwise, global, selective
    std::string gateMode;   // off, paper, reliability, threshold, random
    bool hasHinge = false;  // global or selective: LLM pairs are used
    bool hard = false;      // hard switch 1[a > tau_a]
    double tauA = 0.5;
    double lambda = 0;
    double margin = 0;
    double randomRate = 0;  // random mode: the rate used in training
    std::string uncertainty;
    std::array<bool, 3> inputs{};  // Cold, Tail, q enabled
    double tauUser = 0;            // Cold(u) = |H(u)| < tauUser
    double tauItem = 0;            // Tail(i) = pop(i) < tauItem
    int epochsRun = 0;
    int modelEpoch = 0;  // the epoch whose parameters best.pt holds (the best epoch)
    // The epoch the stored evaluation used: modelEpoch, or the last epoch when the config did not
    // restore the best one (then drill-down AUCs can differ from the stored ones).
    int evaluatedEpoch = 0;
    std::string datasetName;
    std::string scoresName;
    std::string scoreKind;  // rank, pointwise, rating: r is the normalized value
    std::int64_t users = 0;
    std::int64_t items = 0;
    std::int64_t scoredEntries = 0;  // LLM-scored (user, item) entries
    std::int64_t usersWithScores = 0;
    bool hasTitles = false;
    bool inputsVerified = false;  // dataset (and scores) hash checked against the stored one
    double openSeconds = 0;
};

struct ActivationStats
{
    std::int64_t count = 0;
    double meanActivation = 0;
    double activeShare = 0;  // share with a > tau_a
};

// Cold x Tail cell over all LLM-scored (user, item) entries of the final model and gate.
struct GateCell
{
    bool cold = false;
    bool tail = false;
    ActivationStats stats;
    std::int64_t users = 0;  // distinct users and items with an entry in the cell
    std::int64_t items = 0;
};

struct ActivationHistogram
{
    double lo = 0;
    double hi = 1;
    std::vector<std::int64_t> counts;  // equal-width bins on [lo, hi]; a == hi in the last
    double mean = 0;
};

// One epoch of the gate: its four parameters and its activity per segment during training.
struct EpochGate
{
    int epoch = 0;
    std::array<double, 4> parameters{};                // w_cold, w_tail, w_q, b
    std::map<std::string, ActivationStats> bySegment;  // "overall", "cold", "tail", ...
    double validationAuc = 0;
    std::int64_t pairs = 0;
    std::int64_t labeledPairs = 0;
};

struct GateParameterInfo
{
    std::string name;     // "w_cold", "w_tail", "w_q", "b"
    std::string meaning;  // one sentence
};
// The four gate parameters with what each means.
const std::array<GateParameterInfo, 4>& gateParameterInfo();

struct UserRef
{
    std::uint32_t index = 0;
    std::string id;  // original id
    std::uint32_t historyLength = 0;
    bool cold = false;  // as the gate sees it
};

struct ItemRef
{
    std::uint32_t index = 0;
    std::string id;
    std::string title;  // empty when the dataset has no titles
    std::uint32_t popularity = 0;
    bool tail = false;  // as the gate sees it
};

// One LLM-scored (user, item) entry with the backbone's and the gate's view of it.
struct ScoredEntry
{
    UserRef user;
    ItemRef item;
    int llmRank = 0;            // 1 = highest r among the user's scored items (ties share the best)
    double r = 0;               // normalized LLM score in [0,1]
    double logit = 0;           // backbone score s(u,i)
    double p = 0;               // sigmoid(s)
    std::array<double, 3> z{};  // Cold(u), Tail(i), q(u,i)
    double a = 0;
    bool active = false;
    bool trainPositive = false;
    bool testPositive = false;
};

// A candidate LLM pair: `higher` has the larger r. Every pair of the user's scored items with
// different r is a candidate; training draws up to pairs_per_user of them per batch.
struct GatePair
{
    UserRef user;
    ItemRef higher;
    ItemRef lower;
    double rHigher = 0;
    double rLower = 0;
    std::array<double, 3> zHigher{};
    std::array<double, 3> zLower{};
    double aHigher = 0;
    double aLower = 0;
    double a = 0;       // (aHigher + aLower) / 2
    double weight = 0;  // what multiplies the hinge: a, or 1[a > tau_a] with the hard switch
    bool active = false;
    double hinge = 0;                      // max(0, m - (s_higher - s_lower))
    double contribution = 0;               // lambda * weight * hinge
    std::optional<bool> reliabilityLabel;  // set when exactly one side is a known positive
};

struct TestRanking
{
    ItemRef item;
    double rank = 0;  // full-ranking position among the user's candidates (1 = top)
    double auc = 0;
    std::int64_t negatives = 0;
    std::optional<double> storedAuc;  // interaction_metrics of the run, when stored
};

struct PairSummary
{
    std::int64_t pairs = 0;
    std::int64_t active = 0;
    std::int64_t labeled = 0;
    std::int64_t labeledTrue = 0;
    double meanA = 0;
    double meanWeight = 0;
};

struct UserDrillDown
{
    UserRef user;
    std::vector<ItemRef> history;     // training items in time order
    std::vector<ScoredEntry> scored;  // by LLM rank
    std::vector<GatePair> pairs;      // by higher's rank, then lower's
    PairSummary pairSummary;
    std::vector<TestRanking> tests;
    double meanTestAuc = 0;  // NaN without test items
};

struct ItemDrillDown
{
    ItemRef item;
    std::int64_t testUsers = 0;         // users with the item in their test set
    std::vector<ScoredEntry> scoredBy;  // users whose LLM list has the item, by user index
    std::vector<GatePair> pairs;        // candidate pairs that involve the item
    PairSummary asHigher;
    PairSummary asLower;
};

// Which way the hinge pushes a segment's items (SPEC 4): a pair (higher, lower) raises s of
// `higher` and lowers s of `lower`, with its weight. Per item segment, over every candidate pair
// of every user with exactly one side in the segment (pairs with both sides in it push the
// segment both ways and are counted apart): the pair weight pushing the segment's items up (its
// item is `higher`) against down (its item is `lower`). On the demo the reliability gate opens
// more on tail items while most mixed pairs rank the tail item lower, so its weight mostly pushes
// tail items down.
struct SegmentDirections
{
    std::string segment;
    std::int64_t pairs = 0;       // mixed pairs: exactly one side in the segment
    std::int64_t inside = 0;      // pairs with both sides in the segment (not in the shares)
    std::int64_t up = 0;          // mixed pairs whose segment item is the higher one
    std::int64_t down = 0;        // ... the lower one
    double weightUp = 0;          // sum of pair weight over `up`
    double weightDown = 0;        // sum of pair weight over `down`
    std::int64_t activeUp = 0;    // active pairs (weight > tau_a) among `up`
    std::int64_t activeDown = 0;  // ... among `down`
    // Share of the mixed pairs' weight that pushes the segment up; NaN without weight.
    double shareUp() const;
    double meanWeightUp() const;    // weightUp / up; NaN when up == 0
    double meanWeightDown() const;  // weightDown / down; NaN when down == 0
};

struct SearchHit
{
    std::string kind;  // "user" or "item"
    std::string id;
    std::string title;   // items
    std::string detail;  // e.g. "history 12, cold" or "popularity 3, tail"
};

class RunInspector
{
public:
    // Opens run `runId` of `store`; the store must outlive the call only.
    RunInspector(const ExperimentStore& store, std::int64_t runId,
                 const InspectOptions& options = {});
    ~RunInspector();
    RunInspector(const RunInspector&) = delete;
    RunInspector& operator=(const RunInspector&) = delete;

    const InspectedRun& run() const;

    // (a) Binned activation by "history" and "popularity": as stored during training for
    // `epoch` (0: the evaluated epoch; gate_bins), or for every epoch; and recomputed from the
    // final model and gate over all LLM-scored entries (same bins).
    std::vector<GateBin> trainingBins(int epoch = 0) const;
    std::vector<GateBin> trainingBinsAllEpochs() const;
    std::vector<GateBin> finalBins() const;
    // (b) Cold x Tail grid over all LLM-scored entries: warm/head, warm/tail, cold/head, cold/tail.
    std::array<GateCell, 4> coldTailGrid() const;
    // (c) Distribution of a over all LLM-scored entries.
    ActivationHistogram histogram(int bins = 20) const;
    // (d) Parameters and activity per epoch.
    std::vector<EpochGate> epochs() const;

    // (e) Directions per item segment ("tail", "head", popularity buckets), over all candidate
    // pairs of the final model and gate; empty for a run without the LLM hinge.
    std::vector<SegmentDirections> directions() const;

    // Drill-downs by original id; Error(NotFound) when the id is not in the dataset.
    UserDrillDown user(const std::string& id) const;
    ItemDrillDown item(const std::string& id) const;
    // Users and items whose original id equals `text`, then items whose title contains it
    // (case-insensitive); at most `limit`.
    std::vector<SearchHit> find(const std::string& text, std::size_t limit = 10) const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace sllmr
