#include "inspect/gate_inspector.h"

#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "eval/metrics.h"
#include "llm/scores.h"
#include "run/runner.h"
#include "train/gate.h"
#include "train/losses.h"
#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <span>

namespace sllmr {
namespace fs = std::filesystem;

const std::array<GateParameterInfo, 4>& gateParameterInfo()
{
    static const std::array<GateParameterInfo, 4> info{{
        {"w_cold",
         "how much more (positive) or less (negative) the gate trusts the LLM for users "
         "with a short history (Cold = 1)"},
        {"w_tail", "how much more or less the gate trusts the LLM for long-tail items (Tail = 1)"},
        {"w_q",
         "how the backbone's own uncertainty q in [0,1] moves the gate: positive opens it "
         "where the backbone is unsure"},
        {"b",
         "the gate's baseline: sigmoid(b) is the activation for a warm user, a head item and "
         "a certain backbone; a falling b is the gate closing everywhere"},
    }};
    return info;
}

struct RunInspector::State
{
    InspectedRun info;
    RunConfig config;
    Dataset dataset;
    Segmentation segmentation;
    std::optional<ScoreSet> scores;
    std::unique_ptr<Trainer> trainer;
    std::vector<GateBin> storedBins;
    std::vector<EpochMetric> epochMetrics;
    std::map<std::pair<std::uint32_t, std::uint32_t>, double> storedAuc;

    // Per LLM-scored entry k (CSR order of the score set).
    std::vector<std::uint32_t> entryUser;
    std::vector<float> logit, q, a;
    std::vector<int> llmRank;
    std::vector<std::uint32_t> trainOffsets;  // sorted train items per user
    std::vector<std::uint32_t> trainSorted;
    std::vector<std::vector<std::uint32_t>> testItems;  // per user
    std::vector<std::vector<std::uint32_t>> seenItems;  // train + validation per user

    bool activeOf(double value) const { return value > info.tauA; }
    bool isTrain(std::uint32_t u, std::uint32_t i) const
    {
        return std::binary_search(trainSorted.begin() + trainOffsets[u],
                                  trainSorted.begin() + trainOffsets[u + 1], i);
    }
    bool isTest(std::uint32_t u, std::uint32_t i) const
    {
        const auto& t = testItems[u];
        return std::find(t.begin(), t.end(), i) != t.end();
    }
    UserRef userRef(std::uint32_t u) const
    {
        return {u, dataset.users.label(u), dataset.historyLength[u],
                trainer->coldInputs()[u] > 0.5f};
    }
    ItemRef itemRef(std::uint32_t i) const
    {
        ItemRef r{
            i, dataset.items.label(i), {}, dataset.popularity[i], trainer->tailInputs()[i] > 0.5f};
        if (dataset.itemInfo.hasTitles() && i < dataset.itemInfo.titles.size())
            r.title = dataset.itemInfo.titles[i];
        return r;
    }
    ScoredEntry entry(std::size_t k) const
    {
        ScoredEntry e;
        const auto u = entryUser[k];
        const auto i = scores->items[k];
        e.user = userRef(u);
        e.item = itemRef(i);
        e.llmRank = llmRank[k];
        e.r = scores->values[k];
        e.logit = logit[k];
        e.p = 1.0 / (1.0 + std::exp(-e.logit));
        e.z = {trainer->coldInputs()[u], trainer->tailInputs()[i], q[k]};
        e.a = a[k];
        e.active = activeOf(e.a);
        e.trainPositive = isTrain(u, i);
        e.testPositive = isTest(u, i);
        return e;
    }
    // Candidate pairs given as entry indices (hi, lo), r[hi] > r[lo], of one user each: a, the
    // weight and the hinge from the gate's and the losses' own functions, as in training.
    std::vector<GatePair> pairs(const std::vector<std::pair<std::size_t, std::size_t>>& hiLo) const
    {
        const auto n = static_cast<std::int64_t>(hiLo.size());
        auto aHi = torch::empty({n}), aLo = torch::empty({n});
        auto sHi = torch::empty({n}), sLo = torch::empty({n});
        for (std::int64_t k = 0; k < n; ++k) {
            const auto [hi, lo] = hiLo[static_cast<std::size_t>(k)];
            aHi.data_ptr<float>()[k] = a[hi];
            aLo.data_ptr<float>()[k] = a[lo];
            sHi.data_ptr<float>()[k] = logit[hi];
            sLo.data_ptr<float>()[k] = logit[lo];
        }
        torch::NoGradGuard noGrad;
        const auto aPair = pairActivation(aHi, aLo).contiguous();
        const auto weight = pairWeight(config.gate, aPair).contiguous();
        const auto hinge = pairHinge(sHi, sLo, config.method.margin).contiguous();
        std::vector<GatePair> out;
        out.reserve(hiLo.size());
        for (std::size_t k = 0; k < hiLo.size(); ++k) {
            const auto [hi, lo] = hiLo[k];
            GatePair p;
            const auto eh = entry(hi);
            const auto el = entry(lo);
            p.user = eh.user;
            p.higher = eh.item;
            p.lower = el.item;
            p.rHigher = eh.r;
            p.rLower = el.r;
            p.zHigher = eh.z;
            p.zLower = el.z;
            p.aHigher = eh.a;
            p.aLower = el.a;
            p.a = aPair.data_ptr<float>()[k];
            p.weight = weight.data_ptr<float>()[k];
            p.active = activeOf(p.weight);
            p.hinge = hinge.data_ptr<float>()[k];
            p.contribution = config.method.lambda * p.weight * p.hinge;
            p.reliabilityLabel =
                trainer->reliabilityLabel(entryUser[hi], scores->items[hi], scores->items[lo]);
            out.push_back(std::move(p));
        }
        return out;
    }
    // Opening, phase by phase (see the constructor).
    static RunRecord completedRun(const ExperimentStore& store, std::int64_t runId);
    static fs::path bestCheckpoint(const ExperimentStore& store, std::int64_t runId);
    bool loadInputs(const ExperimentStore& store, const RunRecord& rec,
                    const InspectOptions& options);
    void loadModel(const ExperimentStore& store, const fs::path& checkpoint);
    void readRecords(const ExperimentStore& store, std::int64_t runId);
    void describe(const ExperimentStore& store, const RunRecord& rec, bool verified);
    void buildLookups();
    void computeGate();

