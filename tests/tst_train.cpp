// The training engine: config handling, the LLM hinge's effect on the backbone, every method and
// gate mode, the paper gate's collapse and the reliability gate's stability on the shipped data,
// determinism, cancellation and the gate inspector. (Runs driven through the `sllmr` binary are in
// tst_cli.)
#include "common/error.h"
#include "common/thread_generator.h"
#include "common/torch_runtime.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "inspect/gate_inspector.h"
#include "llm/scores.h"
#include "run/runner.h"
#include "store/experiment_store.h"
#include "train/adam_row.h"
#include "train/dense_adam.h"
#include "train/lazy_adam.h"
#include "train/reference_run.h"
#include "train/reference_scorer.h"
#include "train/run_checks.h"
#include "train/run_config.h"
#include "train/trainer.h"
#include "train_configs.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

using namespace sllmr;
using nlohmann::json;

namespace {

using testconfigs::demoConfig;
using testconfigs::inspectConfig;
using testconfigs::tinyConfig;

const QString kFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/train");

std::string fixture(const char* name)
{
    return (kFixtures + QLatin1Char('/') + QLatin1String(name)).toStdString();
}

template <typename Fn>
std::optional<Error> errorFrom(Fn&& fn)
{
    try {
        fn();
    } catch (const Error& error) {
        return error;
    }
    return std::nullopt;
}

struct Loaded
{
    Dataset dataset;
    Segmentation segmentation;
    ScoreSet scores;
};

Loaded load(const RunConfig& c)
{
    Loaded l{loadDataset(c.dataset), {}, {}};
    l.segmentation = computeSegments(l.dataset, c.dataset.segments);
    l.scores = loadScores(c.scores, l.dataset);
    return l;
}

float logitOf(Trainer& t, const Dataset& ds, std::uint64_t user, std::uint64_t item)
{
    torch::NoGradGuard noGrad;
    t.model().eval();
    const auto u = static_cast<std::int64_t>(*ds.users.find(user));
    const auto i = static_cast<std::int64_t>(*ds.items.find(item));
    return t.model().forward(torch::tensor({u}), torch::tensor({i})).item<float>();
}

void flattenKeys(const json& j, const std::string& prefix, std::set<std::string>& out)
{
    for (const auto& [k, v] : j.items()) {
        const auto key = prefix.empty() ? k : prefix + "." + k;
        if (v.is_object())
            flattenKeys(v, key, out);
        else
            out.insert(key);
    }
}

}  // namespace

class TestTrain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void configTemplateAndDescribe();
    void configErrorsNameTheKey();
    void hingeMovesPairwiseOrderTowardsTheLlm();
    void everyMethodAndGateModeTrains_data();
    void everyMethodAndGateModeTrains();
    void paperGateCollapsesReliabilityGateDoesNot();
    void sameConfigAndSeedGiveSameMetrics();
    void everyBackboneIsDeterministic_data();
    void everyBackboneIsDeterministic();
    void cancelStopsWithinASecond();
    void inspectorMatchesStoreAndGate();
    void directionsMixedPairs();
    void inspectorErrors();
    void referenceMethodsMatchDirectComputation();
    void heldOutScoresWarnAndDrop();
    void gateWithoutLabelsSaysSo();
    void lazyAdamMatchesAdamOnTouchedRows();
    void pairSidesAreScoredOnce();
    void denseAdamEqualsTorchAdam();
    void batchSharesSumToTheBatch_data();
    void batchSharesSumToTheBatch();
    void batchSharesAreDeterministic();
    void shareGeneratorsDrawDistinctNoise();
    void largeTensorBlocksAreReused();
};

void TestTrain::initTestCase()
{
    qputenv("SLLMR_DEMO_DIR", QByteArray(SLLMR_DEMO_DIR));
    torch::set_num_threads(1);
}

void TestTrain::configTemplateAndDescribe()
{
    const json t = toJson(defaultRunConfig());
    // The template reads back strictly and names the bundled demo portably.
    const RunConfig back = runConfigFromJson(t);
    QVERIFY(QFileInfo::exists(QString::fromStdString(back.dataset.path)));
    QVERIFY(t["dataset"]["path"].get<std::string>().rfind("demo:", 0) == 0);
    QCOMPARE(back.model.type, std::string("mf"));
    QCOMPARE(back.method.lambda, 0.1);
    QCOMPARE(back.train.batchSize, 128);
    QCOMPARE(back.model.dim, 64);
    // Every key of the template is described.
    std::set<std::string> keys;
    flattenKeys(t, "", keys);
    std::set<std::string> described;
    for (const auto& d : describeRunConfig())
        described.insert(d.key);
    for (const auto& k : keys)
        QVERIFY2(described.count(k), k.c_str());
    // The hash ignores the display name and sees everything else.
    RunConfig a = back;
    RunConfig b = back;
    b.name = "another name";
    QCOMPARE(configHash(a), configHash(b));
    b.method.lambda = 0.2;
    QVERIFY(configHash(a) != configHash(b));
    // train.parallel is written only when set, so that stored configs keep their hashes.
    QVERIFY(!t["train"].contains("parallel"));
    b = back;
    b.train.parallel = TrainParallel::Batch;
    QVERIFY(configHash(a) != configHash(b));
    QVERIFY(runConfigFromJson(toJson(b)).train.parallel == TrainParallel::Batch);
    QVERIFY(described.count("train.parallel"));
}

void TestTrain::configErrorsNameTheKey()
{
    json t = toJson(defaultRunConfig());
    auto expectError = [](const json& j, const char* key) {
        try {
            runConfigFromJson(j);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(key) != std::string::npos, e.what());
            QCOMPARE(e.kind(), ErrorKind::Usage);
        }
    };
    json bad = t;
    bad["method"]["lamda"] = 0.1;
    expectError(bad, "method.lamda");
    bad = t;
    bad["method"]["lambda"] = -1;
    expectError(bad, "method.lambda");
    bad = t;
    bad["gate"]["mode"] = "sometimes";
    expectError(bad, "gate.mode");
    bad = t;
    bad["model"]["dim"] = 0;
    expectError(bad, "model.dim");
    bad = t;
    bad["train"]["batch_size"] = "big";
    expectError(bad, "train.batch_size");
    // A JSON syntax error names file and line.
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("broken.json")).toStdString();
    std::ofstream(path)
        << "{\n  \"seed\": 1,\n  \"dataset\": {\n    \"path\": \"x\"\n  \n  \"name\": 2\n}\n";
    try {
        loadRunConfig(path);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QCOMPARE(e.line(), std::int64_t(6));
    }
}

void TestTrain::hingeMovesPairwiseOrderTowardsTheLlm()
{
    // User 1: the LLM ranks item 14 above item 15; neither is a positive of user 1.
    RunConfig none = tinyConfig();
    none.method.name = MethodName::None;
    RunConfig global = tinyConfig();
    global.method.name = MethodName::Global;
    global.gate.mode = GateMode::Off;
    global.method.lambda = 2.0;
    const Loaded data = load(global);
    Trainer a(none, data.dataset, data.segmentation, &data.scores);
    Trainer b(global, data.dataset, data.segmentation, &data.scores);
    // Same seed: both start from the same parameters.
    QCOMPARE(logitOf(a, data.dataset, 1, 14), logitOf(b, data.dataset, 1, 14));
    for (int epoch = 1; epoch <= 40; ++epoch) {
        EpochResult r;
        QVERIFY(a.trainEpoch(epoch, {}, r));
        QCOMPARE(r.llmLoss, 0.0);
        QVERIFY(b.trainEpoch(epoch, {}, r));
    }
    const float gapNone = logitOf(a, data.dataset, 1, 14) - logitOf(a, data.dataset, 1, 15);
    const float gapGlobal = logitOf(b, data.dataset, 1, 14) - logitOf(b, data.dataset, 1, 15);
    QVERIFY2(
        gapGlobal > gapNone + 0.5f,
        qPrintable(QStringLiteral("gap with hinge %1, without %2").arg(gapGlobal).arg(gapNone)));
    QVERIFY2(gapGlobal > 0.5f, qPrintable(QString::number(gapGlobal)));
    const float gap2 = logitOf(b, data.dataset, 2, 12) - logitOf(b, data.dataset, 2, 15);
    QVERIFY2(gap2 > 0.5f, qPrintable(QString::number(gap2)));
}

