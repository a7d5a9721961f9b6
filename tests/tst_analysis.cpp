// Ablation analysis: the paired tests against textbook values, Holm's correction, grid reading
// and expansion (labels, duplicates, "@LABEL" references, errors naming file and key), every
// shipped grid, and a 2-variant x 2-seed sweep on a slice of the demo run through the CLI up to
// its results matrix, whose numbers are checked against the store; cancelling and resuming a
// sweep reaches the same numbers.
#include "analysis/grid.h"
#include "analysis/matrix.h"
#include "analysis/stats.h"
#include "analysis/sweep.h"
#include "cli_run.h"
#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "store/experiment_store.h"
#include "test_paths.h"
#include "train/run_config.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

using namespace sllmr;
using nlohmann::json;

namespace {

const QString kFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/analysis");

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

// Student's sleep data (Cushny & Peebles 1905): extra hours of sleep of 10 patients per drug.
const std::vector<double> kSleep1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kSleep2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

Grid gridFrom(const std::string& text, const std::string& file = "grid.json")
{
    return gridFromJson(json::parse(text), file, fixture(""));
}

double mean(const std::vector<double>& v)
{
    double s = 0;
    for (double x : v)
        s += x;
    return s / static_cast<double>(v.size());
}

}  // namespace

class TestAnalysis : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pairedTTestOnTheSleepData();
    void tTestDegenerateCases();
    void wilcoxonExactSmallSamples();
    void wilcoxonNormalApproximationWithTiesAndZeros();
    void bootstrapIsSeededAndCoversTheMean();
    void clusterBootstrapAndTInterval();
    void unitsGiveTheirOwnVerdicts();
    void holmOnAKnownList();
    void nonFiniteInputIsAnError();
    void gridExpansionCountsLabelsAndDuplicates();
    void gridReferenceRunResolves();
    void gridErrorsNameFileAndKey_data();
    void gridErrorsNameFileAndKey();
    void shippedGridsLoad();
    void paperAmazonGrids_data();
    void paperAmazonGrids();
    void sweepToMatrixFromTheCli();
    void sweepResumesAfterCancel();
};

void TestAnalysis::pairedTTestOnTheSleepData()
{
    // R: t.test(extra ~ group, data = sleep, paired = TRUE): t = -4.0621, df = 9, p = 0.002833.
    // The p-value was also checked by integrating the t density numerically (0.00283289).
    const auto r = pairedTTest(kSleep2, kSleep1);
    QCOMPARE(r.n, std::int64_t{10});
    QCOMPARE(r.df, 9.0);
    QVERIFY(std::fabs(r.meanDifference - 1.58) < 1e-12);
    QVERIFY(std::fabs(r.sdDifference - 1.2299954832798732) < 1e-12);
    QVERIFY(std::fabs(r.t - 4.062127683382037) < 1e-9);
    QVERIFY2(std::fabs(r.p - 0.0028328902) < 1e-8, qPrintable(QString::number(r.p, 'g', 12)));
    const auto reversed = pairedTTest(kSleep1, kSleep2);
    QVERIFY(std::fabs(reversed.t + r.t) < 1e-12);
    QCOMPARE(reversed.p, r.p);
}

void TestAnalysis::tTestDegenerateCases()
{
    const auto empty = pairedTTest({}, {});
    QCOMPARE(empty.n, std::int64_t{0});
    QVERIFY(std::isnan(empty.p));
    const auto one = pairedTTest({0.7}, {0.5});
    QVERIFY(std::isnan(one.p));
    QVERIFY(std::fabs(one.meanDifference - 0.2) < 1e-12);
    const auto same = pairedTTest({0.1, 0.2, 0.3}, {0.1, 0.2, 0.3});
    QCOMPARE(same.p, 1.0);
    QCOMPARE(same.t, 0.0);
    const auto shifted = pairedTTest({1.5, 2.5, 3.5}, {1.0, 2.0, 3.0});
    QCOMPARE(shifted.p, 0.0);
    QVERIFY(std::isinf(shifted.t) && shifted.t > 0);
    const auto w = wilcoxonSignedRank({0.1, 0.2, 0.3}, {0.1, 0.2, 0.3});
    QCOMPARE(w.n, std::int64_t{0});
    QCOMPARE(w.zeros, std::int64_t{3});
    QCOMPARE(w.p, 1.0);
    QCOMPARE(wilcoxonSignedRank({}, {}).p, 1.0);
}

void TestAnalysis::wilcoxonExactSmallSamples()
{
    // n = 6, differences 1..5 and -6: W+ = 15, W- = 6. Subsets of {1..6} with sum <= 6: 14 of 64,
    // so p = 2 * 14/64 = 0.4375 (R: wilcox.test(c(1,2,3,4,5,-6)), V = 15, p-value = 0.4375).
    auto w = wilcoxonSignedRank({1, 2, 3, 4, 5, -6}, std::vector<double>(6, 0.0));
    QVERIFY(w.exact);
    QCOMPARE(w.n, std::int64_t{6});
    QCOMPARE(w.wPlus, 15.0);
    QCOMPARE(w.wMinus, 6.0);
    QCOMPARE(w.w, 6.0);
    QCOMPARE(w.p, 0.4375);
    // n = 10, W- = 1 + 7 = 8, the two-sided 5% critical value of the tables: subsets of {1..10}
    // with sum <= 8 number 1+1+1+2+2+3+4+5+6 = 25, p = 2 * 25/1024 = 0.048828125.
    std::vector<double> d = {-1, 2, 3, 4, 5, 6, -7, 8, 9, 10};
    w = wilcoxonSignedRank(d, std::vector<double>(d.size(), 0.0));
    QVERIFY(w.exact);
    QCOMPARE(w.w, 8.0);
    QCOMPARE(w.p, 0.048828125);
    // Every difference positive, n = 8: p = 2/256.
    w = wilcoxonSignedRank({1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8}, std::vector<double>(8, 1.0));
    QCOMPARE(w.wMinus, 0.0);
    QCOMPARE(w.p, 2.0 / 256.0);
}

