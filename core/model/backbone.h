#pragma once
// The one interface every recommender backbone implements (SPEC 5): relevance logits s(u,i) for
// batches of (user, item) index pairs. Item-side categorical fields (e.g. genres) and the users'
// training histories are given once at construction through BackboneContext, so the trainer, the
// gate and the evaluator only ever pass user and item indices. New backbones (xDeepFM, AutoInt,
// DCNv1, DIN) register in makeBackbone() without touching the trainer.
#include "data/dataset.h"
#include "model/model_spec.h"

#include <torch/torch.h>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sllmr {

// What a backbone may read about the dataset; owned by the caller, must outlive construction.
struct BackboneContext
{
    std::int64_t numUsers = 0;
    std::int64_t numItems = 0;
    const ItemInfo* itemInfo = nullptr;  // may be null or without features
    // The training interactions sorted by (user, time, order), for the user histories of DIN;
    // may be null for the other backbones (DIN then throws Error(Usage)).
    const std::vector<Interaction>* train = nullptr;
};

class BackboneImpl : public torch::nn::Module
{
public:
    // users, items: int64 tensors of shape [B]. Returns logits of shape [B].
    virtual torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) = 0;

    // Logits of every item for each user: [U] -> [U, numItems]. The default runs forward() over
    // the cross product in chunks; backbones override it to precompute user- and item-only parts.
    virtual torch::Tensor scoreAll(const torch::Tensor& users);

    // Scores (users[k], items[k]) rows with the current parameters, for evaluation (no grad,
    // evaluation mode): forward()'s values up to the order of float additions. The default calls
    // forward(); a backbone whose first layer splits into a user and an item block (DeepFM)
    // computes the item block of every item once, here, and each call then only adds its users'
    // block, once per distinct user of a run of equal users. Valid while the parameters do not
    // change.
    using RowScorer =
        std::function<torch::Tensor(const torch::Tensor& users, const torch::Tensor& items)>;
    virtual RowScorer rowScorer();
    // The rows the evaluator and the per-epoch validation hand a RowScorer at a time: few enough
    // that a pass's activations stay in the processor's caches from layer to layer. Passes of
    // 25,600 rows (20 MB per activation for DCNv2) made sampled test evaluation 1.3-2.2x slower
    // (bench/README.md, "Evaluation in cache-sized blocks").
    static constexpr std::size_t kRowsPerScorePass = 1024;

    // Parameters that receive sparse gradients (embedding tables) and the rest, for the
    // optimizers (a lazy Adam for the former, Adam for the latter).
    virtual std::vector<torch::Tensor> sparseParameters();
    std::vector<torch::Tensor> denseParameters();

    // True when the backbone has dropout (needed for uncertainty variant (c)).
    virtual bool hasDropout() const = 0;

    std::int64_t numItems() const noexcept { return m_numItems; }

protected:
    std::int64_t m_numItems = 0;
};

std::shared_ptr<BackboneImpl> makeBackbone(const ModelSpec& spec, const BackboneContext& context);

}  // namespace sllmr
