#pragma once
// Paired significance tests for comparing two runs (or two variants) on the same test
// interactions: paired t-test, Wilcoxon signed-rank test, a seeded percentile bootstrap CI of the
// mean difference, and Holm's step-down correction over a family of p-values. Distributions come
// from Boost.Math; nothing here allocates beyond the inputs' size (the bootstrap keeps B means).
//
// Inputs are paired samples `a` and `b` of equal length; differences are a - b. NaN or infinite
// input throws Error(BadInput); unequal lengths throw Error(Usage). Degenerate cases are values,
// not errors: with fewer than two pairs (t-test) or no non-zero difference (Wilcoxon) the p-value
// is NaN or 1 as documented per function, so a matrix of many tests can still be built.
#include <cstdint>
#include <string>
#include <vector>

namespace sllmr {

struct PairedTTest
{
    std::int64_t n = 0;
    double meanDifference = 0;  // mean of a - b
    double sdDifference = 0;    // sample standard deviation (n - 1)
    double t = 0;
    double df = 0;
    // Two-sided, Student's t with n - 1 degrees of freedom. n < 2: NaN. All differences equal:
    // 1 when they are all zero, 0 otherwise (t is then +-inf).
    double p = 0;
};

struct WilcoxonTest
{
    std::int64_t n = 0;      // non-zero differences used (zeros are dropped: Wilcoxon's method)
    std::int64_t zeros = 0;  // differences equal to zero, dropped
    double wPlus = 0;        // sum of the ranks of positive differences (average ranks for ties)
    double wMinus = 0;
    double w = 0;        // min(wPlus, wMinus), the tabulated statistic
    bool exact = false;  // exact null distribution (n <= 25 and no tied |differences|)
    double z = 0;        // normal approximation (tie- and continuity-corrected); 0 when exact
    double p = 1;        // two-sided; 1 when no non-zero difference remains
};

struct BootstrapSettings
{
    int resamples = 2000;  // B
    double level = 0.95;
    std::uint64_t seed = 1;
};

struct BootstrapCi
{
    double mean = 0;  // observed mean difference
    double lo = 0;    // percentile interval of the resampled means (or the t interval)
    double hi = 0;
    int resamples = 0;  // 0 for a t interval
    double level = 0.95;
    std::string method = "bootstrap";  // "bootstrap", "cluster bootstrap" or "t interval"
    std::int64_t clusters = 0;  // units resampled (pairs, or clusters of a cluster bootstrap)
};

// Exact-distribution limit of the Wilcoxon test (pairs without ties).
inline constexpr std::int64_t kWilcoxonExactMaxN = 25;

PairedTTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b);
WilcoxonTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b);
// Seeded: the same inputs and settings give the same interval. n = 0: NaN bounds.
BootstrapCi bootstrapMeanDifference(const std::vector<double>& a, const std::vector<double>& b,
                                    const BootstrapSettings& settings = {});
// Cluster (block) bootstrap of the mean difference: the pairs are grouped by `clusters` (e.g. the
// user of each test interaction), whole clusters are resampled with replacement and each resample's
// statistic is the mean over all the pairs of the drawn clusters, so the interval reflects the
// dependence of pairs within a cluster. With one pair per cluster it is the plain bootstrap over
// pairs. Seeded; clusters are taken in ascending id order. n = 0: NaN bounds.
BootstrapCi clusterBootstrapMeanDifference(const std::vector<double>& a,
                                           const std::vector<double>& b,
                                           const std::vector<std::int64_t>& clusters,
                                           const BootstrapSettings& settings = {});
// Student t interval of the mean difference (n - 1 degrees of freedom), for a handful of pairs
// (e.g. seeds) where a bootstrap has too few distinct resamples. n < 2: NaN bounds.
BootstrapCi tIntervalMeanDifference(const std::vector<double>& a, const std::vector<double>& b,
                                    double level = 0.95);
// Holm step-down adjusted p-values, in the input order, monotone in the sorted order and capped
// at 1. NaN entries are not part of the family and stay NaN.
std::vector<double> holmAdjust(const std::vector<double>& p);

}  // namespace sllmr