void TestAnalysis::wilcoxonNormalApproximationWithTiesAndZeros()
{
    // Sleep data: one zero difference (dropped), n = 9, |1.3| tied twice: W+ = 0, W- = 45.
    // mean 22.5, variance 9*10*19/24 - (2^3-2)/48 = 71.125; with continuity correction
    // z = (22.5 - 0.5)/sqrt(71.125) = 2.6086243; p = erfc(z/sqrt 2) = 0.0090906980 (python3
    // math.erfc; R's wilcox.test(paired = TRUE) on the sleep data prints p-value = 0.009091).
    const auto w = wilcoxonSignedRank(kSleep1, kSleep2);
    QVERIFY(!w.exact);
    QCOMPARE(w.zeros, std::int64_t{1});
    QCOMPARE(w.n, std::int64_t{9});
    QCOMPARE(w.wPlus, 0.0);
    QCOMPARE(w.wMinus, 45.0);
    QVERIFY(std::fabs(std::fabs(w.z) - 2.60862433360651) < 1e-9);
    QVERIFY2(std::fabs(w.p - 0.009090698015925061) < 1e-10,
             qPrintable(QString::number(w.p, 'g', 12)));
    // Large n without ties: normal approximation too (n > 25).
    std::vector<double> a;
    for (int k = 1; k <= 30; ++k)
        a.push_back(k % 3 == 0 ? -k : k);
    const auto big = wilcoxonSignedRank(a, std::vector<double>(a.size(), 0.0));
    QVERIFY(!big.exact);
    QCOMPARE(big.n, std::int64_t{30});
    QCOMPARE(big.wPlus + big.wMinus, 30.0 * 31.0 / 2.0);
}

void TestAnalysis::bootstrapIsSeededAndCoversTheMean()
{
    BootstrapSettings s;
    s.seed = 7;
    const auto a = bootstrapMeanDifference(kSleep2, kSleep1, s);
    const auto b = bootstrapMeanDifference(kSleep2, kSleep1, s);
    QCOMPARE(a.lo, b.lo);
    QCOMPARE(a.hi, b.hi);
    QCOMPARE(a.resamples, 2000);
    QVERIFY(std::fabs(a.mean - 1.58) < 1e-12);
    QVERIFY(a.lo < a.mean && a.mean < a.hi);
    // The t interval is [0.70, 2.46]; the percentile bootstrap is of the same size.
    QVERIFY2(a.lo > 0.5 && a.lo < 1.2 && a.hi > 2.0 && a.hi < 2.8,
             qPrintable(QStringLiteral("%1 %2").arg(a.lo).arg(a.hi)));
    s.seed = 8;
    const auto c = bootstrapMeanDifference(kSleep2, kSleep1, s);
    QVERIFY(c.lo != a.lo || c.hi != a.hi);
    s.level = 0.5;
    const auto narrow = bootstrapMeanDifference(kSleep2, kSleep1, s);
    QVERIFY(narrow.hi - narrow.lo < c.hi - c.lo);
    QVERIFY(std::isnan(bootstrapMeanDifference({}, {}).lo));
    s.resamples = 0;
    QVERIFY(errorFrom([&] { bootstrapMeanDifference(kSleep1, kSleep2, s); }));
}

void TestAnalysis::clusterBootstrapAndTInterval()
{
    // One pair per cluster, clusters in order: the same draws as the plain bootstrap.
    std::vector<std::int64_t> ids(kSleep1.size());
    for (std::size_t k = 0; k < ids.size(); ++k)
        ids[k] = static_cast<std::int64_t>(k);
    const auto plain = bootstrapMeanDifference(kSleep2, kSleep1);
    const auto cluster = clusterBootstrapMeanDifference(kSleep2, kSleep1, ids);
    QCOMPARE(cluster.lo, plain.lo);
    QCOMPARE(cluster.hi, plain.hi);
    QCOMPARE(cluster.clusters, std::int64_t{10});
    // Two clusters, each with constant differences: every resample's mean is a weighted mix of
    // the two cluster means, so the interval lies within [-1, 3] and resamples only 3 values.
    const std::vector<double> a = {1, 1, 1, 0, 0};
    const std::vector<double> b = {0, 0, 0, 1, 1};
    const auto two = clusterBootstrapMeanDifference(a, b, {7, 7, 7, 3, 3});
    QCOMPARE(two.clusters, std::int64_t{2});
    QVERIFY(std::fabs(two.mean - 0.2) < 1e-12);
    for (double bound : {two.lo, two.hi})
        QVERIFY(std::fabs(bound - 1.0) < 1e-12 || std::fabs(bound + 1.0) < 1e-12 ||
                std::fabs(bound - 0.2) < 1e-12);
    QCOMPARE(two.method, std::string("cluster bootstrap"));
    // t interval on the sleep data: mean 1.58, sd 1.2299955, t_{0.975, 9} = 2.2621572.
    const auto ti = tIntervalMeanDifference(kSleep2, kSleep1, 0.95);
    const double half = 2.2621571627982053 * 1.2299954832798732 / std::sqrt(10.0);
    QVERIFY(std::fabs(ti.lo - (1.58 - half)) < 1e-9);
    QVERIFY(std::fabs(ti.hi - (1.58 + half)) < 1e-9);
    QVERIFY(std::isnan(tIntervalMeanDifference({1.0}, {0.0}).lo));
    const auto e = errorFrom([&] { clusterBootstrapMeanDifference(a, b, {1, 2}); });
    QVERIFY(e && e->kind() == ErrorKind::Usage);
}

