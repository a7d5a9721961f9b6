#pragma once
// Adam for the dense parameters (the backbone's layers, the gate): torch::optim::Adam's state and
// checkpoint format, with a step of one loop per parameter (adamTensor, train/adam_row.h) where
// the processor allows, in place of the optimizer's eight tensor operations per parameter. The
// numbers are the same to the bit either way.
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

    // The optimizer whose state this steps (checkpoints save and load it).
    torch::optim::Adam& optimizer() { return m_adam; }

private:
    torch::optim::Adam m_adam;
    bool m_fused =
        false;  // every parameter a contiguous CPU float tensor, and adamTensor available
};

}  // namespace sllmr
