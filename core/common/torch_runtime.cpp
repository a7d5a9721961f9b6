#include "common/torch_runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

namespace sllmr {

std::string torchVersion()
{
    return TORCH_VERSION;
}

void configureTorch(int threads, bool deterministic)
{
    // LibTorch's own default, read before the first change, so that 0 restores it even after an
    // earlier run of this process set another count.
    static const int libtorchDefault = at::get_num_threads();
    at::set_num_threads(threads > 0 ? threads : libtorchDefault);
    at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
}

int torchThreads()
{
    return at::get_num_threads();
}

}  // namespace sllmr