void TestAnalysis::unitsGiveTheirOwnVerdicts()
{
    // A hand-made store: rows "ref" and "var" over 3 seeds on the small grid's dataset. User 0 has
    // 30 test interactions where var is better (+0.005 and +0.015 alternately), users 1-5 have 2
    // each where var is worse (-0.01 and -0.03). Per interaction var is ahead (+0.0025 over 40
    // pairs); per user it is behind: differences +0.01 and five times -0.02, mean -0.015,
    // sd sqrt(0.00015), t = -3 with 5 df.
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("units.db")).toStdString());
    const auto expansion = expandGrid(loadGrid(fixture("small-grid.json")));
    const std::string config = expansion.items.front().config.dump();
    std::vector<std::pair<std::int64_t, double>> diffs;  // (user, var - ref) per interaction
    for (int k = 0; k < 30; ++k)
        diffs.push_back({0, k % 2 ? 0.015 : 0.005});
    for (std::int64_t u = 1; u <= 5; ++u) {
        diffs.push_back({u, -0.01});
        diffs.push_back({u, -0.03});
    }
    // Seed-level AUC (stored segment values): var - ref = +0.01, +0.02, +0.005.
    const std::map<std::string, std::vector<double>> seedAuc = {{"ref", {0.69, 0.70, 0.705}},
                                                                {"var", {0.70, 0.72, 0.71}}};
    std::vector<MatrixGroup> groups = {{"ref", {}}, {"var", {}}};
    for (auto& g : groups) {
        for (std::int64_t seed = 1; seed <= 3; ++seed) {
            RunRecord rec;
            rec.name = g.label;
            rec.configJson = config;
            rec.seed = seed;
            const auto id = store.createRun(rec);
            std::vector<InteractionMetric> im;
            for (std::size_t k = 0; k < diffs.size(); ++k)
                im.push_back({diffs[k].first, static_cast<std::int64_t>(k), "auc",
                              0.6 + (g.label == "var" ? diffs[k].second : 0.0)});
            store.addInteractionMetrics(id, im);
            const double auc = seedAuc.at(g.label)[static_cast<std::size_t>(seed - 1)];
            // GAUC moves against AUC for var; the segment rests on 40 interactions (< 50).
            store.addSegmentMetrics(id, {{"overall", "auc", auc, 40},
                                         {"overall", "gauc", g.label == "var" ? 0.60 : 0.61, 40}});
            store.setRunStatus(id, RunStatus::Completed);
            g.runIds.push_back(id);
        }
    }
    MatrixSettings settings;
    settings.segments = {"overall"};
    settings.metrics = {"auc", "gauc"};
    settings.reference = "ref";

    settings.unit = TestUnit::Interaction;
    const auto inter = buildMatrix(store, groups, settings);
    const auto* ti = inter.test("var", "overall");
    QVERIFY(ti && ti->note.empty());
    QCOMPARE(ti->pairs, std::int64_t{40});
    QCOMPARE(ti->users, std::int64_t{6});
    std::vector<double> a;
    std::vector<double> b;
    std::vector<std::int64_t> users;
    for (const auto& [u, d] : diffs) {
        a.push_back(0.6 + d);
        b.push_back(0.6);
        users.push_back(u);
    }
    QVERIFY(std::fabs(ti->t.meanDifference - 0.0025) < 1e-12);
    QVERIFY(std::fabs(ti->t.p - pairedTTest(a, b).p) < 1e-12);
    const auto clusterCi = clusterBootstrapMeanDifference(a, b, users, settings.bootstrap);
    QCOMPARE(ti->ci.lo, clusterCi.lo);  // resamples users, not interactions
    QCOMPARE(ti->ci.method, std::string("cluster bootstrap"));

    settings.unit = TestUnit::User;
    const auto user = buildMatrix(store, groups, settings);
    const auto* tu = user.test("var", "overall");
    QVERIFY(tu && tu->note.empty());
    QCOMPARE(tu->pairs, std::int64_t{6});
    QCOMPARE(tu->interactions, std::int64_t{40});
    QVERIFY(std::fabs(tu->t.meanDifference + 0.015) < 1e-12);
    QVERIFY(std::fabs(tu->t.t + 3.0) < 1e-9);
    // Two-sided p of |t| = 3 with 5 df (integral of the t density): 0.030099.
    QVERIFY2(std::fabs(tu->t.p - 0.0300992) < 1e-6, qPrintable(QString::number(tu->t.p, 'g', 8)));
    QVERIFY(tu->ci.hi < 0);
    QVERIFY(ti->t.meanDifference > 0 && tu->t.meanDifference < 0);  // the verdicts differ
    QVERIFY(tu->wilcoxon.n == 6 && tu->wilcoxon.wPlus == 1.0);      // +0.01 ranks lowest

    settings.unit = TestUnit::Seed;
    const auto seed = buildMatrix(store, groups, settings);
    const auto* ts = seed.test("var", "overall");
    QVERIFY(ts && ts->note.empty());
    QCOMPARE(ts->pairs, std::int64_t{3});
    const auto direct = pairedTTest(seedAuc.at("var"), seedAuc.at("ref"));
    QVERIFY(std::fabs(ts->t.p - direct.p) < 1e-12);
    QVERIFY(std::fabs(ts->t.meanDifference - 0.035 / 3) < 1e-12);
    QCOMPARE(ts->ci.method, std::string("t interval"));
    // Two seeds only: no seed-level test, and the note says why.
    auto twoSeeds = groups;
    for (auto& g : twoSeeds)
        g.runIds.pop_back();
    const auto few = buildMatrix(store, twoSeeds, settings);
    QVERIFY(few.test("var", "overall")->note.find("at least 3 seeds") != std::string::npos);
    QVERIFY(!few.test("var", "overall")->significant);

    // The row's metrics disagree in sign; the segment is too small to read. The exports say so,
    // and name the unit.
    QVERIFY(tu->disagreement.find("auc +") != std::string::npos);
    QVERIFY(tu->disagreement.find("gauc -0.0100") != std::string::npos);
    QVERIFY(user.cells[1][0].small());
    const auto text = matrixText(user);
    QVERIFY(text.find("unit user") != std::string::npos);
    QVERIFY(text.find("disagree in sign") != std::string::npos);
    QVERIFY(text.find("†") != std::string::npos);
    QVERIFY(matrixText(inter).find("treated as independent") != std::string::npos);
    const auto j = matrixJson(user);
    QCOMPARE(j["unit"].get<std::string>(), std::string("user"));
    QCOMPARE(j["tests"][0]["unit"].get<std::string>(), std::string("user"));
    QVERIFY(j["tests"][0].contains("sign_disagreement"));
    QVERIFY(j["rows"][1]["cells"]["overall"]["auc"]["small"].get<bool>());
    QVERIFY(matrixCsv(seed).find(",seed,3,") != std::string::npos);
    QVERIFY(matrixLatex(user).find("unit user") != std::string::npos);
    QVERIFY(errorFrom([] { testUnitFromString("users"); }));
}

