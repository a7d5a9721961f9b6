#include "train/trainer.h"

#include "common/error.h"
#include "common/thread_generator.h"
#include "common/torch_runtime.h"
#include "train/losses.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

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

torch::Tensor indexTensor(const std::vector<std::int64_t>& v, std::int64_t offset)
{
    auto t = torch::empty({static_cast<std::int64_t>(v.size())}, torch::kLong);
    auto* p = t.data_ptr<std::int64_t>();
    for (std::size_t k = 0; k < v.size(); ++k)
        p[k] = v[k] + offset;
    return t;
}

torch::Tensor floatTensor(const std::vector<float>& v)
{
    return torch::from_blob(const_cast<float*>(v.data()), {static_cast<std::int64_t>(v.size())},
                            torch::kFloat)
        .clone();
}

// A checkpoint whose dense optimizer state does not fit the model (DenseAdam::load).
Error optimizerMismatch(const std::string& path)
{
    return Error(ErrorKind::BadInput, "the checkpoint's optimizer state does not match the model",
                 path, 0, "the file is damaged or from another model; start the run again");
}

// The gradients of one parameter from several batch shares, in share order: dense ones added,
// sparse ones (embedding rows) concatenated.
torch::Tensor sumGradients(const std::vector<torch::Tensor>& parts, const torch::Tensor& param)
{
    if (parts.size() == 1)
        return parts.front();
    if (!parts.front().is_sparse()) {
        auto sum = parts.front().clone();
        for (std::size_t k = 1; k < parts.size(); ++k)
            sum.add_(parts[k].is_sparse() ? parts[k].to_dense() : parts[k]);
        return sum;
    }
    std::vector<torch::Tensor> indices;
    std::vector<torch::Tensor> values;
    for (const auto& g : parts) {
        if (!g.is_sparse())
            throw Error(ErrorKind::Internal, "batch shares gave sparse and dense gradients");
        indices.push_back(g._indices());
        values.push_back(g._values());
    }
    return at::_sparse_coo_tensor_unsafe(torch::cat(indices, 1), torch::cat(values, 0),
                                         param.sizes());
}

}  // namespace

// Threads that stay for the trainer's life and run shares 1..N of each batch while the caller runs
// share 0 (starting threads for every batch cost more than an MF step).
class ShareThreads
{
public:
    explicit ShareThreads(std::size_t helpers)
    {
        try {
            for (std::size_t h = 0; h < helpers; ++h)
                m_threads.emplace_back([this, h] { loop(h + 1); });
        } catch (...) {
            stop();  // the threads already started
            throw;
        }
    }
    ~ShareThreads() { stop(); }
    ShareThreads(const ShareThreads&) = delete;
    ShareThreads& operator=(const ShareThreads&) = delete;

    // job(0) on the calling thread, job(1..helpers) on the helpers; returns when all are done.
    // job must not throw.
    void run(const std::function<void(std::size_t)>& job)
    {
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_job = &job;
            m_pending = m_threads.size();
            ++m_round;
        }
        m_wake.notify_all();
        job(0);
        std::unique_lock<std::mutex> lock(m_mutex);
        m_done.wait(lock, [this] { return m_pending == 0; });
        m_job = nullptr;
    }

private:
    void stop()
    {
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        for (auto& t : m_threads)
            t.join();
        m_threads.clear();
    }

    void loop(std::size_t share)
    {
        std::uint64_t seen = 0;
        for (;;) {
            const std::function<void(std::size_t)>* job = nullptr;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || m_round != seen; });
                if (m_stop)
                    return;
                seen = m_round;
                job = m_job;
            }
            (*job)(share);
            {
                const std::lock_guard<std::mutex> lock(m_mutex);
                --m_pending;
            }
            m_done.notify_one();
        }
    }

    TensorBlockCacheUse m_blocks;  // before the threads, for their first tensor; released last
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    const std::function<void(std::size_t)>* m_job = nullptr;
    std::uint64_t m_round = 0;
    std::size_t m_pending = 0;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

