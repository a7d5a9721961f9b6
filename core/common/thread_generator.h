#pragma once
// Where a thread's dropout noise and random-gate draws come from: torch's default CPU generator,
// unless a ScopedGenerator on this thread names another. The batch shares of train.parallel
// "batch" run on threads of their own, each with its own generator, so that what a share draws does
// not depend on how the threads interleave (train/trainer.cpp).
#include <ATen/core/Generator.h>

namespace sllmr {

at::Generator threadGenerator();

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