void TestTrain::everyMethodAndGateModeTrains_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("gate");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("uncertainty");
    QTest::addColumn<bool>("hard");
    for (const char* model : {"mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"}) {
        const QString m = QLatin1String(model);
        QTest::addRow("%s none", model) << "none"
                                        << "off" << m << "entropy" << false;
        QTest::addRow("%s kd", model) << "kd"
                                      << "off" << m << "entropy" << false;
        QTest::addRow("%s pointwise", model) << "pointwise"
                                             << "off" << m << "entropy" << false;
        QTest::addRow("%s global", model) << "global"
                                          << "off" << m << "entropy" << false;
        for (const char* gate : {"paper", "reliability", "threshold", "random"})
            QTest::addRow("%s selective %s", model, gate)
                << "selective" << QString::fromLatin1(gate) << m << "entropy" << false;
    }
    QTest::newRow("mf reliability margin") << "selective"
                                           << "reliability"
                                           << "mf"
                                           << "margin" << false;
    QTest::newRow("deepfm reliability dropout") << "selective"
                                                << "reliability"
                                                << "deepfm"
                                                << "dropout" << false;
    QTest::newRow("mf paper hard") << "selective"
                                   << "paper"
                                   << "mf"
                                   << "entropy" << true;
    QTest::newRow("mf reliability hard") << "selective"
                                         << "reliability"
                                         << "mf"
                                         << "entropy" << true;
}

void TestTrain::everyMethodAndGateModeTrains()
{
    QFETCH(QString, method);
    QFETCH(QString, gate);
    QFETCH(QString, model);
    QFETCH(QString, uncertainty);
    QFETCH(bool, hard);
    RunConfig c = tinyConfig();
    c.method.name = *parseChoice<MethodName>(method.toStdString());
    c.gate.mode = *parseChoice<GateMode>(gate.toStdString());
    c.model.type = model.toStdString();
    c.model.hidden = {16};
    c.model.dropout = 0.2;
    c.gate.uncertainty = *parseChoice<GateUncertainty>(uncertainty.toStdString());
    c.gate.hard = hard;
    c.gate.randomRate = 0.3;
    const Loaded data = load(c);
    Trainer t(c, data.dataset, data.segmentation, &data.scores);
    EpochResult r;
    for (int epoch = 1; epoch <= 3; ++epoch)
        QVERIFY(t.trainEpoch(epoch, {}, r));
    QVERIFY(std::isfinite(r.baseLoss) && r.baseLoss > 0);
    if (method == QLatin1String("none")) {
        QCOMPARE(r.llmLoss, 0.0);
        QCOMPARE(r.pairs, std::int64_t(0));
    } else {
        QVERIFY(r.pairs > 0);
        QVERIFY(std::isfinite(r.llmLoss));
    }
    if (method == QLatin1String("selective") || method == QLatin1String("global")) {
        QVERIFY(r.gate.count("overall"));
        const double mean = r.gate.at("overall").mean();
        QVERIFY(mean >= 0.0 && mean <= 1.0);
        if (gate == QLatin1String("off"))
            QCOMPARE(mean, 1.0);
    }
    // No LLM item of the tiny data is a training positive of its user: no pair has a reliability
    // label, so no gate mode has a gate loss.
    QCOMPARE(r.labeledPairs, std::int64_t(0));
    QCOMPARE(r.gateLoss, 0.0);
    // Evaluation runs on every backbone and gives a sane AUC.
    const Evaluation ev =
        evaluate(t.model(), data.dataset, data.segmentation, &data.scores, c.eval, c.seed);
    const double auc = ev.metrics.at("overall").at("auc");
    QVERIFY(auc >= 0.0 && auc <= 1.0);
    QCOMPARE(ev.sizes.at("overall"), std::int64_t(4));
}

void TestTrain::paperGateCollapsesReliabilityGateDoesNot()
{
    RunConfig paper = demoConfig("selective", "paper", 4);
    RunConfig reliability = demoConfig("selective", "reliability", 4);
    const Loaded data = load(paper);
    std::vector<double> paperMean, reliabilityMean;
    std::map<std::string, double> lastReliability;
    std::array<double, 4> paperParams{};
    {
        Trainer t(paper, data.dataset, data.segmentation, &data.scores);
        for (int e = 1; e <= paper.train.epochs; ++e) {
            EpochResult r;
            QVERIFY(t.trainEpoch(e, {}, r));
            paperMean.push_back(r.gate.at("overall").mean());
            paperParams = r.gateParameters;
        }
    }
    {
        Trainer t(reliability, data.dataset, data.segmentation, &data.scores);
        for (int e = 1; e <= reliability.train.epochs; ++e) {
            EpochResult r;
            QVERIFY(t.trainEpoch(e, {}, r));
            QVERIFY(r.labeledPairs > 0);
            reliabilityMean.push_back(r.gate.at("overall").mean());
            for (const auto& [seg, g] : r.gate)
                lastReliability[seg] = g.mean();
        }
    }
    const QString trace = QStringLiteral("paper %1 -> %2, reliability %3 -> %4")
                              .arg(paperMean.front())
                              .arg(paperMean.back())
                              .arg(reliabilityMean.front())
                              .arg(reliabilityMean.back());
    // The paper gate can only close: every epoch lower, and its bias fell below zero.
    for (std::size_t k = 1; k < paperMean.size(); ++k)
        QVERIFY2(paperMean[k] < paperMean[k - 1], qPrintable(trace));
    QVERIFY2(paperMean.back() < 0.5 * paperMean.front() || paperMean.back() < 0.25,
             qPrintable(trace));
    QVERIFY2(paperParams[3] < 0, qPrintable(trace));
    // The reliability gate keeps a stable activation ...
    QVERIFY2(reliabilityMean.back() > 0.8 * reliabilityMean.front(), qPrintable(trace));
    QVERIFY2(reliabilityMean.back() > paperMean.back() + 0.1, qPrintable(trace));
    // ... that depends on where it is: cold vs warm users or tail vs head items differ.
    const double coldGap = std::abs(lastReliability["cold"] - lastReliability["warm"]);
    const double tailGap = std::abs(lastReliability["tail"] - lastReliability["head"]);
    QVERIFY2(
        std::max(coldGap, tailGap) > 0.02,
        qPrintable(QStringLiteral("cold/warm gap %1, tail/head gap %2").arg(coldGap).arg(tailGap)));
}

void TestTrain::everyBackboneIsDeterministic_data()
{
    QTest::addColumn<QString>("model");
    for (const auto& type : backboneTypes())
        QTest::newRow(type.c_str()) << QString::fromStdString(type);
}

// Same config and seed: bit-identical evaluation after training on the tiny data; another seed
// differs.
void TestTrain::everyBackboneIsDeterministic()
{
    QFETCH(QString, model);
    RunConfig c = tinyConfig();
    c.method.name = MethodName::Selective;
    c.model.type = model.toStdString();
    c.model.hidden = {16};
    c.model.dropout = 0.2;
    const Loaded data = load(c);
    auto train = [&](std::uint64_t seed) {
        c.seed = seed;
        Trainer t(c, data.dataset, data.segmentation, &data.scores);
        EpochResult r;
        for (int epoch = 1; epoch <= 2; ++epoch)
            t.trainEpoch(epoch, {}, r);  // its result is checked by everyMethodAndGateModeTrains
        t.model().eval();
        return t.model().scoreAll(
            torch::arange(static_cast<std::int64_t>(data.dataset.numUsers()), torch::kLong));
    };
    const auto a = train(3);
    const auto b = train(3);
    const auto other = train(4);
    QVERIFY(torch::equal(a, b));
    QVERIFY(!torch::equal(a, other));
}