void distinctPairSides(const std::vector<std::uint32_t>& users,
                       const std::vector<std::uint32_t>& higher,
                       const std::vector<std::uint32_t>& lower, PairSides& out)
{
    out.users.clear();
    out.items.clear();
    out.higher.clear();
    out.lower.clear();
    std::size_t runStart = 0;
    const auto sideOf = [&](std::uint32_t u, std::uint32_t item) {
        for (auto k = runStart; k < out.items.size(); ++k) {
            if (out.items[k] == item)
                return static_cast<std::int64_t>(k);
        }
        out.users.push_back(u);
        out.items.push_back(item);
        return static_cast<std::int64_t>(out.items.size() - 1);
    };
    for (std::size_t k = 0; k < users.size(); ++k) {
        if (k == 0 || users[k] != users[k - 1])
            runStart = out.users.size();
        out.higher.push_back(sideOf(users[k], higher[k]));
        out.lower.push_back(sideOf(users[k], lower[k]));
    }
}

// The rows of one mini-batch, reused across batches: positives, their sampled negatives, and the
// LLM rows (pairs for the hinge, or scored items for kd/pointwise).
struct Trainer::Batch
{
    explicit Batch(std::uint32_t users) : seenUser(users, 0) {}

    std::vector<std::uint32_t> posUsers;
    std::vector<std::uint32_t> posItems;
    std::vector<std::uint32_t> negItems;  // `negatives` per positive, in positive order
    std::vector<std::uint32_t> distinct;  // distinct users of the positives, first-seen order
    std::vector<std::uint8_t> seenUser;
    std::vector<std::uint32_t> pairU;  // LLM pairs: user, higher item, lower item
    std::vector<std::uint32_t> pairI;
    std::vector<std::uint32_t> pairJ;
    PairSides sides;                    // the pairs' distinct (user, item) sides, scored once each
    std::vector<std::uint32_t> pointU;  // scored items: user, item, r
    std::vector<std::uint32_t> pointI;
    std::vector<float> pointR;
    struct Candidate
    {
        std::uint32_t a, b;  // score-entry indices, r[a] > r[b]
        float diff;
    };
    std::vector<Candidate> candidates;
};

struct Trainer::BatchLosses
{
    torch::Tensor total;
    torch::Tensor base;
    torch::Tensor llm = torch::zeros({});
    torch::Tensor gate = torch::zeros({});
};

// Running sums of an epoch and the throttled progress report.
struct Trainer::EpochTotals
{
    Clock::time_point start = Clock::now();
    Clock::time_point lastReport = start;
    double base = 0;
    double llm = 0;
    double gate = 0;
    std::int64_t samples = 0;

    void add(const BatchLosses& losses, std::size_t positives)
    {
        base += losses.base.item<double>();
        llm += losses.llm.item<double>();
        gate += losses.gate.item<double>();
        samples += static_cast<std::int64_t>(positives);
    }
    void report(const TrainControl& control, int epoch, int epochs, std::int64_t batch,
                std::int64_t batches)
    {
        const auto now = Clock::now();
        if (!control.onBatch ||
            (now - lastReport <= std::chrono::milliseconds(200) && batch != batches))
            return;
        lastReport = now;
        BatchProgress p;
        p.epoch = epoch;
        p.epochs = epochs;
        p.batch = batch;
        p.batches = batches;
        const auto nb = static_cast<double>(batch);
        p.baseLoss = base / nb;
        p.llmLoss = llm / nb;
        p.gateLoss = gate / nb;
        const double secs = std::chrono::duration<double>(now - start).count();
        p.samplesPerSecond = secs > 0 ? static_cast<double>(samples) / secs : 0.0;
        control.onBatch(p);
    }
};

