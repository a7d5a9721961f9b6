#include "eval/evaluator.h"

#include "common/error.h"
#include "common/seed.h"
#include "eval/llm_quality.h"
#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace sllmr {
namespace {

// Per segment: interaction-level values are averaged over test interactions, user-level values
// over users with at least one test interaction in the segment (see eval/metrics.h).
struct SegmentSums
{
    std::map<std::string, Mean> values;  // metric -> running mean
};

// Test items and the seen (train + validation) items of every user.
struct UserItems
{
    std::vector<std::vector<std::uint32_t>> test;
    std::vector<std::vector<std::uint32_t>> seen;

    explicit UserItems(const Dataset& ds) : test(ds.numUsers()), seen(ds.numUsers())
    {
        for (const auto& r : ds.test)
            test[r.user].push_back(r.item);
        for (const auto* part : {&ds.train, &ds.validation})
            for (const auto& r : *part)
                seen[r.user].push_back(r.item);
    }
};

// Users with test items, or a seeded share of them (sorted).
std::vector<std::uint32_t> evaluatedUsers(const UserItems& lists, const EvalSpec& spec,
                                          std::mt19937_64& rng)
{
    std::vector<std::uint32_t> users;
    for (std::uint32_t u = 0; u < lists.test.size(); ++u)
        if (!lists.test[u].empty())
            users.push_back(u);
    if (spec.userShare < 1.0) {
        const auto keep =
            static_cast<std::size_t>(std::ceil(spec.userShare * static_cast<double>(users.size())));
        for (std::size_t k = 0; k < keep && k < users.size(); ++k)
            std::swap(users[k], users[k + rng() % (users.size() - k)]);
        users.resize(std::min(keep, users.size()));
        std::sort(users.begin(), users.end());
    }
    return users;
}

std::string protocolText(const EvalSpec& spec, bool sampled, std::size_t users,
                         std::size_t allUsers)
{
    std::string text = sampled
                           ? "sampled ranking: each test interaction against " +
                                 std::to_string(spec.negatives) + " seeded random negatives"
                           : "full ranking: each test interaction against all the user's negatives";
    text += users == allUsers ? ", all " + std::to_string(allUsers) + " test users"
                              : ", seeded sample of " + std::to_string(users) + " of " +
                                    std::to_string(allUsers) + " test users";
    return text;
}

// One user's test items: AUC and rank each, and (full ranking) the ranking of all candidates.
struct UserScores
{
    std::vector<double> auc;
    std::vector<double> rank;
    std::vector<std::size_t> perItemIndex;  // full ranking: into ranking.perItem
    UserRanking ranking;
};

UserScores fullRanking(const float* scores, std::uint32_t numItems,
                       const std::vector<std::uint32_t>& tests,
                       const std::vector<std::uint32_t>& seen, const RankingOptions& options)
{
    UserScores out;
    out.auc.resize(tests.size());
    out.rank.resize(tests.size());
    out.perItemIndex.resize(tests.size());
    out.ranking = rankUser(std::span<const float>(scores, numItems), tests, seen, options);
    for (std::size_t t = 0; t < tests.size(); ++t) {
        const auto it = std::lower_bound(
            out.ranking.perItem.begin(), out.ranking.perItem.end(), tests[t],
            [](const InteractionRanking& r, std::uint32_t item) { return r.item < item; });
        out.auc[t] = it->auc;
        out.perItemIndex[t] = static_cast<std::size_t>(it - out.ranking.perItem.begin());
        out.rank[t] = it->rank;
    }
    return out;
}

// Sampled: each test item against `negatives` seeded items that are not known positives. Appends
// the user's rows (each test item, then its negatives) to `users` and `items`.
void sampleCandidates(std::uint32_t u, const std::vector<std::uint32_t>& tests,
                      std::size_t seenCount, const std::vector<std::uint8_t>& known,
                      std::uint32_t numItems, const EvalSpec& spec, std::mt19937_64& rng,
                      std::vector<std::int64_t>& users, std::vector<std::int64_t>& items)
{
    const bool possible = seenCount + tests.size() < numItems;
    for (auto i : tests) {
        users.push_back(u);
        items.push_back(i);
        for (int k = 0; k < spec.negatives; ++k) {
            std::uint32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<std::uint32_t>(rng() % numItems);
                if (!possible || !known[j])
                    break;
            }
            users.push_back(u);
            items.push_back(j);
        }
    }
}

// The scores of `users` x `items` rows, in passes of a bounded number of rows.
std::vector<float> scoreRows(const BackboneImpl::RowScorer& score,
                             const std::vector<std::int64_t>& users,
                             const std::vector<std::int64_t>& items)
{
    constexpr auto kRowsPerPass = BackboneImpl::kRowsPerScorePass;
    std::vector<float> out(users.size());
    for (std::size_t r0 = 0; r0 < users.size(); r0 += kRowsPerPass) {
        const auto n = static_cast<std::int64_t>(std::min(kRowsPerPass, users.size() - r0));
        const auto at = static_cast<std::ptrdiff_t>(r0);
        // Views of the slices: the scorer only reads them.
        const auto u =
            torch::from_blob(const_cast<std::int64_t*>(users.data()) + at, {n}, torch::kLong);
        const auto i =
            torch::from_blob(const_cast<std::int64_t*>(items.data()) + at, {n}, torch::kLong);
        const auto s = score(u, i).contiguous();
        std::copy_n(s.data_ptr<float>(), n, out.begin() + at);
    }
    return out;
}

