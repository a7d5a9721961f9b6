#include "eval/llm_quality.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace sllmr {

std::vector<double> llmAucForUser(const ScoreSet& scores, std::uint32_t user,
                                  std::span<const std::uint32_t> tests,
                                  const std::vector<std::uint8_t>& known,
                                  const std::vector<std::uint8_t>& isTest)
{
    std::vector<double> auc(tests.size(), std::nan(""));
    if (user + 1 >= scores.offsets.size())
        return auc;
    std::vector<float> negatives;
    std::map<std::uint32_t, float> scoredTest;
    for (auto k = scores.offsets[user]; k < scores.offsets[user + 1]; ++k) {
        const auto j = scores.items[k];
        if (!known[j])
            negatives.push_back(scores.values[k]);
        else if (isTest[j])
            scoredTest.emplace(j, scores.values[k]);
    }
    if (negatives.empty())
        return auc;
    std::sort(negatives.begin(), negatives.end());
    for (std::size_t t = 0; t < tests.size(); ++t) {
        const auto it = scoredTest.find(tests[t]);
        if (it == scoredTest.end())
            continue;
        const auto lo = std::lower_bound(negatives.begin(), negatives.end(), it->second);
        const auto hi = std::upper_bound(lo, negatives.end(), it->second);
        auc[t] =
            (static_cast<double>(lo - negatives.begin()) + 0.5 * static_cast<double>(hi - lo)) /
            static_cast<double>(negatives.size());
    }
    return auc;
}

std::vector<LlmSegmentQuality> llmQualityBySegment(const Dataset& dataset,
                                                   const Segmentation& segmentation,
                                                   const ScoreSet& scores)
{
    const auto numUsers = dataset.numUsers();
    const auto numItems = dataset.numItems();
    std::vector<std::vector<std::uint32_t>> seen(numUsers), tests(numUsers);
    for (const auto* part : {&dataset.train, &dataset.validation})
        for (const auto& x : *part)
            seen[x.user].push_back(x.item);
    for (const auto& x : dataset.test)
        tests[x.user].push_back(x.item);

    std::vector<const Segment*> segments;
    for (const auto& s : segmentation.segments)
        if (s.name.rfind("hist_", 0) != 0 && s.name.rfind("pop_", 0) != 0)
            segments.push_back(&s);
    std::vector<LlmSegmentQuality> rows(segments.size());
    std::vector<double> sums(segments.size(), 0.0);
    for (std::size_t r = 0; r < segments.size(); ++r)
        rows[r].segment = segments[r]->name;

    std::vector<std::uint8_t> known(numItems, 0), isTest(numItems, 0);
    for (std::uint32_t u = 0; u < numUsers; ++u) {
        const bool hasScores =
            u + 1 < scores.offsets.size() && scores.offsets[u + 1] > scores.offsets[u];
        for (std::size_t r = 0; r < segments.size(); ++r) {
            const Segment* seg = segments[r];
            if (hasScores && (seg->kind != "users" || seg->members[u]))
                ++rows[r].usersCovered;
        }
        if (hasScores)
            for (auto k = scores.offsets[u]; k < scores.offsets[u + 1]; ++k)
                for (std::size_t r = 0; r < segments.size(); ++r)
                    rows[r].entries += segments[r]->contains(u, scores.items[k]);
        if (tests[u].empty())
            continue;
        for (auto i : seen[u])
            known[i] = 1;
        for (auto i : tests[u])
            known[i] = isTest[i] = 1;
        const auto auc = llmAucForUser(scores, u, tests[u], known, isTest);
        for (std::size_t t = 0; t < tests[u].size(); ++t) {
            for (std::size_t r = 0; r < segments.size(); ++r) {
                if (!segments[r]->contains(u, tests[u][t]))
                    continue;
                ++rows[r].testInteractions;
                if (!std::isnan(auc[t])) {
                    ++rows[r].scoredTests;
                    sums[r] += auc[t];
                }
            }
        }
        for (auto i : seen[u])
            known[i] = 0;
        for (auto i : tests[u])
            known[i] = isTest[i] = 0;
    }
    for (std::size_t r = 0; r < rows.size(); ++r)
        rows[r].auc =
            rows[r].scoredTests ? sums[r] / static_cast<double>(rows[r].scoredTests) : std::nan("");
    return rows;
}

}  // namespace sllmr
