#include "data/segments.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace sllmr {
namespace {

std::string fmtNum(double v)
{
    if (std::floor(v) == v && std::abs(v) < 1e15)
        return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

Segment byRange(const std::string& name, const std::string& kind, const std::string& what,
                const std::vector<std::uint32_t>& counts, double lo, double hi)
{
    Segment s;
    s.name = name;
    s.kind = kind;
    s.lo = lo;
    s.hi = hi;
    s.members.assign(counts.size(), false);
    for (std::size_t i = 0; i < counts.size(); ++i)
        if (counts[i] >= lo && counts[i] < hi) {
            s.members[i] = true;
            ++s.memberCount;
        }
    if (std::isinf(hi))
        s.description = kind + " with " + what + " >= " + fmtNum(lo);
    else if (lo <= 0)
        s.description = kind + " with " + what + " < " + fmtNum(hi);
    else
        s.description = kind + " with " + fmtNum(lo) + " <= " + what + " < " + fmtNum(hi);
    return s;
}

// Cut points for `buckets` equal-count buckets over the sorted counts; duplicates collapse.
std::vector<double> bucketEdges(std::vector<std::uint32_t> counts, int buckets)
{
    std::sort(counts.begin(), counts.end());
    std::set<double> edges;
    for (int b = 1; b < buckets; ++b) {
        const auto pos = static_cast<std::size_t>(static_cast<double>(counts.size()) * b / buckets);
        if (pos < counts.size())
            edges.insert(static_cast<double>(counts[pos]));
    }
    edges.erase(static_cast<double>(counts.empty() ? 0 : counts.front()));
    return {edges.begin(), edges.end()};
}

}  // namespace

const Segment* Segmentation::find(const std::string& name) const
{
    for (const auto& s : segments)
        if (s.name == name)
            return &s;
    return nullptr;
}

double resolveThreshold(const Threshold& threshold, const std::vector<std::uint32_t>& counts)
{
    if (threshold.mode == "absolute" || counts.empty())
        return threshold.value;
    if (threshold.value <= 0)
        return 0;
    std::vector<std::uint32_t> sorted(counts);
    std::sort(sorted.begin(), sorted.end());
    const auto n = sorted.size();
    auto k = static_cast<std::size_t>(std::ceil(threshold.value * static_cast<double>(n) - 1e-9));
    k = std::clamp<std::size_t>(k, 1, n);
    // All entries with count <= sorted[k-1] are in: ties at the boundary are included.
    return static_cast<double>(sorted[k - 1]) + 1.0;
}

std::vector<std::uint32_t> quantileBase(const std::vector<std::uint32_t>& counts)
{
    std::vector<std::uint32_t> out;
    out.reserve(counts.size());
    for (const auto c : counts)
        if (c > 0)
            out.push_back(c);
    return out;
}

std::optional<double> shareForCut(const std::vector<std::uint32_t>& base, double tau)
{
    std::vector<std::uint32_t> sorted(base);
    std::sort(sorted.begin(), sorted.end());
    const auto below =
        static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), tau,
                                                  [](std::uint32_t c, double t) { return c < t; }) -
                                 sorted.begin());
    if (below == 0)
        return std::nullopt;
    // Any share resolving to the largest count below tau, plus one, takes the same entries.
    const double target = static_cast<double>(sorted[below - 1]) + 1.0;
    const double exact = static_cast<double>(below) / static_cast<double>(sorted.size());
    for (int d = 3; d <= 9; ++d) {
        const double scale = std::pow(10.0, d);
        for (const double q : {std::round(exact * scale) / scale, std::floor(exact * scale) / scale,
                               std::ceil(exact * scale) / scale}) {
            if (q > 0 && q <= 1 && resolveThreshold(Threshold{"quantile", q}, sorted) == target)
                return q;
        }
    }
    return exact;
}

bool isColdUser(std::uint32_t historyLength, double tauUser)
{
    return historyLength < tauUser;
}

bool isTailItem(std::uint32_t popularity, double tauItem)
{
    return popularity < tauItem;
}

