#pragma once
// Building blocks shared by the CTR backbones (DeepFM, DCNv2, xDeepFM, AutoInt, DCNv1, DIN); not
// part of the public backbone interface.
// - ItemFeatureField: the item-side categorical field. The dataset's CSR of feature ids per item
//   is copied into int64 buffers at construction, so a forward needs only item indices; the
//   multi-hot bag of an item is averaged (EmbeddingBag, mean mode); an item without features gets
//   a zero vector.
// - Mlp: hidden Linear + ReLU + Dropout layers and a final Linear to one logit; it can be entered
//   after its first affine map, which lets scoreAll() precompute that map per user and per item.
//   In training, everything after that first map is one autograd node with the modules' numbers
//   up to the float rounding of its products (layers.cpp, MlpTail; model/sgemm.h).
// - FieldEmbeddings: the fields [user id, item id, item features] of the newer CTR backbones,
//   with optional first-order weights.
// - forEachBlock: the cross-product chunking used by every scoreAll().
#include "model/backbone.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sllmr::model_detail {

// A forward inside scoreAll() sees at most this many (user, item) rows ...
constexpr std::int64_t kMaxScoreRows = std::int64_t{1} << 20;
// ... and, for the precomputing backbones, at most this many floats in its widest activation
// (4 MiB: 4,096 rows at DeepFM's width of 256, fewer for wider backbones, about 170 for
// xDeepFM's CIN), so that a block's activations stay in the processor's caches from one layer to
// the next. With blocks of 128 MiB every layer was a round trip to memory, and full
// rankings took up to twice as long (bench/README.md, "Evaluation in cache-sized blocks").
constexpr std::int64_t kMaxScoreFloats = std::int64_t{1} << 20;

// Rows per block for a network whose widest activation has `width` floats per row.
inline std::int64_t rowsForWidth(std::int64_t width)
{
    return std::clamp<std::int64_t>(kMaxScoreFloats / std::max<std::int64_t>(width, 1), 1,
                                    kMaxScoreRows);
}

// Calls fn(userBegin, userCount, itemBegin, itemCount) over blocks of the users x items cross
// product, each with userCount * itemCount <= maxRows (at least one row).
template <class F>
void forEachBlock(std::int64_t users, std::int64_t items, F&& fn,
                  std::int64_t maxRows = kMaxScoreRows)
{
    if (users <= 0 || items <= 0)
        return;
    maxRows = std::max<std::int64_t>(maxRows, 1);
    const std::int64_t itemStep = std::min(items, maxRows);
    const std::int64_t userStep = std::max<std::int64_t>(1, maxRows / itemStep);
    for (std::int64_t u = 0; u < users; u += userStep)
        for (std::int64_t i = 0; i < items; i += itemStep)
            fn(u, std::min(userStep, users - u), i, std::min(itemStep, items - i));
}

// y = x W^T + b for 2-D float x, without autograd (scoreAll paths only). LibTorch's own CPU matmul
// calls the system BLAS, which on Debian is often the reference implementation (about 2 GFLOPS);
// oneDNN, bundled with LibTorch, is about ten times faster there, so this uses it when LibTorch has
// it and falls back to addmm otherwise. Equal to addmm up to float rounding. bias may be undefined.
torch::Tensor inferenceLinear(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias = {});

// The noise torch::dropout(x, p, true) multiplies a contiguous float [rows, cols] input by:
// bernoulli(1 - p) / (1 - p) per element, drawn from the thread's generator (torch's default CPU
// generator unless a batch share set its own, common/thread_generator.h) in the same
// order and with the same arithmetic as LibTorch 1.13's CPU bernoulli kernel (a 53-bit uniform
// from random64() per element, compared with 1 - p), so the same seed gives the same masks, but
// without the per-element dispatch of that kernel (half of an MF epoch with dropout).
// tst_models checks it against torch's own draw. 0 < p < 1.
torch::Tensor dropoutNoise(std::int64_t rows, std::int64_t cols, double p);

