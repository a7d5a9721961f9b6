#pragma once
// Seed streams: every random source of a run derives its seed from the run seed and a stream id,
// so that sources are independent of each other and the same config gives the same numbers.

#include <cstdint>

namespace sllmr {

// Mixes a seed with stream ids into an independent 64-bit seed (splitmix64).
std::uint64_t mixSeed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

}  // namespace sllmr
