#pragma once
// Maps original user/item ids to dense indices 0..n-1 and back. Integer ids (MovieLens, most
// delimited files) are stored as numbers; RecBole `token` ids as strings. The original id is kept
// for display and for matching other files (LLM scores, titles) against the dataset.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sllmr {

struct TransparentStringHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept
    {
        return std::hash<std::string_view>{}(s);
    }
};

class IdMap
{
public:
    enum class Kind { Integer, Token };

    explicit IdMap(Kind kind = Kind::Integer) : m_kind(kind) {}

    Kind kind() const noexcept { return m_kind; }
    std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(m_count); }

    std::uint32_t intern(std::uint64_t id);
    std::uint32_t intern(std::string_view token);
    std::optional<std::uint32_t> find(std::uint64_t id) const;
    std::optional<std::uint32_t> find(std::string_view token) const;
    // Looks up text as this map's kind would have read it (numbers parsed for Integer maps).
    std::optional<std::uint32_t> findText(std::string_view text) const;

    std::string label(std::uint32_t index) const;
    std::uint64_t integerId(std::uint32_t index) const { return m_ints.at(index); }

    // A new map holding only the indices with keep[index] set, renumbered in index order;
    // `remap` receives old index -> new index (UINT32_MAX for dropped).
    IdMap compacted(const std::vector<bool>& keep, std::vector<std::uint32_t>& remap) const;

    void reserve(std::size_t n);

private:
    Kind m_kind;
    std::size_t m_count = 0;
    std::vector<std::uint64_t> m_ints;
    std::vector<std::string> m_tokens;
    std::unordered_map<std::uint64_t, std::uint32_t> m_intIndex;
    std::unordered_map<std::string, std::uint32_t, TransparentStringHash, std::equal_to<>>
        m_tokenIndex;
};

}  // namespace sllmr
