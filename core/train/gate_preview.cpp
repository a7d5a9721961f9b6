#include "train/gate_preview.h"

#include <algorithm>
#include <array>

namespace sllmr {

GatePreviewIndex::GatePreviewIndex(const Dataset& dataset, const Segmentation& segmentation,
                                   const ScoreSet& scores)
    : m_history(dataset.historyLength)
    , m_popularity(dataset.popularity)
    , m_userPairs(dataset.numUsers(), 0)
    , m_segmentation(segmentation)
{
    for (const auto& s : m_segmentation.segments)
        if (s.name.rfind("hist_", 0) != 0 && s.name.rfind("pop_", 0) != 0)
            m_segments.push_back(&s);
    m_entries.reserve(scores.size());
    std::vector<float> sorted;
    for (std::uint32_t u = 0; u + 1 < scores.offsets.size() && u < dataset.numUsers(); ++u) {
        const auto b = scores.offsets[u], e = scores.offsets[u + 1];
        sorted.assign(scores.values.begin() + b, scores.values.begin() + e);
        std::sort(sorted.begin(), sorted.end());
        const auto n = static_cast<std::int64_t>(sorted.size());
        std::int64_t pairs = n * (n - 1) / 2;
        for (auto k = b; k < e; ++k) {
            const auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), scores.values[k]);
            const auto ties = static_cast<std::uint32_t>(hi - lo);
            m_entries.push_back({u, scores.items[k], static_cast<std::uint32_t>(n) - ties});
        }
        // Subtract pairs within tie groups.
        for (std::size_t k = 0; k < sorted.size();) {
            std::size_t j = k;
            while (j < sorted.size() && sorted[j] == sorted[k])
                ++j;
            const auto t = static_cast<std::int64_t>(j - k);
            pairs -= t * (t - 1) / 2;
            k = j;
        }
        m_userPairs[u] = pairs;
    }
}

std::vector<GatePreviewRow> GatePreviewIndex::preview(const GatePreviewSpec& spec) const
{
    std::vector<GatePreviewRow> rows;
    rows.reserve(m_segments.size());
    for (const Segment* seg : m_segments) {
        GatePreviewRow row;
        row.segment = seg->name;
        for (std::uint32_t u = 0; u < m_history.size(); ++u) {
            if (seg->kind == "items" || seg->kind == "all" || seg->members[u]) {
                ++row.users;
                row.coldUsers += isColdUser(m_history[u], spec.tauUser);
                if (seg->kind != "items")
                    row.pairs += m_userPairs[u];
            }
        }
        for (std::uint32_t i = 0; i < m_popularity.size(); ++i) {
            if (seg->kind == "users" || seg->kind == "all" || seg->members[i]) {
                ++row.items;
                row.tailItems += isTailItem(m_popularity[i], spec.tauItem);
            }
        }
        rows.push_back(std::move(row));
    }
    const std::array<bool, 3> enabled{spec.useCold, spec.useTail, spec.useUncertainty};
    for (const Entry& e : m_entries) {
        const bool cold = isColdUser(m_history[e.user], spec.tauUser);
        const bool tail = isTailItem(m_popularity[e.item], spec.tauItem);
        // q(u,i) is unknown before training: lo takes its condition as false, hi as true.
        const double lo = thresholdRule(spec.rule, enabled, {cold, tail, false}) ? 1 : 0;
        const double hi = thresholdRule(spec.rule, enabled, {cold, tail, true}) ? 1 : 0;
        for (std::size_t r = 0; r < m_segments.size(); ++r) {
            const Segment* seg = m_segments[r];
            if (!seg->contains(e.user, e.item))
                continue;
            auto& row = rows[r];
            ++row.entries;
            row.activeEntriesLo += lo;
            row.activeEntriesHi += hi;
            // A pair's weight is the mean of its two sides: each entry contributes half of its
            // activation to every candidate pair it is part of.
            if (seg->kind != "items") {
                row.activePairsLo += 0.5 * lo * e.otherPairs;
                row.activePairsHi += 0.5 * hi * e.otherPairs;
            }
        }
    }
    return rows;
}

}  // namespace sllmr
