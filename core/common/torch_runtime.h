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

// Makes LibTorch's CPU tensors of 1 MB and more come from a process-wide cache of freed blocks
// (up to 512 MB of them) instead of glibc, from then on; smaller ones still go to glibc. Called
// once batch shares start threads of their own: glibc gives each such thread its own arena of
// 64 MB heaps, which it maps afresh and unmaps around each large tensor, so every step
// page-faulted its large blocks in again (an xDeepFM step on two shares was 1.7x slower than on one
// thread). Idempotent; the stored numbers do not depend on it.
void cacheLargeTensorBlocks();

// Threads LibTorch uses for intra-op parallelism.
int torchThreads();

}  // namespace sllmr