void TestAnalysis::holmOnAKnownList()
{
    // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02.
    const auto adj = holmAdjust({0.01, 0.04, 0.03, 0.005});
    const std::vector<double> expected = {0.03, 0.06, 0.06, 0.02};
    for (std::size_t k = 0; k < adj.size(); ++k)
        QVERIFY2(std::fabs(adj[k] - expected[k]) < 1e-12, qPrintable(QString::number(adj[k])));
    // Capped at 1; NaN entries are left out of the family (m = 2 here).
    const auto capped = holmAdjust({0.6, std::nan(""), 0.7});
    QCOMPARE(capped[0], 1.0);
    QVERIFY(std::isnan(capped[1]));
    QCOMPARE(capped[2], 1.0);
    QVERIFY(holmAdjust({}).empty());
    QVERIFY(errorFrom([] { holmAdjust({1.5}); }));
}

void TestAnalysis::nonFiniteInputIsAnError()
{
    const std::vector<double> bad = {0.1, std::nan(""), 0.3};
    const std::vector<double> ok = {0.1, 0.2, 0.3};
    for (const auto& fn : std::vector<std::function<void()>>{
             [&] { pairedTTest(bad, ok); }, [&] { wilcoxonSignedRank(ok, bad); },
             [&] { bootstrapMeanDifference(bad, ok); },
             [&] {
                 pairedTTest(ok, {0.1, std::numeric_limits<double>::infinity(), 0.0});
             }}) {
        const auto e = errorFrom(fn);
        QVERIFY(e);
        QVERIFY(e->kind() == ErrorKind::BadInput);
        QVERIFY2(std::string(e->what()).find("value 1") != std::string::npos, e->what());
    }
    const auto e = errorFrom([&] { pairedTTest(ok, {0.1}); });
    QVERIFY(e && e->kind() == ErrorKind::Usage);
}

void TestAnalysis::gridExpansionCountsLabelsAndDuplicates()
{
    const Grid grid = gridFrom(R"({
        "name": "g",
        "base": {"train": {"epochs": 1}},
        "variants": [{"label": "none", "set": {"method.name": "none", "gate.mode": "off"}},
                     {"label": "global", "set": {"method.name": "global"}}],
        "axes": {"method.lambda": [0.05, 0.1], "gate.mode": ["paper", "reliability"]},
        "seeds": [1, 2],
        "reference": "global | gate.mode=paper | method.lambda=0.05"})");
    const auto e = expandGrid(grid);
    QCOMPARE(e.rows.size(), std::size_t{8});
    QCOMPARE(e.items.size(), std::size_t{16});
    // Axes in key order; the first axis varies slowest; seeds innermost.
    QCOMPARE(QString::fromStdString(e.rows[0]),
             QStringLiteral("none | gate.mode=paper | method.lambda=0.05"));
    QCOMPARE(QString::fromStdString(e.rows[1]),
             QStringLiteral("none | gate.mode=paper | method.lambda=0.1"));
    QCOMPARE(QString::fromStdString(e.rows[7]),
             QStringLiteral("global | gate.mode=reliability | method.lambda=0.1"));
    QCOMPARE(e.items[1].seed, std::uint64_t{2});
    QCOMPARE(e.items[1].rowLabel, e.rows[0]);
    QCOMPARE(e.items[3].config["method"]["lambda"].get<double>(), 0.1);
    QCOMPARE(e.items[3].config["train"]["epochs"].get<int>(), 1);
    QCOMPARE(e.items[3].config["seed"].get<int>(), 2);
    // "global" switches the gate off, so its gate.mode axis yields identical configs: the
    // reliability rows duplicate the paper rows (same lambda and seed); "none" keeps the gate
    // mode the axis sets and stays distinct.
    QCOMPARE(e.uniqueRuns, 12);
    int duplicates = 0;
    for (const auto& item : e.items) {
        if (!item.duplicateOf)
            continue;
        ++duplicates;
        const auto& first = e.items[static_cast<std::size_t>(*item.duplicateOf)];
        QCOMPARE(first.configHash, item.configHash);
        QCOMPARE(first.seed, item.seed);
        QVERIFY(first.position < item.position);
        QVERIFY(item.rowLabel.find("global | gate.mode=reliability") == 0);
    }
    QCOMPARE(duplicates, 4);
    QCOMPARE(QString::fromStdString(e.reference),
             QStringLiteral("global | gate.mode=paper | method.lambda=0.05"));

    // Defaults: one "base" variant, the base config's seed, the first row as reference.
    const auto plain = expandGrid(gridFrom(R"({"base": {"seed": 5}})"));
    QCOMPARE(plain.rows, std::vector<std::string>{"base"});
    QCOMPARE(plain.items.size(), std::size_t{1});
    QCOMPARE(plain.items[0].seed, std::uint64_t{5});
    QCOMPARE(plain.reference, std::string("base"));

    // A base config file, relative to the grid's folder; its own relative paths resolve against
    // its folder.
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("configs")));
    json base = toJson(defaultRunConfig());
    base["train"]["epochs"] = 3;
    base["scores"]["path"] = "scores.tsv";
    std::ofstream(dir.filePath(QStringLiteral("configs/run.json")).toStdString()) << base.dump();
    const auto gridPath = dir.filePath(QStringLiteral("grid.json")).toStdString();
    std::ofstream(gridPath) << R"({"base": "configs/run.json", "seeds": [4]})";
    const auto fromFile = expandGrid(loadGrid(gridPath));
    QCOMPARE(fromFile.items.size(), std::size_t{1});
    QCOMPARE(fromFile.items[0].config["train"]["epochs"].get<int>(), 3);
    QCOMPARE(fromFile.items[0].config["seed"].get<int>(), 4);
    QCOMPARE(QString::fromStdString(fromFile.items[0].config["scores"]["path"].get<std::string>()),
             QDir::cleanPath(dir.filePath(QStringLiteral("configs/scores.tsv"))));
    std::ofstream(gridPath) << R"({"base": "configs/missing.json"})";
    const auto missing = errorFrom([&] { loadGrid(gridPath); });
    QVERIFY(missing && missing->kind() == ErrorKind::NotFound);
    QVERIFY2(std::string(missing->what()).find("grid.json") != std::string::npos, missing->what());
}

