#include "common/hash.h"

#include <cstdio>

namespace sllmr {

void Hasher::add(std::string_view bytes) noexcept
{
    std::uint64_t h = m_state;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    m_state = h;
}

void Hasher::add(std::uint64_t value) noexcept
{
    char bytes[8];
    for (int i = 0; i < 8; ++i)
        bytes[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
    add(std::string_view(bytes, 8));
}

std::string Hasher::hex() const
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(m_state));
    return buf;
}

std::string hashHex(std::string_view bytes)
{
    Hasher h;
    h.add(bytes);
    return h.hex();
}

}  // namespace sllmr