void TestTrain::sameConfigAndSeedGiveSameMetrics()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    RunConfig c = demoConfig("selective", "reliability", 2);
    const auto a = executeRun(c, store);
    const auto b = executeRun(c, store);
    QCOMPARE(a.status, RunStatus::Completed);
    QCOMPARE(b.status, RunStatus::Completed);
    const auto ma = store.segmentMetrics(a.runId);
    const auto mb = store.segmentMetrics(b.runId);
    QCOMPARE(ma.size(), mb.size());
    QVERIFY(ma.size() > 20);
    for (std::size_t k = 0; k < ma.size(); ++k) {
        QCOMPARE(ma[k].segment, mb[k].segment);
        QCOMPARE(ma[k].metric, mb[k].metric);
        if (std::isnan(ma[k].value))
            QVERIFY(std::isnan(mb[k].value));
        else
            QCOMPARE(ma[k].value, mb[k].value);  // bit for bit
    }
    // The gate's activity per segment is stored with the metrics.
    const auto gateMean = std::find_if(ma.begin(), ma.end(), [](const SegmentMetric& m) {
        return m.segment == "tail" && m.metric == "gate_mean";
    });
    QVERIFY(gateMean != ma.end());
    QVERIFY(gateMean->value > 0.0 && gateMean->value < 1.0);
    // Per-interaction AUC values for paired tests are stored.
    QCOMPARE(store.interactionMetrics(a.runId, "auc").size(), std::size_t(12629));
    // Another seed gives other numbers.
    c.seed = 7;
    const auto d = executeRun(c, store);
    const auto md = store.segmentMetrics(d.runId);
    bool differs = false;
    for (std::size_t k = 0; k < ma.size() && k < md.size(); ++k)
        differs = differs || (ma[k].metric == "auc" && ma[k].value != md[k].value);
    QVERIFY(differs);
}

void TestTrain::cancelStopsWithinASecond()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    RunConfig c = demoConfig("selective", "reliability", 50);
    std::atomic<bool> cancel{false};
    std::atomic<bool> training{false};
    RunCallbacks cb;
    cb.cancel = &cancel;
    cb.onBatch = [&](const BatchProgress&) { training = true; };
    RunOutcome outcome;
    std::thread worker([&] {
        ExperimentStore own(store.path());
        outcome = executeRun(c, own, cb);
    });
    QTRY_VERIFY_WITH_TIMEOUT(training.load(), 30000);
    QTest::qWait(1500);
    const auto start = std::chrono::steady_clock::now();
    cancel = true;
    worker.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    QVERIFY2(seconds < 1.0, qPrintable(QString::number(seconds)));
    QCOMPARE(outcome.status, RunStatus::Cancelled);
    QCOMPARE(store.run(outcome.runId)->status, RunStatus::Cancelled);
}

// A tiny selective run with titles and a few LLM items per user, stored in `dir`.
// Recomputes RunInspector::directions() from every user's candidate pairs (the user drill-down)
// for every item segment and compares; returns the mixed pairs in all and the tail's split.
struct DirectionsCheck
{
    std::int64_t mixed = 0;
    SegmentDirections tail;
};

DirectionsCheck checkDirections(const RunInspector& inspector, const Loaded& data)
{
    DirectionsCheck out;
    const auto directions = inspector.directions();
    if (directions.empty())
        throw std::runtime_error("directions() is empty for a run with the hinge");
    for (const auto& dt : directions) {
        const auto* seg = data.segmentation.find(dt.segment);
        if (!seg || seg->kind != "items")
            throw std::runtime_error("directions() names a non-item segment " + dt.segment);
        SegmentDirections want;
        for (std::uint32_t u = 0; u < data.dataset.numUsers(); ++u)
            for (const auto& p : inspector.user(data.dataset.users.label(u)).pairs) {
                const bool hi = seg->members[p.higher.index];
                const bool lo = seg->members[p.lower.index];
                if (hi && lo) {
                    ++want.inside;
                } else if (hi) {
                    ++want.up;
                    want.weightUp += p.weight;
                    want.activeUp += p.active;
                } else if (lo) {
                    ++want.down;
                    want.weightDown += p.weight;
                    want.activeDown += p.active;
                }
            }
        const bool same =
            dt.pairs == want.up + want.down && dt.up == want.up && dt.down == want.down &&
            dt.inside == want.inside && dt.activeUp == want.activeUp &&
            dt.activeDown == want.activeDown && std::abs(dt.weightUp - want.weightUp) < 1e-9 &&
            std::abs(dt.weightDown - want.weightDown) < 1e-9 &&
            (want.weightUp + want.weightDown <= 0 ||
             std::abs(dt.shareUp() - want.weightUp / (want.weightUp + want.weightDown)) < 1e-9) &&
            (want.up == 0 || std::abs(dt.meanWeightUp() - want.weightUp / want.up) < 1e-9) &&
            (want.down == 0 || std::abs(dt.meanWeightDown() - want.weightDown / want.down) < 1e-9);
        if (!same)
            throw std::runtime_error("directions() differs from the pairs for segment " +
                                     dt.segment);
        out.mixed += want.up + want.down;
        if (dt.segment == "tail")
            out.tail = dt;
    }
    return out;
}