void TestAnalysis::gridReferenceRunResolves()
{
    const auto e = expandGrid(gridFrom(R"({
        "variants": [{"label": "reliability", "set": {"gate.mode": "reliability"}},
                     {"label": "random", "set": {"gate.mode": "random",
                                                 "gate.reference_run": "@reliability"}}],
        "axes": {"model.dim": [8, 16]},
        "seeds": [1, 2]})"));
    QCOMPARE(e.items.size(), std::size_t{8});
    for (const auto& item : e.items) {
        if (item.variant != "random") {
            QVERIFY(!item.referenceRow);
            continue;
        }
        // Same axis values: "random | model.dim=16" copies "reliability | model.dim=16".
        const auto expected = "reliability" + item.rowLabel.substr(std::string("random").size());
        QCOMPARE(item.referenceRow.value_or(""), expected);
        QCOMPARE(item.config["gate"]["reference_run"].get<std::string>(), "@" + expected);
    }
    // The reference is part of the identity: two random rows on different references differ.
    QVERIFY(e.items[4].configHash != e.items[6].configHash);

    // The referenced row must come earlier in the queue.
    const auto later = errorFrom([] {
        expandGrid(gridFrom(R"({
            "variants": [{"label": "random", "set": {"gate.mode": "random",
                                                     "gate.reference_run": "@reliability"}},
                         {"label": "reliability", "set": {}}]})"));
    });
    QVERIFY(later);
    QVERIFY2(std::string(later->what()).find("@reliability") != std::string::npos, later->what());
    QVERIFY2(std::string(later->what()).find("grid.json") != std::string::npos, later->what());
}

void TestAnalysis::gridErrorsNameFileAndKey_data()
{
    QTest::addColumn<QString>("grid");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << R"({"variant": []})"
                                 << "unknown grid key 'variant'";
    QTest::newRow("unknown set key")
        << R"({"variants": [{"label": "a", "set": {"method.lamda": 1}}]})"
        << "variants[0] (\"a\").set: ";
    QTest::newRow("bad value") << R"({"variants": [{"label": "a", "set": {"gate.mode": "on"}}]})"
                               << "gate.mode";
    QTest::newRow("bad axis value") << R"({"axes": {"method.lambda": [0.1, "x"]}})"
                                    << "method.lambda";
    QTest::newRow("duplicate label") << R"({"variants": [{"label": "a"}, {"label": "a"}]})"
                                     << "variants[1].label \"a\" is used twice";
    QTest::newRow("label missing") << R"({"variants": [{"set": {}}]})"
                                   << "variants[0].label";
    QTest::newRow("seeds") << R"({"seeds": [1, -2]})"
                           << "seeds[1]";
    QTest::newRow("repeated seed") << R"({"seeds": [3, 3]})"
                                   << "repeats seed 3";
    QTest::newRow("reference") << R"({"variants": [{"label": "a"}], "reference": "b"})"
                               << "reference \"b\" is not a row";
    QTest::newRow("axes type") << R"({"axes": {"model.dim": 8}})"
                               << "axes.model.dim";
    QTest::newRow("base type") << R"({"base": 3})"
                               << "grid key 'base'";
    QTest::newRow("bad reference run") << R"({"variants": [{"label": "a", "set":
                                              {"gate.reference_run": "reliability"}}]})"
                                       << "gate.reference_run";
}

void TestAnalysis::gridErrorsNameFileAndKey()
{
    QFETCH(QString, grid);
    QFETCH(QString, expected);
    const auto e = errorFrom([&] { expandGrid(gridFrom(grid.toStdString(), "my-grid.json")); });
    QVERIFY(e);
    QVERIFY(e->kind() == ErrorKind::Usage);
    QCOMPARE(QString::fromStdString(e->file()), QStringLiteral("my-grid.json"));
    QVERIFY2(std::string(e->what()).find(expected.toStdString()) != std::string::npos, e->what());

    // Malformed JSON in a file: the line is named.
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("broken.json")).toStdString();
    std::ofstream(path) << "{\n  \"name\": \"x\",\n  \"seeds\": [1,]\n}\n";
    const auto parse = errorFrom([&] { loadGrid(path); });
    QVERIFY(parse && parse->kind() == ErrorKind::BadInput);
    QCOMPARE(parse->line(), std::int64_t{3});
}

void TestAnalysis::shippedGridsLoad()
{
    const QDir grids(QStringLiteral(SLLMR_DEMO_DIR) + QStringLiteral("/../grids"));
    const auto files = grids.entryList({QStringLiteral("*.json")}, QDir::Files);
    QVERIFY(files.contains(QStringLiteral("demo-ablation.json")));
    for (const auto& f : files) {
        if (f.startsWith(QStringLiteral("paper-amazon-")))
            continue;  // they read the public data folder: paperAmazonGrids
        const Grid g = loadGrid(grids.filePath(f).toStdString());
        const auto e = expandGrid(g);
        QVERIFY2(!e.items.empty(), qPrintable(f));
        QVERIFY2(!g.description.empty(), qPrintable(f));
        if (f == QStringLiteral("demo-ablation.json")) {
            QCOMPARE(e.rows, (std::vector<std::string>{"none", "global", "paper", "reliability",
                                                       "random", "mostpop", "itemknn", "llm"}));
            QCOMPARE(e.items.size(), std::size_t{24});
            QCOMPARE(e.uniqueRuns, 24);
            QCOMPARE(e.reference, std::string("global"));
            for (const auto& item : e.items)
                if (item.variant == "random")
                    QCOMPARE(item.referenceRow.value_or(""), std::string("reliability"));
        }
    }
}

