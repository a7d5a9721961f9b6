#include "train/run_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

namespace sllmr {

std::int64_t scoredSupervisionPositives(const Dataset& ds, const ScoreSet& scores,
                                        GateSupervision supervision)
{
    const auto& part = supervision == GateSupervision::Validation ? ds.validation : ds.train;
    std::unordered_set<std::uint64_t> positives;
    positives.reserve(part.size() * 2);
    for (const auto& r : part)
        positives.insert((static_cast<std::uint64_t>(r.user) << 32) | r.item);
    std::int64_t n = 0;
    for (std::uint32_t u = 0; u + 1 < scores.offsets.size(); ++u)
        for (auto k = scores.offsets[u]; k < scores.offsets[u + 1]; ++k)
            n += positives.count((static_cast<std::uint64_t>(u) << 32) | scores.items[k]);
    return n;
}

std::string gateSupervisionWarning(std::int64_t positives, GateSupervision supervision)
{
    if (positives > 0)
        return {};
    return fmt::format(
        "the reliability gate has nothing to learn from: no LLM-scored entry is a {} positive, so "
        "no pair gets a label and the gate stays at its initial activation (about 0.5); the run "
        "is then a hinge with a fixed weight (score some {} items, or use gate.mode paper)",
        toString(supervision),
        supervision == GateSupervision::Validation ? "validation" : "training");
}

std::string labelledPairsWarning(std::int64_t labelledPairs, std::int64_t pairs)
{
    if (pairs <= 0 || labelledPairs * 100 >= pairs)
        return {};
    return fmt::format(
        "the reliability gate learned from {} labelled pairs of {} LLM pairs ({:.2f}%): too few "
        "for its activation to mean much",
        labelledPairs, pairs,
        100.0 * static_cast<double>(labelledPairs) / static_cast<double>(pairs));
}

}  // namespace sllmr
