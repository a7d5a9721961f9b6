#pragma once
// Where a thread's dropout noise and random-gate draws come from: torch's default CPU generator,
// unless a ScopedGenerator on this thread names another. The batch shares of train.parallel
// "batch" run on threads of their own, each with its own generator, so that what a share draws does
// not depend on how the threads interleave (train/trainer.cpp).
#include <ATen/core/Generator.h>

#include <cstdint>
#include <vector>

namespace sllmr {

at::Generator threadGenerator();

/// The generators of an epoch's `count` batch shares: each seeded from the run seed, the epoch
/// and the share, so that shares draw different noise, epochs draw new noise, and a resumed run
/// draws what an uninterrupted one would.
std::vector<at::Generator> shareGenerators(std::uint64_t seed, std::int64_t epoch, int count);

class ScopedGenerator
{
public:
    explicit ScopedGenerator(at::Generator generator);
    ~ScopedGenerator();
    ScopedGenerator(const ScopedGenerator&) = delete;
    ScopedGenerator& operator=(const ScopedGenerator&) = delete;

private:
    at::Generator m_previous;
};

}  // namespace sllmr