Trainer::Trainer(const RunConfig& config, const Dataset& dataset, const Segmentation& segmentation,
                 const ScoreSet* scores)
    : m_config(config)
    , m_dataset(dataset)
    , m_segmentation(segmentation)
    , m_scores(scores)
    , m_trainSet(dataset.numUsers(), {&dataset.train})
    , m_knownSet(dataset.numUsers(), {&dataset.train, &dataset.validation, &dataset.test})
    , m_gateInputs(config.gate, dataset, segmentation)
    , m_labels(config.gate, dataset)
{
    if (config.method.name != MethodName::None && !scores)
        throw Error(ErrorKind::Usage,
                    "method '" + toString(config.method.name) + "' needs LLM scores");
    const auto items = dataset.numItems();

    torch::manual_seed(mixSeed(config.seed, 0x11));
    BackboneContext ctx;
    ctx.numUsers = dataset.numUsers();
    ctx.numItems = items;
    ctx.itemInfo = &dataset.itemInfo;
    ctx.train = &dataset.train;
    m_model = makeBackbone(config.model, ctx);
    m_gate = Gate(config.gate);

    m_sparse = std::make_unique<LazyAdam>(m_model->sparseParameters(), config.train.learningRate);
    auto dense = m_model->denseParameters();
    if (!dense.empty())
        m_dense = std::make_unique<DenseAdam>(dense, config.train.learningRate);
    m_gateOptimizer = std::make_unique<DenseAdam>(m_gate->parameters(), config.gate.learningRate);
    m_parameters = m_model->parameters();
    for (const auto& p : m_gate->parameters())
        m_parameters.push_back(p);

    for (const auto& s : segmentation.segments) {
        if (s.name.rfind("hist_", 0) == 0)
            m_histSegments.push_back(&s);
        else if (s.name.rfind("pop_", 0) == 0)
            m_popSegments.push_back(&s);
    }

    // Validation candidates: fixed for the run so epochs are comparable.
    m_valNegatives = config.eval.validationNegatives;
    std::mt19937_64 rng(mixSeed(config.seed, 0x22));
    for (const auto& r : dataset.validation) {
        m_valUsers.push_back(r.user);
        m_valItems.push_back(r.item);
        if (m_valNegatives == 0)
            continue;
        const bool possible = m_knownSet.count(r.user) < items;
        for (int k = 0; k < m_valNegatives; ++k) {
            std::uint32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<std::uint32_t>(rng() % items);
                if (!possible || !m_knownSet.contains(r.user, j))
                    break;
            }
            m_valItems.push_back(j);
        }
    }
    m_randomRate = config.gate.randomRate;
}

Trainer::~Trainer() = default;

bool Trainer::trainEpoch(int epoch, const TrainControl& control, EpochResult& result)
{
    const auto& cfg = m_config;
    // Every random source of this epoch derives from (seed, epoch): resuming at an epoch
    // boundary reproduces the uninterrupted run.
    torch::manual_seed(mixSeed(cfg.seed, 0x33, static_cast<std::uint64_t>(epoch)));
    std::mt19937_64 rng(mixSeed(cfg.seed, 0x44, static_cast<std::uint64_t>(epoch)));

    m_model->train();
    result = EpochResult{};
    result.epoch = epoch;
    EpochTotals totals;
    const auto order = shuffledTrainOrder(rng);
    const auto batchSize = static_cast<std::size_t>(cfg.train.batchSize);
    const auto batches = static_cast<std::int64_t>((order.size() + batchSize - 1) / batchSize);
    Batch batch(m_dataset.numUsers());
    std::vector<Batch> shares;
    const int shareCount = this->shareCount();
    m_shareGenerators = shareGenerators(cfg.seed, epoch, shareCount > 1 ? shareCount : 0);

    for (std::int64_t b = 0; b < batches; ++b) {
        if (control.cancel && control.cancel->load(std::memory_order_relaxed))
            return false;
        // Sample, forward and losses, step, report.
        const auto lo = static_cast<std::size_t>(b) * batchSize;
        samplePositives(order, lo, std::min(order.size(), lo + batchSize), batch);
        sampleNegatives(batch.posUsers, rng, batch.negItems);
        sampleLlmRows(batch, rng);
        BatchLosses losses;
        if (shareCount > 1) {
            losses = sharedStep(batch, shares, result);
        } else {
            losses = batchLosses(batch, result);
            optimize(losses.total);
        }
        totals.add(losses, batch.posUsers.size());
        totals.report(control, epoch, cfg.train.epochs, b + 1, batches);
    }

    const double nb = static_cast<double>(std::max<std::int64_t>(batches, 1));
    result.baseLoss = totals.base / nb;
    result.llmLoss = totals.llm / nb;
    result.gateLoss = totals.gate / nb;
    result.seconds = std::chrono::duration<double>(Clock::now() - totals.start).count();
    result.gateParameters = m_gate->parameterValues();
    addGateBins(epoch, result);
    result.validationAuc = validationAuc();
    return true;
}

