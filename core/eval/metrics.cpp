#include "eval/metrics.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>

namespace sllmr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// Up to this many distinct test scores, one vectorizable pass per score beats a binary search
// per item.
constexpr std::size_t kDirectPasses = 16;

float key(float x)
{
    return std::isnan(x) ? kMinusInf : x;
}

void checkOptions(const RankingOptions& options)
{
    for (int k : options.ks) {
        if (k < 1)
            throw Error(ErrorKind::Usage,
                        "ranking cut-off K = " + std::to_string(k) + " is not a positive integer",
                        {}, 0, "use cut-offs such as 10 and 20");
    }
}

// Adds #{x > s} to `above` and #{x == s} to `tied`. Fixed-size blocks with 32-bit lanes (item
// indices are 32-bit) let the compiler vectorize at -O2 too (several times faster than a plain
// loop on 1M scores).
void countOne(std::span<const float> xs, float s, std::size_t& above, std::size_t& tied)
{
    constexpr std::size_t kBlock = 16;
    const std::size_t full = xs.size() - xs.size() % kBlock;
    std::uint32_t greater[kBlock] = {};
    std::uint32_t equal[kBlock] = {};
    for (std::size_t i = 0; i < full; i += kBlock) {
        for (std::size_t b = 0; b < kBlock; ++b) {
            greater[b] += xs[i + b] > s ? 1u : 0u;
            equal[b] += xs[i + b] == s ? 1u : 0u;
        }
    }
    for (std::size_t b = 0; b < kBlock; ++b) {
        above += greater[b];
        tied += equal[b];
    }
    for (std::size_t i = full; i < xs.size(); ++i) {
        above += xs[i] > s ? 1 : 0;
        tied += xs[i] == s ? 1 : 0;
    }
}

// For each v in `values` (ascending, distinct, never NaN) adds #{x > v} to above[v] and
// #{x == v} to tied[v]. NaN xs count as -infinity.
void countAgainst(std::span<const float> xs, std::span<const float> values,
                  std::vector<std::size_t>& above, std::vector<std::size_t>& tied)
{
    const std::size_t d = values.size();
    if (d == 0)
        return;
    if (d <= kDirectPasses) {
        for (std::size_t v = 0; v < d; ++v) {
            const float s = values[v];
            countOne(xs, s, above[v], tied[v]);
        }
    } else {
        // bucket[b]: xs strictly between values[b-1] and values[b] (b == d: above every value;
        // b == 0: below every value, NaN included); equal[v]: xs equal to values[v].
        std::vector<std::size_t> bucket(d + 1, 0);
        std::vector<std::size_t> equal(d, 0);
        const float* const data = values.data();
        for (const float x : xs) {
            // Branchless lower_bound: the scores are in no order, so branches would mispredict.
            const float* base = data;
            std::size_t len = d;
            while (len > 1) {
                const std::size_t half = len / 2;
                base = base[half] < x ? base + half : base;
                len -= half;
            }
            const auto idx = static_cast<std::size_t>(base - data) + (*base < x ? 1 : 0);
            if (idx < d && data[idx] == x)
                ++equal[idx];
            else
                ++bucket[idx];
        }
        std::size_t higher = bucket[d];
        for (std::size_t v = d; v-- > 0;) {
            above[v] += higher;
            tied[v] += equal[v];
            higher += equal[v] + bucket[v];
        }
    }
    if (values[0] == kMinusInf) {
        tied[0] += static_cast<std::size_t>(
            std::count_if(xs.begin(), xs.end(), [](float x) { return std::isnan(x); }));
    }
}

// H(x) = sum_{p=1}^{x} 1/p.
double harmonic(std::size_t x)
{
    constexpr std::size_t kExact = 256;
    if (x < kExact) {
        double h = 0;
        for (std::size_t p = x; p >= 1; --p)
            h += 1.0 / static_cast<double>(p);
        return h;
    }
    const double n = static_cast<double>(x);
    const double n2 = n * n;
    constexpr double kEulerGamma = 0.57721566490153286061;
    return std::log(n) + kEulerGamma + 1.0 / (2 * n) - 1.0 / (12 * n2) + 1.0 / (120 * n2 * n2) -
           1.0 / (252 * n2 * n2 * n2);
}

// sum_{p=a}^{b} 1/p for 1 <= a <= b.
double harmonicRange(std::size_t a, std::size_t b)
{
    if (b - a < 256) {
        double h = 0;
        for (std::size_t p = b; p >= a; --p)
            h += 1.0 / static_cast<double>(p);
        return h;
    }
    return harmonic(b) - harmonic(a - 1);
}

