#pragma once
// The S-LLMR trainer (SPEC 2-5): base loss (BCE with sampled negatives, or BPR) plus, by method,
// global distillation, pointwise MSE, or the pairwise LLM hinge weighted by the gate. Adam for
// dense parameters, lazy Adam for sparse embedding rows. Every random source is seeded from the
// run seed and the epoch, so the same config and seed give the same numbers, and a run resumed
// from an epoch checkpoint continues exactly as if it had not stopped.
//
// Threads: construct and use a Trainer on one thread (grad mode is thread-local). Progress goes to
// plain callbacks; `cancel` is polled between batches. With train.parallel "batch" the trainer
// keeps `train.threads` - 1 threads of its own (started with the first batch) that take shares of
// each batch's rows next to the calling thread.
#include "common/seed.h"
#include "data/segments.h"
#include "data/user_item_set.h"
#include "llm/scores.h"
#include "model/backbone.h"
#include "store/experiment_store.h"
#include "train/dense_adam.h"
#include "train/gate.h"
#include "train/lazy_adam.h"
#include "train/progress.h"
#include "train/run_config.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sllmr {

class ShareThreads;

// The distinct (user, item) sides of a batch's LLM pairs, which the trainer scores once each
// however many pairs hold them, and each pair's higher and lower side as an index into them.
struct PairSides
{
    std::vector<std::uint32_t> users;
    std::vector<std::uint32_t> items;
    std::vector<std::int64_t> higher;
    std::vector<std::int64_t> lower;
};

// Fills `out` from pairs (users[k], higher[k] > lower[k]). Sides are matched within a run of
// consecutive pairs of one user (the trainer draws a user's pairs together), in first-seen order:
// pair by pair, its higher side, then its lower. A user whose pairs are not consecutive gets a
// side per run, which is still right, only not merged.
void distinctPairSides(const std::vector<std::uint32_t>& users,
                       const std::vector<std::uint32_t>& higher,
                       const std::vector<std::uint32_t>& lower, PairSides& out);

class Trainer
{
public:
    // `scores` may be null for method "none". All references must outlive the trainer.
    Trainer(const RunConfig& config, const Dataset& dataset, const Segmentation& segmentation,
            const ScoreSet* scores);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    // Trains one epoch (1-based) and computes its validation AUC. Returns false when cancelled
    // (the model then holds the state of the last finished batch).
    bool trainEpoch(int epoch, const TrainControl& control, EpochResult& result);

    BackboneImpl& model() { return *m_model; }
    GateImpl& gate() { return *m_gate; }
    double randomRate() const { return m_randomRate; }
    void setRandomRate(double rate) { m_randomRate = rate; }

    // The gate as the inspector shows it, for (user, item) rows of the current model and gate,
    // without gradient and with the backbone in evaluation mode (q from seeded dropout passes for
    // the "dropout" uncertainty): backbone logits [N], z = [Cold(u), Tail(i), q(u,i)] [N, 3] and
    // a(u,i) [N] as the mode defines it: "off" 1, "threshold" the rule's 0/1, "random" the
    // sampling rate (its expected value), "paper"/"reliability" sigmoid(w.z + b) before any hard
    // switch. Leaves the backbone in evaluation mode (trainEpoch sets training mode again).
    struct GateView
    {
        torch::Tensor logits;
        torch::Tensor z;
        torch::Tensor a;
    };
    GateView gateView(const std::vector<std::uint32_t>& users,
                      const std::vector<std::uint32_t>& items);
    // Reliability label of the LLM pair `higher` > `lower` for `user` (SPEC 4): true when only
    // `higher` is a positive of the supervision set, false when only `lower` is, none otherwise.
    std::optional<bool> reliabilityLabel(std::uint32_t user, std::uint32_t higher,
                                         std::uint32_t lower) const;
    // Cold(u) and Tail(i) as the gate sees them (the gate's thresholds or the segments').
    const std::vector<float>& coldInputs() const { return m_gateInputs.cold(); }
    const std::vector<float>& tailInputs() const { return m_gateInputs.tail(); }
    const GateThresholds& gateThresholds() const { return m_gateInputs.thresholds(); }

    // Validation AUC on the validation slice (sampled negatives per the config), by segment.
    std::map<std::string, double> validationAuc();

    // Full state at an epoch boundary: model, gate, optimizers.
    void saveCheckpoint(const std::string& path) const;
    void loadCheckpoint(const std::string& path);
    // In-memory copy of the parameters (for restoring the best epoch).
    std::vector<torch::Tensor> snapshot() const;
    void restore(const std::vector<torch::Tensor>& parameters);

private:
    struct Batch;
    struct BatchLosses;
    struct EpochTotals;
    std::vector<std::uint32_t> shuffledTrainOrder(std::mt19937_64& rng) const;
    void samplePositives(const std::vector<std::uint32_t>& order, std::size_t lo, std::size_t hi,
                         Batch& batch) const;
    void sampleNegatives(const std::vector<std::uint32_t>& posUsers, std::mt19937_64& rng,
                         std::vector<std::uint32_t>& negItems) const;
    void sampleLlmRows(Batch& batch, std::mt19937_64& rng) const;
    void sampleScoredItems(std::uint32_t user, Batch& batch, std::mt19937_64& rng) const;
    void samplePairs(std::uint32_t user, Batch& batch, std::mt19937_64& rng) const;
    BatchLosses batchLosses(Batch& batch, EpochResult& result);
    int shareCount() const;
    void splitBatch(Batch& batch, std::vector<Batch>& shares) const;
    std::int64_t labeledPairs(const Batch& batch) const;
    BatchLosses sharedStep(Batch& batch, std::vector<Batch>& shares, EpochResult& result);
    void addGatedHinge(const Batch& batch, const torch::Tensor& logits, const torch::Tensor& users,
                       const torch::Tensor& items, BatchLosses& losses, EpochResult& result);
    void addPointTerm(const Batch& batch, const torch::Tensor& logits, BatchLosses& losses,
                      EpochResult& result) const;
    void recordGateActivity(const Batch& batch, const torch::Tensor& aUsed,
                            EpochResult& result) const;
    void optimize(const torch::Tensor& total);
    void zeroGradients();
    void stepOptimizers();
    void addGateBins(int epoch, EpochResult& result) const;

    const RunConfig& m_config;
    const Dataset& m_dataset;
    const Segmentation& m_segmentation;
    const ScoreSet* m_scores;
    std::shared_ptr<BackboneImpl> m_model;
    Gate m_gate{nullptr};
    std::unique_ptr<DenseAdam> m_dense;
    std::unique_ptr<LazyAdam> m_sparse;
    std::unique_ptr<DenseAdam> m_gateOptimizer;

    UserItemSet m_trainSet;  // training positives
    UserItemSet m_knownSet;  // train + validation + test
    GateInputs m_gateInputs;
    ReliabilityLabels m_labels;
    std::vector<const Segment*> m_histSegments;
    std::vector<const Segment*> m_popSegments;
    // Validation: per validation interaction, the positive then sampled negatives.
    std::vector<std::uint32_t> m_valUsers;
    std::vector<std::uint32_t> m_valItems;  // [n * (1 + negatives)]
    int m_valNegatives = 0;
    double m_randomRate = 0.5;
    // train.parallel "batch": one generator per share for its dropout and random-gate draws,
    // seeded from (seed, epoch, share) at the start of each epoch.
    std::vector<at::Generator> m_shareGenerators;
    std::unique_ptr<ShareThreads> m_shareThreads;  // the shares after the first, started once
    std::vector<torch::Tensor> m_parameters;       // the backbone's, then the gate's
};

}  // namespace sllmr