void TestAnalysis::paperAmazonGrids_data()
{
    QTest::addColumn<QString>("grid");
    QTest::addColumn<QString>("data");
    QTest::addColumn<bool>("runACell");
    QTest::newRow("beauty") << "paper-amazon-beauty.json"
                            << "amazon-2014-5core/Beauty.txt" << false;
    QTest::newRow("sports") << "paper-amazon-sports.json"
                            << "amazon-2014-5core/Sports_and_Outdoors.txt" << false;
    // The smallest of the three (19,412 users, 167,597 interactions): one cell is run.
    QTest::newRow("toys") << "paper-amazon-toys.json"
                          << "amazon-2014-5core/Toys_and_Games.txt" << true;
}

void TestAnalysis::paperAmazonGrids()
{
    // The paper's grid on its Amazon datasets: six backbones x five methods x seeds 1-3, the data
    // from the public data folder ("data:" paths), the LLM simulated for the dataset.
    QFETCH(QString, grid);
    QFETCH(QString, data);
    QFETCH(bool, runACell);
    const QDir grids(QStringLiteral(SLLMR_DEMO_DIR) + QStringLiteral("/../grids"));
    const std::string file = grids.filePath(grid).toStdString();

    // Without the folder: an error that says which variable to set, before anything runs.
    {
        const testdata::SharedDataOverride missing("/nonexistent/public-data");
        const auto e = errorFrom([&] { loadGrid(file); });
        QVERIFY(e.has_value());
        QCOMPARE(e->kind(), ErrorKind::NotFound);
        QVERIFY2(std::string(e->what()).find(testdata::kSharedDataVariable) != std::string::npos,
                 e->what());
    }
    SLLMR_REQUIRE_DATA(data);

    const Grid g = loadGrid(file);
    QVERIFY(g.description.find("SIMULATED") != std::string::npos);
    const auto e = expandGrid(g);
    QCOMPARE(e.items.size(), std::size_t{90});
    QCOMPARE(e.uniqueRuns, 90);
    QCOMPARE(e.rows.size(), std::size_t{30});
    QCOMPARE(e.reference, std::string("none | model.type=deepfm"));
    const std::string path = QFileInfo(testdata::dataFile(data)).canonicalFilePath().toStdString();
    std::map<std::string, int> perModel;
    for (const auto& item : e.items) {
        const auto& c = item.config;
        QCOMPARE(QFileInfo(QString::fromStdString(c["dataset"]["path"].get<std::string>()))
                     .canonicalFilePath()
                     .toStdString(),
                 path);
        QCOMPARE(c["dataset"]["format"].get<std::string>(), std::string("sequences"));
        QCOMPARE(c["dataset"]["split"]["method"].get<std::string>(), std::string("leave-one-out"));
        QCOMPARE(c["dataset"]["test_path"].get<std::string>(), std::string());
        QCOMPARE(c["dataset"]["item_features_path"].get<std::string>(), std::string());
        QCOMPARE(c["scores"]["path"].get<std::string>(), std::string());
        QVERIFY(c["scores"]["simulate"].is_object());
        // The simulated LLM never scores a validation or test item (it would hand the methods
        // that learn from it the answers).
        QCOMPARE(c["scores"]["simulate"]["held_out"].get<bool>(), false);
        QCOMPARE(c["eval"]["mode"].get<std::string>(), std::string("sampled"));
        ++perModel[c["model"]["type"].get<std::string>()];
    }
    QCOMPARE(perModel, (std::map<std::string, int>{{"autoint", 15},
                                                   {"dcnv1", 15},
                                                   {"dcnv2", 15},
                                                   {"deepfm", 15},
                                                   {"din", 15},
                                                   {"xdeepfm", 15}}));
    if (!runACell)
        return;

    // One cell as the sweep runs it (the selective DeepFM row, seed 1), shortened to one epoch
    // of MF on a tenth of the users so that it takes seconds: the Amazon file, the split and the
    // simulated LLM go through the real engine.
    const auto cell = std::find_if(e.items.begin(), e.items.end(), [](const GridItem& i) {
        return i.rowLabel == "selective | model.type=deepfm" && i.seed == 1;
    });
    QVERIFY(cell != e.items.end());
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("cell.json"));
    std::ofstream(config.toStdString()) << cell->config.dump(2);
    const auto r = runCli({QStringLiteral("--db"), dir.filePath(QStringLiteral("experiments.db")),
                           QStringLiteral("run"), config, QStringLiteral("--set"),
                           QStringLiteral("model.type=mf"), QStringLiteral("--set"),
                           QStringLiteral("train.epochs=1"), QStringLiteral("--set"),
                           QStringLiteral("eval.user_share=0.1"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const auto runs = store.runs();
    QCOMPARE(runs.size(), std::size_t{1});
    QCOMPARE(runs.front().status, RunStatus::Completed);
    QVERIFY(runs.front().scoreSetId.has_value());
    const auto set = store.scoreSet(*runs.front().scoreSetId);
    QVERIFY(set.has_value());
    QCOMPARE(set->source, std::string("simulated LLM"));
    const json report = json::parse(set->reportJson);
    QVERIFY(report["simulated"].get<bool>());
    QCOMPARE(report["in_test"].get<std::int64_t>(), std::int64_t{0});
    bool overallAuc = false;
    for (const auto& m : store.segmentMetrics(runs.front().id))
        overallAuc = overallAuc || (m.segment == "overall" && m.metric == "auc" && m.value > 0.5 &&
                                    m.value < 1.0);
    QVERIFY(overallAuc);
}

void TestAnalysis::sweepToMatrixFromTheCli()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("experiments.db"));
    const QString grid = QString::fromStdString(fixture("small-grid.json"));

    // Dry run: the expansion, nothing stored.
    auto r = runCli({QStringLiteral("--db"), db, QStringLiteral("sweep"), grid,
                     QStringLiteral("--dry-run"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const json dry = json::parse(r.out.toStdString());
    QCOMPARE(dry["items"].size(), std::size_t{4});
    QCOMPARE(dry["runs"].get<int>(), 4);
    QVERIFY(!QFile::exists(db));

    r = runCli(
        {QStringLiteral("--db"), db, QStringLiteral("sweep"), grid, QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const json swept = json::parse(r.out.toStdString());
    QCOMPARE(swept["status"].get<std::string>(), std::string("completed"));
    QCOMPARE(swept["completed"].get<int>(), 4);
    const auto sweepId = swept["sweep_id"].get<std::int64_t>();

    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId),
                QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("--unit"),
                QStringLiteral("interaction")});
    QVERIFY2(r.code == 0, r.err.constData());
    const json m = json::parse(r.out.toStdString());
    QCOMPARE(m["reference"].get<std::string>(), std::string("global"));
    QCOMPARE(m["unit"].get<std::string>(), std::string("interaction"));
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId),
                QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const json byUser = json::parse(r.out.toStdString());
    QCOMPARE(byUser["unit"].get<std::string>(), std::string("user"));

    // Cells against direct store queries.
    ExperimentStore store(db.toStdString());
    std::map<std::string, std::vector<std::int64_t>> runsByRow;
    for (const auto& item : store.sweepItems(sweepId)) {
        QVERIFY(item.runId);
        QVERIFY(item.status == RunStatus::Completed);
        runsByRow[item.rowLabel].push_back(*item.runId);
    }
    QCOMPARE(runsByRow.size(), std::size_t{2});
    for (const auto& row : m["rows"]) {
        const auto label = row["label"].get<std::string>();
        for (const char* seg : {"overall", "cold", "tail"}) {
            for (const char* metric : {"auc", "ndcg@10"}) {
                std::vector<double> values;
                for (const auto id : runsByRow.at(label))
                    for (const auto& s : store.segmentMetrics(id))
                        if (s.segment == seg && s.metric == metric)
                            values.push_back(s.value);
                QCOMPARE(values.size(), std::size_t{2});
                const auto& cell = row["cells"][seg][metric];
                QCOMPARE(cell["n"].get<int>(), 2);
                QVERIFY(std::fabs(cell["mean"].get<double>() - mean(values)) < 1e-12);
                const double sd = std::fabs(values[0] - values[1]) / std::sqrt(2.0);
                QVERIFY(std::fabs(cell["std"].get<double>() - sd) < 1e-12);
            }
        }
    }
    // The tests against per-interaction AUC averaged over seeds, pairs by (user, item).
    RunConfig config =
        runConfigFromJson(json::parse(store.run(runsByRow["global"][0])->configJson));
    const Dataset ds = loadDataset(config.dataset);
    const Segmentation segmentation = computeSegments(ds, config.dataset.segments);
    auto averaged = [&](const std::string& row) {
        std::map<std::pair<std::int64_t, std::int64_t>, std::vector<double>> v;
        for (const auto id : runsByRow.at(row))
            for (const auto& x : store.interactionMetrics(id, "auc"))
                v[{x.user, x.item}].push_back(x.value);
        return v;
    };
    const auto rel = averaged("reliability");
    const auto glo = averaged("global");
    std::vector<double> ps;
    QCOMPARE(m["tests"].size(), std::size_t{3});
    for (const auto& t : m["tests"]) {
        const Segment* seg = segmentation.find(t["segment"].get<std::string>());
        QVERIFY(seg);
        std::vector<double> a;
        std::vector<double> b;
        for (const auto& [key, values] : rel) {
            QCOMPARE(values.size(), std::size_t{2});
            if (!seg->contains(static_cast<std::uint32_t>(key.first),
                               static_cast<std::uint32_t>(key.second)))
                continue;
            a.push_back(mean(values));
            b.push_back(mean(glo.at(key)));
        }
        QVERIFY(a.size() > 10);
        QCOMPARE(t["pairs"].get<std::size_t>(), a.size());
        const auto direct = pairedTTest(a, b);
        QVERIFY(std::fabs(t["t"]["p"].get<double>() - direct.p) < 1e-12);
        QVERIFY(std::fabs(t["mean_difference"].get<double>() - direct.meanDifference) < 1e-12);
        QCOMPARE(t["wilcoxon"]["p"].get<double>(), wilcoxonSignedRank(a, b).p);
        ps.push_back(direct.p);
    }
    // The default unit: per-user means of the same pairs, paired over users.
    for (const auto& t : byUser["tests"]) {
        const Segment* seg = segmentation.find(t["segment"].get<std::string>());
        std::map<std::int64_t, std::array<double, 3>> perUser;
        for (const auto& [key, values] : rel) {
            if (!seg->contains(static_cast<std::uint32_t>(key.first),
                               static_cast<std::uint32_t>(key.second)))
                continue;
            auto& u = perUser[key.first];
            u[0] += mean(values);
            u[1] += mean(glo.at(key));
            u[2] += 1;
        }
        std::vector<double> a;
        std::vector<double> b;
        for (const auto& [user, sums] : perUser) {
            a.push_back(sums[0] / sums[2]);
            b.push_back(sums[1] / sums[2]);
        }
        QCOMPARE(t["pairs"].get<std::size_t>(), a.size());
        QCOMPARE(t["unit"].get<std::string>(), std::string("user"));
        QVERIFY(std::fabs(t["t"]["p"].get<double>() - pairedTTest(a, b).p) < 1e-12);
        QCOMPARE(t["wilcoxon"]["p"].get<double>(), wilcoxonSignedRank(a, b).p);
    }
    const auto holm = holmAdjust(ps);
    for (std::size_t k = 0; k < holm.size(); ++k)
        QVERIFY(std::fabs(m["tests"][k]["t"]["p_holm"].get<double>() - holm[k]) < 1e-12);

    // The other formats.
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId)});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.out.contains("global (ref)"));
    QVERIFY(r.out.contains("tail:"));
    QVERIFY(r.out.contains("p_t=") || r.out.contains("p_t<"));
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId),
                QStringLiteral("--format"), QStringLiteral("csv"), QStringLiteral("--metric"),
                QStringLiteral("auc,gauc")});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(r.out.count('\n'), 1 + 2 * 3 * 2);  // header + rows x segments x metrics
    const QString tex = dir.filePath(QStringLiteral("m.tex"));
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId),
                QStringLiteral("--format"), QStringLiteral("latex"), QStringLiteral("-o"), tex});
    QVERIFY2(r.code == 0, r.err.constData());
    QFile texFile(tex);
    QVERIFY(texFile.open(QIODevice::ReadOnly));
    const QByteArray latex = texFile.readAll();
    QVERIFY(latex.contains("\\toprule") && latex.contains("\\bottomrule"));
    QVERIFY(latex.contains("\\mathbf{"));
    QVERIFY(latex.contains("\\pm"));
    QVERIFY(latex.contains("Holm"));

    // --runs groups by run name; compare pairs two runs.
    const auto g1 = runsByRow["global"][0];
    const auto r1 = runsByRow["reliability"][0];
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QStringLiteral("--runs"),
                QStringLiteral("%1,%2").arg(g1).arg(r1), QStringLiteral("--format"),
                QStringLiteral("json")});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(json::parse(r.out.toStdString())["rows"].size(), std::size_t{2});
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("compare"), QString::number(r1),
                QString::number(g1), QStringLiteral("--json"), QStringLiteral("--unit"),
                QStringLiteral("interaction")});
    QVERIFY2(r.code == 0, r.err.constData());
    const json cmp = json::parse(r.out.toStdString());
    QCOMPARE(cmp["segments"].size(), std::size_t{3});
    std::vector<double> a;
    std::vector<double> b;
    for (const auto& x : store.interactionMetrics(r1, "auc"))
        a.push_back(x.value);
    for (const auto& x : store.interactionMetrics(g1, "auc"))
        b.push_back(x.value);
    QCOMPARE(cmp["segments"][0]["segment"].get<std::string>(), std::string("overall"));
    QVERIFY(std::fabs(cmp["segments"][0]["t"]["p"].get<double>() - pairedTTest(a, b).p) < 1e-12);

    r = runCli({QStringLiteral("--db"), db, QStringLiteral("sweeps"), QStringLiteral("list"),
                QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(json::parse(r.out.toStdString())[0]["completed"].get<int>(), 4);
    // Bad input: unknown reference, unknown sweep.
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QString::number(sweepId),
                QStringLiteral("--reference"), QStringLiteral("nope")});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("nope"));
    r = runCli({QStringLiteral("--db"), db, QStringLiteral("matrix"), QStringLiteral("99")});
    QCOMPARE(r.code, 3);
}