double discount(std::size_t position)
{
    return 1.0 / std::log2(1.0 + static_cast<double>(position));
}

// The position is uniform on [first, first + count - 1]: P(position <= k).
double probabilityWithin(std::size_t first, std::size_t count, std::size_t k)
{
    if (first > k)
        return 0;
    const std::size_t last = first + count - 1;
    if (last <= k)
        return 1;
    return static_cast<double>(k - first + 1) / static_cast<double>(count);
}

// The position is uniform on [first, first + count - 1]: E[1{position <= k} / log2(1 + position)].
double gainWithin(std::size_t first, std::size_t count, std::size_t k)
{
    const std::size_t last = std::min(first + count - 1, k);
    double g = 0;
    for (std::size_t p = first; p <= last; ++p)
        g += discount(p);
    return g / static_cast<double>(count);
}

double idealDcg(std::size_t relevant)
{
    double g = 0;
    for (std::size_t p = 1; p <= relevant; ++p)
        g += discount(p);
    return g;
}

UserMetrics emptyMetrics(const RankingOptions& options)
{
    UserMetrics m;
    m.recallAt.assign(options.ks.size(), kNaN);
    m.ndcgAt.assign(options.ks.size(), kNaN);
    m.hitAt.assign(options.ks.size(), kNaN);
    return m;
}

std::vector<std::uint32_t> sortedUnique(std::span<const std::uint32_t> items, std::size_t numItems,
                                        const char* what)
{
    std::vector<std::uint32_t> v(items.begin(), items.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (!v.empty() && v.back() >= numItems) {
        throw Error(ErrorKind::Usage, std::string(what) + " item " + std::to_string(v.back()) +
                                          " is out of range: there are " +
                                          std::to_string(numItems) + " scores");
    }
    return v;
}

}  // namespace

UserRanking rankUser(std::span<const float> scores, std::span<const std::uint32_t> testItems,
                     std::span<const std::uint32_t> excludedItems, const RankingOptions& options)
{
    checkOptions(options);
    const std::size_t n = scores.size();
    const std::vector<std::uint32_t> test = sortedUnique(testItems, n, "test");
    std::vector<std::uint32_t> excluded = sortedUnique(excludedItems, n, "excluded");
    {
        std::vector<std::uint32_t> masked;
        masked.reserve(excluded.size());
        std::set_difference(excluded.begin(), excluded.end(), test.begin(), test.end(),
                            std::back_inserter(masked));
        excluded = std::move(masked);
    }
    UserRanking out;
    static_cast<UserMetrics&>(out) = emptyMetrics(options);
    if (test.empty())
        return out;

    const std::size_t m = test.size();
    const std::size_t negatives = n - excluded.size() - m;

    std::vector<float> testKeys(m);
    for (std::size_t j = 0; j < m; ++j)
        testKeys[j] = key(scores[test[j]]);
    std::vector<float> values = testKeys;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    const std::size_t d = values.size();

    // Counts against each distinct test score: over all items, over the masked items and over
    // the test items (the latter two are subtracted from the first).
    std::vector<std::size_t> allAbove(d, 0), allTied(d, 0);
    countAgainst(scores, values, allAbove, allTied);
    std::vector<std::size_t> maskedAbove(d, 0), maskedTied(d, 0);
    {
        std::vector<float> maskedKeys(excluded.size());
        for (std::size_t e = 0; e < excluded.size(); ++e)
            maskedKeys[e] = key(scores[excluded[e]]);
        countAgainst(maskedKeys, values, maskedAbove, maskedTied);
    }
    std::vector<std::size_t> testAbove(d, 0), testTied(d, 0);
    countAgainst(testKeys, values, testAbove, testTied);

    out.perItem.resize(m);
    for (std::size_t j = 0; j < m; ++j) {
        const auto v = static_cast<std::size_t>(
            std::lower_bound(values.begin(), values.end(), testKeys[j]) - values.begin());
        InteractionRanking& r = out.perItem[j];
        r.item = test[j];
        r.negatives = negatives;
        r.listAbove = allAbove[v] - maskedAbove[v];
        r.listTied = allTied[v] - maskedTied[v] - 1;
        r.negativesAbove = r.listAbove - testAbove[v];
        r.negativesTied = allTied[v] - maskedTied[v] - testTied[v];

        const std::size_t first = r.negativesAbove + 1;
        const std::size_t count = r.negativesTied + 1;
        if (negatives > 0) {
            const double below =
                static_cast<double>(negatives - r.negativesAbove - r.negativesTied);
            r.auc = (below + 0.5 * static_cast<double>(r.negativesTied)) /
                    static_cast<double>(negatives);
        }
        r.rank = static_cast<double>(first) + 0.5 * static_cast<double>(r.negativesTied);
        r.reciprocalRank = harmonicRange(first, first + count - 1) / static_cast<double>(count);
        r.hitAt.resize(options.ks.size());
        r.ndcgAt.resize(options.ks.size());
        for (std::size_t k = 0; k < options.ks.size(); ++k) {
            const auto cut = static_cast<std::size_t>(options.ks[k]);
            r.hitAt[k] = probabilityWithin(first, count, cut);
            r.ndcgAt[k] = gainWithin(first, count, cut);
        }
    }
    static_cast<UserMetrics&>(out) = userMetrics(out.perItem, options);
    return out;
}