// One user's sampled lists from their scores: per test item, the item's score then its negatives'.
UserScores sampledRanking(const float* p, std::size_t tests, int negatives)
{
    UserScores out;
    out.auc.resize(tests);
    out.rank.resize(tests);
    const auto per = static_cast<std::size_t>(1 + negatives);
    for (std::size_t t = 0; t < tests; ++t) {
        const float x = p[t * per];
        double below = 0, above = 0, equal = 0;
        for (std::size_t k = 1; k < per; ++k) {
            const float y = p[t * per + k];
            below += y < x;
            above += y > x;
            equal += y == x;
        }
        out.auc[t] = (below + 0.5 * equal) / static_cast<double>(per - 1);
        out.rank[t] = 1.0 + above + 0.5 * equal;
    }
    return out;
}

// Sampled protocol: each test interaction `in` is its own list of 1 + negatives items.
UserMetrics sampledUserMetrics(const UserScores& sc, const std::vector<std::size_t>& in,
                               const std::vector<int>& ks)
{
    std::vector<InteractionRanking> own;
    for (auto t : in) {
        InteractionRanking r;
        r.auc = sc.auc[t];
        r.rank = sc.rank[t];
        r.reciprocalRank = 1.0 / sc.rank[t];
        for (int k : ks) {
            const bool hit = sc.rank[t] <= k;
            r.hitAt.push_back(hit ? 1.0 : 0.0);
            r.ndcgAt.push_back(hit ? 1.0 / std::log2(sc.rank[t] + 1.0) : 0.0);
        }
        own.push_back(r);
    }
    UserMetrics um;
    um.testItems = own.size();
    double gauc = 0, mrr = 0;
    um.recallAt.assign(ks.size(), 0.0);
    um.ndcgAt.assign(ks.size(), 0.0);
    um.hitAt.assign(ks.size(), 0.0);
    for (const auto& r : own) {
        gauc += r.auc;
        mrr = std::max(mrr, r.reciprocalRank);
        for (std::size_t k = 0; k < ks.size(); ++k) {
            um.recallAt[k] += r.hitAt[k] / static_cast<double>(own.size());
            um.ndcgAt[k] += r.ndcgAt[k] / static_cast<double>(own.size());
            um.hitAt[k] = std::max(um.hitAt[k], r.hitAt[k]);
        }
    }
    um.gauc = gauc / static_cast<double>(own.size());
    um.mrr = mrr;
    return um;
}

// Adds one user's test interactions to the sums of every segment that holds them.
void addUserToSegments(std::uint32_t u, const std::vector<std::uint32_t>& tests,
                       const UserScores& sc, const std::vector<double>& llmAuc, bool sampled,
                       const Dataset& ds, const Segmentation& segmentation,
                       const RankingOptions& options, std::map<std::string, SegmentSums>& sums)
{
    const auto& ks = options.ks;
    for (const auto& seg : segmentation.segments) {
        std::vector<std::size_t> in;
        for (std::size_t t = 0; t < tests.size(); ++t)
            if (seg.contains(u, tests[t]))
                in.push_back(t);
        if (in.empty())
            continue;
        auto& m = sums[seg.name].values;
        for (auto t : in) {
            m["auc"].add(sc.auc[t]);
            m["llm_auc"].add(llmAuc[t]);  // NaN (no LLM score) is left out of the mean
            m["llm_coverage"].add(std::isnan(llmAuc[t]) ? 0.0 : 1.0);
            m["unseen_items"].add(ds.popularity[tests[t]] == 0 ? 1.0 : 0.0);
        }
        UserMetrics um;
        if (!sampled) {
            std::vector<std::size_t> subset;
            for (auto t : in)
                subset.push_back(sc.perItemIndex[t]);
            um = userMetrics(sc.ranking.perItem, subset, options);
        } else {
            um = sampledUserMetrics(sc, in, ks);
        }
        m["gauc"].add(um.gauc);
        m["mrr"].add(um.mrr);
        for (std::size_t k = 0; k < ks.size(); ++k) {
            const auto K = std::to_string(ks[k]);
            m["recall@" + K].add(um.recallAt[k]);
            m["ndcg@" + K].add(um.ndcgAt[k]);
            m["hr@" + K].add(um.hitAt[k]);
        }
        m["users"].add(1.0);
    }
}

// Means (sums for counts) per segment, and each segment's number of evaluated interactions.
void finishSegments(const std::map<std::string, SegmentSums>& sums,
                    const Segmentation& segmentation, Evaluation& ev)
{
    for (const auto& seg : segmentation.segments) {
        auto& out = ev.metrics[seg.name];
        const auto it = sums.find(seg.name);
        std::int64_t size = 0;
        if (it != sums.end()) {
            for (const auto& [metric, acc] : it->second.values) {
                if (metric == "users" || metric == "unseen_items")
                    out[metric] = acc.sum();
                else
                    out[metric] = acc.mean();
            }
            size = it->second.values.count("auc")
                       ? static_cast<std::int64_t>(it->second.values.at("auc").count())
                       : 0;
        }
        ev.sizes[seg.name] = size;
    }
}

