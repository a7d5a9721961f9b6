#include "data/user_item_set.h"

#include <algorithm>

namespace sllmr {

UserItemSet::UserItemSet(std::uint32_t users,
                         std::initializer_list<const std::vector<Interaction>*> parts)
{
    m_offsets.assign(users + 1, 0);
    for (const auto* part : parts)
        for (const auto& r : *part)
            ++m_offsets[r.user + 1];
    for (std::uint32_t u = 0; u < users; ++u)
        m_offsets[u + 1] += m_offsets[u];
    m_items.assign(m_offsets.back(), 0);
    std::vector<std::uint32_t> fill(m_offsets.begin(), m_offsets.end() - 1);
    for (const auto* part : parts)
        for (const auto& r : *part)
            m_items[fill[r.user]++] = r.item;
    for (std::uint32_t u = 0; u < users; ++u)
        std::sort(m_items.begin() + m_offsets[u], m_items.begin() + m_offsets[u + 1]);
}

bool UserItemSet::contains(std::uint32_t user, std::uint32_t item) const
{
    return std::binary_search(m_items.begin() + m_offsets[user],
                              m_items.begin() + m_offsets[user + 1], item);
}

}  // namespace sllmr