void TestTrain::inspectorMatchesStoreAndGate()
{
    QTemporaryDir dir;
    const auto dbPath = dir.filePath(QStringLiteral("experiments.db")).toStdString();
    ExperimentStore store(dbPath);
    const RunConfig c = inspectConfig();
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    const RunInspector inspector(store, outcome.runId);
    const auto& run = inspector.run();
    QVERIFY(run.inputsVerified);
    QVERIFY(run.hasTitles);
    QCOMPARE(run.modelEpoch, outcome.bestEpoch);
    QCOMPARE(run.scoredEntries, std::int64_t(12));

    // (a) Binned activation equals gate_bins read with plain SQL.
    {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open_v2(dbPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        QCOMPARE(sqlite3_prepare_v2(db,
                                    "SELECT dimension, bin, count, mean_activation, active_share "
                                    "FROM gate_bins WHERE run_id = ? AND epoch = ? "
                                    "ORDER BY dimension, bin",
                                    -1, &st, nullptr),
                 SQLITE_OK);
        sqlite3_bind_int64(st, 1, outcome.runId);
        sqlite3_bind_int(st, 2, run.modelEpoch);
        const auto bins = inspector.trainingBins();
        std::size_t k = 0;
        std::int64_t total = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            QVERIFY(k < bins.size());
            QCOMPARE(bins[k].dimension,
                     std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))));
            QCOMPARE(bins[k].bin, sqlite3_column_int(st, 1));
            QCOMPARE(bins[k].count, static_cast<std::int64_t>(sqlite3_column_int64(st, 2)));
            QCOMPARE(bins[k].meanActivation, sqlite3_column_double(st, 3));
            QCOMPARE(bins[k].activeShare, sqlite3_column_double(st, 4));
            total += bins[k].count;
            ++k;
        }
        QCOMPARE(k, bins.size());
        QVERIFY(total > 0);
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM gate_bins WHERE run_id = ?", -1, &st, nullptr);
        sqlite3_bind_int64(st, 1, outcome.runId);
        QCOMPARE(sqlite3_step(st), SQLITE_ROW);
        QCOMPARE(static_cast<std::int64_t>(inspector.trainingBinsAllEpochs().size()),
                 static_cast<std::int64_t>(sqlite3_column_int64(st, 0)));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }

    // Independent reload of the run's data, model and gate.
    const Loaded data = load(c);
    Trainer reference(c, data.dataset, data.segmentation, &data.scores);
    reference.loadCheckpoint(checkpointDir(store, outcome.runId) + "/best.pt");
    const auto* cold = data.segmentation.find("cold");
    const auto* tail = data.segmentation.find("tail");
    QVERIFY(cold && tail);

    // (b) The grid counts every scored entry once, split as the cold and tail segments say.
    const auto grid = inspector.coldTailGrid();
    std::int64_t sum = 0;
    std::array<std::int64_t, 4> expected{};
    for (std::uint32_t u = 0; u < data.dataset.numUsers(); ++u)
        for (auto k = data.scores.offsets[u]; k < data.scores.offsets[u + 1]; ++k)
            ++expected[(cold->members[u] ? 2 : 0) + (tail->members[data.scores.items[k]] ? 1 : 0)];
    for (std::size_t cell = 0; cell < 4; ++cell) {
        sum += grid[cell].stats.count;
        QCOMPARE(grid[cell].stats.count, expected[cell]);
        QCOMPARE(grid[cell].cold, cell >= 2);
    }
    QCOMPARE(sum, static_cast<std::int64_t>(data.scores.size()));
    // (c) and (d)
    const auto hist = inspector.histogram(20);
    std::int64_t histTotal = 0;
    for (auto n : hist.counts)
        histTotal += n;
    QCOMPARE(histTotal, sum);
    const auto epochs = inspector.epochs();
    QCOMPARE(epochs.size(), std::size_t(3));
    QVERIFY(epochs.back().bySegment.count("overall"));
    QVERIFY(epochs.back().parameters[3] != 0.0);  // the reliability gate learned a bias

    // User 1: test rank and AUC equal the stored evaluation; pair gates equal the Gate module.
    const auto d = inspector.user("1");
    QCOMPARE(d.user.historyLength, std::uint32_t(3));
    QCOMPARE(d.history.size(), std::size_t(3));
    QCOMPARE(d.history.front().title, std::string("Toy Story (1995)"));
    QCOMPARE(d.scored.size(), std::size_t(4));
    QCOMPARE(d.scored.front().item.id, std::string("14"));
    QCOMPARE(d.scored.front().llmRank, 1);
    QCOMPARE(d.pairs.size(), std::size_t(6));  // 4 items, distinct r
    QVERIFY(d.scored[1].trainPositive);        // item 10 is in user 1's history
    const auto stored = store.interactionMetrics(outcome.runId, "auc");
    QCOMPARE(d.tests.size(), std::size_t(1));
    QCOMPARE(d.tests[0].item.id, std::string("13"));
    bool matched = false;
    for (const auto& m : stored)
        if (m.user == d.user.index && m.item == d.tests[0].item.index) {
            QCOMPARE(d.tests[0].auc, m.value);
            matched = true;
        }
    QVERIFY(matched);
    QVERIFY(d.tests[0].storedAuc && *d.tests[0].storedAuc == d.tests[0].auc);
    QCOMPARE(d.tests[0].negatives, std::int64_t(6 - 3 - 1));
    {
        torch::NoGradGuard noGrad;
        reference.model().eval();
        int labels = 0;
        for (const auto& p : d.pairs) {
            const auto u = static_cast<std::int64_t>(d.user.index);
            const auto s = reference.model().forward(
                torch::tensor({u, u}), torch::tensor({static_cast<std::int64_t>(p.higher.index),
                                                      static_cast<std::int64_t>(p.lower.index)}));
            const auto q = uncertaintyFromProbability(torch::sigmoid(s), GateUncertainty::Entropy);
            const float coldU = cold->members[d.user.index] ? 1.0f : 0.0f;
            const auto z =
                torch::stack({torch::full({2}, coldU),
                              torch::tensor({tail->members[p.higher.index] ? 1.0f : 0.0f,
                                             tail->members[p.lower.index] ? 1.0f : 0.0f}),
                              q},
                             1);
            const auto a = reference.gate().forward(z);
            QCOMPARE(static_cast<float>(p.aHigher), a[0].item<float>());
            QCOMPARE(static_cast<float>(p.aLower), a[1].item<float>());
            QCOMPARE(static_cast<float>(p.zHigher[2]), q[0].item<float>());
            QVERIFY(std::abs(p.a - 0.5 * (p.aHigher + p.aLower)) < 1e-6);
            QCOMPARE(p.weight, p.a);  // soft gate
            const double hinge =
                std::max(0.0, c.method.margin -
                                  (static_cast<double>(s[0].item<float>()) - s[1].item<float>()));
            QVERIFY(std::abs(p.hinge - hinge) < 1e-5);
            QVERIFY(std::abs(p.contribution - c.method.lambda * p.a * p.hinge) < 1e-9);
            QVERIFY(p.a > 0.0 && p.a < 1.0);
            // Item 10 is a train positive of user 1, the others are not: labelled pairs.
            const bool hasTen = p.higher.id == "10" || p.lower.id == "10";
            QCOMPARE(p.reliabilityLabel.has_value(), hasTen);
            if (hasTen) {
                QCOMPARE(*p.reliabilityLabel, p.higher.id == "10");
                ++labels;
            }
        }
        QCOMPARE(labels, 3);
    }

    // Item drill-down: item 10 is in the lists of users 1, 3 and 4.
    const auto it = inspector.item("10");
    QCOMPARE(it.scoredBy.size(), std::size_t(3));
    QCOMPARE(it.item.title, std::string("Toy Story (1995)"));
    QCOMPARE(static_cast<std::size_t>(it.asHigher.pairs + it.asLower.pairs), it.pairs.size());
    QCOMPARE(it.asHigher.pairs, std::int64_t(2 + 1 + 0));
    QCOMPARE(it.asLower.pairs, std::int64_t(1 + 1 + 1));

    // (e) Directions: recomputed from every user's candidate pairs, for every item segment. On this
    // fixture every item has popularity 2, so every scored item is a tail item, every pair lies
    // inside a segment (13 in tail and pop_1) and none is mixed; directionsMixedPairs gives the
    // tail both directions.
    QCOMPARE(checkDirections(inspector, data).mixed, std::int64_t(0));

    // Search: by title substring, case-insensitive, and by id.
    const auto hits = inspector.find("TOY");
    QCOMPARE(hits.size(), std::size_t(2));
    QCOMPARE(hits[0].id, std::string("10"));
    QCOMPARE(hits[1].id, std::string("13"));
    const auto byId = inspector.find("2");
    QVERIFY(!byId.empty());
    QCOMPARE(byId[0].kind, std::string("user"));
    QVERIFY(inspector.find("no such title").empty());
}

void TestTrain::directionsMixedPairs()
{
    // tiny_train.tsv with item 10 bought by one more user (popularity 3) and item 12 by two more
    // (popularity 4); with Tail(i) = pop(i) < 3 they are the head, items 11, 13, 14, 15 the tail.
    // The LLM lists rank 10 and 12 above some tail items and below others, so the tail has mixed
    // pairs in both directions.
    QTemporaryDir dir;
    const auto train = dir.filePath(QStringLiteral("train.tsv")).toStdString();
    std::filesystem::copy_file(fixture("tiny_train.tsv"), train);
    {
        std::ofstream out(train, std::ios::app);
        out << "3\t10\t4\t4\n2\t12\t4\t4\n4\t12\t4\t4\n";
    }
    RunConfig c = inspectConfig();
    c.dataset.path = train;
    c.dataset.segments.tail = {"absolute", 3};
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    const RunInspector inspector(store, outcome.runId);
    const Loaded data = load(c);
    const auto* tail = data.segmentation.find("tail");
    QVERIFY(tail);
    QVERIFY(!tail->members[*data.dataset.items.find(std::uint64_t{10})]);
    QVERIFY(!tail->members[*data.dataset.items.find(std::uint64_t{12})]);

    const auto check = checkDirections(inspector, data);
    QVERIFY(check.mixed > 0);
    // By hand from tiny_llm_inspect.tsv (rank 1 is the highest r), pairs with one head side:
    // user 1 (14, 10, 15, 13): 14 > 10 pushes the tail item 14 up; 10 > 15 and 10 > 13 push 15
    // and 13 down. User 2 (12, 15, 11): 12 > 15, 12 > 11, down. User 3 (13, 10, 11): 13 > 10 up,
    // 10 > 11 down. User 4 (12, 10): both head, no tail side. Tail: 2 up, 5 down.
    QCOMPARE(check.tail.up, std::int64_t(2));
    QCOMPARE(check.tail.down, std::int64_t(5));
    QVERIFY(check.tail.weightUp > 0 && check.tail.weightDown > 0);
    QVERIFY(check.tail.shareUp() > 0 && check.tail.shareUp() < 1);
}

