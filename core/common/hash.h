#pragma once
// Content hashing (64-bit FNV-1a) for datasets, score sets and configs: stable across platforms
// and runs, used to recognise identical inputs in the experiment store. Not cryptographic.
#include <cstdint>
#include <string>
#include <string_view>

namespace sllmr {

class Hasher
{
public:
    void add(std::string_view bytes) noexcept;
    void add(std::uint64_t value) noexcept;
    std::uint64_t value() const noexcept { return m_state; }
    std::string hex() const;

private:
    std::uint64_t m_state = 14695981039346656037ULL;
};

std::string hashHex(std::string_view bytes);

}  // namespace sllmr
