#pragma once
// Process-wide LibTorch settings shared by the CLI and the Studio: intra-op threads and
// deterministic algorithms (the same config and seed must give the same metrics on CPU).
#include <string>

namespace sllmr {

// "1.13.1" etc.: the LibTorch the engine was built against.
std::string torchVersion();

// Sets the intra-op thread count (0 leaves LibTorch's default) and asks for deterministic
// algorithms. Call once at start-up, before any training thread exists.
void configureTorch(int threads, bool deterministic = true);

// Threads LibTorch uses for intra-op parallelism.
int torchThreads();

}  // namespace sllmr
