#pragma once
// Adam for the dense parameters (the backbone's layers, the gate): torch::optim::Adam's state and
// checkpoint format, with a step of one loop per parameter (adamTensor, train/adam_row.h) in place
// of the optimizer's eight tensor operations per parameter, where that loop gives the optimizer's
// numbers to the bit (checked once per process, on a probe); elsewhere the optimizer's own step
// runs.
//
// zeroGrad() drops the gradients instead of filling them with zeros, so that the next backward
// hands its gradient over instead of adding it to zeros. A parameter that has been stepped before
// and has no gradient now is stepped with a zero gradient, as the optimizer does with a gradient
// it zeroed.
#include <torch/torch.h>

#include <vector>

namespace sllmr {

class DenseAdam
{
public:
    DenseAdam(std::vector<torch::Tensor> params, double lr);

    void zeroGrad();
    void step();

    // Whether step() runs the loop (else the optimizer's own step).
    bool ownLoop() const { return m_fused; }

    // The optimizer's state in a checkpoint, in Torch's format. load() returns false, leaving the
    // step unusable, when a loaded moment does not match its parameter (Torch's load checks no
    // shapes; the loop would write past the parameter).
    void save(torch::serialize::OutputArchive& archive) const;
    bool load(torch::serialize::InputArchive& archive);

private:
    torch::optim::Adam m_adam;
    // Every parameter a contiguous CPU float tensor, and adamTensor equal to the optimizer.
    bool m_fused = false;
};

}  // namespace sllmr