void TestAnalysis::sweepResumesAfterCancel()
{
    QTemporaryDir dir;
    const Grid grid = loadGrid(fixture("small-grid.json"));
    const auto expansion = expandGrid(grid);

    // Uninterrupted, for the numbers.
    std::map<int, double> expected;
    {
        ExperimentStore store(dir.filePath(QStringLiteral("a.db")).toStdString());
        const auto id = createSweep(store, grid, expansion);
        const auto outcome = runSweep(store, id);
        QVERIFY(outcome.status == RunStatus::Completed);
        for (const auto& item : store.sweepItems(id))
            for (const auto& s : store.segmentMetrics(*item.runId))
                if (s.segment == "tail" && s.metric == "auc")
                    expected[item.position] = s.value;
    }
    QCOMPARE(expected.size(), std::size_t{4});

    ExperimentStore store(dir.filePath(QStringLiteral("b.db")).toStdString());
    const auto id = createSweep(store, grid, expansion);
    std::atomic<bool> cancelAll{false};
    std::atomic<bool> cancelCurrent{false};
    SweepCallbacks cb;
    cb.cancelAll = &cancelAll;
    cb.cancelCurrent = &cancelCurrent;
    std::vector<int> started;
    cb.onItemStarted = [&](const SweepItemRecord& item, std::int64_t, int count) {
        QCOMPARE(count, 4);
        started.push_back(item.position);
    };
    // 1. Cancel everything during the first epoch of the first item.
    cb.onBatch = [&](const SweepItemRecord&, const BatchProgress&) { cancelAll = true; };
    auto outcome = runSweep(store, id, cb);
    QVERIFY(outcome.status == RunStatus::Cancelled);
    auto items = store.sweepItems(id);
    QVERIFY(items[0].status == RunStatus::Cancelled);
    QVERIFY(items[0].runId);
    const auto firstRun = *items[0].runId;
    QVERIFY(store.run(firstRun)->status == RunStatus::Cancelled);
    QVERIFY(items[1].status == RunStatus::Pending && !items[1].runId);
    QVERIFY(store.sweep(id)->status == RunStatus::Cancelled);

    // 2. Resume; cancel only the item at position 2, the rest goes on.
    cancelAll = false;
    cb.onBatch = [&](const SweepItemRecord& item, const BatchProgress&) {
        if (item.position == 2)
            cancelCurrent = true;
    };
    outcome = runSweep(store, id, cb);
    QVERIFY(outcome.status == RunStatus::Cancelled);
    QCOMPARE(outcome.completed, 3);
    QCOMPARE(outcome.cancelled, 1);
    items = store.sweepItems(id);
    QCOMPARE(*items[0].runId, firstRun);  // resumed, not restarted
    QVERIFY(items[0].status == RunStatus::Completed);
    QVERIFY(items[2].status == RunStatus::Cancelled);
    QVERIFY(items[3].status == RunStatus::Completed);
    QVERIFY(!cancelCurrent);

    // 3. Resume again: completed items are skipped, the cancelled one finishes.
    cb.onBatch = nullptr;
    started.clear();
    outcome = runSweep(store, id, cb);
    QVERIFY(outcome.status == RunStatus::Completed);
    QCOMPARE(outcome.skipped, 3);
    QCOMPARE(outcome.completed, 1);
    QCOMPARE(started, std::vector<int>{2});
    for (const auto& item : store.sweepItems(id)) {
        QVERIFY(item.status == RunStatus::Completed);
        for (const auto& s : store.segmentMetrics(*item.runId))
            if (s.segment == "tail" && s.metric == "auc")
                QCOMPARE(s.value, expected.at(item.position));
    }
    const auto e = errorFrom([&] { runSweep(store, id + 5); });
    QVERIFY(e && e->kind() == ErrorKind::NotFound);
}

QTEST_GUILESS_MAIN(TestAnalysis)  // QProcess needs an application object
#include "tst_analysis.moc"
