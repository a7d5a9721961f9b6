#pragma once
// A set of (user, item) pairs built from interaction lists, kept as sorted item lists per user
// (CSR), for the membership tests of training: "is item i a training positive of u", "a known
// positive of u" (train, validation, test), "a supervision positive of u".
#include "data/dataset.h"

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace sllmr {

class UserItemSet
{
public:
    UserItemSet() = default;
    // The pairs of all `parts`; users are 0..users-1.
    UserItemSet(std::uint32_t users, std::initializer_list<const std::vector<Interaction>*> parts);

    bool contains(std::uint32_t user, std::uint32_t item) const;
    // Items of `user` in the set (with repeats, when a part repeats a pair).
    std::uint32_t count(std::uint32_t user) const { return m_offsets[user + 1] - m_offsets[user]; }

private:
    std::vector<std::uint32_t> m_offsets;  // size users + 1
    std::vector<std::uint32_t> m_items;    // sorted per user
};

}  // namespace sllmr
