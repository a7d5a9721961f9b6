#pragma once
// The item columns of a batch's rows, [e_i, e_f] (the item's embedding, then the mean of its
// feature bag), gathered by plain loops as one autograd node (ItemFieldGather, item_fields.cpp).
// Autograd's version is an embedding lookup, the bags' offsets, an EmbeddingBag and a
// concatenation forward, and a slice, a sparse embedding backward and a sparse EmbeddingBag
// backward (the costliest of them) back. The gradients are sparse, as the sparse Embedding and
// EmbeddingBag give them: one row per batch row for E_i, one per bag entry (divided by the bag's
// size) for E_f.
#include "model/layers.h"

#include <torch/torch.h>

#include <cstdint>

namespace sllmr::model_detail {

// Writes the mean of item's bag of rows of `table` ([vocabulary, dim], contiguous) to out, as
// EmbeddingBag's mean mode computes it: the rows summed in bag order, then divided by the bag's
// size; zeros for an empty bag. The bag of item k is csrIds[csrOffsets[k] .. csrOffsets[k + 1]].
void bagMeanRow(const float* table, std::int64_t dim, const std::int64_t* csrOffsets,
                const std::int64_t* csrIds, std::int64_t item, float* out);

// out = x / divisor over dim floats (a bag's gradient spread over its entries).
void divideRow(const float* x, float divisor, float* out, std::int64_t dim);

// The item columns of rows `items` (1-d int64): item(items) [B, d], then with the feature field
// (features not empty) the mean of each item's bag [B, d] beside it. With sparse tables one
// hand-written node; otherwise the modules (Embedding, EmbeddingBag, a concatenation).
torch::Tensor itemColumns(torch::nn::Embedding item, ItemFeatureField features,
                          const torch::Tensor& items);

}  // namespace sllmr::model_detail
