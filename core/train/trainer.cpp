#include "train/trainer.h"

#include "common/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace sllmr {
namespace {

using Clock = std::chrono::steady_clock;

torch::Tensor indexTensor(const std::vector<std::uint32_t>& v)
{
    auto t = torch::empty({static_cast<std::int64_t>(v.size())}, torch::kLong);
    auto* p = t.data_ptr<std::int64_t>();
    for (std::size_t k = 0; k < v.size(); ++k)
        p[k] = v[k];
    return t;
}

torch::Tensor floatTensor(const std::vector<float>& v)
{
    return torch::from_blob(const_cast<float*>(v.data()), {static_cast<std::int64_t>(v.size())},
                            torch::kFloat)
        .clone();
}

// Sorted item lists per user (CSR) from interaction parts.
void buildCsr(std::uint32_t users, std::initializer_list<const std::vector<Interaction>*> parts,
              std::vector<std::uint32_t>& offsets, std::vector<std::uint32_t>& items)
{
    offsets.assign(users + 1, 0);
    for (const auto* part : parts)
        for (const auto& r : *part)
            ++offsets[r.user + 1];
    for (std::uint32_t u = 0; u < users; ++u)
        offsets[u + 1] += offsets[u];
    items.assign(offsets.back(), 0);
    std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (const auto* part : parts)
        for (const auto& r : *part)
            items[fill[r.user]++] = r.item;
    for (std::uint32_t u = 0; u < users; ++u)
        std::sort(items.begin() + offsets[u], items.begin() + offsets[u + 1]);
}

bool inCsr(const std::vector<std::uint32_t>& offsets, const std::vector<std::uint32_t>& items,
           std::uint32_t user, std::uint32_t item)
{
    return std::binary_search(items.begin() + offsets[user], items.begin() + offsets[user + 1],
                              item);
}

}  // namespace

std::uint64_t mixSeed(std::uint64_t seed, std::uint64_t a, std::uint64_t b)
{
    std::uint64_t z = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

Trainer::Trainer(const RunConfig& config, const Dataset& dataset, const Segmentation& segmentation,
                 const ScoreSet* scores)
    : m_config(config), m_dataset(dataset), m_segmentation(segmentation), m_scores(scores)
{
    if (config.method.name != "none" && !scores)
        throw Error(ErrorKind::Usage, "method '" + config.method.name + "' needs LLM scores");
    const auto users = dataset.numUsers();
    const auto items = dataset.numItems();

    torch::manual_seed(mixSeed(config.seed, 0x11));
    BackboneContext ctx;
    ctx.numUsers = users;
    ctx.numItems = items;
    ctx.itemInfo = &dataset.itemInfo;
    ctx.train = &dataset.train;
    m_model = makeBackbone(config.model, ctx);
    m_gate = Gate(config.gate);

    m_sparse = std::make_unique<LazyAdam>(m_model->sparseParameters(), config.train.learningRate);
    auto dense = m_model->denseParameters();
    if (!dense.empty())
        m_dense = std::make_unique<torch::optim::Adam>(
            dense, torch::optim::AdamOptions(config.train.learningRate));
    m_gateOptimizer = std::make_unique<torch::optim::Adam>(
        m_gate->parameters(), torch::optim::AdamOptions(config.gate.learningRate));

    buildCsr(users, {&dataset.train}, m_trainOffsets, m_trainItems);
    buildCsr(users, {&dataset.train, &dataset.validation, &dataset.test}, m_knownOffsets,
             m_knownItems);
    if (config.gate.supervision == "validation")
        buildCsr(users, {&dataset.validation}, m_supervisionOffsets, m_supervisionItems);
    else
        buildCsr(users, {&dataset.train}, m_supervisionOffsets, m_supervisionItems);

    const double tauU = config.gate.tauUser.value_or(segmentation.tauUser);
    const double tauI = config.gate.tauItem.value_or(segmentation.tauItem);
    m_cold.resize(users);
    for (std::uint32_t u = 0; u < users; ++u)
        m_cold[u] = dataset.historyLength[u] < tauU ? 1.0f : 0.0f;
    m_tail.resize(items);
    for (std::uint32_t i = 0; i < items; ++i)
        m_tail[i] = dataset.popularity[i] < tauI ? 1.0f : 0.0f;

    m_histBin.assign(users, -1);
    m_popBin.assign(items, -1);
    for (const auto& s : segmentation.segments) {
        if (s.name.rfind("hist_", 0) == 0) {
            for (std::uint32_t u = 0; u < users; ++u)
                if (s.members[u])
                    m_histBin[u] = static_cast<int>(m_histSegments.size());
            m_histSegments.push_back(&s);
        } else if (s.name.rfind("pop_", 0) == 0) {
            for (std::uint32_t i = 0; i < items; ++i)
                if (s.members[i])
                    m_popBin[i] = static_cast<int>(m_popSegments.size());
            m_popSegments.push_back(&s);
        }
    }

    // Validation candidates: fixed for the run so epochs are comparable.
    m_valNegatives = config.eval.validationNegatives;
    std::mt19937_64 rng(mixSeed(config.seed, 0x22));
    for (const auto& r : dataset.validation) {
        m_valUsers.push_back(r.user);
        m_valItems.push_back(r.item);
        if (m_valNegatives == 0)
            continue;
        const auto known = m_knownOffsets[r.user + 1] - m_knownOffsets[r.user];
        const bool possible = known < items;
        for (int k = 0; k < m_valNegatives; ++k) {
            std::uint32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<std::uint32_t>(rng() % items);
                if (!possible || !inCsr(m_knownOffsets, m_knownItems, r.user, j))
                    break;
            }
            m_valItems.push_back(j);
        }
    }
    m_randomRate = config.gate.randomRate;
}