// The value dropoutNoise() gives a kept element: 1 / (1 - p) in float, as torch computes it.
float keptValue(double p);

// torch::nn::Dropout's forward for a contiguous float tensor, through dropoutNoise(): the same
// values and gradient (x * noise), the noise drawn without per-element dispatch. An empty module,
// evaluation mode or p = 0 return x; other inputs (and p = 1) go through the module, which draws
// from torch's global generator whatever the thread's (no backbone gives it such an input).
torch::Tensor dropout(const torch::nn::Dropout& module, const torch::Tensor& x);

// Embedding table with the project's init: N(0, std) from torch's global generator.
torch::nn::Embedding makeEmbedding(std::int64_t rows, std::int64_t dim, bool sparse, double std);

// Linear layer with Xavier-uniform weight and zero bias (global generator).
torch::nn::Linear makeLinear(std::int64_t in, std::int64_t out, bool bias = true);

// layer(x), through inferenceLinear() when grad mode is off.
torch::Tensor applyLinear(torch::nn::Linear& layer, const torch::Tensor& x);

class ItemFeatureFieldImpl : public torch::nn::Module
{
public:
    // True when the spec asks for item features and the context has a non-empty vocabulary.
    static bool available(const ModelSpec& spec, const BackboneContext& context);

    // Copies the CSR; throws Error(Internal) when its shape does not match the item count or a
    // feature id is outside the vocabulary. withBias adds a 1-wide bag (first-order weights,
    // initialised to zero).
    ItemFeatureFieldImpl(const BackboneContext& context, std::int64_t dim, bool sparse,
                         bool withBias);

    // Flattened feature ids and bag offsets for a batch of items.
    struct Bags
    {
        torch::Tensor ids;
        torch::Tensor offsets;
    };
    Bags bags(const torch::Tensor& items) const;
    // The bags of every item, in item order (no gather needed).
    Bags allBags() const;

    torch::Tensor embed(const Bags& bags);  // [B, dim]
    torch::Tensor bias(const Bags& bags);   // [B]; requires withBias

    // For hand-written forwards (DeepFM): the CSR (feature ids of item k at
    // ids[offsets[k]] .. ids[offsets[k + 1]]), the bag tables [vocabulary, dim] and [vocabulary, 1]
    // (the latter undefined without withBias) and whether they take sparse gradients.
    const torch::Tensor& csrOffsets() const { return m_offsets; }
    const torch::Tensor& csrIds() const { return m_ids; }
    torch::Tensor embeddingWeight() const { return m_embedding->weight; }
    torch::Tensor biasWeight() const
    {
        return m_bias.is_empty() ? torch::Tensor() : m_bias->weight;
    }
    bool sparse() const { return m_embedding->options.sparse(); }

private:
    torch::Tensor m_offsets;  // [numItems + 1] int64
    torch::Tensor m_ids;      // [nnz] int64
    torch::nn::EmbeddingBag m_embedding{nullptr};
    torch::nn::EmbeddingBag m_bias{nullptr};
};
TORCH_MODULE(ItemFeatureField);

// The distinct values of a 1-d index tensor (sorted) and, per entry, the row of its value.
struct DistinctIds
{
    torch::Tensor values;
    torch::Tensor rowOf;
};
DistinctIds distinctIds(const torch::Tensor& ids);

class MlpImpl : public torch::nn::Module
{
public:
    // hidden may be empty: the Mlp is then a single Linear(in, 1). Dropout follows every hidden
    // ReLU when dropout > 0.
    MlpImpl(std::int64_t in, const std::vector<int>& hidden, double dropout);

    // x: [B, in] -> logits [B]. Without grad mode the layers run through inferenceLinear().
    torch::Tensor forward(const torch::Tensor& x);

