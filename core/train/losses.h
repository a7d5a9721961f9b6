#pragma once
// The losses of S-LLMR training (SPEC 2, 5), each written once: the base loss L_rec (BCE with
// sampled negatives, or BPR), the LLM pairwise hinge, global distillation (kd) and the pointwise
// MSE. All take backbone logits s(u,i); the gate's part (which pairs count, and how much) is in
// train/gate.h.
#include "train/train_spec.h"

#include <torch/torch.h>

#include <cstdint>

namespace sllmr {

// BCE on logits: the first nPos rows of `logits` are positives (target 1), the next nNeg are
// sampled negatives (target 0).
torch::Tensor bceLoss(const torch::Tensor& logits, std::int64_t nPos, std::int64_t nNeg);
// BPR: -mean log sigmoid(s(u,i) - s(u,j)) over each positive [P] and its negatives [P * k].
torch::Tensor bprLoss(const torch::Tensor& sPos, const torch::Tensor& sNeg);
// L_rec as the train spec chooses, with the rows laid out as for bceLoss.
torch::Tensor baseLoss(TrainLoss loss, const torch::Tensor& logits, std::int64_t nPos,
                       std::int64_t nNeg);

// The hinge of each LLM pair (i above j): max(0, m - (s(u,i) - s(u,j))), [P].
torch::Tensor pairHinge(const torch::Tensor& sHigher, const torch::Tensor& sLower, double margin);
// L_llm = mean over pairs of weight * hinge.
torch::Tensor hingeLoss(const torch::Tensor& weight, const torch::Tensor& hinge);

// Global distillation: mean BCE(sigmoid(s / T), r) over scored (u, i).
torch::Tensor distillationLoss(const torch::Tensor& logits, const torch::Tensor& r,
                               double temperature);
// Pointwise: mean (sigmoid(s) - r)^2 over scored (u, i).
torch::Tensor pointwiseLoss(const torch::Tensor& logits, const torch::Tensor& r);

}  // namespace sllmr