bool Trainer::isTrainPositive(std::uint32_t user, std::uint32_t item) const
{
    return inCsr(m_trainOffsets, m_trainItems, user, item);
}

bool Trainer::isKnownPositive(std::uint32_t user, std::uint32_t item) const
{
    return inCsr(m_knownOffsets, m_knownItems, user, item);
}

void Trainer::sampleNegatives(const std::vector<std::uint32_t>& posUsers, std::mt19937_64& rng,
                              std::vector<std::uint32_t>& negItems) const
{
    const auto items = m_dataset.numItems();
    const int k = m_config.train.negatives;
    negItems.clear();
    for (const auto u : posUsers) {
        const bool possible = m_trainOffsets[u + 1] - m_trainOffsets[u] < items;
        for (int n = 0; n < k; ++n) {
            std::uint32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<std::uint32_t>(rng() % items);
                if (!possible || !isTrainPositive(u, j))
                    break;
            }
            negItems.push_back(j);
        }
    }
}

bool Trainer::trainEpoch(int epoch, const TrainControl& control, EpochResult& result)
{
    const auto& cfg = m_config;
    const auto& method = cfg.method.name;
    const auto& mode = cfg.gate.mode;
    const bool hinge = method == "global" || method == "selective";
    const bool pointLike = method == "kd" || method == "pointwise";
    const bool gateLearns = hinge && (mode == "paper" || mode == "reliability");
    const int K = cfg.method.pairsPerUser;

    // Every random source of this epoch derives from (seed, epoch): resuming at an epoch
    // boundary reproduces the uninterrupted run.
    torch::manual_seed(mixSeed(cfg.seed, 0x33, static_cast<std::uint64_t>(epoch)));
    std::mt19937_64 rng(mixSeed(cfg.seed, 0x44, static_cast<std::uint64_t>(epoch)));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);

    m_model->train();
    result = EpochResult{};
    result.epoch = epoch;
    const auto start = Clock::now();
    auto lastReport = start;

    std::vector<std::uint32_t> order(m_dataset.train.size());
    std::iota(order.begin(), order.end(), 0u);
    for (std::size_t k = order.size(); k > 1; --k)
        std::swap(order[k - 1], order[rng() % k]);

    const std::int64_t batchSize = cfg.train.batchSize;
    const std::int64_t batches =
        (static_cast<std::int64_t>(order.size()) + batchSize - 1) / batchSize;
    double sumBase = 0, sumLlm = 0, sumGate = 0;
    std::int64_t samples = 0;

    std::vector<std::uint32_t> posUsers, posItems, negItems;
    std::vector<std::uint32_t> pairU, pairI, pairJ;
    std::vector<float> pairRi, pairRj;
    std::vector<std::uint32_t> pointU, pointI;
    std::vector<float> pointR;
    std::vector<std::uint32_t> distinct;
    std::vector<std::uint8_t> seenUser(m_dataset.numUsers(), 0);
    struct Candidate
    {
        std::uint32_t a, b;
        float diff;
    };
    std::vector<Candidate> cands;

    for (std::int64_t b = 0; b < batches; ++b) {
        if (control.cancel && control.cancel->load(std::memory_order_relaxed))
            return false;
        const auto lo = static_cast<std::size_t>(b * batchSize);
        const auto hi = std::min(order.size(), lo + static_cast<std::size_t>(batchSize));
        posUsers.clear();
        posItems.clear();
        distinct.clear();
        for (auto k = lo; k < hi; ++k) {
            const auto& r = m_dataset.train[order[k]];
            posUsers.push_back(r.user);
            posItems.push_back(r.item);
            if (!seenUser[r.user]) {
                seenUser[r.user] = 1;
                distinct.push_back(r.user);
            }
        }
        for (auto u : distinct)
            seenUser[u] = 0;
        sampleNegatives(posUsers, rng, negItems);

        // LLM pairs (user-consistent, budget K per user) or scored items for kd/pointwise.
        pairU.clear(), pairI.clear(), pairJ.clear(), pairRi.clear(), pairRj.clear();
        pointU.clear(), pointI.clear(), pointR.clear();
        if (m_scores && method != "none") {
            for (auto u : distinct) {
                const auto s0 = m_scores->offsets[u];
                const auto n = m_scores->offsets[u + 1] - s0;
                if (pointLike) {
                    if (n == 0)
                        continue;
                    const auto take = std::min<std::uint32_t>(n, static_cast<std::uint32_t>(2 * K));
                    for (std::uint32_t t = 0; t < take; ++t) {
                        const auto k = s0 + static_cast<std::uint32_t>(rng() % n);
                        pointU.push_back(u);
                        pointI.push_back(m_scores->items[k]);
                        pointR.push_back(m_scores->values[k]);
                    }
                    continue;
                }
                if (n < 2)
                    continue;
                cands.clear();
                const int draws = cfg.method.candidateFactor * K;
                for (int t = 0; t < draws; ++t) {
                    const auto a = s0 + static_cast<std::uint32_t>(rng() % n);
                    auto c = s0 + static_cast<std::uint32_t>(rng() % (n - 1));
                    if (c >= a)
                        ++c;
                    const float ra = m_scores->values[a];
                    const float rc = m_scores->values[c];
                    if (ra == rc)
                        continue;  // ties carry no order
                    cands.push_back(ra > rc ? Candidate{a, c, ra - rc} : Candidate{c, a, rc - ra});
                }
                const auto keep = std::min<std::size_t>(cands.size(), static_cast<std::size_t>(K));
                std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(keep),
                                  cands.end(), [](const Candidate& x, const Candidate& y) {
                                      return x.diff > y.diff || (x.diff == y.diff && x.a < y.a);
                                  });
                for (std::size_t t = 0; t < keep; ++t) {
                    pairU.push_back(u);
                    pairI.push_back(m_scores->items[cands[t].a]);
                    pairJ.push_back(m_scores->items[cands[t].b]);
                    pairRi.push_back(m_scores->values[cands[t].a]);
                    pairRj.push_back(m_scores->values[cands[t].b]);
                }
            }
        }

        // One forward over every row of the batch: positives, negatives, pair sides, points.
        std::vector<std::uint32_t> allU, allI;
        const auto nPos = posUsers.size();
        const auto nNeg = negItems.size();
        const auto nPair = pairU.size();
        const auto nPoint = pointU.size();
        allU.reserve(nPos + nNeg + 2 * nPair + nPoint);
        allI.reserve(allU.capacity());
        allU.insert(allU.end(), posUsers.begin(), posUsers.end());
        allI.insert(allI.end(), posItems.begin(), posItems.end());
        for (std::size_t p = 0; p < nPos; ++p)
            for (int n = 0; n < cfg.train.negatives; ++n)
                allU.push_back(posUsers[p]);
        allI.insert(allI.end(), negItems.begin(), negItems.end());
        allU.insert(allU.end(), pairU.begin(), pairU.end());
        allI.insert(allI.end(), pairI.begin(), pairI.end());
        allU.insert(allU.end(), pairU.begin(), pairU.end());
        allI.insert(allI.end(), pairJ.begin(), pairJ.end());
        allU.insert(allU.end(), pointU.begin(), pointU.end());
        allI.insert(allI.end(), pointI.begin(), pointI.end());

        const auto usersT = indexTensor(allU);
        const auto itemsT = indexTensor(allI);
        const auto logits = m_model->forward(usersT, itemsT);
        const auto sPos = logits.slice(0, 0, static_cast<std::int64_t>(nPos));
        const auto sNeg = logits.slice(0, static_cast<std::int64_t>(nPos),
                                       static_cast<std::int64_t>(nPos + nNeg));
        torch::Tensor base;
        if (cfg.train.loss == "bpr") {
            const auto diff = sPos.unsqueeze(1) - sNeg.view({static_cast<std::int64_t>(nPos), -1});
            base = -torch::log_sigmoid(diff).mean();
        } else {
            const auto targets = torch::cat({torch::ones({static_cast<std::int64_t>(nPos)}),
                                             torch::zeros({static_cast<std::int64_t>(nNeg)})});
            base = torch::binary_cross_entropy_with_logits(
                logits.slice(0, 0, static_cast<std::int64_t>(nPos + nNeg)), targets);
        }
        auto total = base;
        torch::Tensor llm = torch::zeros({});
        torch::Tensor gateLoss = torch::zeros({});
        const auto off = static_cast<std::int64_t>(nPos + nNeg);

        if (hinge && nPair > 0) {
            const auto np = static_cast<std::int64_t>(nPair);
            const auto si = logits.slice(0, off, off + np);
            const auto sj = logits.slice(0, off + np, off + 2 * np);
            const auto h = torch::relu(cfg.method.margin - (si - sj));
            // Gate inputs for both sides: z = [Cold(u), Tail(i), q(u,i)], q without gradient.
            std::vector<float> coldV(2 * nPair), tailV(2 * nPair);
            for (std::size_t k = 0; k < nPair; ++k) {
                coldV[k] = coldV[nPair + k] = m_cold[pairU[k]];
                tailV[k] = m_tail[pairI[k]];
                tailV[nPair + k] = m_tail[pairJ[k]];
            }
            const auto sides = torch::cat({si, sj}).detach();
            torch::Tensor q;
            if (cfg.gate.uncertainty == "dropout" && m_model->hasDropout()) {
                torch::NoGradGuard noGrad;
                const auto su =
                    torch::cat({usersT.slice(0, off, off + np), usersT.slice(0, off, off + np)});
                const auto sitems = itemsT.slice(0, off, off + 2 * np);
                std::vector<torch::Tensor> passes;
                for (int t = 0; t < cfg.gate.dropoutPasses; ++t)
                    passes.push_back(torch::sigmoid(m_model->forward(su, sitems)));
                q = (torch::stack(passes).var(0, /*unbiased=*/false) * 4.0).clamp(0.0, 1.0);
            } else {
                q = uncertaintyFromProbability(
                    torch::sigmoid(sides), cfg.gate.uncertainty == "margin" ? "margin" : "entropy");
            }
            const auto z = torch::stack({floatTensor(coldV), floatTensor(tailV), q}, 1);
            torch::Tensor aSide;  // a(u,i) for both sides, [2 * nPair]
            if (mode == "off") {
                aSide = torch::ones({2 * np});
            } else if (mode == "threshold") {
                aSide = thresholdActivation(cfg.gate, m_gate->inputMask(), z);
            } else if (mode == "random") {
                aSide = (torch::rand({2 * np}) < m_randomRate).to(torch::kFloat);
            } else {
                aSide = m_gate->forward(z);
            }
            auto aPair = (aSide.slice(0, 0, np) + aSide.slice(0, np, 2 * np)) * 0.5;
            torch::Tensor weight = mode == "reliability" ? aPair.detach() : aPair;
            if (cfg.gate.hard && (mode == "paper" || mode == "reliability")) {
                const auto hard = (aPair.detach() > cfg.gate.tauA).to(torch::kFloat);
                // Straight-through for the paper gate: forward hard, gradient of the soft gate.
                weight = mode == "paper" ? hard + aPair - aPair.detach() : hard;
            }
            llm = (weight * h).mean();
            total = total + cfg.method.lambda * llm;

            if (mode == "reliability") {
                // Label pairs where exactly one side is a known positive: 1 if it is the side the
                // LLM ranked higher.
                std::vector<std::int64_t> rows;
                std::vector<float> labels;
                for (std::size_t k = 0; k < nPair; ++k) {
                    const bool pi =
                        inCsr(m_supervisionOffsets, m_supervisionItems, pairU[k], pairI[k]);
                    const bool pj =
                        inCsr(m_supervisionOffsets, m_supervisionItems, pairU[k], pairJ[k]);
                    if (pi != pj) {
                        rows.push_back(static_cast<std::int64_t>(k));
                        labels.push_back(pi ? 1.0f : 0.0f);
                    }
                }
                result.labeledPairs += static_cast<std::int64_t>(rows.size());
                if (!rows.empty()) {
                    const auto idx = torch::tensor(rows, torch::kLong);
                    gateLoss = torch::binary_cross_entropy(
                        aPair.index_select(0, idx).clamp(1e-6, 1.0 - 1e-6), floatTensor(labels));
                    total = total + cfg.gate.lossWeight * gateLoss;
                }
            }

            // Activity statistics on a(u,i) of both sides, as used (after the hard switch).
            const auto used = cfg.gate.hard && (mode == "paper" || mode == "reliability")
                                  ? (aSide.detach() > cfg.gate.tauA).to(torch::kFloat)
                                  : aSide.detach();
            const auto* a = used.contiguous().data_ptr<float>();
            const float tauA = static_cast<float>(cfg.gate.tauA);
            for (std::size_t k = 0; k < 2 * nPair; ++k) {
                const auto u = pairU[k % nPair];
                const auto i = k < nPair ? pairI[k] : pairJ[k - nPair];
                for (const auto& seg : m_segmentation.segments) {
                    if (!seg.contains(u, i))
                        continue;
                    auto& g = result.gate[seg.name];
                    g.sum += a[k];
                    g.active += a[k] > tauA;
                    ++g.count;
                }
            }
            result.pairs += static_cast<std::int64_t>(nPair);
        } else if (pointLike && nPoint > 0) {
            const auto s = logits.slice(0, off, off + static_cast<std::int64_t>(nPoint));
            const auto r = floatTensor(pointR);
            if (method == "kd")
                llm = torch::binary_cross_entropy(
                    torch::sigmoid(s / cfg.method.temperature).clamp(1e-6, 1.0 - 1e-6), r);
            else
                llm = (torch::sigmoid(s) - r).pow(2).mean();
            total = total + cfg.method.lambda * llm;
            result.pairs += static_cast<std::int64_t>(nPoint);
        }

        m_sparse->zeroGrad();
        if (m_dense)
            m_dense->zero_grad();
        m_gateOptimizer->zero_grad();
        total.backward();
        m_sparse->step();
        if (m_dense)
            m_dense->step();
        if (gateLearns)
            m_gateOptimizer->step();

        sumBase += base.item<double>();
        sumLlm += llm.item<double>();
        sumGate += gateLoss.item<double>();
        samples += static_cast<std::int64_t>(nPos);
        const auto now = Clock::now();
        if (control.onBatch &&
            (now - lastReport > std::chrono::milliseconds(200) || b + 1 == batches)) {
            lastReport = now;
            BatchProgress p;
            p.epoch = epoch;
            p.epochs = cfg.train.epochs;
            p.batch = b + 1;
            p.batches = batches;
            const double nb = static_cast<double>(b + 1);
            p.baseLoss = sumBase / nb;
            p.llmLoss = sumLlm / nb;
            p.gateLoss = sumGate / nb;
            const double secs = std::chrono::duration<double>(now - start).count();
            p.samplesPerSecond = secs > 0 ? static_cast<double>(samples) / secs : 0.0;
            control.onBatch(p);
        }
    }
    const double nb = static_cast<double>(std::max<std::int64_t>(batches, 1));
    result.baseLoss = sumBase / nb;
    result.llmLoss = sumLlm / nb;
    result.gateLoss = sumGate / nb;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.gateParameters = m_gate->parameterValues();
    // Binned gate statistics from the per-segment sums of the bucket segments.
    for (const auto* list : {&m_histSegments, &m_popSegments}) {
        const bool hist = list == &m_histSegments;
        for (std::size_t k = 0; k < list->size(); ++k) {
            const auto* s = (*list)[k];
            const auto it = result.gate.find(s->name);
            GateBin bin;
            bin.epoch = epoch;
            bin.dimension = hist ? "history" : "popularity";
            bin.bin = static_cast<int>(k);
            bin.lo = s->lo;
            bin.hi = std::isinf(s->hi) ? -1.0 : s->hi;
            if (it != result.gate.end()) {
                bin.count = it->second.count;
                bin.meanActivation = it->second.mean();
                bin.activeShare = it->second.activeShare();
            }
            result.gateBins.push_back(bin);
        }
    }
    result.validationAuc = validationAuc();
    return true;
}