void TestTrain::inspectorErrors()
{
    QTemporaryDir dir;
    // The run trains on a copy of the data so that the test can change it afterwards.
    const auto trainCopy = dir.filePath(QStringLiteral("train.tsv")).toStdString();
    std::filesystem::copy_file(fixture("tiny_train.tsv"), trainCopy);
    RunConfig c = inspectConfig();
    c.dataset.path = trainCopy;
    c.train.epochs = 1;
    c.gate.hard = true;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    {
        // With the hard switch a pair's weight is 1[a > tau_a].
        const RunInspector inspector(store, outcome.runId);
        const auto d = inspector.user("1");
        QCOMPARE(d.pairs.size(), std::size_t(6));
        for (const auto& p : d.pairs) {
            QCOMPARE(p.weight, p.a > c.gate.tauA ? 1.0 : 0.0);
            QCOMPARE(p.active, p.weight > 0.5);
        }
        // Opening is cancellable.
        std::atomic<bool> cancel{true};
        InspectOptions options;
        options.cancel = &cancel;
        try {
            RunInspector cancelled(store, outcome.runId, options);
            QFAIL("expected cancellation");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Cancelled);
        }
    }
    auto expect = [&](std::int64_t runId, ErrorKind kind, const char* words) {
        try {
            RunInspector inspector(store, runId);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), kind);
            QVERIFY2(std::string(e.what()).find(words) != std::string::npos, e.what());
        }
    };
    {
        const RunInspector inspector(store, outcome.runId);
        for (auto lookup : {0, 1}) {
            try {
                if (lookup == 0)
                    inspector.user("999");
                else
                    inspector.item("abc");
                QFAIL("expected an error");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::NotFound);
                QVERIFY2(std::string(e.what()).find("--find") != std::string::npos, e.what());
            }
        }
    }
    expect(42, ErrorKind::NotFound, "does not exist");
    // A run that is not completed.
    RunRecord pending;
    pending.name = "pending";
    pending.configJson = toJson(c).dump();
    const auto pendingId = store.createRun(pending);
    expect(pendingId, ErrorKind::Usage, "only completed runs");
    // The dataset file changed since the run.
    std::ofstream(trainCopy, std::ios::app) << "4\t11\t4\t4\n";
    expect(outcome.runId, ErrorKind::BadInput, "dataset changed");
    // The checkpoint is gone.
    std::filesystem::remove(checkpointDir(store, outcome.runId) + "/best.pt");
    expect(outcome.runId, ErrorKind::NotFound, "run it again");
}

void TestTrain::referenceMethodsMatchDirectComputation()
{
    // MostPop on a hand-made split. Train: u1 {10, 11}, u2 {10, 12}, u3 {10, 11}, u4 {13, 14};
    // pop = 10:3, 11:2, 12:1, 13:1, 14:1. Test: u1 12, u2 11, u3 13, u4 10. AUC per user against
    // its unseen items: u1 12 (1) vs 13, 14 (1, 1): 0.5; u2 11 (2) vs 13, 14: 1; u3 13 (1) vs
    // 12, 14: 0.5; u4 10 (3) vs 11, 12: 1. Overall 0.75.
    QTemporaryDir dir;
    const auto write = [&](const char* name, const char* text) {
        const auto path = dir.filePath(QString::fromLatin1(name)).toStdString();
        std::ofstream(path) << text;
        return path;
    };
    RunConfig c = tinyConfig();
    c.dataset.path = write("train.tsv",
                           "1\t10\t5\t1\n1\t11\t5\t2\n2\t10\t5\t1\n2\t12\t5\t2\n"
                           "3\t10\t5\t1\n3\t11\t5\t2\n4\t13\t5\t1\n4\t14\t5\t2\n");
    c.dataset.testPath = write("test.tsv", "1\t12\t5\t3\n2\t11\t5\t3\n3\t13\t5\t3\n4\t10\t5\t3\n");
    c.scores.path.clear();
    c.method.name = MethodName::MostPop;
    c.gate.mode = GateMode::Off;
    ExperimentStore store(dir.filePath(QStringLiteral("e.db")).toStdString());
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    QCOMPARE(outcome.epochsRun, 0);
    QVERIFY(store.epochMetrics(outcome.runId).empty());  // not trained
    QVERIFY(std::abs(outcome.evaluation.metrics.at("overall").at("auc") - 0.75) < 1e-12);
    double storedAuc = -1;
    for (const auto& m : store.segmentMetrics(outcome.runId))
        if (m.segment == "overall" && m.metric == "auc")
            storedAuc = m.value;
    QCOMPARE(storedAuc, outcome.evaluation.metrics.at("overall").at("auc"));
    QCOMPARE(store.interactionMetrics(outcome.runId, "auc").size(), std::size_t(4));

    // ItemKNN on the 4-user fixture: against a dense recomputation of cosine, top-k with ties by
    // index, and the sum over the user's items among the item's neighbours.
    const Loaded data = load(tinyConfig());
    const auto& ds = data.dataset;
    const auto n = ds.numItems();
    std::vector<std::set<std::uint32_t>> usersOf(n);
    std::vector<std::set<std::uint32_t>> itemsOf(ds.numUsers());
    for (const auto& r : ds.train) {
        usersOf[r.item].insert(r.user);
        itemsOf[r.user].insert(r.item);
    }
    const int k = 2;
    const auto knn = ReferenceScorer::itemKnn(ds, k);
    std::vector<std::vector<std::uint32_t>> neighbours(n);
    std::vector<std::vector<double>> sim(n, std::vector<double>(n, 0.0));
    for (std::uint32_t i = 0; i < n; ++i) {
        std::vector<std::pair<double, std::uint32_t>> cand;
        for (std::uint32_t j = 0; j < n; ++j) {
            if (i == j)
                continue;
            double common = 0;
            for (auto u : usersOf[i])
                common += usersOf[j].count(u);
            sim[i][j] = common / std::sqrt(double(usersOf[i].size()) * double(usersOf[j].size()));
            if (common > 0)
                cand.push_back({-sim[i][j], j});
        }
        std::sort(cand.begin(), cand.end());
        for (std::size_t x = 0; x < cand.size() && x < std::size_t(k); ++x)
            neighbours[i].push_back(cand[x].second);
        const auto got = knn.neighbours(i);
        QCOMPARE(got.size(), neighbours[i].size());
        for (std::size_t x = 0; x < got.size(); ++x)
            QCOMPARE(got[x].first, neighbours[i][x]);
    }
    std::vector<float> row(n);
    for (std::uint32_t u = 0; u < ds.numUsers(); ++u) {
        knn.scoreUser(u, row);
        for (std::uint32_t i = 0; i < n; ++i) {
            double want = 0;
            for (auto j : neighbours[i])
                want += itemsOf[u].count(j) ? sim[i][j] : 0.0;
            QVERIFY2(std::abs(row[i] - want) < 1e-6,
                     qPrintable(QStringLiteral("u%1 i%2").arg(u).arg(i)));
        }
    }
    // By hand: user 1 (items 10, 11, 12) scores item 15, whose two nearest items are 11 and 12
    // (cosine 1/2 each; 13 and 14 tie with them and lose on index): 1.0; and item 13, whose
    // neighbours are 14 (cosine 1) and 10 (1/2): 0.5.
    knn.scoreUser(*ds.users.find(std::uint64_t{1}), row);
    QVERIFY(std::abs(row[*ds.items.find(std::uint64_t{15})] - 1.0f) < 1e-6);
    QVERIFY(std::abs(row[*ds.items.find(std::uint64_t{13})] - 0.5f) < 1e-6);
    QVERIFY(errorFrom([&] { ReferenceScorer::itemKnn(ds, 0); }));

    // LLM alone: the score where the file has one, the missing score elsewhere.
    const auto llm = ReferenceScorer::llm(ds, data.scores);
    const auto u1 = *ds.users.find(std::uint64_t{1});
    llm.scoreUser(u1, row);
    for (std::uint32_t i = 0; i < n; ++i) {
        float want = static_cast<float>(data.scores.spec.candidateDefault);
        for (auto x = data.scores.offsets[u1]; x < data.scores.offsets[u1 + 1]; ++x)
            if (data.scores.items[x] == i)
                want = data.scores.values[x];
        QCOMPARE(row[i], want);
    }
    // Through the evaluator: the same ranking as the scorer (LLM-alone column unchanged).
    RunConfig lc = tinyConfig();
    lc.method.name = MethodName::Llm;
    lc.gate.mode = GateMode::Off;
    const auto ev = evaluateReferenceMethod(lc, ds, data.segmentation, &data.scores);
    QVERIFY(ev.metrics.at("overall").count("auc"));
    const auto e = errorFrom([&] { evaluateReferenceMethod(lc, ds, data.segmentation, nullptr); });
    QVERIFY(e && e->kind() == ErrorKind::Usage);
}