std::vector<std::uint32_t> Trainer::shuffledTrainOrder(std::mt19937_64& rng) const
{
    std::vector<std::uint32_t> order(m_dataset.train.size());
    std::iota(order.begin(), order.end(), 0u);
    for (std::size_t k = order.size(); k > 1; --k)
        std::swap(order[k - 1], order[rng() % k]);
    return order;
}

void Trainer::samplePositives(const std::vector<std::uint32_t>& order, std::size_t lo,
                              std::size_t hi, Batch& batch) const
{
    batch.posUsers.clear();
    batch.posItems.clear();
    batch.distinct.clear();
    for (auto k = lo; k < hi; ++k) {
        const auto& r = m_dataset.train[order[k]];
        batch.posUsers.push_back(r.user);
        batch.posItems.push_back(r.item);
        if (!batch.seenUser[r.user]) {
            batch.seenUser[r.user] = 1;
            batch.distinct.push_back(r.user);
        }
    }
    for (auto u : batch.distinct)
        batch.seenUser[u] = 0;
}

void Trainer::sampleNegatives(const std::vector<std::uint32_t>& posUsers, std::mt19937_64& rng,
                              std::vector<std::uint32_t>& negItems) const
{
    const auto items = m_dataset.numItems();
    const int k = m_config.train.negatives;
    negItems.clear();
    for (const auto u : posUsers) {
        const bool possible = m_trainSet.count(u) < items;
        for (int n = 0; n < k; ++n) {
            std::uint32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<std::uint32_t>(rng() % items);
                if (!possible || !m_trainSet.contains(u, j))
                    break;
            }
            negItems.push_back(j);
        }
    }
}

void Trainer::sampleLlmRows(Batch& batch, std::mt19937_64& rng) const
{
    batch.pairU.clear(), batch.pairI.clear(), batch.pairJ.clear();
    batch.pointU.clear(), batch.pointI.clear(), batch.pointR.clear();
    const auto method = m_config.method.name;
    if (!m_scores || method == MethodName::None)
        return;
    for (auto u : batch.distinct) {
        if (usesScoredItems(method))
            sampleScoredItems(u, batch, rng);
        else
            samplePairs(u, batch, rng);
    }
}

// kd and pointwise: up to 2K of the user's scored items, drawn with replacement.
void Trainer::sampleScoredItems(std::uint32_t u, Batch& batch, std::mt19937_64& rng) const
{
    const auto s0 = m_scores->offsets[u];
    const auto n = m_scores->offsets[u + 1] - s0;
    if (n == 0)
        return;
    const auto take =
        std::min<std::uint32_t>(n, static_cast<std::uint32_t>(2 * m_config.method.pairsPerUser));
    for (std::uint32_t t = 0; t < take; ++t) {
        const auto k = s0 + static_cast<std::uint32_t>(rng() % n);
        batch.pointU.push_back(u);
        batch.pointI.push_back(m_scores->items[k]);
        batch.pointR.push_back(m_scores->values[k]);
    }
}

// SPEC 3: user-consistent pairs, the K largest r differences of factor*K random candidates.
void Trainer::samplePairs(std::uint32_t u, Batch& batch, std::mt19937_64& rng) const
{
    const auto s0 = m_scores->offsets[u];
    const auto n = m_scores->offsets[u + 1] - s0;
    if (n < 2)
        return;
    const int K = m_config.method.pairsPerUser;
    auto& cands = batch.candidates;
    cands.clear();
    const int draws = m_config.method.candidateFactor * K;
    for (int t = 0; t < draws; ++t) {
        const auto a = s0 + static_cast<std::uint32_t>(rng() % n);
        auto c = s0 + static_cast<std::uint32_t>(rng() % (n - 1));
        if (c >= a)
            ++c;
        const float ra = m_scores->values[a];
        const float rc = m_scores->values[c];
        if (ra == rc)
            continue;  // ties carry no order
        cands.push_back(ra > rc ? Batch::Candidate{a, c, ra - rc}
                                : Batch::Candidate{c, a, rc - ra});
    }
    const auto keep = std::min<std::size_t>(cands.size(), static_cast<std::size_t>(K));
    std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(keep), cands.end(),
                      [](const Batch::Candidate& x, const Batch::Candidate& y) {
                          return x.diff > y.diff || (x.diff == y.diff && x.a < y.a);
                      });
    for (std::size_t t = 0; t < keep; ++t) {
        batch.pairU.push_back(u);
        batch.pairI.push_back(m_scores->items[cands[t].a]);
        batch.pairJ.push_back(m_scores->items[cands[t].b]);
    }
}