Segmentation computeSegments(const Dataset& ds, const SegmentSpec& spec)
{
    Segmentation seg;
    const auto inf = std::numeric_limits<double>::infinity();
    // Quantiles over users with training history and items with training interactions; entities
    // with none (only in test) fall below any positive threshold.
    const auto hist = quantileBase(ds.historyLength);
    const auto pop = quantileBase(ds.popularity);
    seg.tauUser = resolveThreshold(spec.cold, hist);
    seg.tauItem = resolveThreshold(spec.tail, pop);

    Segment overall;
    overall.name = "overall";
    overall.kind = "all";
    overall.description = "all test interactions";
    overall.memberCount = ds.numUsers();
    overall.hi = inf;
    seg.segments.push_back(overall);
    seg.segments.push_back(byRange("cold", "users", "|H(u)|", ds.historyLength, 0, seg.tauUser));
    seg.segments.push_back(byRange("warm", "users", "|H(u)|", ds.historyLength, seg.tauUser, inf));
    seg.segments.push_back(byRange("tail", "items", "pop(i)", ds.popularity, 0, seg.tauItem));
    seg.segments.push_back(byRange("head", "items", "pop(i)", ds.popularity, seg.tauItem, inf));

    auto addBuckets = [&](const char* prefix, const char* kind, const char* what,
                          const std::vector<std::uint32_t>& counts,
                          const std::vector<std::uint32_t>& positive) {
        const auto edges = bucketEdges(positive, spec.buckets);
        double lo = 0;
        for (std::size_t b = 0; b <= edges.size(); ++b) {
            const double hi = b < edges.size() ? edges[b] : inf;
            seg.segments.push_back(
                byRange(std::string(prefix) + std::to_string(b + 1), kind, what, counts, lo, hi));
            lo = hi;
        }
    };
    addBuckets("hist_", "users", "|H(u)|", ds.historyLength, hist);
    addBuckets("pop_", "items", "pop(i)", ds.popularity, pop);

    for (auto& s : seg.segments) {
        for (const auto& r : ds.test)
            s.testInteractions += s.contains(r.user, r.item);
        for (const auto& r : ds.validation)
            s.validationInteractions += s.contains(r.user, r.item);
    }
    return seg;
}

nlohmann::json datasetSummary(const Dataset& ds, const Segmentation& seg)
{
    using nlohmann::json;
    auto part = [&](const std::vector<Interaction>& rows) {
        std::vector<bool> u(ds.numUsers(), false);
        std::vector<bool> i(ds.numItems(), false);
        std::uint32_t nu = 0;
        std::uint32_t ni = 0;
        for (const auto& r : rows) {
            if (!u[r.user]) {
                u[r.user] = true;
                ++nu;
            }
            if (!i[r.item]) {
                i[r.item] = true;
                ++ni;
            }
        }
        return json{{"interactions", rows.size()}, {"users", nu}, {"items", ni}};
    };
    json segments = json::object();
    json order = json::array();
    for (const auto& s : seg.segments) {
        order.push_back(s.name);
        json j{{"kind", s.kind},
               {"description", s.description},
               {"test_interactions", s.testInteractions},
               {"validation_interactions", s.validationInteractions}};
        if (s.kind == "items")
            j["items"] = s.memberCount;
        else
            j["users"] = s.memberCount;
        if (s.kind != "all") {
            j["lo"] = s.lo;
            j["hi"] = std::isinf(s.hi) ? json(nullptr) : json(s.hi);
        }
        segments[s.name] = j;
    }
    const double cells = static_cast<double>(ds.numUsers()) * static_cast<double>(ds.numItems());
    json files = json::array();
    for (const auto& f : ds.files)
        files.push_back({{"role", f.role},
                         {"path", f.path},
                         {"format", f.format},
                         {"delimiter", f.delimiter},
                         {"header", f.header},
                         {"compressed", f.compressed},
                         {"encoding", f.encoding},
                         {"notes", f.notes},
                         {"lines", f.lines},
                         {"rows", f.rows},
                         {"blank_lines", f.blankLines},
                         {"content_hash", f.contentHash}});
    const auto& r = ds.report;
    return json{{"name", ds.spec.name},
                {"content_hash", ds.contentHash},
                {"users", ds.numUsers()},
                {"items", ds.numItems()},
                {"interactions", ds.numInteractions()},
                {"density", cells > 0 ? static_cast<double>(ds.numInteractions()) / cells : 0.0},
                {"has_ratings", ds.hasRatings},
                {"has_timestamps", ds.hasTimestamps},
                {"has_titles", ds.itemInfo.hasTitles()},
                {"item_features", ds.itemInfo.featureNames.size()},
                {"train", part(ds.train)},
                {"validation", part(ds.validation)},
                {"test", part(ds.test)},
                {"thresholds", {{"tau_u", seg.tauUser}, {"tau_i", seg.tauItem}}},
                {"segments", segments},
                {"segment_order", order},
                {"preprocessing",
                 {{"rows_read", r.rowsRead},
                  {"below_threshold", r.belowThreshold},
                  {"duplicates", r.duplicates},
                  {"cross_split_duplicates", r.crossSplitDuplicates},
                  {"kcore_removed", r.kcoreRemoved},
                  {"validation_carved", r.validationCarved},
                  {"test_items_unseen_in_train", r.testItemsUnseenInTrain},
                  {"test_users_unseen_in_train", r.testUsersUnseenInTrain}}},
                {"spec", ds.spec},
                {"files", files}};
}

}  // namespace sllmr