void TestTrain::heldOutScoresWarnAndDrop()
{
    // A score file that rates each user's test items (and two training items per user), as
    // rating-prediction studies publish them, on the 40-user demo slice.
    QTemporaryDir dir;
    RunConfig c = tinyConfig();
    const QString analysis = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/analysis/");
    c.dataset.path = (analysis + QStringLiteral("train.tsv")).toStdString();
    c.dataset.testPath = (analysis + QStringLiteral("test.tsv")).toStdString();
    const Dataset ds = loadDataset(c.dataset);
    const auto path = dir.filePath(QStringLiteral("rated.tsv")).toStdString();
    std::int64_t tests = 0;
    std::int64_t trains = 0;
    {
        std::ofstream out(path);
        out << "userId\tmovieId\tscore\n";
        for (const auto& r : ds.test) {
            out << ds.users.label(r.user) << '\t' << ds.items.label(r.item) << "\t0.9\n";
            ++tests;
        }
        const auto offsets = ds.trainOffsets();
        for (std::uint32_t u = 0; u < ds.numUsers(); ++u)
            for (auto k = offsets[u]; k < offsets[u + 1] && k < offsets[u] + 2; ++k, ++trains)
                out << ds.users.label(u) << '\t' << ds.items.label(ds.train[k].item) << "\t0.2\n";
    }
    c.scores.path = path;
    c.scores.kind = "pointwise";
    const ScoreSet kept = loadScores(c.scores, ds);
    QCOMPARE(kept.report.heldOutEntries, tests);
    QCOMPARE(kept.report.unseenEntries, tests);
    QVERIFY(kept.report.expectedHeldOut < 0.1 * static_cast<double>(tests));
    const auto warning = heldOutWarning(kept.report);
    QVERIFY2(warning.find("validation or test positives") != std::string::npos, warning.c_str());
    QCOMPARE(static_cast<std::int64_t>(kept.size()), tests + trains);

    c.scores.heldOut = "drop";
    const ScoreSet dropped = loadScores(c.scores, ds);
    QCOMPARE(dropped.report.heldOutDropped, tests);
    QCOMPARE(static_cast<std::int64_t>(dropped.size()), trains);
    for (std::uint32_t u = 0; u + 1 < dropped.offsets.size(); ++u)
        for (auto k = dropped.offsets[u]; k < dropped.offsets[u + 1]; ++k)
            for (const auto& r : ds.test)
                QVERIFY(!(r.user == u && r.item == dropped.items[k]));
    QVERIFY(dropped.report.contentHash != kept.report.contentHash);
    QVERIFY(heldOutWarning(dropped.report).find("dropped") != std::string::npos);

    // A random selection of unseen items does not warn.
    QVERIFY(heldOutWarning(load(tinyConfig()).scores.report).empty());

    // The runner says so, and stores it with the run; 'runs show' prints it.
    c.scores.heldOut = "keep";
    c.method.name = MethodName::Llm;
    c.gate.mode = GateMode::Off;
    const auto db = dir.filePath(QStringLiteral("e.db"));
    std::vector<std::string> seen;
    RunCallbacks cb;
    cb.onWarning = [&](const std::string& w) { seen.push_back(w); };
    {
        ExperimentStore store(db.toStdString());
        const auto outcome = executeRun(c, store, cb);
        QCOMPARE(outcome.status, RunStatus::Completed);
        QCOMPARE(seen.size(), std::size_t(1));
        QCOMPARE(outcome.warnings, seen);
        QVERIFY(store.run(outcome.runId)->notes.find(kWarningPrefix + seen[0]) !=
                std::string::npos);
        QProcess p;
        p.start(QStringLiteral(SLLMR_CLI),
                {QStringLiteral("--db"), db, QStringLiteral("runs"), QStringLiteral("show"),
                 QString::number(outcome.runId)});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(p.readAllStandardOutput().contains("warning: "));
    }
    const auto e = errorFrom([&] {
        json j = toJson(c);
        j["scores"]["held_out"] = "sometimes";
        runConfigFromJson(j);
    });
    QVERIFY(e && e->kind() == ErrorKind::Usage &&
            std::string(e->what()).find("held_out") != std::string::npos);
}

void TestTrain::gateWithoutLabelsSaysSo()
{
    // tiny_llm.tsv scores only items outside each user's history: no pair gets a reliability
    // label, so the gate cannot learn.
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("e.db")).toStdString());
    RunConfig c = tinyConfig();
    c.method.name = MethodName::Selective;
    c.gate.mode = GateMode::Reliability;
    c.train.epochs = 1;
    const Loaded data = load(c);
    QCOMPARE(scoredSupervisionPositives(data.dataset, data.scores, GateSupervision::Train),
             std::int64_t(0));
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    QCOMPARE(outcome.warnings.size(), std::size_t(2));  // at the start, and after training
    QVERIFY(outcome.warnings[0].find("nothing to learn from") != std::string::npos);
    QVERIFY(outcome.warnings[1].find("0 labelled pairs") != std::string::npos);
    const auto notes = store.run(outcome.runId)->notes;
    QVERIFY(notes.find("warning: the reliability gate has nothing to learn from") !=
            std::string::npos);
    // With scored training positives there is no warning at the start.
    QVERIFY(gateSupervisionWarning(3, GateSupervision::Train).empty());
    QVERIFY(labelledPairsWarning(50, 1000).empty());
    QVERIFY(!labelledPairsWarning(5, 1000).empty());
}

// The lazy Adam (plain loops over the gradient's rows) against torch::optim::Adam as the reference:
// while the same rows are touched at every step and the others never, the two are the same
// algorithm. The sparse gradients are uncoalesced (row 2 appears twice: its two parts add), and
// some rows are never touched (they must stay as they are).
void TestTrain::lazyAdamMatchesAdamOnTouchedRows()
{
    torch::manual_seed(21);
    const auto init = torch::randn({6, 5});
    auto lazyTable = init.clone().requires_grad_(true);
    auto denseTable = init.clone().requires_grad_(true);
    LazyAdam lazy({lazyTable}, 0.01);
    torch::optim::Adam reference({denseTable}, torch::optim::AdamOptions(0.01));
    const auto rows = torch::tensor({4, 2, 0, 2}, torch::kLong).unsqueeze(0);
    for (int step = 0; step < 25; ++step) {
        const auto values = torch::randn({4, 5});
        const auto grad = at::_sparse_coo_tensor_unsafe(rows, values, {6, 5});
        lazy.zeroGrad();
        lazyTable.mutable_grad() = grad;
        lazy.step();
        reference.zero_grad();
        denseTable.mutable_grad() = grad.to_dense();
        reference.step();
        QVERIFY2(torch::allclose(lazyTable, denseTable, 1e-5, 1e-6),
                 qPrintable(QString("step %1: largest difference %2")
                                .arg(step)
                                .arg((lazyTable - denseTable).abs().max().item<double>())));
    }
    QVERIFY(!torch::equal(lazyTable, init));
    for (const int untouched : {1, 3, 5})
        QVERIFY(torch::equal(lazyTable[untouched], init[untouched]));
}

