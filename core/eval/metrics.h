#pragma once
// Ranking metrics (SPEC 6), pure and exact: no Torch, no I/O. The evaluator computes one row of
// scores for a user over all items and calls rankUser(); segment reports aggregate the results
// with MetricAccumulator.
//
// Definitions. For a user u with test items P (the relevant items), masked items X (the user's
// train and validation positives; they are neither negatives nor ranked competitors) and the
// catalog I:
//   negatives  N = I \ (P u X)   items the user has no known positive with
//   list       L = I \ X         the ranked list: negatives and all test items
// Ties. Items with equal scores are ordered uniformly at random, and every metric is its exact
// expectation over that order. A tied pair therefore counts one half for AUC, and an item that
// has `above` competitors with a higher score and `tied` with the same score sits at a position
// uniform on [above + 1, above + tied + 1] (mean above + 1 + tied / 2).
// NaN scores count as -infinity (below every finite score, tied with -inf and each other).
//
// Per test interaction (u, i), i in P, ranked against N only (the other test items of u are not
// negatives and take no position):
//   auc            = (#{n in N: s_n < s_i} + #{n in N: s_n == s_i} / 2) / |N|, NaN if N is empty
//   rank           = 1 + #{n in N: s_n > s_i} + #{n in N: s_n == s_i} / 2  (expected position)
//   reciprocalRank = E[1 / position]  (1 / rank without ties)
//   hitAt[k]       = P(position <= K)  (leave-one-out HR@K of this interaction)
//   ndcgAt[k]      = E[1{position <= K} / log2(1 + position)]
// Per user, over a set S of the user's test items (all of P, or those in a segment), with
// positions in L (every test item of u, relevant in S or not, takes a position in the list):
//   Recall@K = E|top-K n S| / |S|
//   NDCG@K   = E[sum over j in S with pos_j <= K of 1 / log2(1 + pos_j)] / IDCG@K, binary
//              relevance, IDCG@K = sum_{p=1}^{min(K, |S|)} 1 / log2(1 + p)
//   HR@K     = P(some item of S is in the top K)
//   MRR      = E[1 / position of the first item of S in the list]  (one value per user)
//   GAUC_u   = mean of auc over the items of S with a defined auc
// Aggregates (MetricAccumulator): AUC = mean of auc over test interactions; GAUC = mean over
// users of GAUC_u; Recall@K, NDCG@K, HR@K, MRR = means over users. For a segment, interaction
// metrics average over the segment's test interactions, and user metrics over the users with at
// least one test interaction in the segment, each computed with S = that user's test items in
// the segment (userMetrics(ranking, subset)) in the same full list.
//
// Cost: rankUser makes one vectorized pass over the scores per distinct test score (up to 16 of
// them; else one pass with a binary search into the test scores, O(n log d)), never a sort of the
// catalog, plus O(|X| log |X| + |P| log |P|): about 0.2 ms per user and test item for 1M items.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace sllmr {

struct RankingOptions
{
    std::vector<int> ks = {10, 20};  // cut-offs, each >= 1
};

struct InteractionRanking
{
    std::uint32_t item = 0;
    std::size_t negatives = 0;       // |N|
    std::size_t negativesAbove = 0;  // negatives scored higher than the item
    std::size_t negativesTied = 0;   // negatives scored equal
    std::size_t listAbove = 0;       // items of L (negatives and other test items) scored higher
    std::size_t listTied = 0;        // items of L other than the item scored equal
    double auc = std::numeric_limits<double>::quiet_NaN();
    double rank = 1;
    double reciprocalRank = 1;
    std::vector<double> hitAt;   // by RankingOptions::ks
    std::vector<double> ndcgAt;  // by RankingOptions::ks
};

struct UserMetrics
{
    std::size_t testItems = 0;  // |S|; 0 leaves every value NaN
    double gauc = std::numeric_limits<double>::quiet_NaN();
    double mrr = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> recallAt;  // by RankingOptions::ks
    std::vector<double> ndcgAt;
    std::vector<double> hitAt;
};

