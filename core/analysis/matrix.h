#pragma once
// The results matrix of an ablation: rows are variants (the rows of a sweep, or runs grouped by
// name), columns are segment x metric. Each cell holds mean +- std over the row's seeds (runs),
// whether it is the best of its column (every current metric is higher-is-better) and its
// difference to the reference row. Each (row, segment) also gets paired significance tests of
// the test metric (AUC) against the reference on a chosen unit: paired t, Wilcoxon signed-rank, a
// confidence interval of the mean difference, and Holm's correction over every test in the matrix.
//
// Units (MatrixSettings::unit):
// - user (default): a row's runs are averaged per test interaction over seeds, then per user over
//   the segment's test interactions both the row and the reference have; the pairs are the users.
//   CI: bootstrap over users.
// - seed: per run, the stored segment value of the test metric; runs are paired by seed (seeds
//   both rows have). Needs at least 3 paired seeds (a note says so otherwise). CI: t interval.
// - interaction: every test interaction (averaged over seeds) is a pair, as if interactions were
//   independent (they are not: one user's interactions share the user). CI: cluster bootstrap
//   over users, so only the p-values keep the independence assumption.
// Segment membership comes from the reference run's dataset (loaded again: cold users and tail
// items as the run saw them); a row trained on a different dataset spec gets no test (a note says
// why). When a row's metrics move in opposite directions in a segment (e.g. AUC up, GAUC down),
// its test says so (SignificanceTest::disagreement).
//
// Only completed runs count; a row without any is reported with n = 0. Errors: unknown runs or
// sweeps are Error(NotFound), an unknown reference label Error(Usage). Value types only: safe to
// build on a worker thread and hand to the GUI thread.
#include "analysis/stats.h"
#include "store/experiment_store.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sllmr {

// The replication unit of the paired tests (see above).
enum class TestUnit { User, Seed, Interaction };
const char* toString(TestUnit unit);
TestUnit testUnitFromString(const std::string& text);  // throws Error(Usage) on unknown text
// "paired over users (per-user mean AUC, seeds averaged first)" and the like.
std::string testUnitDescription(TestUnit unit, const std::string& metric);

// Segment values computed on fewer test interactions than this are marked as too small to read.
inline constexpr std::int64_t kSmallSegment = 50;

struct MatrixSettings
{
    std::vector<std::string> segments = {"overall", "cold", "tail"};
    std::vector<std::string> metrics = {"auc", "gauc", "ndcg@10", "recall@20"};
    std::string reference;           // row label; "" = the sweep's reference or the first row
    std::string testMetric = "auc";  // per-interaction metric of the paired tests
    TestUnit unit = TestUnit::User;  // the replication unit of the tests
    BootstrapSettings bootstrap;
    double alpha = 0.05;  // a difference is significant when the Holm-adjusted t-test p < alpha
    const std::atomic<bool>* cancel = nullptr;  // checked between tests; throws Cancelled
};

struct MatrixGroup
{
    std::string label;
    std::vector<std::int64_t> runIds;
};

struct MatrixColumn
{
    std::string segment;
    std::string metric;
};

struct MatrixCell
{
    std::vector<double> values;  // one per completed run (seed)
    int n = 0;
    double mean = std::numeric_limits<double>::quiet_NaN();
    double stdDev = std::numeric_limits<double>::quiet_NaN();      // sample std; NaN for n < 2
    double difference = std::numeric_limits<double>::quiet_NaN();  // mean - reference mean
    bool best = false;
    std::int64_t size = 0;  // fewest test interactions the value rests on over the row's runs
    bool small() const noexcept { return n > 0 && size < kSmallSegment; }
};

struct SignificanceTest
{
    std::string row;
    std::string segment;
    std::string metric;  // settings.testMetric
    TestUnit unit = TestUnit::User;
    std::int64_t pairs = 0;         // paired units: users, seeds or interactions
    std::int64_t interactions = 0;  // test interactions the pairs rest on
    std::int64_t users = 0;         // users they belong to
    PairedTTest t;
    WilcoxonTest wilcoxon;
    BootstrapCi ci;
    double tHolm = std::numeric_limits<double>::quiet_NaN();
    double wilcoxonHolm = std::numeric_limits<double>::quiet_NaN();
    bool significant = false;  // tHolm < alpha
    std::string note;          // why there is no test, when there is none
    // Non-empty when the row's metrics in this segment differ from the reference in opposite
    // directions, e.g. "auc +0.0025; gauc -0.0096, ndcg@10 -0.0031".
    std::string disagreement;
};

struct ResultsMatrix
{
    std::string title;
    std::vector<std::string> rows;
    std::vector<std::vector<std::int64_t>> runIds;  // completed runs per row
    std::string reference;
    std::vector<MatrixColumn> columns;
    std::vector<std::vector<MatrixCell>> cells;  // [row][column]
    std::vector<SignificanceTest> tests;         // every (row != reference, segment)
    MatrixSettings settings;
    std::vector<std::string> notes;

    int rowIndex(const std::string& label) const;  // -1 if absent
    const SignificanceTest* test(const std::string& row, const std::string& segment) const;
};

// Rows of a sweep (its runs per row label, in queue order); `reference` gets the sweep's.
std::vector<MatrixGroup> sweepGroups(const ExperimentStore& store, std::int64_t sweepId,
                                     std::string* reference = nullptr,
                                     std::string* title = nullptr);
// Runs grouped by their name (runs without a name by "run N"), in order of first appearance.
std::vector<MatrixGroup> groupRuns(const ExperimentStore& store,
                                   const std::vector<std::int64_t>& runIds);

ResultsMatrix buildMatrix(const ExperimentStore& store, const std::vector<MatrixGroup>& groups,
                          const MatrixSettings& settings);

std::string matrixText(const ResultsMatrix& matrix);
std::string matrixCsv(const ResultsMatrix& matrix);
nlohmann::json matrixJson(const ResultsMatrix& matrix);
std::string matrixLatex(const ResultsMatrix& matrix);

}  // namespace sllmr
