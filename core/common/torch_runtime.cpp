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
    if (threads > 0)
        at::set_num_threads(threads);
    at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
}

int torchThreads()
{
    return at::get_num_threads();
}

}  // namespace sllmr