UserMetrics userMetrics(std::span<const InteractionRanking> perItem, const RankingOptions& options)
{
    std::vector<std::size_t> all(perItem.size());
    for (std::size_t j = 0; j < all.size(); ++j)
        all[j] = j;
    return userMetrics(perItem, all, options);
}

UserMetrics userMetrics(std::span<const InteractionRanking> perItem,
                        std::span<const std::size_t> subset, const RankingOptions& options)
{
    checkOptions(options);
    std::vector<std::size_t> s(subset.begin(), subset.end());
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
    if (!s.empty() && s.back() >= perItem.size()) {
        throw Error(ErrorKind::Usage, "subset index " + std::to_string(s.back()) +
                                          " is out of range: the user has " +
                                          std::to_string(perItem.size()) + " test items");
    }
    UserMetrics out = emptyMetrics(options);
    out.testItems = s.size();
    if (s.empty())
        return out;
    const std::size_t ks = options.ks.size();
    const double relevant = static_cast<double>(s.size());

    // GAUC_u, Recall@K and NDCG@K: linear in the items, from each item's position distribution.
    Mean auc;
    std::vector<double> recall(ks, 0), dcg(ks, 0);
    std::size_t firstAbove = perItem[s.front()].listAbove;
    for (const std::size_t j : s) {
        const InteractionRanking& r = perItem[j];
        auc.add(r.auc);
        for (std::size_t k = 0; k < ks; ++k) {
            const auto cut = static_cast<std::size_t>(options.ks[k]);
            recall[k] += probabilityWithin(r.listAbove + 1, r.listTied + 1, cut);
            dcg[k] += gainWithin(r.listAbove + 1, r.listTied + 1, cut);
        }
        firstAbove = std::min(firstAbove, r.listAbove);
    }
    out.gauc = auc.mean();
    for (std::size_t k = 0; k < ks; ++k) {
        const auto cut = static_cast<std::size_t>(options.ks[k]);
        out.recallAt[k] = recall[k] / relevant;
        out.ndcgAt[k] = dcg[k] / idealDcg(std::min(cut, s.size()));
    }

    // HR@K and MRR depend on the first relevant item only: the best-placed tie group holding items
    // of S. With `group` items tied there, `inGroup` of them relevant, the first relevant one is
    // the r-th of the group with probability C(group - r, inGroup - 1) / C(group, inGroup).
    std::size_t inGroup = 0;
    std::size_t group = 0;
    for (const std::size_t j : s) {
        if (perItem[j].listAbove != firstAbove)
            continue;
        const std::size_t size = perItem[j].listTied + 1;
        if (inGroup > 0 && size != group) {
            throw Error(ErrorKind::Usage,
                        "inconsistent ranking: tied test items report different tie groups", {}, 0,
                        "pass the results of one rankUser() call");
        }
        group = size;
        ++inGroup;
    }
    if (inGroup > group)
        throw Error(ErrorKind::Internal, "a tie group holds more test items than items");
    const std::size_t lastOffset = group - inGroup + 1;  // the first relevant item's last offset
    double p = static_cast<double>(inGroup) / static_cast<double>(group);
    double mrr = 0;
    std::vector<double> hit(ks, 0);
    for (std::size_t r = 1; r <= lastOffset && p > 0; ++r) {
        const std::size_t position = firstAbove + r;
        mrr += p / static_cast<double>(position);
        for (std::size_t k = 0; k < ks; ++k) {
            if (position <= static_cast<std::size_t>(options.ks[k]))
                hit[k] += p;
        }
        if (r < lastOffset)
            p *= static_cast<double>(group - r - inGroup + 1) / static_cast<double>(group - r);
    }
    out.mrr = mrr;
    for (std::size_t k = 0; k < ks; ++k) {
        const auto cut = static_cast<std::size_t>(options.ks[k]);
        if (firstAbove + lastOffset <= cut)
            out.hitAt[k] = 1;  // certain: no rounding
        else if (firstAbove >= cut)
            out.hitAt[k] = 0;
        else
            out.hitAt[k] = hit[k];
    }
    return out;
}