std::map<std::string, double> Trainer::validationAuc()
{
    std::map<std::string, double> out;
    if (m_valUsers.empty())
        return out;
    torch::NoGradGuard noGrad;
    m_model->eval();
    std::vector<double> auc(m_valUsers.size(), 0.0);
    if (m_valNegatives > 0) {
        const auto per = static_cast<std::int64_t>(1 + m_valNegatives);
        std::vector<std::uint32_t> users;
        users.reserve(m_valItems.size());
        for (auto u : m_valUsers)
            for (std::int64_t k = 0; k < per; ++k)
                users.push_back(u);
        const auto s = m_model->forward(indexTensor(users), indexTensor(m_valItems))
                           .view({static_cast<std::int64_t>(m_valUsers.size()), per})
                           .contiguous();
        const auto* p = s.data_ptr<float>();
        for (std::size_t v = 0; v < m_valUsers.size(); ++v) {
            const float pos = p[v * static_cast<std::size_t>(per)];
            double below = 0;
            for (std::int64_t k = 1; k < per; ++k) {
                const float x = p[v * static_cast<std::size_t>(per) + static_cast<std::size_t>(k)];
                below += x < pos ? 1.0 : (x == pos ? 0.5 : 0.0);
            }
            auc[v] = below / static_cast<double>(per - 1);
        }
    } else {
        // Full ranking against every item that is not a known positive of the user; users are
        // scored in chunks so item-side work is shared.
        const auto items = m_dataset.numItems();
        constexpr std::size_t kChunk = 128;
        for (std::size_t v0 = 0; v0 < m_valUsers.size(); v0 += kChunk) {
            const auto v1 = std::min(m_valUsers.size(), v0 + kChunk);
            std::vector<std::uint32_t> chunk(m_valUsers.begin() + static_cast<std::ptrdiff_t>(v0),
                                             m_valUsers.begin() + static_cast<std::ptrdiff_t>(v1));
            const auto rows = m_model->scoreAll(indexTensor(chunk)).contiguous();
            for (std::size_t v = v0; v < v1; ++v) {
                const auto u = m_valUsers[v];
                const float* p = rows[static_cast<std::int64_t>(v - v0)].data_ptr<float>();
                const float pos = p[m_valItems[v]];
                double below = 0;
                std::int64_t negs = 0;
                for (std::uint32_t j = 0; j < items; ++j) {
                    if (isKnownPositive(u, j))
                        continue;
                    ++negs;
                    below += p[j] < pos ? 1.0 : (p[j] == pos ? 0.5 : 0.0);
                }
                auc[v] = negs ? below / static_cast<double>(negs) : 0.0;
            }
        }
    }
    m_model->train();
    for (const auto& seg : m_segmentation.segments) {
        double sum = 0;
        std::int64_t n = 0;
        for (std::size_t v = 0; v < m_valUsers.size(); ++v) {
            const auto item =
                m_valItems[v *
                           (m_valNegatives > 0 ? 1 + static_cast<std::size_t>(m_valNegatives) : 1)];
            if (seg.contains(m_valUsers[v], item)) {
                sum += auc[v];
                ++n;
            }
        }
        if (n > 0)
            out[seg.name] = sum / static_cast<double>(n);
    }
    return out;
}