// A batch's pair sides: each pair's higher and lower side point at its own (user, item); within
// a run of one user's pairs no side is there twice; the sides come in first-seen order. A user
// whose pairs come back later (not consecutive) gets new sides for that run.
void TestTrain::pairSidesAreScoredOnce()
{
    std::mt19937 rng(3);
    std::vector<std::uint32_t> users, higher, lower;
    for (const std::uint32_t u : {7u, 2u, 7u, 9u}) {
        for (int k = 0; k < 4; ++k) {
            const auto i = static_cast<std::uint32_t>(rng() % 6);
            auto j = static_cast<std::uint32_t>(rng() % 6);
            if (j == i)
                j = (i + 1) % 6;
            users.push_back(u);
            higher.push_back(i);
            lower.push_back(j);
        }
    }
    PairSides sides;
    sides.users = {99};  // cleared first
    distinctPairSides(users, higher, lower, sides);
    QCOMPARE(sides.higher.size(), users.size());
    QCOMPARE(sides.lower.size(), users.size());
    QCOMPARE(sides.users.size(), sides.items.size());
    std::vector<std::uint32_t> expectUsers, expectItems;
    std::size_t runStart = 0;
    for (std::size_t k = 0; k < users.size(); ++k) {
        if (k == 0 || users[k] != users[k - 1])
            runStart = expectItems.size();
        for (const auto item : {higher[k], lower[k]}) {
            if (std::find(expectItems.begin() + static_cast<std::ptrdiff_t>(runStart),
                          expectItems.end(), item) == expectItems.end()) {
                expectUsers.push_back(users[k]);
                expectItems.push_back(item);
            }
        }
        const auto h = static_cast<std::size_t>(sides.higher[k]);
        const auto l = static_cast<std::size_t>(sides.lower[k]);
        QCOMPARE(sides.users[h], users[k]);
        QCOMPARE(sides.items[h], higher[k]);
        QCOMPARE(sides.users[l], users[k]);
        QCOMPARE(sides.items[l], lower[k]);
    }
    QCOMPARE(sides.users, expectUsers);
    QCOMPARE(sides.items, expectItems);
    QVERIFY(sides.items.size() < 2 * users.size());  // some sides were shared
}

// DenseAdam against torch::optim::Adam, bit for bit: a weight matrix whose size is no multiple of
// the vector width, a bias, and a parameter that gets a gradient only at some steps (after its
// first, the reference steps it with the zero gradient it zeroed, DenseAdam with the one it
// dropped). Then the state round-trips through the optimizer's archive, as in a checkpoint.
void TestTrain::denseAdamEqualsTorchAdam()
{
    if (!adamTensorAvailable())
        QSKIP(
            "this processor has no AVX2 with fused multiply-add: DenseAdam runs Torch's own step");
    torch::manual_seed(22);
    const std::vector<torch::Tensor> init = {torch::randn({37, 29}), torch::randn({37}),
                                             torch::randn({3})};
    std::vector<torch::Tensor> ours, theirs;
    for (const auto& t : init) {
        ours.push_back(t.clone().requires_grad_(true));
        theirs.push_back(t.clone().requires_grad_(true));
    }
    DenseAdam dense(ours, 0.01);
    // With AVX2 and FMA, LibTorch 1.13's kernels round as the loop does: its probe must agree.
    QVERIFY(dense.ownLoop());
    torch::optim::Adam reference(theirs, torch::optim::AdamOptions(0.01));
    const auto runSteps = [&](DenseAdam& optimizer, int from, int to) {
        for (int step = from; step < to; ++step) {
            optimizer.zeroGrad();
            reference.zero_grad();
            for (std::size_t k = 0; k < init.size(); ++k) {
                if (k == 2 && step % 3 != 0)
                    continue;  // no gradient at this step
                const auto grad = torch::randn(init[k].sizes()) * (step % 4 == 1 ? 1e-5 : 0.5);
                ours[k].mutable_grad() = grad.clone();
                theirs[k].mutable_grad() = grad.clone();
            }
            optimizer.step();
            reference.step();
            for (std::size_t k = 0; k < init.size(); ++k)
                QVERIFY2(torch::equal(ours[k], theirs[k]),
                         qPrintable(QString("step %1, parameter %2: largest difference %3")
                                        .arg(step)
                                        .arg(k)
                                        .arg((ours[k] - theirs[k]).abs().max().item<double>())));
        }
    };
    runSteps(dense, 0, 40);
    QVERIFY(!torch::equal(ours[2], init[2]));

    // A checkpoint of DenseAdam's state, loaded into a fresh one, continues as the reference does.
    std::stringstream archive;
    {
        torch::serialize::OutputArchive out;
        dense.save(out);
        out.save_to(archive);
    }
    std::vector<torch::Tensor> resumed;
    for (const auto& p : ours)
        resumed.push_back(p.detach().clone().requires_grad_(true));
    ours = resumed;
    DenseAdam loaded(ours, 0.01);
    {
        torch::serialize::InputArchive in;
        in.load_from(archive);
        QVERIFY(loaded.load(in));
    }
    runSteps(loaded, 40, 60);

    // State from parameters of other shapes is refused, not stepped past the parameter's end.
    std::stringstream foreign;
    {
        auto small = torch::zeros({3}).requires_grad_(true);
        DenseAdam other({small}, 0.01);
        small.mutable_grad() = torch::ones({3});
        other.step();
        torch::serialize::OutputArchive out;
        other.save(out);
        out.save_to(foreign);
    }
    DenseAdam wider({torch::zeros({4}).requires_grad_(true)}, 0.01);
    torch::serialize::InputArchive in;
    in.load_from(foreign);
    QVERIFY(!wider.load(in));
}

void TestTrain::batchSharesSumToTheBatch_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("gate");
    QTest::addColumn<QString>("loss");
    QTest::newRow("mf selective paper") << "mf"
                                        << "selective"
                                        << "paper"
                                        << "bce";
    QTest::newRow("mf selective reliability") << "mf"
                                              << "selective"
                                              << "reliability"
                                              << "bce";
    QTest::newRow("mf kd") << "mf"
                           << "kd"
                           << "off"
                           << "bce";
    QTest::newRow("mf pointwise bpr") << "mf"
                                      << "pointwise"
                                      << "off"
                                      << "bpr";
    QTest::newRow("deepfm selective reliability") << "deepfm"
                                                  << "selective"
                                                  << "reliability"
                                                  << "bce";
    QTest::newRow("dcnv2 none") << "dcnv2"
                                << "none"
                                << "off"
                                << "bce";
}

