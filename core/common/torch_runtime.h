#pragma once
// Process-wide LibTorch settings shared by the CLI and the Studio: intra-op threads and
// deterministic algorithms (the same config and seed must give the same metrics on CPU).
#include <string>

namespace sllmr {

// "1.13.1" etc.: the LibTorch the engine was built against.
std::string torchVersion();

// Sets LibTorch's intra-op thread count (0: its default, also after an earlier call set another),
// OpenBLAS's to 1 where that is the BLAS (its count changed results), asks for deterministic
// algorithms, and has glibc reuse large blocks instead of mapping each one afresh. Called before
// each run, from the thread that trains.
void configureTorch(int threads, bool deterministic = true);

// Installs LibTorch's CPU allocator for the blocks of TensorBlockCacheUse, idle until one is
// alive. The mains call it first thing, before any other thread can allocate a tensor; later calls
// do nothing.
void installTensorBlockCache();

// While one is alive, LibTorch's CPU tensors of 1 MB and more come from a process-wide cache of
// freed blocks (at most 512 MB, released when the last one ends); smaller ones still come from
// glibc. The batch shares of train.parallel "batch" hold one: glibc gives each further thread an
// arena of 64 MB heaps that it maps afresh and unmaps around each large tensor, so every step
// page-faulted its large blocks in again (an xDeepFM step on two shares was 1.7x slower than on
// one thread). The stored numbers do not depend on it.
class TensorBlockCacheUse
{
public:
    TensorBlockCacheUse();
    ~TensorBlockCacheUse();
    TensorBlockCacheUse(const TensorBlockCacheUse&) = delete;
    TensorBlockCacheUse& operator=(const TensorBlockCacheUse&) = delete;
};

// Threads LibTorch uses for intra-op parallelism.
int torchThreads();

}  // namespace sllmr
