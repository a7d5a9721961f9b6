#pragma once
// The item columns of a batch's rows, [e_i, e_f] (the item's embedding, then the mean of its
// feature bag), gathered by plain loops as one autograd node (ItemFieldGather, item_fields.cpp).
// Autograd's version is an embedding lookup, the bags' offsets, an EmbeddingBag and a
// concatenation forward, and a slice, a sparse embedding backward and a sparse EmbeddingBag
// backward (the costliest of them) back. The gradients are sparse, as the sparse Embedding and
// EmbeddingBag give them: one row per batch row for E_i, one per bag entry (divided by the bag's
// size) for E_f.
#include <torch/torch.h>

#include <cstdint>

namespace sllmr::model_detail {

// Writes the mean of item's bag of rows of `table` ([vocabulary, dim], contiguous) to out, as
// EmbeddingBag's mean mode computes it: the rows summed in bag order, then divided by the bag's
// size; zeros for an empty bag. The bag of item k is csrIds[csrOffsets[k] .. csrOffsets[k + 1]].
void bagMeanRow(const float* table, std::int64_t dim, const std::int64_t* csrOffsets,
                const std::int64_t* csrIds, std::int64_t item, float* out);

// cat({itemTable[items], bag means of featureTable over items' bags}, 1): [B, d] without the
// feature field (featureTable, csrOffsets and csrIds undefined), [B, 2d] with it. itemTable and
// featureTable are float [rows, d] tables; items is a 1-d int64 tensor, checked against the item
// table and the CSR.
torch::Tensor gatherItemFields(const torch::Tensor& itemTable, const torch::Tensor& featureTable,
                               const torch::Tensor& csrOffsets, const torch::Tensor& csrIds,
                               const torch::Tensor& items);

}  // namespace sllmr::model_detail