// Marks a user's known positives (and test items) in item-indexed flags, and clears them again.
void markUser(const std::vector<std::uint32_t>& seen, const std::vector<std::uint32_t>& tests,
              std::vector<std::uint8_t>& known, std::vector<std::uint8_t>& isTest, bool on)
{
    const std::uint8_t v = on ? 1 : 0;
    for (auto i : seen)
        known[i] = v;
    for (auto i : tests) {
        known[i] = v;
        isTest[i] = v;
    }
}

}  // namespace

Evaluation evaluate(BackboneImpl& model, const Dataset& ds, const Segmentation& segmentation,
                    const ScoreSet* scores, const EvalSpec& spec, std::uint64_t seed,
                    const std::atomic<bool>* cancel)
{
    torch::NoGradGuard noGrad;
    model.eval();
    Evaluation ev;
    const auto numItems = ds.numItems();
    const bool sampled = spec.mode == "sampled";
    const UserItems lists(ds);
    std::mt19937_64 rng(mixSeed(seed, 0x55));
    const auto users = evaluatedUsers(lists, spec, rng);
    const auto allUsers = static_cast<std::size_t>(std::count_if(
        lists.test.begin(), lists.test.end(), [](const auto& t) { return !t.empty(); }));
    ev.protocol = protocolText(spec, sampled, users.size(), allUsers);

    std::map<std::string, SegmentSums> sums;
    std::vector<std::uint8_t> known(numItems, 0);
    std::vector<std::uint8_t> isTest(numItems, 0);
    RankingOptions options;
    options.ks = spec.ks;
    const auto score = sampled ? model.rowScorer() : BackboneImpl::RowScorer();
    constexpr std::size_t kChunk = 128;  // users scored together
    for (std::size_t c0 = 0; c0 < users.size(); c0 += kChunk) {
        if (cancel && cancel->load(std::memory_order_relaxed))
            throw Error(ErrorKind::Cancelled, "evaluation cancelled");
        const auto c1 = std::min(users.size(), c0 + kChunk);
        std::vector<std::int64_t> batch(users.begin() + static_cast<std::ptrdiff_t>(c0),
                                        users.begin() + static_cast<std::ptrdiff_t>(c1));
        torch::Tensor all;
        std::vector<float> rowScores;       // sampled: the chunk's rows, user after user
        std::vector<std::size_t> firstRow;  // sampled: each user's first row
        if (sampled) {
            // The candidates of every user of the chunk (the seeded draws in user order), then
            // one scoring of all their rows.
            std::vector<std::int64_t> rowUsers, rowItems;
            for (const auto user : batch) {
                const auto u = static_cast<std::uint32_t>(user);
                markUser(lists.seen[u], lists.test[u], known, isTest, true);
                firstRow.push_back(rowUsers.size());
                sampleCandidates(u, lists.test[u], lists.seen[u].size(), known, numItems, spec, rng,
                                 rowUsers, rowItems);
                markUser(lists.seen[u], lists.test[u], known, isTest, false);
            }
            rowScores = scoreRows(score, rowUsers, rowItems);
        } else {
            all = model.scoreAll(torch::tensor(batch, torch::kLong)).contiguous();
        }
        for (std::size_t b = 0; b < batch.size(); ++b) {
            const auto u = static_cast<std::uint32_t>(batch[b]);
            const auto& tests = lists.test[u];
            markUser(lists.seen[u], tests, known, isTest, true);
            const UserScores sc =
                sampled
                    ? sampledRanking(rowScores.data() + firstRow[b], tests.size(), spec.negatives)
                    : fullRanking(all[static_cast<std::int64_t>(b)].data_ptr<float>(), numItems,
                                  tests, lists.seen[u], options);
            // LLM alone: r of the test item against r of the user's scored negatives.
            std::vector<double> llmAuc(tests.size(), std::nan(""));
            if (scores)
                llmAuc = llmAucForUser(*scores, u, tests, known, isTest);
            for (std::size_t t = 0; t < tests.size(); ++t) {
                ev.perInteraction.push_back({u, tests[t], "auc", sc.auc[t]});
                ev.unseenItems += ds.popularity[tests[t]] == 0;
            }
            addUserToSegments(u, tests, sc, llmAuc, sampled, ds, segmentation, options, sums);
            markUser(lists.seen[u], tests, known, isTest, false);
        }
    }
    finishSegments(sums, segmentation, ev);
    model.train();
    return ev;
}

nlohmann::json evaluationJson(const Evaluation& ev)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [seg, metrics] : ev.metrics) {
        nlohmann::json m = nlohmann::json::object();
        for (const auto& [k, v] : metrics)
            m[k] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
        m["size"] = ev.sizes.at(seg);
        j[seg] = m;
    }
    return j;
}

}  // namespace sllmr