Trainer::BatchLosses Trainer::batchLosses(Batch& batch, EpochResult& result)
{
    // One forward over every row of the batch: positives, negatives, the distinct pair sides,
    // points.
    distinctPairSides(batch.pairU, batch.pairI, batch.pairJ, batch.sides);
    const auto nPos = batch.posUsers.size();
    const auto nNeg = batch.negItems.size();
    std::vector<std::uint32_t> allU, allI;
    allU.reserve(nPos + nNeg + batch.sides.users.size() + batch.pointU.size());
    allI.reserve(allU.capacity());
    allU.insert(allU.end(), batch.posUsers.begin(), batch.posUsers.end());
    allI.insert(allI.end(), batch.posItems.begin(), batch.posItems.end());
    for (std::size_t p = 0; p < nPos; ++p)
        for (int n = 0; n < m_config.train.negatives; ++n)
            allU.push_back(batch.posUsers[p]);
    allI.insert(allI.end(), batch.negItems.begin(), batch.negItems.end());
    allU.insert(allU.end(), batch.sides.users.begin(), batch.sides.users.end());
    allI.insert(allI.end(), batch.sides.items.begin(), batch.sides.items.end());
    allU.insert(allU.end(), batch.pointU.begin(), batch.pointU.end());
    allI.insert(allI.end(), batch.pointI.begin(), batch.pointI.end());

    const auto usersT = indexTensor(allU);
    const auto itemsT = indexTensor(allI);
    const auto logits = m_model->forward(usersT, itemsT);
    BatchLosses losses;
    losses.base = baseLoss(m_config.train.loss, logits, static_cast<std::int64_t>(nPos),
                           static_cast<std::int64_t>(nNeg));
    losses.total = losses.base;
    const auto method = m_config.method.name;
    if (usesPairs(method) && !batch.pairU.empty())
        addGatedHinge(batch, logits, usersT, itemsT, losses, result);
    else if (usesScoredItems(method) && !batch.pointU.empty())
        addPointTerm(batch, logits, losses, result);
    return losses;
}

// lambda * mean(weight * hinge) over the batch's LLM pairs, the gate deciding the weights; the
// reliability gate adds its BCE on the labelled pairs.
void Trainer::addGatedHinge(const Batch& batch, const torch::Tensor& logits,
                            const torch::Tensor& users, const torch::Tensor& items,
                            BatchLosses& losses, EpochResult& result)
{
    const auto& spec = m_config.gate;
    const auto nPair = batch.pairU.size();
    const auto off = static_cast<std::int64_t>(batch.posUsers.size() + batch.negItems.size());
    const auto higherRows = indexTensor(batch.sides.higher, off);
    const auto lowerRows = indexTensor(batch.sides.lower, off);
    const auto si = logits.index_select(0, higherRows);
    const auto sj = logits.index_select(0, lowerRows);
    const auto sideRows = torch::cat({higherRows, lowerRows});
    GatePairs pairs{batch.pairU, batch.pairI, batch.pairJ, {}, {}};
    const bool reliability = spec.mode == GateMode::Reliability;
    if (reliability) {
        for (std::size_t k = 0; k < nPair; ++k) {
            if (const auto label = m_labels.label(batch.pairU[k], batch.pairI[k], batch.pairJ[k])) {
                pairs.labelledRows.push_back(static_cast<std::int64_t>(k));
                pairs.labels.push_back(*label ? 1.0f : 0.0f);
            }
        }
        result.labeledPairs += static_cast<std::int64_t>(pairs.labelledRows.size());
    }
    const auto terms = pairTerms(spec, *m_gate, m_gateInputs, *m_model, pairs, si, sj,
                                 users.index_select(0, sideRows), items.index_select(0, sideRows),
                                 m_config.method.margin, m_randomRate);
    losses.llm = terms.llm;
    losses.total = losses.total + m_config.method.lambda * losses.llm;
    if (terms.gate.defined()) {
        losses.gate = terms.gate;
        losses.total = losses.total + spec.lossWeight * losses.gate;
    }
    recordGateActivity(batch, terms.aUsed, result);
    result.pairs += static_cast<std::int64_t>(nPair);
}