// Without random draws inside a step (no dropout, no random gate), a batch split into shares on
// their own threads takes the same optimizer steps as the whole batch on one thread, up to the
// order of float sums: the same losses, pair and label counts, gate activity and scores. A share
// weighted wrongly against the others (rows, pairs, labelled pairs) changes the direction of the
// step and the reported losses.
void TestTrain::batchSharesSumToTheBatch()
{
    QFETCH(QString, model);
    QFETCH(QString, method);
    QFETCH(QString, gate);
    QFETCH(QString, loss);
    RunConfig c = tinyConfig();
    c.model.type = model.toStdString();
    c.train.loss = *parseChoice<TrainLoss>(loss.toStdString());
    c.model.hidden = {16};
    c.method.name = *parseChoice<MethodName>(method.toStdString());
    c.gate.mode = *parseChoice<GateMode>(gate.toStdString());
    c.gate.uncertainty = GateUncertainty::Entropy;
    c.train.batchSize = 7;  // shares of 3 and 4 positives, with the last batch shorter
    const Loaded data = load(c);
    struct Outcome
    {
        std::vector<EpochResult> epochs;
        torch::Tensor scores;
    };
    auto train = [&](TrainParallel parallel, int threads) {
        c.train.parallel = parallel;
        c.train.threads = threads;
        Trainer t(c, data.dataset, data.segmentation, &data.scores);
        Outcome out;
        for (int epoch = 1; epoch <= 2; ++epoch) {
            EpochResult r;
            t.trainEpoch(epoch, {}, r);
            out.epochs.push_back(r);
        }
        t.model().eval();
        out.scores = t.model().scoreAll(
            torch::arange(static_cast<std::int64_t>(data.dataset.numUsers()), torch::kLong));
        // BPR sees score differences only: its user and global bias gradients are zero up to
        // rounding, which Adam turns into steps of its own, so compare each user's scores
        // relative to their mean.
        if (c.train.loss == TrainLoss::Bpr)
            out.scores = out.scores - out.scores.mean(1, true);
        return out;
    };
    const auto one = train(TrainParallel::Ops, 1);
    for (const int threads : {2, 3}) {
        const auto shared = train(TrainParallel::Batch, threads);
        for (std::size_t e = 0; e < one.epochs.size(); ++e) {
            const auto& a = one.epochs[e];
            const auto& b = shared.epochs[e];
            QVERIFY2(std::abs(a.baseLoss - b.baseLoss) < 1e-4,
                     qPrintable(QStringLiteral("%1 threads, base loss %2 against %3")
                                    .arg(threads)
                                    .arg(b.baseLoss)
                                    .arg(a.baseLoss)));
            QVERIFY(std::abs(a.llmLoss - b.llmLoss) < 1e-4);
            QVERIFY(std::abs(a.gateLoss - b.gateLoss) < 1e-4);
            QCOMPARE(b.pairs, a.pairs);
            QCOMPARE(b.labeledPairs, a.labeledPairs);
            QCOMPARE(b.gate.size(), a.gate.size());
            for (const auto& [name, g] : a.gate) {
                QCOMPARE(b.gate.at(name).count, g.count);
                QVERIFY(std::abs(b.gate.at(name).sum - g.sum) < 1e-3);
            }
        }
        if (method != QStringLiteral("none"))
            QVERIFY(one.epochs.back().pairs > 0);
        const auto gap = (one.scores - shared.scores).abs().max().item<double>();
        QVERIFY2(
            gap < 1e-3,
            qPrintable(QStringLiteral("%1 threads: scores differ by %2").arg(threads).arg(gap)));
    }
}

// With dropout, each share draws from its own generator, seeded from the run seed, the epoch and
// the share: the same seed and thread count give bit-identical models; the draws are not those of
// one thread, and another seed differs.
void TestTrain::batchSharesAreDeterministic()
{
    RunConfig c = tinyConfig();
    c.model.type = "deepfm";
    c.model.hidden = {16};
    c.model.dropout = 0.3;
    c.method.name = MethodName::Selective;
    c.gate.mode = GateMode::Paper;
    c.gate.uncertainty = GateUncertainty::Dropout;
    const Loaded data = load(c);
    auto train = [&](TrainParallel parallel, int threads, std::uint64_t seed) {
        c.train.parallel = parallel;
        c.train.threads = threads;
        c.seed = seed;
        Trainer t(c, data.dataset, data.segmentation, &data.scores);
        EpochResult r;
        for (int epoch = 1; epoch <= 2; ++epoch)
            t.trainEpoch(epoch, {}, r);
        t.model().eval();
        return t.model().scoreAll(
            torch::arange(static_cast<std::int64_t>(data.dataset.numUsers()), torch::kLong));
    };
    const auto a = train(TrainParallel::Batch, 2, 3);
    for (int repeat = 0; repeat < 3; ++repeat)
        QVERIFY(torch::equal(a, train(TrainParallel::Batch, 2, 3)));
    QVERIFY(!torch::equal(a, train(TrainParallel::Ops, 1, 3)));
    QVERIFY(!torch::equal(a, train(TrainParallel::Batch, 2, 4)));
}

void TestTrain::shareGeneratorsDrawDistinctNoise()
{
    // What batchSharesAreDeterministic cannot see: one seed for every share would still be
    // deterministic. Each share's dropout masks and random-gate draws must be their own, and each
    // epoch's new; the same (seed, epoch) gives the same draws again (a resumed run).
    auto draws = [](std::uint64_t seed, std::int64_t epoch, int count) {
        std::vector<torch::Tensor> out;
        for (auto& g : shareGenerators(seed, epoch, count)) {
            const ScopedGenerator use(g);
            out.push_back(torch::rand({64}, threadGenerator()));
        }
        return out;
    };
    QVERIFY(shareGenerators(5, 1, 0).empty());
    const auto first = draws(5, 1, 3);
    QCOMPARE(static_cast<int>(first.size()), 3);
    std::vector<torch::Tensor> all = first;
    for (const auto& other : {draws(5, 2, 3), draws(6, 1, 3)})
        all.insert(all.end(), other.begin(), other.end());
    for (std::size_t i = 0; i < all.size(); ++i)
        for (std::size_t j = i + 1; j < all.size(); ++j)
            QVERIFY2(!torch::equal(all[i], all[j]),
                     qPrintable(QStringLiteral("draws %1 and %2 are equal").arg(i).arg(j)));
    const auto again = draws(5, 1, 3);
    for (std::size_t s = 0; s < first.size(); ++s)
        QVERIFY(torch::equal(first[s], again[s]));
    // A share's draws do not depend on how many shares there are.
    QVERIFY(torch::equal(first[0], draws(5, 1, 2)[0]));
    // Outside a share, the thread draws from torch's default generator again.
    torch::manual_seed(9);
    const auto plain = torch::rand({64});
    torch::manual_seed(9);
    QVERIFY(torch::equal(plain, torch::rand({64}, threadGenerator())));
}

// While batch shares run, LibTorch's large CPU blocks come from a cache of freed ones: a freed
// block goes to the next request it fits with at most an eighth to spare, not to a much smaller
// one; what is written to a tensor stays its own while two threads allocate and free blocks at
// once. (Earlier tests' trainers have ended, so the cache starts empty.)
void TestTrain::largeTensorBlocksAreReused()
{
    const TensorBlockCacheUse use;
    constexpr std::int64_t kFloats = 1 << 19;  // 2 MB
    void* freed = nullptr;
    {
        const auto a = torch::empty({kFloats});
        freed = a.data_ptr();
    }
    {
        const auto b = torch::empty({kFloats - kFloats / 10});
        QCOMPARE(b.data_ptr(), freed);
    }
    {
        const auto half = torch::empty({kFloats / 2});  // the cached block is twice its size
        QVERIFY(half.data_ptr() != freed);
        const auto again = torch::empty({kFloats});
        QCOMPARE(again.data_ptr(), freed);
    }
    std::atomic<int> wrong{0};
    const auto churn = [&wrong](int thread) {
        for (int i = 0; i < 200; ++i) {
            const std::int64_t n = kFloats / 2 + (i % 7) * (kFloats / 5);
            auto t = torch::full({n}, static_cast<float>(thread * 1000 + i));
            auto small = torch::full({64}, static_cast<float>(i));
            if (t.min().item<float>() != t.max().item<float>() ||
                t[0].item<float>() != static_cast<float>(thread * 1000 + i) ||
                small.sum().item<float>() != 64.0f * static_cast<float>(i))
                ++wrong;
        }
    };
    std::thread other(churn, 1);
    churn(0);
    other.join();
    QCOMPARE(wrong.load(), 0);
}

QTEST_GUILESS_MAIN(TestTrain)  // QTRY_* and qWait need an application object
#include "tst_train.moc"
