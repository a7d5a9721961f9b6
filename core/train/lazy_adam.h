#pragma once
// Adam for embedding tables with sparse gradients ("lazy" Adam): a step reads and writes only the
// rows that appear in the batch, so its cost does not grow with the catalogue. Moments of rows
// that are not touched do not decay (the usual lazy-Adam approximation of dense Adam). Parameters
// are contiguous float tables [rows, width]; a step is plain loops over the gradient's rows
// (train/adam_row.h).
#include "train/adam_row.h"

#include <torch/torch.h>

#include <vector>

namespace sllmr {

class LazyAdam
{
public:
    LazyAdam(std::vector<torch::Tensor> params, double lr, double beta1 = 0.9, double beta2 = 0.999,
             double eps = 1e-8);

    void zeroGrad();
    void step();

    // For checkpoints: moments of every parameter and the step count.
    std::vector<torch::Tensor> state() const;
    void setState(const std::vector<torch::Tensor>& state);

private:
    // Adam on the rows of parameter k that `rows` names (repeats allowed: their gradients add);
    // values holds one gradient row per entry of `rows`.
    void updateRows(std::size_t k, const torch::Tensor& rows, const torch::Tensor& values);

    std::vector<torch::Tensor> m_params;
    std::vector<torch::Tensor> m_exp;
    std::vector<torch::Tensor> m_expSq;
    std::vector<torch::Tensor> m_steps;  // per row: how often it was updated (bias correction)
    AdamSettings m_settings;
    // Scratch of a step: group of each table row (-1: none), the distinct rows, their summed
    // gradients (one row of floats per group).
    std::vector<std::int64_t> m_slot;
    std::vector<std::int64_t> m_distinct;
    std::vector<float> m_sum;
};

}  // namespace sllmr