// User metrics over all of the user's test items, plus the per-item results (sorted by item).
struct UserRanking : UserMetrics
{
    std::vector<InteractionRanking> perItem;
};

// Ranks one user's test items in full ranking. `scores` has one score per item; `testItems` are
// the user's test positives (duplicates ignored); `excludedItems` are masked (duplicates ignored;
// an item that is also a test item stays a test item). Throws Error(Usage) for an item index out
// of range or a cut-off below 1. An empty `testItems` gives an empty result (NaN metrics).
UserRanking rankUser(std::span<const float> scores, std::span<const std::uint32_t> testItems,
                     std::span<const std::uint32_t> excludedItems,
                     const RankingOptions& options = {});

// User metrics over a subset S of one user's rankUser() results (e.g. the test items in a
// segment): `perItem` from one rankUser() call, `subset` indices into it (duplicates ignored).
// The list stays the full list: test items outside S still take positions.
UserMetrics userMetrics(std::span<const InteractionRanking> perItem, const RankingOptions& options);
UserMetrics userMetrics(std::span<const InteractionRanking> perItem,
                        std::span<const std::size_t> subset, const RankingOptions& options);

// AUC of positive against negative scores over all pairs, ties counting one half: the fraction of
// (p, n) pairs with p > n, plus half of those with p == n. NaN counts as -infinity. NaN when
// either side is empty. O((|pos| + |neg|) log |neg|).
double pairwiseAuc(std::span<const float> posScores, std::span<const float> negScores);

// A running mean. NaN values are counted apart (undefined()) and left out of the mean.
class Mean
{
public:
    void add(double value);
    void merge(const Mean& other);
    std::size_t count() const noexcept { return m_count; }  // defined values added
    std::size_t undefined() const noexcept { return m_undefined; }
    double sum() const noexcept { return m_sum + m_compensation; }
    double mean() const noexcept;  // NaN when count() == 0

private:
    double m_sum = 0;
    double m_compensation = 0;  // Neumaier summation: exact enough for millions of values
    std::size_t m_count = 0;
    std::size_t m_undefined = 0;
};

// The metrics of one segment (see the definitions above). Feed every test interaction of the
// segment to addInteraction() and, for every user with at least one of them, the user's metrics
// on those interactions to addUser().
class MetricAccumulator
{
public:
    explicit MetricAccumulator(RankingOptions options = {});

    void addInteraction(const InteractionRanking& interaction);
    void addUser(const UserMetrics& user);       // ignored when user.testItems == 0
    void merge(const MetricAccumulator& other);  // same ks required (Error(Usage) otherwise)

    const RankingOptions& options() const noexcept { return m_options; }
    std::size_t interactions() const noexcept { return m_interactions; }
    std::size_t users() const noexcept { return m_users; }

    // Interaction level.
    const Mean& auc() const noexcept { return m_auc; }
    const Mean& rank() const noexcept { return m_rank; }
    // User level.
    const Mean& gauc() const noexcept { return m_gauc; }
    const Mean& mrr() const noexcept { return m_mrr; }
    const Mean& recallAt(std::size_t k) const { return m_recall.at(k); }  // index into ks
    const Mean& ndcgAt(std::size_t k) const { return m_ndcg.at(k); }
    const Mean& hitAt(std::size_t k) const { return m_hit.at(k); }

    struct Value
    {
        std::string name;   // "auc", "mean_rank", "gauc", "mrr", "recall@K", "ndcg@K", "hr@K"
        std::string level;  // "interaction" or "user"
        double mean = 0;    // NaN when count == 0
        std::size_t count = 0;
    };
    std::vector<Value> values() const;

private:
    RankingOptions m_options;
    std::size_t m_interactions = 0;
    std::size_t m_users = 0;
    Mean m_auc, m_rank, m_gauc, m_mrr;
    std::vector<Mean> m_recall, m_ndcg, m_hit;
};

}  // namespace sllmr
