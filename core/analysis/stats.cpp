#include "analysis/stats.h"

#include "common/error.h"

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace sllmr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> differences(const std::vector<double>& a, const std::vector<double>& b)
{
    if (a.size() != b.size())
        throw Error(ErrorKind::Usage,
                    "paired samples of different sizes (" + std::to_string(a.size()) + " and " +
                        std::to_string(b.size()) + ")",
                    {}, 0, "pair every value of one sample with one value of the other");
    std::vector<double> d(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
        if (!std::isfinite(a[k]) || !std::isfinite(b[k]))
            throw Error(ErrorKind::BadInput,
                        "paired sample value " + std::to_string(k) + " is not a finite number", {},
                        0, "remove NaN or infinite values (e.g. unevaluated interactions) first");
        d[k] = a[k] - b[k];
    }
    return d;
}

}  // namespace

PairedTTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b)
{
    const auto d = differences(a, b);
    PairedTTest r;
    r.n = static_cast<std::int64_t>(d.size());
    if (d.empty()) {
        r.meanDifference = r.sdDifference = r.t = r.p = kNaN;
        return r;
    }
    const double n = static_cast<double>(d.size());
    r.meanDifference = std::accumulate(d.begin(), d.end(), 0.0) / n;
    if (d.size() < 2) {
        r.sdDifference = r.t = r.p = kNaN;
        return r;
    }
    double ss = 0;
    for (double x : d)
        ss += (x - r.meanDifference) * (x - r.meanDifference);
    r.sdDifference = std::sqrt(ss / (n - 1));
    r.df = n - 1;
    if (r.sdDifference == 0) {
        // No spread: either no difference at all, or the same non-zero difference everywhere.
        r.t = r.meanDifference == 0
                  ? 0.0
                  : std::copysign(std::numeric_limits<double>::infinity(), r.meanDifference);
        r.p = r.meanDifference == 0 ? 1.0 : 0.0;
        return r;
    }
    r.t = r.meanDifference / (r.sdDifference / std::sqrt(n));
    const boost::math::students_t dist(r.df);
    r.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(r.t))));
    return r;
}

WilcoxonTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b)
{
    const auto all = differences(a, b);
    WilcoxonTest r;
    std::vector<double> d;
    d.reserve(all.size());
    for (double x : all) {
        if (x == 0)
            ++r.zeros;
        else
            d.push_back(x);
    }
    r.n = static_cast<std::int64_t>(d.size());
    if (d.empty())
        return r;  // p = 1: nothing to rank

    // Average ranks of |d| (ties share the mean of the ranks they span).
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t x, std::size_t y) { return std::fabs(d[x]) < std::fabs(d[y]); });
    std::vector<double> rank(d.size());
    double tieTerm = 0;  // sum of t^3 - t over tie groups
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && std::fabs(d[order[j + 1]]) == std::fabs(d[order[i]]))
            ++j;
        const double average = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (std::size_t k = i; k <= j; ++k)
            rank[order[k]] = average;
        const double t = static_cast<double>(j - i + 1);
        tieTerm += t * t * t - t;
        i = j + 1;
    }
    for (std::size_t k = 0; k < d.size(); ++k)
        (d[k] > 0 ? r.wPlus : r.wMinus) += rank[k];
    r.w = std::min(r.wPlus, r.wMinus);

    const double n = static_cast<double>(r.n);
    if (r.n <= kWilcoxonExactMaxN && tieTerm == 0) {
        // Exact null distribution of W+: counts of rank subsets by their sum.
        r.exact = true;
        const auto maxSum = static_cast<std::size_t>(r.n * (r.n + 1) / 2);
        std::vector<double> count(maxSum + 1, 0.0);
        count[0] = 1;
        for (std::size_t k = 1; k <= static_cast<std::size_t>(r.n); ++k)
            for (std::size_t s = maxSum; s >= k; --s)
                count[s] += count[s - k];
        const double total = std::ldexp(1.0, static_cast<int>(r.n));
        const auto w = static_cast<std::size_t>(std::llround(r.w));
        double lower = 0;  // P(W+ <= w), equal to P(W+ >= maxSum - w) by symmetry
        for (std::size_t s = 0; s <= w; ++s)
            lower += count[s];
        r.p = std::min(1.0, 2.0 * lower / total);
        return r;
    }
    const double mean = n * (n + 1) / 4.0;
    const double variance = n * (n + 1) * (2 * n + 1) / 24.0 - tieTerm / 48.0;
    if (variance <= 0) {
        r.p = 1;
        return r;
    }
    const double deviation = std::max(0.0, std::fabs(r.wPlus - mean) - 0.5);  // continuity
    r.z = std::copysign(deviation / std::sqrt(variance), r.wPlus - mean);
    const boost::math::normal_distribution<double> normal;
    r.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(normal, std::fabs(r.z))));
    return r;
}

