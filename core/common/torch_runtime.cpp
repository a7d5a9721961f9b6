#include "common/torch_runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>

namespace sllmr {

std::string torchVersion()
{
    return TORCH_VERSION;
}

namespace {

// OpenBLAS, when it is the BLAS LibTorch's matrix products go to (Debian's default), keeps its own
// thread pool, one thread per core unless OPENBLAS_NUM_THREADS says otherwise; LibTorch's thread
// count does not reach it. Its threads split a product differently by count, so a DeepFM run's
// numbers changed with the machine's core count, and they spun against LibTorch's threads. The
// products of training are small (batch rows x a few hundred), so it gets one thread, always; the
// large products of scoring go through oneDNN on LibTorch's threads (model/layers.h). Found at run
// time: another BLAS has no such pool.
void singleThreadedBlas()
{
    using SetThreads = void (*)(int);
    if (const auto set =
            reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        set(1);
}

// glibc serves blocks above its mmap threshold (128 KB, raised dynamically up to 32 MB) from fresh
// mmap()s and unmaps them when freed, so every new large tensor is page-faulted in again: 70% of a
// full-ranking evaluation on Amazon Sports (chunks of 128 users x 18,357 items, 9 MB, several per
// chunk) went to page faults (bench/README.md). Blocks up to 256 MB now come from the heap and are
// reused; free memory at the heap's top beyond 512 MB is still returned.
void reuseLargeBlocks()
{
    // A glibc that refuses the threshold (older ones cap it at 32 MB) keeps its own behaviour:
    // the trim threshold is then left alone too, since setting it fixes the mmap threshold.
    static const bool done = [] {
        return mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1 &&
               mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
    }();
    (void)done;
}

}  // namespace

void configureTorch(int threads, bool deterministic)
{
    reuseLargeBlocks();
    // LibTorch's own default, read before the first change, so that 0 restores it even after an
    // earlier run of this process set another count.
    static const int libtorchDefault = at::get_num_threads();
    at::set_num_threads(threads > 0 ? threads : libtorchDefault);
    singleThreadedBlas();
    at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
}

int torchThreads()
{
    return at::get_num_threads();
}

}  // namespace sllmr
