#include "common/thread_generator.h"

#include <ATen/CPUGeneratorImpl.h>

namespace sllmr {
namespace {

thread_local at::Generator t_generator;  // undefined: the default generator

}  // namespace

at::Generator threadGenerator()
{
    return t_generator.defined() ? t_generator : at::detail::getDefaultCPUGenerator();
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