Trainer::GateView Trainer::gateView(const std::vector<std::uint32_t>& users,
                                    const std::vector<std::uint32_t>& items)
{
    torch::NoGradGuard noGrad;
    const auto& gate = m_config.gate;
    GateView view;
    const auto n = static_cast<std::int64_t>(users.size());
    const auto usersT = indexTensor(users);
    const auto itemsT = indexTensor(items);
    m_model->eval();
    view.logits = m_model->forward(usersT, itemsT);
    torch::Tensor q;
    if (gate.uncertainty == "dropout" && m_model->hasDropout()) {
        // Seeded dropout passes, so that the same run always shows the same q.
        torch::manual_seed(mixSeed(m_config.seed, 0x66));
        m_model->train();
        std::vector<torch::Tensor> passes;
        for (int t = 0; t < gate.dropoutPasses; ++t)
            passes.push_back(torch::sigmoid(m_model->forward(usersT, itemsT)));
        m_model->eval();
        q = (torch::stack(passes).var(0, /*unbiased=*/false) * 4.0).clamp(0.0, 1.0);
    } else {
        q = uncertaintyFromProbability(torch::sigmoid(view.logits),
                                       gate.uncertainty == "margin" ? "margin" : "entropy");
    }
    std::vector<float> coldV(users.size()), tailV(items.size());
    for (std::size_t k = 0; k < users.size(); ++k) {
        coldV[k] = m_cold[users[k]];
        tailV[k] = m_tail[items[k]];
    }
    view.z = torch::stack({floatTensor(coldV), floatTensor(tailV), q}, 1);
    if (gate.mode == "off")
        view.a = torch::ones({n});
    else if (gate.mode == "threshold")
        view.a = thresholdActivation(gate, m_gate->inputMask(), view.z);
    else if (gate.mode == "random")
        view.a = torch::full({n}, m_randomRate);
    else
        view.a = m_gate->forward(view.z);
    view.a = view.a.to(torch::kFloat).contiguous();
    view.logits = view.logits.contiguous();
    view.z = view.z.contiguous();
    return view;
}