    void checkCancel(const InspectOptions& options) const
    {
        if (options.cancel && options.cancel->load(std::memory_order_relaxed))
            throw Error(ErrorKind::Cancelled, "opening the run inspector was cancelled");
    }
};

namespace {

void addToSummary(PairSummary& s, const GatePair& p)
{
    ++s.pairs;
    s.active += p.active;
    if (p.reliabilityLabel) {
        ++s.labeled;
        s.labeledTrue += *p.reliabilityLabel;
    }
    s.meanA += p.a;
    s.meanWeight += p.weight;
}

void finishSummary(PairSummary& s)
{
    if (s.pairs > 0) {
        s.meanA /= static_cast<double>(s.pairs);
        s.meanWeight /= static_cast<double>(s.pairs);
    }
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

RunInspector::RunInspector(const ExperimentStore& store, std::int64_t runId,
                           const InspectOptions& options)
    : m_state(std::make_unique<State>())
{
    const auto start = std::chrono::steady_clock::now();
    auto& st = *m_state;
    auto stage = [&](const char* s) {
        st.checkCancel(options);
        if (options.onStage)
            options.onStage(s);
    };
    const RunRecord rec = State::completedRun(store, runId);
    const fs::path checkpoint = State::bestCheckpoint(store, runId);
    st.config = runConfigFromJson(nlohmann::json::parse(rec.configJson));

    stage("loading data");
    const bool verified = st.loadInputs(store, rec, options);
    stage("loading the model");
    st.loadModel(store, checkpoint);
    stage("reading the run's records");
    st.readRecords(store, runId);
    st.describe(store, rec, verified);
    st.buildLookups();
    stage("computing the gate");
    st.computeGate();
    st.info.openSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

RunRecord RunInspector::State::completedRun(const ExperimentStore& store, std::int64_t runId)
{
    auto rec = store.run(runId);
    if (!rec)
        throw Error(ErrorKind::NotFound, "run " + std::to_string(runId) + " does not exist", {}, 0,
                    "'sllmr runs list' shows the runs");
    if (rec->status != RunStatus::Completed)
        throw Error(ErrorKind::Usage,
                    "run " + std::to_string(runId) + " is " + toString(rec->status) +
                        "; only completed runs can be inspected",
                    {}, 0,
                    "let it finish, or continue it with 'sllmr run --resume " +
                        std::to_string(runId) + "'");
    return std::move(*rec);
}

fs::path RunInspector::State::bestCheckpoint(const ExperimentStore& store, std::int64_t runId)
{
    const fs::path checkpoint = fs::path(checkpointDir(store, runId)) / "best.pt";
    std::error_code ec;
    if (!fs::is_regular_file(checkpoint, ec))
        throw Error(ErrorKind::NotFound,
                    "the model of run " + std::to_string(runId) + " is gone (no best.pt)",
                    checkpoint.string(), 0,
                    "run it again: 'sllmr runs show " + std::to_string(runId) +
                        " --json' prints its config");
    return checkpoint;
}

// Dataset, segmentation and scores, checked against the content hashes stored with the run;
// returns whether every stored hash was found and checked.
bool RunInspector::State::loadInputs(const ExperimentStore& store, const RunRecord& rec,
                                     const InspectOptions& options)
{
    const auto& cfg = config;
    const auto runId = rec.id;
    LoadControl load;
    load.cancel = options.cancel;
    dataset = loadDataset(cfg.dataset, load);
    bool verified = false;
    if (rec.datasetId) {
        if (const auto ds = store.dataset(*rec.datasetId)) {
            if (ds->contentHash != dataset.contentHash)
                throw Error(ErrorKind::BadInput,
                            "the dataset changed since run " + std::to_string(runId) +
                                " was trained (content hash differs)",
                            cfg.dataset.path, 0,
                            "restore the files the run was trained on, or run it again");
            verified = true;
        }
    }
    segmentation = computeSegments(dataset, cfg.dataset.segments);
    if (cfg.scores.given()) {
        scores =
            loadRunScores(cfg.scores, dataset, segmentation.tauUser, segmentation.tauItem, load);
        if (rec.scoreSetId) {
            if (const auto sc = store.scoreSet(*rec.scoreSetId)) {
                if (sc->contentHash != scores->report.contentHash)
                    throw Error(ErrorKind::BadInput,
                                (cfg.scores.simulate ? "the simulated LLM's scores differ from "
                                                       "those run "
                                                     : "the LLM score file changed since run ") +
                                    std::to_string(runId) +
                                    (cfg.scores.simulate ? " was trained with (content hash "
                                                           "differs: the simulator changed)"
                                                         : " was trained (content hash differs)"),
                                cfg.scores.source(), 0,
                                cfg.scores.simulate
                                    ? "inspect it with the version that trained it, or run it again"
                                    : "restore the score file the run was trained on, or run it "
                                      "again");
            } else {
                verified = false;
            }
        }
    }
    return verified;
}

void RunInspector::State::loadModel(const ExperimentStore& store, const fs::path& checkpoint)
{
    trainer = std::make_unique<Trainer>(config, dataset, segmentation, scores ? &*scores : nullptr);
    trainer->loadCheckpoint(checkpoint.string());
    if (config.gate.mode == GateMode::Random && config.gate.referenceRun > 0) {
        for (const auto& m : store.epochMetrics(config.gate.referenceRun))
            if (m.key == "gate_mean.overall")
                trainer->setRandomRate(m.value);
    }
}

void RunInspector::State::readRecords(const ExperimentStore& store, std::int64_t runId)
{
    storedBins = store.gateBins(runId);
    epochMetrics = store.epochMetrics(runId);
    for (const auto& m : store.interactionMetrics(runId, "auc"))
        storedAuc[{static_cast<std::uint32_t>(m.user), static_cast<std::uint32_t>(m.item)}] =
            m.value;
}

void RunInspector::State::describe(const ExperimentStore& store, const RunRecord& rec,
                                   bool verified)
{
    const auto& cfg = config;
    info.runId = rec.id;
    info.name = rec.name;
    info.model = cfg.model.type;
    info.method = toString(cfg.method.name);
    info.gateMode = toString(cfg.gate.mode);
    info.hasHinge = usesPairs(cfg.method.name);
    info.hard = cfg.gate.hard;
    info.tauA = cfg.gate.tauA;
    info.lambda = cfg.method.lambda;
    info.margin = cfg.method.margin;
    info.randomRate = trainer->randomRate();
    info.uncertainty = toString(cfg.gate.uncertainty);
    info.inputs = {cfg.gate.useCold, cfg.gate.useTail, cfg.gate.useUncertainty};
    info.tauUser = trainer->gateThresholds().tauUser;
    info.tauItem = trainer->gateThresholds().tauItem;
    for (const auto& m : epochMetrics)
        info.epochsRun = std::max(info.epochsRun, m.epoch);
    info.modelEpoch = info.epochsRun;
    for (const auto& s : store.segmentMetrics(rec.id))
        if (s.segment == "overall" && s.metric == "best_epoch")
            info.modelEpoch = static_cast<int>(s.value);
    info.evaluatedEpoch = cfg.train.restoreBest ? info.modelEpoch : info.epochsRun;
    info.datasetName = dataset.spec.name;
    info.scoresName = scores ? scores->spec.name : std::string();
    info.scoreKind = scores ? scores->report.kind : std::string();
    info.users = dataset.numUsers();
    info.items = dataset.numItems();
    info.hasTitles = dataset.itemInfo.hasTitles();
    info.inputsVerified = verified;
}

// Per-user lookups: sorted train items, test items, seen (train + validation) items.
void RunInspector::State::buildLookups()
{
    const auto users = dataset.numUsers();
    trainOffsets = dataset.trainOffsets();
    trainSorted.resize(dataset.train.size());
    for (std::size_t k = 0; k < dataset.train.size(); ++k)
        trainSorted[k] = dataset.train[k].item;
    for (std::uint32_t u = 0; u < users; ++u)
        std::sort(trainSorted.begin() + trainOffsets[u], trainSorted.begin() + trainOffsets[u + 1]);
    testItems.assign(users, {});
    seenItems.assign(users, {});
    for (const auto& r : dataset.test)
        testItems[r.user].push_back(r.item);
    for (const auto* part : {&dataset.train, &dataset.validation})
        for (const auto& r : *part)
            seenItems[r.user].push_back(r.item);
}

// The gate over every LLM-scored entry, in one forward pass.
void RunInspector::State::computeGate()
{
    if (!scores)
        return;
    const auto& sc = *scores;
    const auto n = sc.size();
    entryUser.resize(n);
    llmRank.resize(n);
    for (std::uint32_t u = 0; u < dataset.numUsers(); ++u) {
        const auto b = sc.offsets[u], e = sc.offsets[u + 1];
        if (e > b)
            ++info.usersWithScores;
        for (auto k = b; k < e; ++k) {
            entryUser[k] = u;
            int above = 0;
            for (auto l = b; l < e; ++l)
                above += sc.values[l] > sc.values[k];
            llmRank[k] = above + 1;
        }
    }
    info.scoredEntries = static_cast<std::int64_t>(n);
    const auto view = trainer->gateView(entryUser, sc.items);
    const auto* lp = view.logits.data_ptr<float>();
    const auto* zp = view.z.data_ptr<float>();
    const auto* ap = view.a.data_ptr<float>();
    logit.assign(lp, lp + n);
    a.assign(ap, ap + n);
    q.resize(n);
    for (std::size_t k = 0; k < n; ++k)
        q[k] = zp[3 * k + 2];
}

RunInspector::~RunInspector() = default;

const InspectedRun& RunInspector::run() const
{
    return m_state->info;
}

std::vector<GateBin> RunInspector::trainingBins(int epoch) const
{
    const int e = epoch > 0 ? epoch : m_state->info.evaluatedEpoch;
    std::vector<GateBin> out;
    for (const auto& b : m_state->storedBins)
        if (b.epoch == e)
            out.push_back(b);
    return out;
}

std::vector<GateBin> RunInspector::trainingBinsAllEpochs() const
{
    return m_state->storedBins;
}

std::vector<GateBin> RunInspector::finalBins() const
{
    const auto& st = *m_state;
    std::vector<GateBin> out;
    if (!st.scores)
        return out;
    for (const char* prefix : {"hist_", "pop_"}) {
        const bool hist = prefix[0] == 'h';
        int k = 0;
        for (const auto& s : st.segmentation.segments) {
            if (s.name.rfind(prefix, 0) != 0)
                continue;
            GateBin bin;
            bin.epoch = st.info.modelEpoch;
            bin.dimension = hist ? "history" : "popularity";
            bin.bin = k++;
            bin.lo = s.lo;
            bin.hi = std::isinf(s.hi) ? -1.0 : s.hi;
            double sum = 0, active = 0;
            for (std::size_t e = 0; e < st.a.size(); ++e) {
                if (!s.contains(st.entryUser[e], st.scores->items[e]))
                    continue;
                ++bin.count;
                sum += st.a[e];
                active += st.activeOf(st.a[e]);
            }
            if (bin.count > 0) {
                bin.meanActivation = sum / static_cast<double>(bin.count);
                bin.activeShare = active / static_cast<double>(bin.count);
            }
            out.push_back(bin);
        }
    }
    return out;
}

std::array<GateCell, 4> RunInspector::coldTailGrid() const
{
    const auto& st = *m_state;
    std::array<GateCell, 4> grid{};
    std::array<std::set<std::uint32_t>, 4> users, items;
    std::array<double, 4> sum{}, active{};
    for (int c = 0; c < 4; ++c) {
        grid[c].cold = c >= 2;
        grid[c].tail = c % 2 == 1;
    }
    for (std::size_t e = 0; e < st.a.size(); ++e) {
        const auto u = st.entryUser[e];
        const auto i = st.scores->items[e];
        const int c = (st.trainer->coldInputs()[u] > 0.5f ? 2 : 0) +
                      (st.trainer->tailInputs()[i] > 0.5f ? 1 : 0);
        ++grid[c].stats.count;
        sum[c] += st.a[e];
        active[c] += st.activeOf(st.a[e]);
        users[c].insert(u);
        items[c].insert(i);
    }
    for (int c = 0; c < 4; ++c) {
        auto& g = grid[c];
        if (g.stats.count > 0) {
            g.stats.meanActivation = sum[c] / static_cast<double>(g.stats.count);
            g.stats.activeShare = active[c] / static_cast<double>(g.stats.count);
        }
        g.users = static_cast<std::int64_t>(users[c].size());
        g.items = static_cast<std::int64_t>(items[c].size());
    }
    return grid;
}

ActivationHistogram RunInspector::histogram(int bins) const
{
    if (bins < 1)
        throw Error(ErrorKind::Usage, "a histogram needs at least one bin");
    const auto& st = *m_state;
    ActivationHistogram h;
    h.counts.assign(static_cast<std::size_t>(bins), 0);
    double sum = 0;
    for (const float v : st.a) {
        auto b = static_cast<int>(std::floor(static_cast<double>(v) * bins));
        b = std::clamp(b, 0, bins - 1);
        ++h.counts[static_cast<std::size_t>(b)];
        sum += v;
    }
    h.mean = st.a.empty() ? 0.0 : sum / static_cast<double>(st.a.size());
    return h;
}

std::vector<EpochGate> RunInspector::epochs() const
{
    std::map<int, EpochGate> byEpoch;
    for (const auto& m : m_state->epochMetrics) {
        auto& e = byEpoch[m.epoch];
        e.epoch = m.epoch;
        static const std::array<const char*, 4> keys{"gate_w_cold", "gate_w_tail", "gate_w_q",
                                                     "gate_b"};
        for (std::size_t k = 0; k < keys.size(); ++k)
            if (m.key == keys[k])
                e.parameters[k] = m.value;
        if (m.key.rfind("gate_mean.", 0) == 0)
            e.bySegment[m.key.substr(10)].meanActivation = m.value;
        else if (m.key.rfind("gate_active.", 0) == 0)
            e.bySegment[m.key.substr(12)].activeShare = m.value;
        else if (m.key == "val_auc.overall")
            e.validationAuc = m.value;
        else if (m.key == "pairs")
            e.pairs = static_cast<std::int64_t>(m.value);
        else if (m.key == "labeled_pairs")
            e.labeledPairs = static_cast<std::int64_t>(m.value);
    }
    std::vector<EpochGate> out;
    for (auto& [epoch, e] : byEpoch)
        out.push_back(std::move(e));
    return out;
}

double SegmentDirections::shareUp() const
{
    const double total = weightUp + weightDown;
    return total > 0 ? weightUp / total : std::numeric_limits<double>::quiet_NaN();
}

double SegmentDirections::meanWeightUp() const
{
    return up > 0 ? weightUp / static_cast<double>(up) : std::numeric_limits<double>::quiet_NaN();
}

double SegmentDirections::meanWeightDown() const
{
    return down > 0 ? weightDown / static_cast<double>(down)
                    : std::numeric_limits<double>::quiet_NaN();
}

std::vector<SegmentDirections> RunInspector::directions() const
{
    const auto& st = *m_state;
    std::vector<SegmentDirections> out;
    if (!st.scores || !st.info.hasHinge)
        return out;
    std::vector<const Segment*> segments;
    for (const auto& seg : st.segmentation.segments)
        if (seg.kind == "items") {
            segments.push_back(&seg);
            out.push_back({});
            out.back().segment = seg.name;
        }
    torch::NoGradGuard noGrad;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> hiLo;
    for (std::uint32_t u = 0; u + 1 < st.scores->offsets.size(); ++u) {
        const auto b = st.scores->offsets[u], e = st.scores->offsets[u + 1];
        hiLo.clear();
        for (auto hi = b; hi < e; ++hi)
            for (auto lo = b; lo < e; ++lo)
                if (st.scores->values[hi] > st.scores->values[lo])
                    hiLo.emplace_back(hi, lo);
        if (hiLo.empty())
            continue;
        // The pair weight from the gate's own functions, as in training and in pairs().
        const auto n = static_cast<std::int64_t>(hiLo.size());
        auto aHi = torch::empty({n}), aLo = torch::empty({n});
        for (std::int64_t k = 0; k < n; ++k) {
            aHi.data_ptr<float>()[k] = st.a[hiLo[static_cast<std::size_t>(k)].first];
            aLo.data_ptr<float>()[k] = st.a[hiLo[static_cast<std::size_t>(k)].second];
        }
        const auto weights = pairWeight(st.config.gate, pairActivation(aHi, aLo)).contiguous();
        for (std::int64_t k = 0; k < n; ++k) {
            const auto [hi, lo] = hiLo[static_cast<std::size_t>(k)];
            const double weight = weights.data_ptr<float>()[k];
            const bool active = st.activeOf(weight);
            const auto ih = st.scores->items[hi], il = st.scores->items[lo];
            for (std::size_t s = 0; s < segments.size(); ++s) {
                const bool inHigher = segments[s]->members[ih];
                const bool inLower = segments[s]->members[il];
                auto& d = out[s];
                if (inHigher && inLower) {
                    ++d.inside;
                } else if (inHigher) {
                    ++d.pairs;
                    ++d.up;
                    d.weightUp += weight;
                    d.activeUp += active;
                } else if (inLower) {
                    ++d.pairs;
                    ++d.down;
                    d.weightDown += weight;
                    d.activeDown += active;
                }
            }
        }
    }
    return out;
}

UserDrillDown RunInspector::user(const std::string& id) const
{
    const auto& st = *m_state;
    const auto found = st.dataset.users.findText(id);
    if (!found)
        throw Error(ErrorKind::NotFound, "user '" + id + "' is not in the run's dataset", {}, 0,
                    "use the original user id of the data file; --find searches ids and titles");
    const auto u = *found;
    UserDrillDown out;
    out.user = st.userRef(u);
    for (auto k = st.trainOffsets[u]; k < st.trainOffsets[u + 1]; ++k)
        out.history.push_back(st.itemRef(st.dataset.train[k].item));

    if (st.scores) {
        const auto b = st.scores->offsets[u], e = st.scores->offsets[u + 1];
        std::vector<std::uint32_t> order;
        for (auto k = b; k < e; ++k)
            order.push_back(k);
        std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
            return st.llmRank[x] < st.llmRank[y];
        });
        for (const auto k : order)
            out.scored.push_back(st.entry(k));
        if (st.info.hasHinge) {
            std::vector<std::pair<std::size_t, std::size_t>> hiLo;
            for (const auto hi : order)
                for (const auto lo : order)
                    if (st.scores->values[hi] > st.scores->values[lo])
                        hiLo.emplace_back(hi, lo);
            out.pairs = st.pairs(hiLo);
            for (const auto& p : out.pairs)
                addToSummary(out.pairSummary, p);
            finishSummary(out.pairSummary);
        }
    }

    out.meanTestAuc = std::numeric_limits<double>::quiet_NaN();
    if (!st.testItems[u].empty()) {
        torch::NoGradGuard noGrad;
        st.trainer->model().eval();
        const auto row = st.trainer->model()
                             .scoreAll(torch::tensor({static_cast<std::int64_t>(u)}, torch::kLong))
                             .contiguous();
        RankingOptions options;
        options.ks = st.config.eval.ks;
        const auto ranking =
            rankUser(std::span<const float>(row.data_ptr<float>(), st.dataset.numItems()),
                     st.testItems[u], st.seenItems[u], options);
        double sum = 0;
        for (const auto& r : ranking.perItem) {
            TestRanking t;
            t.item = st.itemRef(r.item);
            t.rank = r.rank;
            t.auc = r.auc;
            t.negatives = static_cast<std::int64_t>(r.negatives);
            if (const auto it = st.storedAuc.find({u, r.item}); it != st.storedAuc.end())
                t.storedAuc = it->second;
            sum += r.auc;
            out.tests.push_back(std::move(t));
        }
        if (!out.tests.empty())
            out.meanTestAuc = sum / static_cast<double>(out.tests.size());
    }
    return out;
}

ItemDrillDown RunInspector::item(const std::string& id) const
{
    const auto& st = *m_state;
    const auto found = st.dataset.items.findText(id);
    if (!found)
        throw Error(ErrorKind::NotFound, "item '" + id + "' is not in the run's dataset", {}, 0,
                    "use the original item id of the data file; --find searches ids and titles");
    const auto i = *found;
    ItemDrillDown out;
    out.item = st.itemRef(i);
    for (const auto& r : st.dataset.test)
        out.testUsers += r.item == i;
    if (!st.scores)
        return out;
    const auto& sc = *st.scores;
    std::vector<std::pair<std::size_t, std::size_t>> hiLo;
    std::vector<bool> asHigher;  // per pair: the item is the higher side
    for (std::uint32_t u = 0; u < st.dataset.numUsers(); ++u) {
        const auto b = sc.offsets[u], e = sc.offsets[u + 1];
        for (auto k = b; k < e; ++k) {
            if (sc.items[k] != i)
                continue;
            out.scoredBy.push_back(st.entry(k));
            if (!st.info.hasHinge)
                continue;
            for (auto l = b; l < e; ++l) {
                if (!(sc.values[k] > sc.values[l]) && !(sc.values[l] > sc.values[k]))
                    continue;
                const bool higher = sc.values[k] > sc.values[l];
                hiLo.emplace_back(higher ? k : l, higher ? l : k);
                asHigher.push_back(higher);
            }
        }
    }
    out.pairs = st.pairs(hiLo);
    for (std::size_t k = 0; k < out.pairs.size(); ++k)
        addToSummary(asHigher[k] ? out.asHigher : out.asLower, out.pairs[k]);
    finishSummary(out.asHigher);
    finishSummary(out.asLower);
    return out;
}

std::vector<SearchHit> RunInspector::find(const std::string& text, std::size_t limit) const
{
    const auto& st = *m_state;
    std::vector<SearchHit> out;
    if (text.empty() || limit == 0)
        return out;
    auto itemHit = [&](std::uint32_t i) {
        const auto r = st.itemRef(i);
        return SearchHit{"item", r.id, r.title,
                         "popularity " + std::to_string(r.popularity) + (r.tail ? ", tail" : "")};
    };
    if (const auto u = st.dataset.users.findText(text)) {
        const auto r = st.userRef(*u);
        out.push_back({"user",
                       r.id,
                       {},
                       "history " + std::to_string(r.historyLength) + (r.cold ? ", cold" : "")});
    }
    std::optional<std::uint32_t> exactItem = st.dataset.items.findText(text);
    if (exactItem && out.size() < limit)
        out.push_back(itemHit(*exactItem));
    if (st.dataset.itemInfo.hasTitles()) {
        const auto needle = lower(text);
        const auto& titles = st.dataset.itemInfo.titles;
        for (std::uint32_t i = 0; i < titles.size() && out.size() < limit; ++i) {
            if (exactItem && *exactItem == i)
                continue;
            if (lower(titles[i]).find(needle) != std::string::npos)
                out.push_back(itemHit(i));
        }
    }
    return out;
}

}  // namespace sllmr