BootstrapCi bootstrapMeanDifference(const std::vector<double>& a, const std::vector<double>& b,
                                    const BootstrapSettings& settings)
{
    if (settings.resamples < 1)
        throw Error(ErrorKind::Usage, "the bootstrap needs at least one resample", {}, 0,
                    "set the number of resamples to e.g. 2000");
    if (!(settings.level > 0 && settings.level < 1))
        throw Error(ErrorKind::Usage, "the bootstrap confidence level must lie in (0, 1)", {}, 0,
                    "use e.g. 0.95");
    const auto d = differences(a, b);
    BootstrapCi r;
    r.resamples = settings.resamples;
    r.level = settings.level;
    r.clusters = static_cast<std::int64_t>(d.size());
    if (d.empty()) {
        r.mean = r.lo = r.hi = kNaN;
        return r;
    }
    const double n = static_cast<double>(d.size());
    r.mean = std::accumulate(d.begin(), d.end(), 0.0) / n;
    // Indices from raw 64-bit draws (the modulo bias is below 2^-40 for any realistic n), not
    // std::uniform_int_distribution: the same numbers on every standard library.
    std::mt19937_64 rng(settings.seed);
    const std::uint64_t size = d.size();
    std::vector<double> means(static_cast<std::size_t>(settings.resamples));
    for (double& m : means) {
        double sum = 0;
        for (std::size_t k = 0; k < d.size(); ++k)
            sum += d[static_cast<std::size_t>(rng() % size)];
        m = sum / n;
    }
    std::sort(means.begin(), means.end());
    // Percentiles with linear interpolation between order statistics.
    const auto quantile = [&](double q) {
        const double pos = q * static_cast<double>(means.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(pos));
        const auto hi = std::min(lo + 1, means.size() - 1);
        return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
    };
    const double alpha = 1 - settings.level;
    r.lo = quantile(alpha / 2);
    r.hi = quantile(1 - alpha / 2);
    return r;
}

namespace {

void checkBootstrapSettings(const BootstrapSettings& settings)
{
    if (settings.resamples < 1)
        throw Error(ErrorKind::Usage, "the bootstrap needs at least one resample", {}, 0,
                    "set the number of resamples to e.g. 2000");
    if (!(settings.level > 0 && settings.level < 1))
        throw Error(ErrorKind::Usage, "the bootstrap confidence level must lie in (0, 1)", {}, 0,
                    "use e.g. 0.95");
}

// Percentile of sorted values with linear interpolation between order statistics.
double sortedQuantile(const std::vector<double>& sorted, double q)
{
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

BootstrapCi clusterBootstrapMeanDifference(const std::vector<double>& a,
                                           const std::vector<double>& b,
                                           const std::vector<std::int64_t>& clusters,
                                           const BootstrapSettings& settings)
{
    checkBootstrapSettings(settings);
    const auto d = differences(a, b);
    if (clusters.size() != d.size())
        throw Error(ErrorKind::Usage,
                    "cluster ids for " + std::to_string(clusters.size()) + " of " +
                        std::to_string(d.size()) + " pairs",
                    {}, 0, "give one cluster id per pair");
    BootstrapCi r;
    r.method = "cluster bootstrap";
    r.resamples = settings.resamples;
    r.level = settings.level;
    if (d.empty()) {
        r.mean = r.lo = r.hi = kNaN;
        return r;
    }
    // Per cluster (ascending id): the sum of its differences and its number of pairs.
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return clusters[x] < clusters[y]; });
    std::vector<double> sums;
    std::vector<double> counts;
    for (std::size_t k = 0; k < order.size(); ++k) {
        if (k == 0 || clusters[order[k]] != clusters[order[k - 1]]) {
            sums.push_back(0);
            counts.push_back(0);
        }
        sums.back() += d[order[k]];
        counts.back() += 1;
    }
    r.clusters = static_cast<std::int64_t>(sums.size());
    r.mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
    std::mt19937_64 rng(settings.seed);  // raw draws: the same numbers on every library
    const std::uint64_t size = sums.size();
    std::vector<double> means(static_cast<std::size_t>(settings.resamples));
    for (double& m : means) {
        double sum = 0;
        double count = 0;
        for (std::size_t k = 0; k < sums.size(); ++k) {
            const auto c = static_cast<std::size_t>(rng() % size);
            sum += sums[c];
            count += counts[c];
        }
        m = sum / count;
    }
    std::sort(means.begin(), means.end());
    const double alpha = 1 - settings.level;
    r.lo = sortedQuantile(means, alpha / 2);
    r.hi = sortedQuantile(means, 1 - alpha / 2);
    return r;
}

BootstrapCi tIntervalMeanDifference(const std::vector<double>& a, const std::vector<double>& b,
                                    double level)
{
    if (!(level > 0 && level < 1))
        throw Error(ErrorKind::Usage, "the confidence level must lie in (0, 1)", {}, 0,
                    "use e.g. 0.95");
    const PairedTTest t = pairedTTest(a, b);
    BootstrapCi r;
    r.method = "t interval";
    r.resamples = 0;
    r.level = level;
    r.clusters = t.n;
    r.mean = t.meanDifference;
    if (t.n < 2) {
        r.lo = r.hi = kNaN;
        return r;
    }
    const boost::math::students_t dist(t.df);
    const double half = boost::math::quantile(boost::math::complement(dist, (1 - level) / 2)) *
                        t.sdDifference / std::sqrt(static_cast<double>(t.n));
    r.lo = r.mean - half;
    r.hi = r.mean + half;
    return r;
}

std::vector<double> holmAdjust(const std::vector<double>& p)
{
    std::vector<std::size_t> order;
    for (std::size_t k = 0; k < p.size(); ++k) {
        if (std::isnan(p[k]))
            continue;
        if (p[k] < 0 || p[k] > 1)
            throw Error(ErrorKind::BadInput, "p-value " + std::to_string(k) + " is outside [0, 1]",
                        {}, 0, "pass p-values of tests");
        order.push_back(k);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
    std::vector<double> adjusted(p.size(), kNaN);
    const double m = static_cast<double>(order.size());
    double running = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        running = std::max(running, std::min(1.0, (m - static_cast<double>(i)) * p[order[i]]));
        adjusted[order[i]] = running;
    }
    return adjusted;
}

}  // namespace sllmr