double pairwiseAuc(std::span<const float> posScores, std::span<const float> negScores)
{
    if (posScores.empty() || negScores.empty())
        return kNaN;
    std::vector<float> neg(negScores.size());
    std::transform(negScores.begin(), negScores.end(), neg.begin(), key);
    std::sort(neg.begin(), neg.end());
    // Twice the number of winning pairs plus the number of tied pairs: an exact integer.
    std::uint64_t twiceWins = 0;
    for (const float raw : posScores) {
        const float s = key(raw);
        const auto [lo, hi] = std::equal_range(neg.begin(), neg.end(), s);
        twiceWins +=
            2 * static_cast<std::uint64_t>(lo - neg.begin()) + static_cast<std::uint64_t>(hi - lo);
    }
    return static_cast<double>(twiceWins) /
           (2.0 * static_cast<double>(posScores.size()) * static_cast<double>(neg.size()));
}

// ---------------------------------------------------------------------------------------------

void Mean::add(double value)
{
    if (std::isnan(value)) {
        ++m_undefined;
        return;
    }
    const double t = m_sum + value;
    if (std::abs(m_sum) >= std::abs(value))
        m_compensation += (m_sum - t) + value;
    else
        m_compensation += (value - t) + m_sum;
    m_sum = t;
    ++m_count;
}

void Mean::merge(const Mean& other)
{
    const std::size_t count = m_count + other.m_count;
    const std::size_t undefined = m_undefined + other.m_undefined;
    add(other.m_sum);
    add(other.m_compensation);
    m_count = count;
    m_undefined = undefined;
}

double Mean::mean() const noexcept
{
    return m_count == 0 ? kNaN : sum() / static_cast<double>(m_count);
}

MetricAccumulator::MetricAccumulator(RankingOptions options) : m_options(std::move(options))
{
    checkOptions(m_options);
    m_recall.resize(m_options.ks.size());
    m_ndcg.resize(m_options.ks.size());
    m_hit.resize(m_options.ks.size());
}

void MetricAccumulator::addInteraction(const InteractionRanking& interaction)
{
    ++m_interactions;
    m_auc.add(interaction.auc);
    m_rank.add(interaction.rank);
}

void MetricAccumulator::addUser(const UserMetrics& user)
{
    if (user.testItems == 0)
        return;
    const std::size_t ks = m_options.ks.size();
    if (user.recallAt.size() != ks || user.ndcgAt.size() != ks || user.hitAt.size() != ks) {
        throw Error(ErrorKind::Usage, "user metrics were computed with other cut-offs");
    }
    ++m_users;
    m_gauc.add(user.gauc);
    m_mrr.add(user.mrr);
    for (std::size_t k = 0; k < ks; ++k) {
        m_recall[k].add(user.recallAt[k]);
        m_ndcg[k].add(user.ndcgAt[k]);
        m_hit[k].add(user.hitAt[k]);
    }
}

void MetricAccumulator::merge(const MetricAccumulator& other)
{
    if (other.m_options.ks != m_options.ks)
        throw Error(ErrorKind::Usage, "cannot merge metrics computed with other cut-offs");
    m_interactions += other.m_interactions;
    m_users += other.m_users;
    m_auc.merge(other.m_auc);
    m_rank.merge(other.m_rank);
    m_gauc.merge(other.m_gauc);
    m_mrr.merge(other.m_mrr);
    for (std::size_t k = 0; k < m_options.ks.size(); ++k) {
        m_recall[k].merge(other.m_recall[k]);
        m_ndcg[k].merge(other.m_ndcg[k]);
        m_hit[k].merge(other.m_hit[k]);
    }
}

std::vector<MetricAccumulator::Value> MetricAccumulator::values() const
{
    std::vector<Value> out;
    const auto push = [&out](std::string name, const char* level, const Mean& mean) {
        out.push_back(Value{std::move(name), level, mean.mean(), mean.count()});
    };
    push("auc", "interaction", m_auc);
    push("gauc", "user", m_gauc);
    for (std::size_t k = 0; k < m_options.ks.size(); ++k) {
        const std::string at = "@" + std::to_string(m_options.ks[k]);
        push("recall" + at, "user", m_recall[k]);
        push("ndcg" + at, "user", m_ndcg[k]);
        push("hr" + at, "user", m_hit[k]);
    }
    push("mrr", "user", m_mrr);
    push("mean_rank", "interaction", m_rank);
    return out;
}

}  // namespace sllmr
