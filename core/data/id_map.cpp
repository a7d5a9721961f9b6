#include "data/id_map.h"

#include <charconv>
#include <limits>

namespace sllmr {

std::uint32_t IdMap::intern(std::uint64_t id)
{
    const auto [it, inserted] = m_intIndex.try_emplace(id, static_cast<std::uint32_t>(m_count));
    if (inserted) {
        m_ints.push_back(id);
        ++m_count;
    }
    return it->second;
}

std::uint32_t IdMap::intern(std::string_view token)
{
    if (auto it = m_tokenIndex.find(token); it != m_tokenIndex.end())
        return it->second;
    const auto index = static_cast<std::uint32_t>(m_count);
    m_tokenIndex.emplace(std::string(token), index);
    m_tokens.emplace_back(token);
    ++m_count;
    return index;
}

std::optional<std::uint32_t> IdMap::find(std::uint64_t id) const
{
    if (m_kind == Kind::Token)
        return find(std::string_view(std::to_string(id)));
    if (auto it = m_intIndex.find(id); it != m_intIndex.end())
        return it->second;
    return std::nullopt;
}

std::optional<std::uint32_t> IdMap::find(std::string_view token) const
{
    if (auto it = m_tokenIndex.find(token); it != m_tokenIndex.end())
        return it->second;
    return std::nullopt;
}

std::optional<std::uint32_t> IdMap::findText(std::string_view text) const
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    if (m_kind == Kind::Token)
        return find(text);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size())
        return std::nullopt;
    return find(value);
}

std::string IdMap::label(std::uint32_t index) const
{
    return m_kind == Kind::Integer ? std::to_string(m_ints.at(index)) : m_tokens.at(index);
}

IdMap IdMap::compacted(const std::vector<bool>& keep, std::vector<std::uint32_t>& remap) const
{
    IdMap out(m_kind);
    remap.assign(m_count, std::numeric_limits<std::uint32_t>::max());
    for (std::size_t i = 0; i < m_count; ++i) {
        if (!keep[i])
            continue;
        remap[i] = m_kind == Kind::Integer ? out.intern(m_ints[i]) : out.intern(m_tokens[i]);
    }
    return out;
}

void IdMap::reserve(std::size_t n)
{
    if (m_kind == Kind::Integer) {
        m_ints.reserve(n);
        m_intIndex.reserve(n);
    } else {
        m_tokens.reserve(n);
        m_tokenIndex.reserve(n);
    }
}

}  // namespace sllmr
