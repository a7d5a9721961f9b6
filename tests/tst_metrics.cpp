// Ranking metrics (SPEC 6): hand-computed cases (ties counting one half, masked items, several
// test items per user, perfect and worst rankings, NDCG / Recall / HR / MRR with |test| > K,
// GAUC vs AUC, segment subsets, NaN scores), pairwiseAuc, the accumulator, input errors, and
// randomized cross-checks against brute-force references: an exhaustive enumeration of every
// tie-breaking order on small catalogs, and O(n * |test|) counting on larger ones.
#include "common/error.h"
#include "eval/metrics.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace sllmr;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// 1 / log2(1 + p): the DCG discount of position p.
double disc(int p)
{
    return 1.0 / std::log2(1.0 + p);
}

bool close(double actual, double expected, double tol = 1e-12)
{
    if (std::isnan(expected))
        return std::isnan(actual);
    return std::abs(actual - expected) <= tol * std::max(1.0, std::abs(expected));
}

#define CHECK_CLOSE(actual, expected)                                             \
    do {                                                                          \
        const double a_ = (actual);                                               \
        const double e_ = (expected);                                             \
        QVERIFY2(close(a_, e_), qPrintable(QStringLiteral("%1 = %2, expected %3") \
                                               .arg(QStringLiteral(#actual))      \
                                               .arg(a_, 0, 'g', 17)               \
                                               .arg(e_, 0, 'g', 17)));            \
    } while (false)

#define CHECK_NEAR(actual, expected, tol, context)                                         \
    do {                                                                                   \
        const double a_ = (actual);                                                        \
        const double e_ = (expected);                                                      \
        QVERIFY2(close(a_, e_, tol), qPrintable(QStringLiteral("%1: %2 = %3, expected %4") \
                                                    .arg(context)                          \
                                                    .arg(QStringLiteral(#actual))          \
                                                    .arg(a_, 0, 'g', 17)                   \
                                                    .arg(e_, 0, 'g', 17)));                \
    } while (false)

RankingOptions ks(std::vector<int> cutoffs)
{
    RankingOptions o;
    o.ks = std::move(cutoffs);
    return o;
}

float keyOf(float x)
{
    return std::isnan(x) ? -kInf : x;
}

// Expected metrics by brute force: every order of the ranked list that sorts it by score
// (descending, NaN last) is enumerated, the metrics are computed on each with plain
// deterministic definitions, and averaged. Needs a catalog of at most 8 items.
struct Reference
{
    std::vector<double> auc, rank, rr;      // per test item (sorted by item)
    std::vector<std::vector<double>> hit;   // [item][k], leave-one-out against negatives
    std::vector<std::vector<double>> ndcg;  // [item][k]
    std::vector<double> recall, ndcgU, hr;  // user, over relevant set S
    double mrr = 0;
};

Reference enumerate(const std::vector<float>& scores, const std::vector<std::uint32_t>& test,
                    const std::vector<std::uint32_t>& excluded,
                    const std::vector<std::uint32_t>& relevant, const std::vector<int>& cutoffs)
{
    const std::set<std::uint32_t> testSet(test.begin(), test.end());
    const std::set<std::uint32_t> exclSet(excluded.begin(), excluded.end());
    const std::set<std::uint32_t> relSet(relevant.begin(), relevant.end());
    std::vector<std::uint32_t> list;  // L: everything not masked (a test item is never masked)
    std::size_t negatives = 0;
    for (std::uint32_t i = 0; i < scores.size(); ++i) {
        if (testSet.count(i) || !exclSet.count(i))
            list.push_back(i);
        if (!testSet.count(i) && !exclSet.count(i))
            ++negatives;
    }
    const std::vector<std::uint32_t> tests(testSet.begin(), testSet.end());
    const std::size_t m = tests.size();
    const std::size_t nk = cutoffs.size();
    Reference ref;
    ref.auc.assign(m, 0);
    ref.rank.assign(m, 0);
    ref.rr.assign(m, 0);
    ref.hit.assign(m, std::vector<double>(nk, 0));
    ref.ndcg.assign(m, std::vector<double>(nk, 0));
    ref.recall.assign(nk, 0);
    ref.ndcgU.assign(nk, 0);
    ref.hr.assign(nk, 0);
    std::size_t orders = 0;
    std::sort(list.begin(), list.end());
    do {
        bool sorted = true;
        for (std::size_t p = 1; p < list.size(); ++p) {
            if (keyOf(scores[list[p - 1]]) < keyOf(scores[list[p]]))
                sorted = false;
        }
        if (!sorted)
            continue;
        ++orders;
        // Per test item: position among the negatives only.
        for (std::size_t j = 0; j < m; ++j) {
            std::size_t before = 0;
            std::size_t after = 0;
            bool seen = false;
            for (const std::uint32_t x : list) {
                if (x == tests[j]) {
                    seen = true;
                    continue;
                }
                if (testSet.count(x))
                    continue;
                (seen ? after : before) += 1;
            }
            const int pos = static_cast<int>(before) + 1;
            ref.auc[j] += negatives ? double(after) / double(negatives) : kNaN;
            ref.rank[j] += pos;
            ref.rr[j] += 1.0 / pos;
            for (std::size_t k = 0; k < nk; ++k) {
                ref.hit[j][k] += pos <= cutoffs[k] ? 1 : 0;
                ref.ndcg[j][k] += pos <= cutoffs[k] ? disc(pos) : 0;
            }
        }
        // User: positions in the whole list, relevance = S.
        int first = 0;
        for (std::size_t k = 0; k < nk; ++k) {
            int found = 0;
            double dcg = 0;
            for (int p = 1; p <= static_cast<int>(list.size()) && p <= cutoffs[k]; ++p) {
                if (relSet.count(list[p - 1])) {
                    ++found;
                    dcg += disc(p);
                }
            }
            double idcg = 0;
            for (int p = 1; p <= std::min<int>(cutoffs[k], int(relSet.size())); ++p)
                idcg += disc(p);
            ref.recall[k] += double(found) / double(relSet.size());
            ref.ndcgU[k] += dcg / idcg;
            ref.hr[k] += found > 0 ? 1 : 0;
        }
        for (int p = 1; p <= static_cast<int>(list.size()); ++p) {
            if (relSet.count(list[p - 1])) {
                first = p;
                break;
            }
        }
        ref.mrr += 1.0 / first;
    } while (std::next_permutation(list.begin(), list.end()));
    const double n = double(orders);
    for (std::size_t j = 0; j < m; ++j) {
        ref.auc[j] /= n;
        ref.rank[j] /= n;
        ref.rr[j] /= n;
        for (std::size_t k = 0; k < nk; ++k) {
            ref.hit[j][k] /= n;
            ref.ndcg[j][k] /= n;
        }
    }
    for (std::size_t k = 0; k < nk; ++k) {
        ref.recall[k] /= n;
        ref.ndcgU[k] /= n;
        ref.hr[k] /= n;
    }
    ref.mrr /= n;
    return ref;
}

// log C(a, b), -inf when b > a.
double logChoose(double a, double b)
{
    if (b > a)
        return -std::numeric_limits<double>::infinity();
    return std::lgamma(a + 1) - std::lgamma(b + 1) - std::lgamma(a - b + 1);
}

}  // namespace

class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tiesCountHalf();
    void excludedItemsAreMasked();
    void severalTestItems();
    void segmentSubset();
    void tieGroupWithSeveralPositives();
    void perfectAndWorst();
    void gaucDiffersFromAuc();
    void nanScores();
    void emptyAndDegenerate();
    void pairwise();
    void meanAndAccumulator();
    void errors();
    void randomizedAgainstEnumeration();
    void randomizedAgainstCounting();
};

void TestMetrics::tiesCountHalf()
{
    // item:   0    1    2    3    4    5
    // score: .9   .5   .5   .3   .7   .1      test {1}, nothing masked
    // Negatives 0, 2, 3, 4, 5 (5). Above 1: items 0, 4; tied: 2; below: 3, 5.
    //   AUC = (2 + 1/2) / 5 = 0.5; rank = 1 + 2 + 1/2 = 3.5; position uniform on {3, 4}.
    //   reciprocal rank = (1/3 + 1/4) / 2 = 7/24.
    //   K=2: hit 0, ndcg 0.  K=3: hit 1/2, ndcg (1/2) / log2(4) = 0.25.
    //   K=10: hit 1, ndcg (1/log2(4) + 1/log2(5)) / 2.
    // The list is the same (one test item): Recall@K = HR@K = hit, NDCG@K = ndcg (IDCG = 1),
    // MRR = 7/24, GAUC_u = 0.5.
    const std::vector<float> s = {0.9f, 0.5f, 0.5f, 0.3f, 0.7f, 0.1f};
    const std::vector<std::uint32_t> test = {1};
    const UserRanking r = rankUser(s, test, {}, ks({2, 3, 10}));
    QCOMPARE(r.perItem.size(), std::size_t(1));
    const InteractionRanking& i = r.perItem[0];
    QCOMPARE(i.item, 1u);
    QCOMPARE(i.negatives, std::size_t(5));
    QCOMPARE(i.negativesAbove, std::size_t(2));
    QCOMPARE(i.negativesTied, std::size_t(1));
    QCOMPARE(i.listAbove, std::size_t(2));
    QCOMPARE(i.listTied, std::size_t(1));
    CHECK_CLOSE(i.auc, 0.5);
    CHECK_CLOSE(i.rank, 3.5);
    CHECK_CLOSE(i.reciprocalRank, 7.0 / 24.0);
    CHECK_CLOSE(i.hitAt[0], 0.0);
    CHECK_CLOSE(i.hitAt[1], 0.5);
    CHECK_CLOSE(i.hitAt[2], 1.0);
    CHECK_CLOSE(i.ndcgAt[0], 0.0);
    CHECK_CLOSE(i.ndcgAt[1], 0.25);
    CHECK_CLOSE(i.ndcgAt[2], (0.5 + disc(4)) / 2);
    QCOMPARE(r.testItems, std::size_t(1));
    CHECK_CLOSE(r.gauc, 0.5);
    CHECK_CLOSE(r.mrr, 7.0 / 24.0);
    CHECK_CLOSE(r.recallAt[0], 0.0);
    CHECK_CLOSE(r.recallAt[1], 0.5);
    CHECK_CLOSE(r.recallAt[2], 1.0);
    CHECK_CLOSE(r.ndcgAt[1], 0.25);
    CHECK_CLOSE(r.ndcgAt[2], (0.5 + disc(4)) / 2);
    CHECK_CLOSE(r.hitAt[0], 0.0);
    CHECK_CLOSE(r.hitAt[1], 0.5);
    CHECK_CLOSE(r.hitAt[2], 1.0);
}

void TestMetrics::excludedItemsAreMasked()
{
    // Same scores, test {1}, masked {0, 2} (train/validation positives).
    // Negatives 3, 4, 5 (3): above 1: item 4; below: 3, 5.  AUC = 2/3, rank 2, RR 1/2.
    // Unmasked it would be AUC 0.5 and rank 3.5 (previous case).
    // K=1: hit 0; K=2: hit 1, ndcg 1/log2(3). Duplicated indices are ignored.
    const std::vector<float> s = {0.9f, 0.5f, 0.5f, 0.3f, 0.7f, 0.1f};
    const std::vector<std::uint32_t> test = {1, 1};
    const std::vector<std::uint32_t> masked = {2, 0, 2};
    const UserRanking r = rankUser(s, test, masked, ks({1, 2}));
    QCOMPARE(r.perItem.size(), std::size_t(1));
    QCOMPARE(r.perItem[0].negatives, std::size_t(3));
    CHECK_CLOSE(r.perItem[0].auc, 2.0 / 3.0);
    CHECK_CLOSE(r.perItem[0].rank, 2.0);
    CHECK_CLOSE(r.perItem[0].reciprocalRank, 0.5);
    CHECK_CLOSE(r.perItem[0].hitAt[0], 0.0);
    CHECK_CLOSE(r.perItem[0].hitAt[1], 1.0);
    CHECK_CLOSE(r.perItem[0].ndcgAt[1], disc(2));
    CHECK_CLOSE(r.mrr, 0.5);
    CHECK_CLOSE(r.recallAt[1], 1.0);
    CHECK_CLOSE(r.ndcgAt[1], disc(2));

    // A masked item that is also a test item stays a test item: masking {1} changes nothing.
    const std::vector<std::uint32_t> maskTest = {1, 0, 2};
    const UserRanking same = rankUser(s, test, maskTest, ks({1, 2}));
    QCOMPARE(same.perItem.size(), std::size_t(1));
    CHECK_CLOSE(same.perItem[0].auc, 2.0 / 3.0);
    QCOMPARE(same.perItem[0].negatives, std::size_t(3));
}

namespace {

// item:   0    1    2    3    4    5    6    7
// score: .8   .6   .4   .2   .9   .5   .4   .1     test {1, 2, 3}, masked {4}
// Negatives 0, 5, 6, 7 (4); the other test items are not negatives.
//   item 1 (.6): above 0           -> AUC 3/4,             rank 2
//   item 2 (.4): above 0, 5; tied 6 -> AUC (1 + 1/2)/4 = 3/8, rank 3.5
//   item 3 (.2): above 0, 5, 6      -> AUC 1/4,             rank 4
// List L (4 masked): 0(1) 1(2) 5(3) {2,6}(4,5 uniformly) 3(6) 7(7).
const std::vector<float> kScoresC = {0.8f, 0.6f, 0.4f, 0.2f, 0.9f, 0.5f, 0.4f, 0.1f};
const std::vector<std::uint32_t> kTestC = {3, 1, 2};
const std::vector<std::uint32_t> kMaskC = {4};

}  // namespace

void TestMetrics::severalTestItems()
{
    const UserRanking r = rankUser(kScoresC, kTestC, kMaskC, ks({1, 2, 5}));
    QCOMPARE(r.perItem.size(), std::size_t(3));
    QCOMPARE(r.perItem[0].item, 1u);  // sorted by item
    QCOMPARE(r.perItem[1].item, 2u);
    QCOMPARE(r.perItem[2].item, 3u);
    for (const auto& i : r.perItem)
        QCOMPARE(i.negatives, std::size_t(4));
    CHECK_CLOSE(r.perItem[0].auc, 0.75);
    CHECK_CLOSE(r.perItem[1].auc, 0.375);
    CHECK_CLOSE(r.perItem[2].auc, 0.25);
    CHECK_CLOSE(r.perItem[0].rank, 2.0);
    CHECK_CLOSE(r.perItem[1].rank, 3.5);
    CHECK_CLOSE(r.perItem[2].rank, 4.0);
    // List positions: item 1 at 2, item 2 on {4, 5}, item 3 at 6.
    QCOMPARE(r.perItem[0].listAbove, std::size_t(1));
    QCOMPARE(r.perItem[1].listAbove, std::size_t(3));
    QCOMPARE(r.perItem[1].listTied, std::size_t(1));
    QCOMPARE(r.perItem[2].listAbove, std::size_t(5));
    // GAUC_u = (3/4 + 3/8 + 1/4) / 3 = 11/24.
    CHECK_CLOSE(r.gauc, 11.0 / 24.0);
    // K=1 (|test| = 3 > K): nothing at position 1 -> 0, 0, 0.
    CHECK_CLOSE(r.recallAt[0], 0.0);
    CHECK_CLOSE(r.ndcgAt[0], 0.0);
    CHECK_CLOSE(r.hitAt[0], 0.0);
    // K=2: item 1 at 2. Recall 1/3; NDCG = (1/log2 3) / (1 + 1/log2 3) = 1/log2(6); HR 1.
    CHECK_CLOSE(r.recallAt[1], 1.0 / 3.0);
    CHECK_CLOSE(r.ndcgAt[1], 1.0 / std::log2(6.0));
    CHECK_CLOSE(r.hitAt[1], 1.0);
    // K=5: item 1 surely, item 2 surely (positions 4 or 5): Recall 2/3;
    //   DCG = 1/log2 3 + (1/log2 5 + 1/log2 6)/2, IDCG = 1 + 1/log2 3 + 1/log2 4.
    CHECK_CLOSE(r.recallAt[2], 2.0 / 3.0);
    CHECK_CLOSE(r.ndcgAt[2], (disc(2) + (disc(4) + disc(5)) / 2) / (1 + disc(2) + disc(3)));
    CHECK_CLOSE(r.hitAt[2], 1.0);
    // MRR: first test item at position 2.
    CHECK_CLOSE(r.mrr, 0.5);
}

void TestMetrics::segmentSubset()
{
    // Same user; the segment holds items 2 and 3 only (perItem indices 1, 2). Item 1 still takes
    // position 2 in the list. K=4: item 2 at 4 with prob. 1/2 -> Recall 1/4, HR 1/2,
    //   NDCG = (1/2)(1/log2 5) / (1 + 1/log2 3).
    // K=5: Recall 1/2, HR 1, NDCG = (1/log2 5 + 1/log2 6)/2 / (1 + 1/log2 3).
    // MRR = E[1 / position of item 2] = (1/4 + 1/5)/2 = 9/40. GAUC_u = (3/8 + 1/4)/2 = 5/16.
    const RankingOptions o = ks({4, 5});
    const UserRanking r = rankUser(kScoresC, kTestC, kMaskC, o);
    const std::vector<std::size_t> subset = {2, 1, 2};
    const UserMetrics m = userMetrics(r.perItem, subset, o);
    QCOMPARE(m.testItems, std::size_t(2));
    CHECK_CLOSE(m.recallAt[0], 0.25);
    CHECK_CLOSE(m.hitAt[0], 0.5);
    CHECK_CLOSE(m.ndcgAt[0], 0.5 * disc(4) / (1 + disc(2)));
    CHECK_CLOSE(m.recallAt[1], 0.5);
    CHECK_CLOSE(m.hitAt[1], 1.0);
    CHECK_CLOSE(m.ndcgAt[1], (disc(4) + disc(5)) / 2 / (1 + disc(2)));
    CHECK_CLOSE(m.mrr, 9.0 / 40.0);
    CHECK_CLOSE(m.gauc, 5.0 / 16.0);
    // The whole set through userMetrics equals rankUser's own.
    const UserMetrics all = userMetrics(r.perItem, o);
    CHECK_CLOSE(all.mrr, r.mrr);
    CHECK_CLOSE(all.ndcgAt[1], r.ndcgAt[1]);
    CHECK_CLOSE(all.recallAt[0], r.recallAt[0]);
    // An empty subset leaves the metrics undefined.
    const UserMetrics none = userMetrics(r.perItem, std::vector<std::size_t>{}, o);
    QCOMPARE(none.testItems, std::size_t(0));
    QVERIFY(std::isnan(none.mrr));
    QVERIFY(std::isnan(none.recallAt[0]));
}

void TestMetrics::tieGroupWithSeveralPositives()
{
    // Five items all scored .5, test {0, 1}. Every order is equally likely.
    // AUC of each: 3 tied negatives -> 1/2.
    // First test item at position r with probability C(5 - r, 1) / C(5, 2) = (5 - r)/10:
    //   .4, .3, .2, .1 -> HR@1 = .4, HR@2 = .7, HR@3 = .9, HR@4 = 1;
    //   MRR = .4 + .3/2 + .2/3 + .1/4 = 77/120.
    // Each test item is at positions 1..5 uniformly: Recall@2 = 2/5;
    //   NDCG@2 = 2 (1 + 1/log2 3)/5 / (1 + 1/log2 3) = 2/5.
    const std::vector<float> s(5, 0.5f);
    const std::vector<std::uint32_t> test = {1, 0};
    const UserRanking r = rankUser(s, test, {}, ks({1, 2, 3, 4}));
    CHECK_CLOSE(r.perItem[0].auc, 0.5);
    CHECK_CLOSE(r.perItem[1].auc, 0.5);
    CHECK_CLOSE(r.perItem[0].rank, 2.5);  // 1 + 3/2 among the negatives
    CHECK_CLOSE(r.hitAt[0], 0.4);
    CHECK_CLOSE(r.hitAt[1], 0.7);
    CHECK_CLOSE(r.hitAt[2], 0.9);
    CHECK_CLOSE(r.hitAt[3], 1.0);
    CHECK_CLOSE(r.mrr, 77.0 / 120.0);
    CHECK_CLOSE(r.recallAt[1], 0.4);
    CHECK_CLOSE(r.ndcgAt[1], 0.4);
    CHECK_CLOSE(r.gauc, 0.5);
    // Certain hits are exactly 1, not a sum of probabilities that rounds near it (here
    // .5 + 1/3 + 1/6 sums to 1 - 2^-53 in floating point): 4 tied items, 2 of them relevant,
    // K = 3 = 4 - 2 + 1. HR@2 = 1 - C(2, 2)/C(4, 2) = 5/6.
    const std::vector<float> flat(4, 0.25f);
    const UserRanking f = rankUser(flat, std::vector<std::uint32_t>{0, 3}, {}, ks({2, 3}));
    CHECK_CLOSE(f.hitAt[0], 5.0 / 6.0);
    QVERIFY(f.hitAt[1] == 1.0);  // exact (QCOMPARE on doubles is fuzzy)
}

void TestMetrics::perfectAndWorst()
{
    // 10 items; test {3, 7}; masked {0}. Negatives: 7 items.
    // Perfect: test items scored 2 and 1, the rest 0 .. -0.8 -> AUC 1, rank 1, MRR 1, NDCG@K 1,
    //   Recall@1 = 1/2 (|test| = 2 > K = 1), Recall@2 = 1, HR@1 = 1.
    std::vector<float> good(10);
    for (int i = 0; i < 10; ++i)
        good[i] = -0.1f * float(i);
    good[3] = 2.0f;
    good[7] = 1.0f;
    good[0] = 5.0f;  // masked: its score does not matter
    const std::vector<std::uint32_t> test = {3, 7};
    const std::vector<std::uint32_t> masked = {0};
    const UserRanking p = rankUser(good, test, masked, ks({1, 2}));
    for (const auto& i : p.perItem) {
        CHECK_CLOSE(i.auc, 1.0);
        CHECK_CLOSE(i.rank, 1.0);
        CHECK_CLOSE(i.reciprocalRank, 1.0);
        CHECK_CLOSE(i.hitAt[0], 1.0);
        CHECK_CLOSE(i.ndcgAt[0], 1.0);
    }
    CHECK_CLOSE(p.gauc, 1.0);
    CHECK_CLOSE(p.mrr, 1.0);
    CHECK_CLOSE(p.recallAt[0], 0.5);
    CHECK_CLOSE(p.recallAt[1], 1.0);
    CHECK_CLOSE(p.ndcgAt[0], 1.0);
    CHECK_CLOSE(p.ndcgAt[1], 1.0);
    CHECK_CLOSE(p.hitAt[0], 1.0);

    // Worst: test items below every negative -> AUC 0, rank 8 (7 negatives above);
    //   list of 9 (item 0 masked): the test items at 8 and 9 -> MRR 1/8, everything @2 = 0.
    std::vector<float> bad = good;
    bad[3] = -5.0f;
    bad[7] = -6.0f;
    const UserRanking w = rankUser(bad, test, masked, ks({1, 2}));
    for (const auto& i : w.perItem) {
        CHECK_CLOSE(i.auc, 0.0);
        CHECK_CLOSE(i.rank, 8.0);
        CHECK_CLOSE(i.reciprocalRank, 1.0 / 8.0);
        CHECK_CLOSE(i.hitAt[1], 0.0);
    }
    CHECK_CLOSE(w.gauc, 0.0);
    CHECK_CLOSE(w.mrr, 1.0 / 8.0);
    CHECK_CLOSE(w.recallAt[1], 0.0);
    CHECK_CLOSE(w.ndcgAt[1], 0.0);
    CHECK_CLOSE(w.hitAt[1], 0.0);
}

void TestMetrics::gaucDiffersFromAuc()
{
    // User A: scores {.9, .1, .2, .3}, test {0}: AUC 1.
    // User B: scores {.1, .2, .8, .8, .5}, test {0, 1, 2}; negatives 3 (.8), 4 (.5):
    //   item 0 -> 0; item 1 -> 0; item 2: tied with 3, above 4 -> (1 + 1/2)/2 = 3/4.
    // AUC  (mean over the 4 interactions) = (1 + 0 + 0 + 3/4)/4 = 7/16 = 0.4375.
    // GAUC (mean over the 2 users)        = (1 + (3/4)/3)/2 = 5/8 = 0.625.
    const RankingOptions o = ks({1});
    const UserRanking a =
        rankUser(std::vector<float>{0.9f, 0.1f, 0.2f, 0.3f}, std::vector<std::uint32_t>{0}, {}, o);
    const UserRanking b = rankUser(std::vector<float>{0.1f, 0.2f, 0.8f, 0.8f, 0.5f},
                                   std::vector<std::uint32_t>{0, 1, 2}, {}, o);
    CHECK_CLOSE(b.perItem[2].auc, 0.75);
    MetricAccumulator acc(o);
    for (const UserRanking* u : {&a, &b}) {
        for (const auto& i : u->perItem)
            acc.addInteraction(i);
        acc.addUser(*u);
    }
    QCOMPARE(acc.interactions(), std::size_t(4));
    QCOMPARE(acc.users(), std::size_t(2));
    QCOMPARE(acc.auc().count(), std::size_t(4));
    CHECK_CLOSE(acc.auc().mean(), 7.0 / 16.0);
    QCOMPARE(acc.gauc().count(), std::size_t(2));
    CHECK_CLOSE(acc.gauc().mean(), 5.0 / 8.0);
    // MRR: A's item first (1); B's list .8 .8 .5 .2 .1 -> item 2 at 1 or 2: (1 + 1/2)/2 = 3/4.
    //   Mean over users = 7/8. HR@1: A 1, B 1/2 -> 3/4.
    CHECK_CLOSE(acc.mrr().mean(), 7.0 / 8.0);
    CHECK_CLOSE(acc.hitAt(0).mean(), 0.75);

    // values(): names, levels and counts.
    const auto v = acc.values();
    QCOMPARE(v.size(), std::size_t(7));  // auc, gauc, recall@1, ndcg@1, hr@1, mrr, mean_rank
    QCOMPARE(v[0].name, std::string("auc"));
    QCOMPARE(v[0].level, std::string("interaction"));
    QCOMPARE(v[0].count, std::size_t(4));
    CHECK_CLOSE(v[0].mean, 7.0 / 16.0);
    QCOMPARE(v[1].name, std::string("gauc"));
    QCOMPARE(v[1].level, std::string("user"));
    QCOMPARE(v[1].count, std::size_t(2));
    QCOMPARE(v[2].name, std::string("recall@1"));
    QCOMPARE(v[4].name, std::string("hr@1"));
    CHECK_CLOSE(v[4].mean, 0.75);
    QCOMPARE(v[5].name, std::string("mrr"));
    QCOMPARE(v[6].name, std::string("mean_rank"));
    // Ranks: A 1; B: item 0 -> 3, item 1 -> 3, item 2 -> 1 + 1/2 -> mean (1 + 3 + 3 + 1.5)/4.
    CHECK_CLOSE(v[6].mean, 8.5 / 4.0);
}

void TestMetrics::nanScores()
{
    // NaN counts as -inf. Test item 0 is NaN -> -inf; negatives: 1 (.2) above, 2 (NaN) and
    // 3 (-inf) tied -> AUC (0 + 2/2)/3 = 1/3, rank 1 + 1 + 1 = 3.
    const std::vector<float> s = {kNaNf, 0.2f, kNaNf, -kInf};
    const UserRanking r = rankUser(s, std::vector<std::uint32_t>{0}, {}, ks({1}));
    CHECK_CLOSE(r.perItem[0].auc, 1.0 / 3.0);
    CHECK_CLOSE(r.perItem[0].rank, 3.0);
    // A finite test score beats NaN negatives: item 1 (.2) vs 0, 2 (NaN), 3 (-inf) -> AUC 1.
    const UserRanking f = rankUser(s, std::vector<std::uint32_t>{1}, {}, ks({1}));
    CHECK_CLOSE(f.perItem[0].auc, 1.0);
    CHECK_CLOSE(f.mrr, 1.0);
}

void TestMetrics::emptyAndDegenerate()
{
    const std::vector<float> s = {0.3f, 0.2f, 0.1f};
    // No test items: nothing ranked, everything undefined; the accumulator ignores the user.
    const UserRanking e = rankUser(s, {}, {}, ks({1, 2}));
    QVERIFY(e.perItem.empty());
    QCOMPARE(e.testItems, std::size_t(0));
    QCOMPARE(e.recallAt.size(), std::size_t(2));
    QVERIFY(std::isnan(e.recallAt[0]));
    QVERIFY(std::isnan(e.gauc));
    QVERIFY(std::isnan(e.mrr));
    MetricAccumulator acc(ks({1, 2}));
    acc.addUser(e);
    QCOMPARE(acc.users(), std::size_t(0));
    // No negatives (all other items masked): AUC undefined, rank 1, counted apart.
    const UserRanking d =
        rankUser(s, std::vector<std::uint32_t>{1}, std::vector<std::uint32_t>{0, 2}, ks({1, 2}));
    QCOMPARE(d.perItem[0].negatives, std::size_t(0));
    QVERIFY(std::isnan(d.perItem[0].auc));
    CHECK_CLOSE(d.perItem[0].rank, 1.0);
    QVERIFY(std::isnan(d.gauc));
    CHECK_CLOSE(d.mrr, 1.0);
    acc.addInteraction(d.perItem[0]);
    acc.addUser(d);
    QCOMPARE(acc.interactions(), std::size_t(1));
    QCOMPARE(acc.auc().count(), std::size_t(0));
    QCOMPARE(acc.auc().undefined(), std::size_t(1));
    QVERIFY(std::isnan(acc.auc().mean()));
    QCOMPARE(acc.users(), std::size_t(1));
    CHECK_CLOSE(acc.mrr().mean(), 1.0);
}

void TestMetrics::pairwise()
{
    // pos {.9, .5, .5} vs neg {.5, .1}: .9 wins 2; each .5 ties 1 (1/2) and wins 1 -> 1.5.
    // AUC = (2 + 1.5 + 1.5)/6 = 5/6.
    CHECK_CLOSE(pairwiseAuc(std::vector<float>{0.9f, 0.5f, 0.5f}, std::vector<float>{0.5f, 0.1f}),
                5.0 / 6.0);
    // All tied -> 1/2; perfectly separated -> 1 and 0.
    CHECK_CLOSE(pairwiseAuc(std::vector<float>{0.5f, 0.5f}, std::vector<float>{0.5f}), 0.5);
    CHECK_CLOSE(pairwiseAuc(std::vector<float>{3, 4}, std::vector<float>{1, 2, 0}), 1.0);
    CHECK_CLOSE(pairwiseAuc(std::vector<float>{-3, -4}, std::vector<float>{1, 2, 0}), 0.0);
    // NaN as -inf: NaN loses to .1, ties NaN and -inf.
    CHECK_CLOSE(pairwiseAuc(std::vector<float>{kNaNf}, std::vector<float>{0.1f, kNaNf, -kInf}),
                (0 + 0.5 + 0.5) / 3.0);
    // Empty side: undefined.
    QVERIFY(std::isnan(pairwiseAuc(std::vector<float>{}, std::vector<float>{0.1f})));
    QVERIFY(std::isnan(pairwiseAuc(std::vector<float>{0.1f}, std::vector<float>{})));
    // Against an O(n m) count with ties.
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> level(0, 9);
    for (int trial = 0; trial < 50; ++trial) {
        std::vector<float> pos(1 + trial % 13), neg(1 + (trial * 7) % 17);
        for (float& x : pos)
            x = float(level(rng)) / 9.0f;
        for (float& x : neg)
            x = float(level(rng)) / 9.0f;
        double wins = 0;
        for (float p : pos) {
            for (float n : neg)
                wins += p > n ? 1.0 : (p == n ? 0.5 : 0.0);
        }
        CHECK_NEAR(pairwiseAuc(pos, neg), wins / double(pos.size() * neg.size()), 1e-12,
                   QString::number(trial));
    }
}

void TestMetrics::meanAndAccumulator()
{
    Mean m;
    QVERIFY(std::isnan(m.mean()));
    m.add(1);
    m.add(kNaN);
    m.add(2);
    QCOMPARE(m.count(), std::size_t(2));
    QCOMPARE(m.undefined(), std::size_t(1));
    CHECK_CLOSE(m.mean(), 1.5);
    Mean other;
    other.add(6);
    other.add(kNaN);
    m.merge(other);
    QCOMPARE(m.count(), std::size_t(3));
    QCOMPARE(m.undefined(), std::size_t(2));
    CHECK_CLOSE(m.mean(), 3.0);
    // Compensated sum: 1e16 + 1 + 1 - 1e16 is 2, not 0.
    Mean c;
    for (double x : {1e16, 1.0, 1.0, -1e16})
        c.add(x);
    CHECK_CLOSE(c.sum(), 2.0);

    // Accumulators over two halves merge into the accumulator over the whole.
    const RankingOptions o = ks({1, 2});
    const UserRanking u1 = rankUser(kScoresC, kTestC, kMaskC, o);
    const UserRanking u2 =
        rankUser(std::vector<float>{0.5f, 0.5f, 0.1f}, std::vector<std::uint32_t>{0}, {}, o);
    MetricAccumulator whole(o), left(o), right(o);
    for (const auto* u : {&u1, &u2}) {
        MetricAccumulator& half = u == &u1 ? left : right;
        for (const auto& i : u->perItem) {
            whole.addInteraction(i);
            half.addInteraction(i);
        }
        whole.addUser(*u);
        half.addUser(*u);
    }
    left.merge(right);
    QCOMPARE(left.interactions(), std::size_t(4));
    QCOMPARE(left.users(), std::size_t(2));
    CHECK_CLOSE(left.auc().mean(), whole.auc().mean());
    CHECK_CLOSE(left.ndcgAt(1).mean(), whole.ndcgAt(1).mean());
    // u1: AUC 3/4, 3/8, 1/4; u2 (item 0 tied with 1, above 2): 3/4 -> mean 17/32.
    CHECK_CLOSE(whole.auc().mean(), (0.75 + 0.375 + 0.25 + 0.75) / 4);
    // Recall@2: u1 1/3, u2 1 -> 2/3.
    CHECK_CLOSE(whole.recallAt(1).mean(), 2.0 / 3.0);
    MetricAccumulator otherKs(ks({5}));
    QVERIFY_THROWS_EXCEPTION(Error, left.merge(otherKs));
    QVERIFY_THROWS_EXCEPTION(Error, otherKs.addUser(u1));
}

void TestMetrics::errors()
{
    const std::vector<float> s = {0.1f, 0.2f, 0.3f};
    const auto usage = [](auto&& call) {
        try {
            call();
        } catch (const Error& e) {
            return e.kind() == ErrorKind::Usage;
        }
        return false;
    };
    QVERIFY(usage([&] { rankUser(s, std::vector<std::uint32_t>{3}, {}, ks({1})); }));
    QVERIFY(usage(
        [&] { rankUser(s, std::vector<std::uint32_t>{0}, std::vector<std::uint32_t>{7}, {}); }));
    QVERIFY(usage([&] { rankUser(s, std::vector<std::uint32_t>{0}, {}, ks({0})); }));
    QVERIFY(usage([&] { MetricAccumulator bad(ks({10, -1})); }));
    const UserRanking r = rankUser(s, std::vector<std::uint32_t>{0, 1}, {}, ks({1}));
    QVERIFY(usage([&] { userMetrics(r.perItem, std::vector<std::size_t>{2}, ks({1})); }));
    // In range: no throw.
    QVERIFY(!usage([&] { userMetrics(r.perItem, std::vector<std::size_t>{1}, ks({1})); }));
}

void TestMetrics::randomizedAgainstEnumeration()
{
    // Small catalogs (1..8 items), scores on 7 levels plus the odd NaN (many ties), random test
    // items, masked items (sometimes overlapping the test items) and segment subsets. Every
    // metric must equal the average over all tie-breaking orders.
    std::mt19937 rng(20240611);
    const std::vector<int> cutoffs = {1, 2, 3, 5};
    const RankingOptions o = ks(cutoffs);
    int checked = 0;
    for (int trial = 0; trial < 400; ++trial) {
        const int n = 1 + int(rng() % 8);
        std::vector<float> s(n);
        for (float& x : s)
            x = rng() % 23 == 0 ? kNaNf : float(rng() % 7) / 6.0f;
        std::vector<std::uint32_t> test, masked;
        for (int i = 0; i < n; ++i) {
            const unsigned r = rng() % 6;
            if (r < 2)
                test.push_back(i);
            if (r == 1 || r == 2 || r == 3)
                masked.push_back(i);  // r == 1: both, stays a test item
        }
        if (test.empty())
            test.push_back(std::uint32_t(rng() % n));
        std::shuffle(test.begin(), test.end(), rng);
        const QString ctx = QStringLiteral("trial %1").arg(trial);

        const UserRanking r = rankUser(s, test, masked, o);
        std::vector<std::uint32_t> sortedTest = test;
        std::sort(sortedTest.begin(), sortedTest.end());
        QCOMPARE(r.perItem.size(), sortedTest.size());
        const Reference ref = enumerate(s, test, masked, test, cutoffs);
        double aucSum = 0;
        int aucCount = 0;
        for (std::size_t j = 0; j < r.perItem.size(); ++j) {
            QCOMPARE(r.perItem[j].item, sortedTest[j]);
            CHECK_NEAR(r.perItem[j].auc, ref.auc[j], 1e-12, ctx);
            CHECK_NEAR(r.perItem[j].rank, ref.rank[j], 1e-12, ctx);
            CHECK_NEAR(r.perItem[j].reciprocalRank, ref.rr[j], 1e-12, ctx);
            for (std::size_t k = 0; k < cutoffs.size(); ++k) {
                CHECK_NEAR(r.perItem[j].hitAt[k], ref.hit[j][k], 1e-12, ctx);
                CHECK_NEAR(r.perItem[j].ndcgAt[k], ref.ndcg[j][k], 1e-12, ctx);
            }
            if (!std::isnan(ref.auc[j])) {
                aucSum += ref.auc[j];
                ++aucCount;
            }
        }
        CHECK_NEAR(r.gauc, aucCount ? aucSum / aucCount : kNaN, 1e-12, ctx);
        CHECK_NEAR(r.mrr, ref.mrr, 1e-12, ctx);
        for (std::size_t k = 0; k < cutoffs.size(); ++k) {
            CHECK_NEAR(r.recallAt[k], ref.recall[k], 1e-12, ctx);
            CHECK_NEAR(r.ndcgAt[k], ref.ndcgU[k], 1e-12, ctx);
            CHECK_NEAR(r.hitAt[k], ref.hr[k], 1e-12, ctx);
        }

        // A random non-empty segment subset of the test items, in the same list.
        std::vector<std::size_t> subset;
        std::vector<std::uint32_t> relevant;
        for (std::size_t j = 0; j < sortedTest.size(); ++j) {
            if (rng() % 2) {
                subset.push_back(j);
                relevant.push_back(sortedTest[j]);
            }
        }
        if (subset.empty())
            continue;
        const UserMetrics sm = userMetrics(r.perItem, subset, o);
        const Reference sref = enumerate(s, test, masked, relevant, cutoffs);
        QCOMPARE(sm.testItems, subset.size());
        CHECK_NEAR(sm.mrr, sref.mrr, 1e-12, ctx);
        for (std::size_t k = 0; k < cutoffs.size(); ++k) {
            CHECK_NEAR(sm.recallAt[k], sref.recall[k], 1e-12, ctx);
            CHECK_NEAR(sm.ndcgAt[k], sref.ndcgU[k], 1e-12, ctx);
            CHECK_NEAR(sm.hitAt[k], sref.hr[k], 1e-12, ctx);
        }
        ++checked;
    }
    QVERIFY(checked > 100);  // the subsets were exercised
}

void TestMetrics::randomizedAgainstCounting()
{
    // Larger catalogs (up to 3000 items) with many distinct test scores (the bucketed counting
    // path), rounded scores (ties), NaN. Reference: for each test item, an O(n) loop over all
    // items classifying each as masked / test / negative; user metrics from each item's position
    // range in the list, and HR@K / MRR from the hypergeometric law of the first relevant item.
    std::mt19937 rng(99);
    const std::vector<int> cutoffs = {1, 5, 10, 50};
    const RankingOptions o = ks(cutoffs);
    const std::vector<int> levels = {3, 10, 100, 100000};
    for (int trial = 0; trial < 60; ++trial) {
        const int n = 20 + int(rng() % 3000);
        const int lv = levels[trial % levels.size()];
        std::vector<float> s(n);
        for (float& x : s)
            x = rng() % 200 == 0 ? kNaNf : float(rng() % (lv + 1)) / float(lv);
        std::vector<char> role(n, 0);  // 0 negative, 1 test, 2 masked
        const int m = 1 + int(rng() % 60);
        std::vector<std::uint32_t> test, masked;
        for (int j = 0; j < m; ++j) {
            const auto i = std::uint32_t(rng() % n);
            test.push_back(i);
            role[i] = 1;
        }
        for (int j = 0; j < n / 10; ++j) {
            const auto i = std::uint32_t(rng() % n);
            masked.push_back(i);
            if (role[i] == 0)
                role[i] = 2;
        }
        const QString ctx = QStringLiteral("trial %1 n %2").arg(trial).arg(n);
        const UserRanking r = rankUser(s, test, masked, o);

        std::size_t negatives = 0;
        for (int i = 0; i < n; ++i)
            negatives += role[i] == 0;
        std::vector<std::uint32_t> tests;
        for (int i = 0; i < n; ++i) {
            if (role[i] == 1)
                tests.push_back(i);
        }
        QCOMPARE(r.perItem.size(), tests.size());
        std::vector<std::size_t> listAbove(tests.size()), groupSize(tests.size());
        double aucSum = 0;
        std::vector<double> recall(cutoffs.size(), 0), dcg(cutoffs.size(), 0);
        for (std::size_t j = 0; j < tests.size(); ++j) {
            const float x = keyOf(s[tests[j]]);
            std::size_t negAbove = 0, negTied = 0, lAbove = 0, lTied = 0;
            for (int i = 0; i < n; ++i) {
                if (role[i] == 2 || std::uint32_t(i) == tests[j])
                    continue;
                const float y = keyOf(s[i]);
                lAbove += y > x;
                lTied += y == x;
                if (role[i] == 0) {
                    negAbove += y > x;
                    negTied += y == x;
                }
            }
            const InteractionRanking& it = r.perItem[j];
            QCOMPARE(it.item, tests[j]);
            QCOMPARE(it.negatives, negatives);
            QCOMPARE(it.negativesAbove, negAbove);
            QCOMPARE(it.negativesTied, negTied);
            QCOMPARE(it.listAbove, lAbove);
            QCOMPARE(it.listTied, lTied);
            const double auc = (double(negatives - negAbove - negTied) + 0.5 * double(negTied)) /
                               double(negatives);
            CHECK_NEAR(it.auc, auc, 1e-12, ctx);
            CHECK_NEAR(it.rank, 1.0 + double(negAbove) + 0.5 * double(negTied), 1e-12, ctx);
            double rr = 0;
            for (std::size_t p = negAbove + 1; p <= negAbove + negTied + 1; ++p)
                rr += 1.0 / double(p);
            CHECK_NEAR(it.reciprocalRank, rr / double(negTied + 1), 1e-10, ctx);
            aucSum += auc;
            listAbove[j] = lAbove;
            groupSize[j] = lTied + 1;
            for (std::size_t k = 0; k < cutoffs.size(); ++k) {
                std::size_t in = 0;
                double g = 0;
                for (std::size_t p = lAbove + 1; p <= lAbove + lTied + 1; ++p) {
                    if (p <= std::size_t(cutoffs[k])) {
                        ++in;
                        g += disc(int(p));
                    }
                }
                recall[k] += double(in) / double(lTied + 1);
                dcg[k] += g / double(lTied + 1);
            }
        }
        CHECK_NEAR(r.gauc, aucSum / double(tests.size()), 1e-12, ctx);
        // First relevant item: best tie group holding test items.
        const std::size_t a = *std::min_element(listAbove.begin(), listAbove.end());
        std::size_t t = 0, T = 0;
        for (std::size_t j = 0; j < tests.size(); ++j) {
            if (listAbove[j] == a) {
                ++t;
                T = groupSize[j];
            }
        }
        // P(first offset >= q) = C(T - q + 1, t) / C(T, t).
        const auto atLeast = [&](std::size_t q) {
            return std::exp(logChoose(double(T - q + 1), double(t)) -
                            logChoose(double(T), double(t)));
        };
        double mrr = 0;
        for (std::size_t q = 1; q <= T - t + 1; ++q)
            mrr += (atLeast(q) - atLeast(q + 1)) / double(a + q);
        CHECK_NEAR(r.mrr, mrr, 1e-9, ctx);
        for (std::size_t k = 0; k < cutoffs.size(); ++k) {
            const std::size_t cut = std::size_t(cutoffs[k]);
            double idcg = 0;
            for (std::size_t p = 1; p <= std::min(cut, tests.size()); ++p)
                idcg += disc(int(p));
            CHECK_NEAR(r.recallAt[k], recall[k] / double(tests.size()), 1e-12, ctx);
            CHECK_NEAR(r.ndcgAt[k], dcg[k] / idcg, 1e-12, ctx);
            // HR@K = 1 - P(none of the t relevant among the K - a slots of the group).
            double hr = 0;
            if (cut > a) {
                const std::size_t slots = cut - a;
                hr = slots >= T - t + 1 ? 1.0
                                        : 1.0 - std::exp(logChoose(double(T - t), double(slots)) -
                                                         logChoose(double(T), double(slots)));
            }
            CHECK_NEAR(r.hitAt[k], hr, 1e-9, ctx);
        }
    }
}

QTEST_APPLESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