    // The first affine map; forwardFrom(first()(x)) equals forward(x) up to float rounding.
    torch::nn::Linear& first() { return m_layers.front(); }
    torch::Tensor forwardFrom(const torch::Tensor& firstOutput);
    // forwardFrom of the rows lead[a] + rest[b] for every a and b, a-major ([na * nb]): a block
    // of the users x items cross product whose first map is split into a user part and an item
    // part. Without grad mode and dropout the rows are never formed (model/mlp_scoring.h).
    torch::Tensor forwardFromSum(const torch::Tensor& lead, const torch::Tensor& rest);
    // Rows per forEachBlock block for a scoreAll() whose blocks hold nothing but forwardFromSum:
    // its chunks keep the activations in the caches, so a block can span many users (the item
    // rows are then read once per tile of users); rowsForWidth(maxWidth()) when it would form
    // the rows.
    std::int64_t sumBlockRows() const;

    // forward(cat({lead.index_select(0, rowOfLead), rest}, 1)) with the first layer's lead block
    // computed (and back-propagated) once per row of `lead`: a training batch repeats each user
    // over its negatives and its LLM pairs, so the user columns of the first layer need only its
    // distinct users. The same sums in another order. Used by DeepFM, DCNv1 (whose closed-form
    // cross network needs no per-row user vector) and DIN; bench/README has what each gained.
    torch::Tensor forwardSharedLead(const torch::Tensor& lead, const torch::Tensor& rowOfLead,
                                    const torch::Tensor& rest);

    bool hasDropout() const { return !m_dropout.is_empty(); }
    // The widest layer (for rowsForWidth).
    std::int64_t maxWidth() const { return m_maxWidth; }

private:
    // Whether forwardFrom and forwardFromSum score in chunks (model/mlp_scoring.h): no grad mode,
    // no dropout in force, a hidden layer; and whether t is a first-map output they can take.
    bool scoresInChunks() const;
    bool takesFirstOutput(const torch::Tensor& t) const;
    bool dropoutActive() const;

    std::vector<torch::nn::Linear> m_layers;
    torch::nn::Dropout m_dropout{nullptr};
    std::int64_t m_maxWidth = 1;
};
TORCH_MODULE(Mlp);

// The fields [user id, item id, item features (when available)], each a spec.dim vector, for
// backbones that see them as a field list. withFirstOrder adds the first-order weights w_u, w_i
// and w_f (zero-initialised). Tables are sparse when spec.sparseEmbeddings.
class FieldEmbeddingsImpl : public torch::nn::Module
{
public:
    FieldEmbeddingsImpl(const ModelSpec& spec, const BackboneContext& context, bool withFirstOrder);

    std::int64_t dim() const { return m_dim; }
    std::int64_t numFields() const { return m_features.is_empty() ? 2 : 3; }
    std::int64_t itemWidth() const { return (numFields() - 1) * m_dim; }

    torch::Tensor users(const torch::Tensor& users);  // [B, d]
    torch::Tensor items(const torch::Tensor& items);  // [B, itemWidth]: e_i then e_f
    torch::Tensor allItems();                         // [N, itemWidth], in item order
    // [B, numFields, d]
    torch::Tensor stacked(const torch::Tensor& users, const torch::Tensor& items);

    // First order (requires withFirstOrder): w_u [B] and w_i + w_f [B] / [N].
    torch::Tensor userWeight(const torch::Tensor& users);
    torch::Tensor itemWeight(const torch::Tensor& items);
    torch::Tensor allItemWeights();

private:
    std::int64_t m_dim = 0;
    torch::nn::Embedding m_user{nullptr};
    torch::nn::Embedding m_item{nullptr};
    torch::nn::Embedding m_userWeight{nullptr};
    torch::nn::Embedding m_itemWeight{nullptr};
    ItemFeatureField m_features{nullptr};  // null when the field is absent
};
TORCH_MODULE(FieldEmbeddings);

}  // namespace sllmr::model_detail
