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

// Threads LibTorch uses for intra-op parallelism.
int torchThreads();

}  // namespace sllmr
