#include "train/reference_scorer.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sllmr {
namespace {

// Distinct training items per user (CSR, ascending items).
void userItems(const Dataset& ds, std::vector<std::uint32_t>& offsets,
               std::vector<std::uint32_t>& items)
{
    std::vector<std::vector<std::uint32_t>> per(ds.numUsers());
    for (const auto& r : ds.train)
        per[r.user].push_back(r.item);
    offsets.assign(ds.numUsers() + 1, 0);
    items.clear();
    for (std::uint32_t u = 0; u < ds.numUsers(); ++u) {
        auto& v = per[u];
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        items.insert(items.end(), v.begin(), v.end());
        offsets[u + 1] = static_cast<std::uint32_t>(items.size());
    }
}

}  // namespace

bool isReferenceMethod(const std::string& method)
{
    const auto name = parseChoice<MethodName>(method);
    return name && isReferenceMethod(*name);
}

ReferenceScorer ReferenceScorer::mostPop(const Dataset& ds)
{
    ReferenceScorer s;
    s.m_method = "mostpop";
    s.m_numItems = ds.numItems();
    s.m_numUsers = ds.numUsers();
    s.m_popularity.assign(ds.numItems(), 0.0f);
    for (const auto& r : ds.train)
        s.m_popularity[r.item] += 1.0f;
    return s;
}

ReferenceScorer ReferenceScorer::itemKnn(const Dataset& ds, int neighbours)
{
    if (neighbours < 1)
        throw Error(ErrorKind::Usage, "setting 'method.neighbours' must be at least 1", {}, 0,
                    "e.g. 50");
    ReferenceScorer s;
    s.m_method = "itemknn";
    s.m_numItems = ds.numItems();
    s.m_numUsers = ds.numUsers();
    userItems(ds, s.m_userOffsets, s.m_userItems);
    // Users per item (CSR).
    const std::uint32_t n = ds.numItems();
    std::vector<std::uint32_t> itemOffsets(n + 1, 0);
    for (auto i : s.m_userItems)
        ++itemOffsets[i + 1];
    std::partial_sum(itemOffsets.begin(), itemOffsets.end(), itemOffsets.begin());
    std::vector<std::uint32_t> itemUsers(s.m_userItems.size());
    {
        std::vector<std::uint32_t> fill(itemOffsets.begin(), itemOffsets.end() - 1);
        for (std::uint32_t u = 0; u < ds.numUsers(); ++u)
            for (auto k = s.m_userOffsets[u]; k < s.m_userOffsets[u + 1]; ++k)
                itemUsers[fill[s.m_userItems[k]]++] = u;
    }
    const auto count = [&](std::uint32_t i) {
        return static_cast<double>(itemOffsets[i + 1] - itemOffsets[i]);
    };
    // N_k(i) per item, one item at a time: co-occurrence counts in a reused dense counter.
    std::vector<std::uint32_t> co(n, 0);
    std::vector<std::uint32_t> touched;
    std::vector<std::pair<float, std::uint32_t>> candidates;
    std::vector<std::vector<std::pair<std::uint32_t, float>>> reverse(n);  // j -> (i, sim)
    const auto k = static_cast<std::size_t>(neighbours);
    for (std::uint32_t i = 0; i < n; ++i) {
        touched.clear();
        for (auto a = itemOffsets[i]; a < itemOffsets[i + 1]; ++a) {
            const auto u = itemUsers[a];
            for (auto b = s.m_userOffsets[u]; b < s.m_userOffsets[u + 1]; ++b) {
                const auto j = s.m_userItems[b];
                if (j == i)
                    continue;
                if (co[j]++ == 0)
                    touched.push_back(j);
            }
        }
        candidates.clear();
        for (auto j : touched) {
            candidates.push_back({static_cast<float>(co[j] / std::sqrt(count(i) * count(j))), j});
            co[j] = 0;
        }
        const auto byRank = [](const auto& x, const auto& y) {
            return x.first > y.first || (x.first == y.first && x.second < y.second);
        };
        if (candidates.size() > k) {
            std::nth_element(candidates.begin(),
                             candidates.begin() + static_cast<std::ptrdiff_t>(k), candidates.end(),
                             byRank);
            candidates.resize(k);
        }
        for (const auto& [sim, j] : candidates)
            reverse[j].push_back({i, sim});
    }
    s.m_reverseOffsets.assign(n + 1, 0);
    for (std::uint32_t j = 0; j < n; ++j) {
        std::sort(reverse[j].begin(), reverse[j].end());
        s.m_reverseOffsets[j + 1] = s.m_reverseOffsets[j] + reverse[j].size();
        for (const auto& [i, sim] : reverse[j]) {
            s.m_reverseItems.push_back(i);
            s.m_reverseSims.push_back(sim);
        }
        std::vector<std::pair<std::uint32_t, float>>().swap(reverse[j]);
    }
    return s;
}

ReferenceScorer ReferenceScorer::llm(const Dataset& ds, const ScoreSet& scores)
{
    if (scores.offsets.size() != static_cast<std::size_t>(ds.numUsers()) + 1)
        throw Error(ErrorKind::Usage, "the LLM scores were matched to another dataset", {}, 0,
                    "load the score file against the run's dataset");
    ReferenceScorer s;
    s.m_method = "llm";
    s.m_numItems = ds.numItems();
    s.m_numUsers = ds.numUsers();
    s.m_scores = &scores;
    s.m_missing = static_cast<float>(scores.spec.candidateDefault);
    return s;
}

void ReferenceScorer::scoreUser(std::uint32_t user, std::span<float> out) const
{
    if (user >= m_numUsers || out.size() != m_numItems)
        throw Error(ErrorKind::Usage,
                    "reference scores asked for user " + std::to_string(user) + " into " +
                        std::to_string(out.size()) + " items",
                    {}, 0, "pass a user index of the dataset and one slot per item");
    if (m_method == "mostpop") {
        std::copy(m_popularity.begin(), m_popularity.end(), out.begin());
    } else if (m_method == "itemknn") {
        std::fill(out.begin(), out.end(), 0.0f);
        for (auto a = m_userOffsets[user]; a < m_userOffsets[user + 1]; ++a) {
            const auto j = m_userItems[a];
            for (auto b = m_reverseOffsets[j]; b < m_reverseOffsets[j + 1]; ++b)
                out[m_reverseItems[b]] += m_reverseSims[b];
        }
    } else {
        std::fill(out.begin(), out.end(), m_missing);
        for (auto a = m_scores->offsets[user]; a < m_scores->offsets[user + 1]; ++a)
            out[m_scores->items[a]] = m_scores->values[a];
    }
}

std::vector<std::pair<std::uint32_t, float>> ReferenceScorer::neighbours(std::uint32_t item) const
{
    std::vector<std::pair<std::uint32_t, float>> out;
    for (std::uint32_t j = 0; j + 1 < m_reverseOffsets.size(); ++j)
        for (auto b = m_reverseOffsets[j]; b < m_reverseOffsets[j + 1]; ++b)
            if (m_reverseItems[b] == item)
                out.push_back({j, m_reverseSims[b]});
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
        return x.second > y.second || (x.second == y.second && x.first < y.first);
    });
    return out;
}

}  // namespace sllmr
