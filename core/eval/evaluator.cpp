#include "eval/evaluator.h"

#include "common/error.h"
#include "eval/llm_quality.h"
#include "eval/metrics.h"
#include "train/trainer.h"

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

    // Test items and known positives per user.
    std::vector<std::vector<std::uint32_t>> testItems(ds.numUsers());
    for (const auto& r : ds.test)
        testItems[r.user].push_back(r.item);
    std::vector<std::vector<std::uint32_t>> seenItems(ds.numUsers());  // train + validation
    for (const auto* part : {&ds.train, &ds.validation})
        for (const auto& r : *part)
            seenItems[r.user].push_back(r.item);
    std::vector<std::uint32_t> users;
    for (std::uint32_t u = 0; u < ds.numUsers(); ++u)
        if (!testItems[u].empty())
            users.push_back(u);
    const auto allUsers = users.size();
    std::mt19937_64 rng(mixSeed(seed, 0x55));
    if (spec.userShare < 1.0) {
        const auto keep =
            static_cast<std::size_t>(std::ceil(spec.userShare * static_cast<double>(users.size())));
        for (std::size_t k = 0; k < keep && k < users.size(); ++k)
            std::swap(users[k], users[k + rng() % (users.size() - k)]);
        users.resize(std::min(keep, users.size()));
        std::sort(users.begin(), users.end());
    }
    ev.protocol = sampled ? "sampled ranking: each test interaction against " +
                                std::to_string(spec.negatives) + " seeded random negatives"
                          : "full ranking: each test interaction against all the user's negatives";
    ev.protocol += users.size() == allUsers ? ", all " + std::to_string(allUsers) + " test users"
                                            : ", seeded sample of " + std::to_string(users.size()) +
                                                  " of " + std::to_string(allUsers) + " test users";

    std::map<std::string, SegmentSums> sums;
    std::vector<std::uint8_t> known(numItems, 0);
    std::vector<std::uint8_t> isTest(numItems, 0);
    RankingOptions options;
    options.ks = spec.ks;

    const std::int64_t chunk = 128;
    for (std::size_t c0 = 0; c0 < users.size(); c0 += chunk) {
        if (cancel && cancel->load(std::memory_order_relaxed))
            throw Error(ErrorKind::Cancelled, "evaluation cancelled");
        const auto c1 = std::min(users.size(), c0 + static_cast<std::size_t>(chunk));
        std::vector<std::int64_t> batch(users.begin() + static_cast<std::ptrdiff_t>(c0),
                                        users.begin() + static_cast<std::ptrdiff_t>(c1));
        torch::Tensor all;
        if (!sampled)
            all = model.scoreAll(torch::tensor(batch, torch::kLong)).contiguous();
        for (std::size_t b = 0; b < batch.size(); ++b) {
            const auto u = static_cast<std::uint32_t>(batch[b]);
            const auto& tests = testItems[u];
            for (auto i : seenItems[u])
                known[i] = 1;
            for (auto i : tests) {
                known[i] = 1;
                isTest[i] = 1;
            }
            // Per test item: AUC against the user's negatives and position in the ranked list.
            std::vector<double> auc(tests.size()), rank(tests.size());
            std::vector<std::size_t> perItemIndex(tests.size());  // full mode: into ranking.perItem
            UserRanking ranking;
            if (!sampled) {
                const float* s = all[static_cast<std::int64_t>(b)].data_ptr<float>();
                ranking =
                    rankUser(std::span<const float>(s, numItems), tests, seenItems[u], options);
                for (std::size_t t = 0; t < tests.size(); ++t) {
                    const auto it =
                        std::lower_bound(ranking.perItem.begin(), ranking.perItem.end(), tests[t],
                                         [](const InteractionRanking& r, std::uint32_t item) {
                                             return r.item < item;
                                         });
                    auc[t] = it->auc;
                    perItemIndex[t] = static_cast<std::size_t>(it - ranking.perItem.begin());
                    rank[t] = it->rank;
                }
            } else {
                // Sampled: per test item, `negatives` seeded negatives.
                std::vector<std::int64_t> us, is;
                const bool possible = seenItems[u].size() + tests.size() < numItems;
                for (auto i : tests) {
                    us.push_back(u);
                    is.push_back(i);
                    for (int k = 0; k < spec.negatives; ++k) {
                        std::uint32_t j = 0;
                        for (int tries = 0; tries < 1000; ++tries) {
                            j = static_cast<std::uint32_t>(rng() % numItems);
                            if (!possible || !known[j])
                                break;
                        }
                        us.push_back(u);
                        is.push_back(j);
                    }
                }
                const auto per = static_cast<std::int64_t>(1 + spec.negatives);
                const auto s =
                    model.forward(torch::tensor(us, torch::kLong), torch::tensor(is, torch::kLong))
                        .view({static_cast<std::int64_t>(tests.size()), per})
                        .contiguous();
                const float* p = s.data_ptr<float>();
                for (std::size_t t = 0; t < tests.size(); ++t) {
                    const float x = p[t * static_cast<std::size_t>(per)];
                    double below = 0, above = 0, equal = 0;
                    for (std::int64_t k = 1; k < per; ++k) {
                        const float y =
                            p[t * static_cast<std::size_t>(per) + static_cast<std::size_t>(k)];
                        below += y < x;
                        above += y > x;
                        equal += y == x;
                    }
                    auc[t] = (below + 0.5 * equal) / static_cast<double>(per - 1);
                    rank[t] = 1.0 + above + 0.5 * equal;
                }
            }
            // LLM alone: r of the test item against r of the user's scored negatives.
            std::vector<double> llmAuc(tests.size(), std::nan(""));
            if (scores)
                llmAuc = llmAucForUser(*scores, u, tests, known, isTest);

            for (std::size_t t = 0; t < tests.size(); ++t) {
                ev.perInteraction.push_back({u, tests[t], "auc", auc[t]});
                ev.unseenItems += ds.popularity[tests[t]] == 0;
            }
            for (const auto& seg : segmentation.segments) {
                std::vector<std::size_t> in;
                for (std::size_t t = 0; t < tests.size(); ++t)
                    if (seg.contains(u, tests[t]))
                        in.push_back(t);
                if (in.empty())
                    continue;
                auto& m = sums[seg.name].values;
                for (auto t : in) {
                    m["auc"].add(auc[t]);
                    m["llm_auc"].add(llmAuc[t]);  // NaN (no LLM score) is left out of the mean
                    m["llm_coverage"].add(std::isnan(llmAuc[t]) ? 0.0 : 1.0);
                    m["unseen_items"].add(ds.popularity[tests[t]] == 0 ? 1.0 : 0.0);
                }
                UserMetrics um;
                if (!sampled) {
                    std::vector<std::size_t> subset;
                    for (auto t : in)
                        subset.push_back(perItemIndex[t]);
                    um = userMetrics(ranking.perItem, subset, options);
                } else {
                    // Each test interaction is its own list of 1 + negatives items.
                    std::vector<InteractionRanking> own;
                    for (auto t : in) {
                        InteractionRanking r;
                        r.auc = auc[t];
                        r.rank = rank[t];
                        r.reciprocalRank = 1.0 / rank[t];
                        for (int k : spec.ks) {
                            const bool hit = rank[t] <= k;
                            r.hitAt.push_back(hit ? 1.0 : 0.0);
                            r.ndcgAt.push_back(hit ? 1.0 / std::log2(rank[t] + 1.0) : 0.0);
                        }
                        own.push_back(r);
                    }
                    um.testItems = own.size();
                    double gauc = 0, mrr = 0;
                    um.recallAt.assign(spec.ks.size(), 0.0);
                    um.ndcgAt.assign(spec.ks.size(), 0.0);
                    um.hitAt.assign(spec.ks.size(), 0.0);
                    for (const auto& r : own) {
                        gauc += r.auc;
                        mrr = std::max(mrr, r.reciprocalRank);
                        for (std::size_t k = 0; k < spec.ks.size(); ++k) {
                            um.recallAt[k] += r.hitAt[k] / static_cast<double>(own.size());
                            um.ndcgAt[k] += r.ndcgAt[k] / static_cast<double>(own.size());
                            um.hitAt[k] = std::max(um.hitAt[k], r.hitAt[k]);
                        }
                    }
                    um.gauc = gauc / static_cast<double>(own.size());
                    um.mrr = mrr;
                }
                m["gauc"].add(um.gauc);
                m["mrr"].add(um.mrr);
                for (std::size_t k = 0; k < spec.ks.size(); ++k) {
                    const auto K = std::to_string(spec.ks[k]);
                    m["recall@" + K].add(um.recallAt[k]);
                    m["ndcg@" + K].add(um.ndcgAt[k]);
                    m["hr@" + K].add(um.hitAt[k]);
                }
                m["users"].add(1.0);
            }
            for (auto i : seenItems[u])
                known[i] = 0;
            for (auto i : tests) {
                known[i] = 0;
                isTest[i] = 0;
            }
        }
    }
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