std::optional<bool> Trainer::reliabilityLabel(std::uint32_t user, std::uint32_t higher,
                                              std::uint32_t lower) const
{
    const bool pi = inCsr(m_supervisionOffsets, m_supervisionItems, user, higher);
    const bool pj = inCsr(m_supervisionOffsets, m_supervisionItems, user, lower);
    if (pi == pj)
        return std::nullopt;
    return pi;
}

std::vector<torch::Tensor> Trainer::snapshot() const
{
    std::vector<torch::Tensor> out;
    for (const auto& p : m_model->parameters())
        out.push_back(p.detach().clone());
    for (const auto& p : m_gate->parameters())
        out.push_back(p.detach().clone());
    return out;
}

void Trainer::restore(const std::vector<torch::Tensor>& parameters)
{
    torch::NoGradGuard noGrad;
    std::size_t k = 0;
    for (auto& p : m_model->parameters())
        p.copy_(parameters.at(k++));
    for (auto& p : m_gate->parameters())
        p.copy_(parameters.at(k++));
}

void Trainer::saveCheckpoint(const std::string& path) const
{
    torch::serialize::OutputArchive archive;
    const auto params = snapshot();
    for (std::size_t k = 0; k < params.size(); ++k)
        archive.write("param." + std::to_string(k), params[k]);
    const auto lazy = m_sparse->state();
    for (std::size_t k = 0; k < lazy.size(); ++k)
        archive.write("lazy." + std::to_string(k), lazy[k]);
    if (m_dense) {
        torch::serialize::OutputArchive dense;
        m_dense->save(dense);
        archive.write("dense", dense);
    }
    torch::serialize::OutputArchive gate;
    m_gateOptimizer->save(gate);
    archive.write("gate", gate);
    archive.save_to(path);
}

void Trainer::loadCheckpoint(const std::string& path)
{
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path);
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::BadInput, "cannot read the checkpoint", path, 0,
                    "the file is damaged or from another model; start the run again");
    }
    std::vector<torch::Tensor> params;
    const auto count = m_model->parameters().size() + m_gate->parameters().size();
    for (std::size_t k = 0; k < count; ++k) {
        torch::Tensor t;
        archive.read("param." + std::to_string(k), t);
        params.push_back(t);
    }
    restore(params);
    std::vector<torch::Tensor> lazy;
    for (std::size_t k = 0; k < 3 * m_model->sparseParameters().size(); ++k) {
        torch::Tensor t;
        archive.read("lazy." + std::to_string(k), t);
        lazy.push_back(t);
    }
    m_sparse->setState(lazy);
    if (m_dense) {
        torch::serialize::InputArchive dense;
        archive.read("dense", dense);
        m_dense->load(dense);
    }
    torch::serialize::InputArchive gate;
    archive.read("gate", gate);
    m_gateOptimizer->load(gate);
}

}  // namespace sllmr
