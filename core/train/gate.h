#pragma once
// The S-LLMR gate (SPEC 4): a(u,i) = sigmoid(w . z + b) over z = [Cold(u), Tail(i), q(u,i)], four
// parameters; inputs can be switched off (their column is zeroed, so their weight never moves).
// The modes decide what `a` is and how the parameters learn; see GateSpec in run_config.h.
#include "train/run_config.h"

#include <torch/torch.h>

#include <array>

namespace sllmr {

class GateImpl : public torch::nn::Module
{
public:
    explicit GateImpl(const GateSpec& spec);

    // z: [N, 3] float; returns a: [N] in (0, 1).
    torch::Tensor forward(const torch::Tensor& z);

    // Binary mask of enabled inputs, [3].
    const torch::Tensor& inputMask() const { return m_mask; }

    // w_cold, w_tail, w_q, b.
    std::array<double, 4> parameterValues() const;

    torch::Tensor weight;  // [3]
    torch::Tensor bias;    // [1]

private:
    torch::Tensor m_mask;
};
TORCH_MODULE(Gate);

// Threshold mode (SPEC 4): a = 1 where the enabled conditions hold (Cold, Tail, q > tau_q;
// combined by the spec's rule "any" or "all"), else 0. z: [N, 3]; mask: inputMask(); returns [N].
torch::Tensor thresholdActivation(const GateSpec& spec, const torch::Tensor& mask,
                                  const torch::Tensor& z);

// Backbone uncertainty q(u,i) in [0,1] from probabilities p (no gradient):
// "margin" (a) 2(1-max(p,1-p)); "entropy" (b) binary entropy in bits.
torch::Tensor uncertaintyFromProbability(const torch::Tensor& p, const std::string& variant);

}  // namespace sllmr