void Trainer::addPointTerm(const Batch& batch, const torch::Tensor& logits, BatchLosses& losses,
                           EpochResult& result) const
{
    const auto off = static_cast<std::int64_t>(batch.posUsers.size() + batch.negItems.size() +
                                               batch.sides.users.size());
    const auto s = logits.slice(0, off, off + static_cast<std::int64_t>(batch.pointU.size()));
    const auto r = floatTensor(batch.pointR);
    losses.llm = m_config.method.name == MethodName::Kd
                     ? distillationLoss(s, r, m_config.method.temperature)
                     : pointwiseLoss(s, r);
    losses.total = losses.total + m_config.method.lambda * losses.llm;
    result.pairs += static_cast<std::int64_t>(batch.pointU.size());
}

// Activity statistics per segment on a(u,i) of both sides of every pair, as used. A segment's
// kind and its entry in result.gate are looked up once per batch, not per pair side.
void Trainer::recordGateActivity(const Batch& batch, const torch::Tensor& aUsed,
                                 EpochResult& result) const
{
    const auto nPair = batch.pairU.size();
    const auto used = aUsed.contiguous();
    const auto* a = used.data_ptr<float>();
    const auto tauA = static_cast<float>(m_config.gate.tauA);
    for (const auto& seg : m_segmentation.segments) {
        const bool all = seg.kind == "all";
        const bool byUser = seg.kind == "users";
        GateActivity* g = nullptr;  // created on the first side in the segment, as before
        for (std::size_t k = 0; k < 2 * nPair; ++k) {
            const auto u = batch.pairU[k % nPair];
            const auto i = k < nPair ? batch.pairI[k] : batch.pairJ[k - nPair];
            if (!all && !(byUser ? seg.members[u] : seg.members[i]))
                continue;
            if (!g)
                g = &result.gate[seg.name];
            g->sum += a[k];
            g->active += a[k] > tauA;
            ++g->count;
        }
    }
}

void Trainer::optimize(const torch::Tensor& total)
{
    zeroGradients();
    total.backward();
    stepOptimizers();
}

void Trainer::zeroGradients()
{
    m_sparse->zeroGrad();
    if (m_dense)
        m_dense->zeroGrad();
    m_gateOptimizer->zeroGrad();
}

void Trainer::stepOptimizers()
{
    m_sparse->step();
    if (m_dense)
        m_dense->step();
    if (usesPairs(m_config.method.name) && gateLearns(m_config.gate.mode))
        m_gateOptimizer->step();
}

int Trainer::shareCount() const
{
    if (m_config.train.parallel != TrainParallel::Batch)
        return 1;
    const int threads = m_config.train.threads > 0
                            ? m_config.train.threads
                            : static_cast<int>(std::thread::hardware_concurrency());
    return std::clamp(threads, 1, 255);  // a share index fits Batch::seenUser
}

// Share s takes a contiguous run of the positives with their negatives, and the LLM rows of the
// users whose first positive in the batch falls in that run: those rows follow `distinct`, the
// users in first-seen order, so every share sees what a batch of its own would have sampled.
void Trainer::splitBatch(Batch& batch, std::vector<Batch>& shares) const
{
    const auto count = static_cast<std::size_t>(shareCount());
    while (shares.size() < count)
        shares.emplace_back(0);
    const auto nPos = batch.posUsers.size();
    const auto negatives = static_cast<std::size_t>(m_config.train.negatives);
    for (std::size_t s = 0; s < count; ++s) {
        auto& share = shares[s];
        const auto lo = s * nPos / count;
        const auto hi = (s + 1) * nPos / count;
        share.posUsers.assign(batch.posUsers.begin() + static_cast<std::ptrdiff_t>(lo),
                              batch.posUsers.begin() + static_cast<std::ptrdiff_t>(hi));
        share.posItems.assign(batch.posItems.begin() + static_cast<std::ptrdiff_t>(lo),
                              batch.posItems.begin() + static_cast<std::ptrdiff_t>(hi));
        share.negItems.assign(batch.negItems.begin() + static_cast<std::ptrdiff_t>(lo * negatives),
                              batch.negItems.begin() + static_cast<std::ptrdiff_t>(hi * negatives));
        share.pairU.clear(), share.pairI.clear(), share.pairJ.clear();
        share.pointU.clear(), share.pointI.clear(), share.pointR.clear();
        // seenUser holds 1 + the share of a user's first positive while the rows are dealt.
        for (auto k = lo; k < hi; ++k)
            if (!batch.seenUser[batch.posUsers[k]])
                batch.seenUser[batch.posUsers[k]] = static_cast<std::uint8_t>(s + 1);
    }
    for (std::size_t k = 0; k < batch.pairU.size(); ++k) {
        auto& share = shares[batch.seenUser[batch.pairU[k]] - 1u];
        share.pairU.push_back(batch.pairU[k]);
        share.pairI.push_back(batch.pairI[k]);
        share.pairJ.push_back(batch.pairJ[k]);
    }
    for (std::size_t k = 0; k < batch.pointU.size(); ++k) {
        auto& share = shares[batch.seenUser[batch.pointU[k]] - 1u];
        share.pointU.push_back(batch.pointU[k]);
        share.pointI.push_back(batch.pointI[k]);
        share.pointR.push_back(batch.pointR[k]);
    }
    for (auto u : batch.distinct)
        batch.seenUser[u] = 0;
}

