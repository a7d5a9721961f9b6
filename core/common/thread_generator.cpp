#include "common/thread_generator.h"

#include "common/seed.h"

#include <ATen/CPUGeneratorImpl.h>

namespace sllmr {
namespace {

thread_local at::Generator t_generator;  // undefined: the default generator

}  // namespace

at::Generator threadGenerator()
{
    return t_generator.defined() ? t_generator : at::detail::getDefaultCPUGenerator();
}

std::vector<at::Generator> shareGenerators(std::uint64_t seed, std::int64_t epoch, int count)
{
    std::vector<at::Generator> out;
    for (int s = 0; s < count; ++s)
        out.push_back(at::detail::createCPUGenerator(
            mixSeed(mixSeed(seed, 0x77, static_cast<std::uint64_t>(epoch)),
                    static_cast<std::uint64_t>(s))));
    return out;
}

ScopedGenerator::ScopedGenerator(at::Generator generator) : m_previous(t_generator)
{
    t_generator = std::move(generator);
}

ScopedGenerator::~ScopedGenerator()
{
    t_generator = m_previous;
}

}  // namespace sllmr
