#pragma once
// Adam for embedding tables with sparse gradients ("lazy" Adam): a step reads and writes only the
// rows that appear in the batch, so its cost does not grow with the catalogue. Moments of rows
// that are not touched do not decay (the usual lazy-Adam approximation of dense Adam).
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
    std::vector<torch::Tensor> m_params;
    std::vector<torch::Tensor> m_exp;
    std::vector<torch::Tensor> m_expSq;
    std::vector<torch::Tensor> m_steps;  // per row: how often it was updated (bias correction)
    double m_lr;
    double m_beta1;
    double m_beta2;
    double m_eps;
};

}  // namespace sllmr