// The pairs of a batch with a reliability label (the gate's BCE is their mean).
std::int64_t Trainer::labeledPairs(const Batch& batch) const
{
    std::int64_t n = 0;
    for (std::size_t k = 0; k < batch.pairU.size(); ++k)
        n += m_labels.label(batch.pairU[k], batch.pairI[k], batch.pairJ[k]).has_value();
    return n;
}

// train.parallel "batch": each share's forward and backward on a thread of its own, with the
// batch's loss as the sum of the shares' terms, each a mean over its share scaled by the share's
// part of the batch (rows, pairs or scored items, labelled pairs). The shares' gradients are then
// summed in share order (dense: added; sparse: rows concatenated, which lazy Adam groups by row in
// that order) and one optimizer step follows, so a given seed and thread count always give the
// same numbers. A share's dropout and random-gate draws come from its own generator.
Trainer::BatchLosses Trainer::sharedStep(Batch& batch, std::vector<Batch>& shares,
                                         EpochResult& result)
{
    splitBatch(batch, shares);
    const auto count = static_cast<std::size_t>(shareCount());
    const auto part = [](std::size_t n, std::size_t total) {
        return total ? static_cast<double>(n) / static_cast<double>(total) : 0.0;
    };
    const bool labelled =
        usesPairs(m_config.method.name) && m_config.gate.mode == GateMode::Reliability;
    const auto allLabelled = labelled ? labeledPairs(batch) : 0;
    struct Outcome
    {
        BatchLosses losses;
        EpochResult result;
        std::vector<torch::Tensor> grads;
        std::exception_ptr error;
    };
    std::vector<Outcome> outcomes(count);
    const auto work = [&](std::size_t s) {
        auto& out = outcomes[s];
        auto& share = shares[s];
        if (share.posUsers.empty())
            return;
        try {
            ScopedGenerator generator(m_shareGenerators[s]);
            out.losses = batchLosses(share, out.result);
            out.losses.base = out.losses.base * part(share.posUsers.size(), batch.posUsers.size());
            out.losses.llm = out.losses.llm * part(share.pairU.size() + share.pointU.size(),
                                                   batch.pairU.size() + batch.pointU.size());
            out.losses.gate =
                out.losses.gate * part(static_cast<std::size_t>(out.result.labeledPairs),
                                       static_cast<std::size_t>(allLabelled));
            const auto total = out.losses.base + m_config.method.lambda * out.losses.llm +
                               m_config.gate.lossWeight * out.losses.gate;
            out.grads = torch::autograd::grad({total}, m_parameters, {}, false, false,
                                              /*allow_unused=*/true);
        } catch (...) {
            out.error = std::current_exception();
        }
    };
    if (!m_shareThreads)
        m_shareThreads = std::make_unique<ShareThreads>(count - 1);
    m_shareThreads->run(work);
    for (const auto& out : outcomes)
        if (out.error)
            std::rethrow_exception(out.error);

    zeroGradients();
    BatchLosses losses;
    losses.base = torch::zeros({});
    for (auto& out : outcomes) {
        if (out.grads.empty())
            continue;
        losses.base = losses.base + out.losses.base.detach();
        losses.llm = losses.llm + out.losses.llm.detach();
        losses.gate = losses.gate + out.losses.gate.detach();
        result.pairs += out.result.pairs;
        result.labeledPairs += out.result.labeledPairs;
        for (const auto& [name, g] : out.result.gate) {
            auto& into = result.gate[name];
            into.sum += g.sum;
            into.active += g.active;
            into.count += g.count;
        }
    }
    for (std::size_t k = 0; k < m_parameters.size(); ++k) {
        std::vector<torch::Tensor> parts;
        for (const auto& out : outcomes)
            if (!out.grads.empty() && out.grads[k].defined())
                parts.push_back(out.grads[k]);
        if (parts.empty())
            continue;
        auto& param = m_parameters[k];
        param.mutable_grad() = sumGradients(parts, param);
    }
    stepOptimizers();
    losses.total =
        losses.base + m_config.method.lambda * losses.llm + m_config.gate.lossWeight * losses.gate;
    return losses;
}

// Binned gate statistics from the per-segment sums of the bucket segments.
void Trainer::addGateBins(int epoch, EpochResult& result) const
{
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
        // The positive and its sampled negatives of a few users per forward pass, about
        // kRowsPerScorePass rows (at least one user): one pass over every validation row held
        // users x (1 + negatives) x dim floats several times over (2.7 GB on Amazon Sports with
        // 35,598 users and 99 negatives).
        const auto per = static_cast<std::size_t>(1 + m_valNegatives);
        const auto score = m_model->rowScorer();
        const std::size_t usersPerPass =
            std::max<std::size_t>(1, BackboneImpl::kRowsPerScorePass / per);
        std::vector<std::uint32_t> users;
        std::vector<std::uint32_t> items;
        for (std::size_t v0 = 0; v0 < m_valUsers.size(); v0 += usersPerPass) {
            const auto v1 = std::min(m_valUsers.size(), v0 + usersPerPass);
            users.clear();
            for (std::size_t v = v0; v < v1; ++v)
                users.insert(users.end(), per, m_valUsers[v]);
            items.assign(m_valItems.begin() + static_cast<std::ptrdiff_t>(v0 * per),
                         m_valItems.begin() + static_cast<std::ptrdiff_t>(v1 * per));
            const auto s = score(indexTensor(users), indexTensor(items)).contiguous();
            const auto* p = s.data_ptr<float>();
            for (std::size_t v = v0; v < v1; ++v) {
                const float* row = p + (v - v0) * per;
                double below = 0;
                for (std::size_t k = 1; k < per; ++k)
                    below += row[k] < row[0] ? 1.0 : (row[k] == row[0] ? 0.5 : 0.0);
                auc[v] = below / static_cast<double>(per - 1);
            }
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
                    if (m_knownSet.contains(u, j))
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
    const auto& spec = m_config.gate;
    GateView view;
    const auto usersT = indexTensor(users);
    const auto itemsT = indexTensor(items);
    m_model->eval();
    view.logits = m_model->forward(usersT, itemsT);
    const bool dropout = usesDropoutPasses(spec, *m_model);
    if (dropout) {
        // Seeded dropout passes, so that the same run always shows the same q.
        torch::manual_seed(mixSeed(m_config.seed, 0x66));
        m_model->train();
    }
    const auto q = uncertainty(spec, *m_model, view.logits, usersT, itemsT);
    if (dropout)
        m_model->eval();
    view.z = m_gateInputs.z(users, items, q).contiguous();
    view.a = activation(spec, *m_gate, view.z, m_randomRate, RandomGate::Expected)
                 .to(torch::kFloat)
                 .contiguous();
    view.logits = view.logits.contiguous();
    return view;
}

std::optional<bool> Trainer::reliabilityLabel(std::uint32_t user, std::uint32_t higher,
                                              std::uint32_t lower) const
{
    return m_labels.label(user, higher, lower);
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
        if (!m_dense->load(dense))
            throw optimizerMismatch(path);
    }
    torch::serialize::InputArchive gate;
    archive.read("gate", gate);
    if (!m_gateOptimizer->load(gate))
        throw optimizerMismatch(path);
}

}  // namespace sllmr
