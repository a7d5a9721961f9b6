#include "analysis/matrix.h"

#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "train/run_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>

namespace sllmr {
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json number(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

std::string fixed(double v, int digits = 4)
{
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : std::string("-");
}

std::string signedFixed(double v, int digits = 4)
{
    return std::isfinite(v) ? fmt::format("{:+.{}f}", v, digits) : std::string("-");
}

// "=0.0123" or "<1e-4", to follow "p".
std::string pText(double p)
{
    if (!std::isfinite(p))
        return "=-";
    if (p < 1e-4)
        return "<1e-4";
    return fmt::format("={:.4f}", p);
}

std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string latexEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
            case '%':
            case '$':
            case '#':
            case '_':
            case '{':
            case '}':
                out += '\\';
                out += c;
                break;
            case '|':
                out += "$|$";
                break;
            case '~':
                out += "\\textasciitilde{}";
                break;
            case '^':
                out += "\\textasciicircum{}";
                break;
            case '\\':
                out += "\\textbackslash{}";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Per-interaction values of a row, averaged over its runs (seeds).
using InteractionMeans = std::map<std::pair<std::int64_t, std::int64_t>, double>;

InteractionMeans averagedInteractions(const ExperimentStore& store,
                                      const std::vector<std::int64_t>& runIds,
                                      const std::string& metric)
{
    std::map<std::pair<std::int64_t, std::int64_t>, std::pair<double, int>> sums;
    for (const auto id : runIds)
        for (const auto& m : store.interactionMetrics(id, metric)) {
            if (!std::isfinite(m.value))
                continue;
            auto& s = sums[{m.user, m.item}];
            s.first += m.value;
            ++s.second;
        }
    InteractionMeans out;
    for (const auto& [key, s] : sums)
        out.emplace(key, s.first / s.second);
    return out;
}

std::string datasetKey(const RunRecord& run)
{
    const json config = json::parse(run.configJson, nullptr, false);
    if (config.is_discarded() || !config.contains("dataset"))
        return {};
    return config["dataset"].dump();
}

// The pairs of one test: values of the row (a) and of the reference (b) per unit, with the user
// each pair belongs to (the cluster of the bootstrap).
struct PairedSample
{
    std::vector<double> a;
    std::vector<double> b;
    std::vector<std::int64_t> cluster;
    std::int64_t interactions = 0;
    std::int64_t users = 0;
};

// Interactions both sides have in the segment, per interaction or averaged per user.
PairedSample interactionOrUserPairs(const InteractionMeans& values, const InteractionMeans& ref,
                                    const Segment& segment, bool perUser)
{
    PairedSample s;
    // Per user (ascending): sums of both sides and the number of interactions.
    std::map<std::int64_t, std::array<double, 3>> byUser;
    for (const auto& [key, value] : values) {
        const auto it = ref.find(key);
        if (it == ref.end() || !segment.contains(static_cast<std::uint32_t>(key.first),
                                                 static_cast<std::uint32_t>(key.second)))
            continue;
        ++s.interactions;
        auto& u = byUser[key.first];
        u[0] += value;
        u[1] += it->second;
        u[2] += 1;
        if (!perUser) {
            s.a.push_back(value);
            s.b.push_back(it->second);
            s.cluster.push_back(key.first);
        }
    }
    s.users = static_cast<std::int64_t>(byUser.size());
    if (perUser)
        for (const auto& [user, sums] : byUser) {
            s.a.push_back(sums[0] / sums[2]);
            s.b.push_back(sums[1] / sums[2]);
            s.cluster.push_back(user);
        }
    return s;
}

// Per run: seed and the stored segment values of `metric` (with the segment sizes).
struct SeedValues
{
    std::map<std::int64_t, std::map<std::string, std::pair<double, std::int64_t>>> bySeed;
};

SeedValues seedValues(const ExperimentStore& store,
                      const std::map<std::int64_t, RunRecord>& records,
                      const std::vector<std::int64_t>& runIds, const std::string& metric)
{
    SeedValues out;
    for (const auto id : runIds) {
        const auto seed = records.at(id).seed;
        if (out.bySeed.count(seed))
            continue;  // the first run of a seed represents it
        auto& values = out.bySeed[seed];
        for (const auto& m : store.segmentMetrics(id))
            if (m.metric == metric && std::isfinite(m.value))
                values[m.segment] = {m.value, m.size};
    }
    return out;
}

PairedSample seedPairs(const SeedValues& row, const SeedValues& ref, const std::string& segment)
{
    PairedSample s;
    for (const auto& [seed, values] : row.bySeed) {
        const auto r = ref.bySeed.find(seed);
        if (r == ref.bySeed.end())
            continue;
        const auto a = values.find(segment);
        const auto b = r->second.find(segment);
        if (a == values.end() || b == r->second.end())
            continue;
        s.a.push_back(a->second.first);
        s.b.push_back(b->second.first);
        s.cluster.push_back(seed);
        s.interactions = std::max(s.interactions, a->second.second);
    }
    return s;
}

// Runs the tests of `t` on `s` (or leaves a note why not).
void testPairs(SignificanceTest& t, const PairedSample& s, const MatrixSettings& settings)
{
    t.pairs = static_cast<std::int64_t>(s.a.size());
    t.interactions = s.interactions;
    t.users = s.users;
    if (s.a.empty()) {
        t.note = settings.unit == TestUnit::Seed
                     ? "no seed in common with the reference"
                     : "no test interaction in common with the reference";
        return;
    }
    if (settings.unit == TestUnit::Seed && s.a.size() < 3) {
        t.note = fmt::format(
            "the seed unit needs at least 3 seeds paired with the reference; {} here (run more "
            "seeds, or test on the user unit)",
            s.a.size());
        return;
    }
    t.t = pairedTTest(s.a, s.b);
    t.wilcoxon = wilcoxonSignedRank(s.a, s.b);
    t.ci = settings.unit == TestUnit::Seed
               ? tIntervalMeanDifference(s.a, s.b, settings.bootstrap.level)
               : clusterBootstrapMeanDifference(s.a, s.b, s.cluster, settings.bootstrap);
}

// "auc +0.0025; gauc -0.0096" when the row's metrics of `segment` move in opposite directions.
std::string signDisagreement(const ResultsMatrix& m, std::size_t row, const std::string& segment)
{
    std::string up;
    std::string down;
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
        if (m.columns[c].segment != segment)
            continue;
        const double d = m.cells[row][c].difference;
        if (!std::isfinite(d) || d == 0)
            continue;
        auto& side = d > 0 ? up : down;
        side += fmt::format("{}{} {:+.4f}", side.empty() ? "" : ", ", m.columns[c].metric, d);
    }
    return up.empty() || down.empty() ? std::string() : up + "; " + down;
}

}  // namespace

const char* toString(TestUnit unit)
{
    switch (unit) {
        case TestUnit::User:
            return "user";
        case TestUnit::Seed:
            return "seed";
        case TestUnit::Interaction:
            return "interaction";
    }
    return "user";
}

TestUnit testUnitFromString(const std::string& text)
{
    if (text == "user")
        return TestUnit::User;
    if (text == "seed")
        return TestUnit::Seed;
    if (text == "interaction")
        return TestUnit::Interaction;
    throw Error(ErrorKind::Usage, "unknown test unit '" + text + "'", {}, 0,
                "use user, seed or interaction");
}

std::string testUnitDescription(TestUnit unit, const std::string& metric)
{
    switch (unit) {
        case TestUnit::User:
            return "unit user: paired over users (per-user mean " + metric +
                   ", seeds averaged first); CI: bootstrap over users";
        case TestUnit::Seed:
            return "unit seed: paired over seeds (per-seed segment " + metric +
                   "); CI: t interval over seeds";
        case TestUnit::Interaction:
            return "unit interaction: paired over test interactions (seeds averaged first), "
                   "treated as independent although one user's are not; CI: bootstrap over users";
    }
    return {};
}

int ResultsMatrix::rowIndex(const std::string& label) const
{
    for (std::size_t k = 0; k < rows.size(); ++k)
        if (rows[k] == label)
            return static_cast<int>(k);
    return -1;
}

const SignificanceTest* ResultsMatrix::test(const std::string& row,
                                            const std::string& segment) const
{
    for (const auto& t : tests)
        if (t.row == row && t.segment == segment)
            return &t;
    return nullptr;
}

std::vector<MatrixGroup> sweepGroups(const ExperimentStore& store, std::int64_t sweepId,
                                     std::string* reference, std::string* title)
{
    const auto sweep = store.sweep(sweepId);
    if (!sweep)
        throw Error(ErrorKind::NotFound, "sweep " + std::to_string(sweepId) + " does not exist",
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    const json grid = json::parse(sweep->gridJson, nullptr, false);
    if (reference && !grid.is_discarded())
        *reference = grid.value("reference", std::string());
    if (title)
        *title = fmt::format("sweep {} \"{}\"", sweepId, sweep->name);
    std::vector<MatrixGroup> groups;
    for (const auto& item : store.sweepItems(sweepId)) {
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const MatrixGroup& g) { return g.label == item.rowLabel; });
        if (it == groups.end()) {
            groups.push_back({item.rowLabel, {}});
            it = std::prev(groups.end());
        }
        if (item.runId &&
            std::find(it->runIds.begin(), it->runIds.end(), *item.runId) == it->runIds.end())
            it->runIds.push_back(*item.runId);
    }
    return groups;
}

std::vector<MatrixGroup> groupRuns(const ExperimentStore& store,
                                   const std::vector<std::int64_t>& runIds)
{
    std::vector<MatrixGroup> groups;
    for (const auto id : runIds) {
        const auto run = store.run(id);
        if (!run)
            throw Error(ErrorKind::NotFound, "run " + std::to_string(id) + " does not exist",
                        store.path(), 0, "'sllmr runs list' shows the runs");
        const std::string label = run->name.empty() ? "run " + std::to_string(id) : run->name;
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const MatrixGroup& g) { return g.label == label; });
        if (it == groups.end())
            groups.push_back({label, {id}});
        else
            it->runIds.push_back(id);
    }
    return groups;
}

namespace {

// Mean +- std per cell, the best of each column and the differences to row `ref`.
void fillCells(const ExperimentStore& store, ResultsMatrix& m, int ref)
{
    m.cells.assign(m.rows.size(), std::vector<MatrixCell>(m.columns.size()));
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        for (const auto id : m.runIds[r]) {
            std::map<std::pair<std::string, std::string>, SegmentMetric> stored;
            for (const auto& s : store.segmentMetrics(id))
                stored[{s.segment, s.metric}] = s;
            for (std::size_t c = 0; c < m.columns.size(); ++c) {
                const auto it = stored.find({m.columns[c].segment, m.columns[c].metric});
                if (it == stored.end() || !std::isfinite(it->second.value))
                    continue;
                auto& cell = m.cells[r][c];
                cell.size =
                    cell.values.empty() ? it->second.size : std::min(cell.size, it->second.size);
                cell.values.push_back(it->second.value);
            }
        }
        for (auto& cell : m.cells[r]) {
            cell.n = static_cast<int>(cell.values.size());
            if (cell.n == 0)
                continue;
            cell.mean = std::accumulate(cell.values.begin(), cell.values.end(), 0.0) / cell.n;
            if (cell.n > 1) {
                double ss = 0;
                for (double v : cell.values)
                    ss += (v - cell.mean) * (v - cell.mean);
                cell.stdDev = std::sqrt(ss / (cell.n - 1));
            }
        }
    }
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
        double best = -std::numeric_limits<double>::infinity();
        for (std::size_t r = 0; r < m.rows.size(); ++r)
            if (m.cells[r][c].n > 0)
                best = std::max(best, m.cells[r][c].mean);
        for (std::size_t r = 0; r < m.rows.size(); ++r) {
            auto& cell = m.cells[r][c];
            cell.best = cell.n > 0 && cell.mean == best;
            cell.difference = cell.mean - m.cells[static_cast<std::size_t>(ref)][c].mean;
        }
    }
}

// Paired tests of every row against row `ref`, per segment, on settings.unit; then Holm.
void fillTests(const ExperimentStore& store, const std::map<std::int64_t, RunRecord>& records,
               ResultsMatrix& m, int ref)
{
    const auto& settings = m.settings;
    const auto& refRuns = m.runIds[static_cast<std::size_t>(ref)];
    std::unique_ptr<Segmentation> segmentation;
    std::string refDataset;
    InteractionMeans refValues;
    SeedValues refSeeds;
    const bool bySeed = settings.unit == TestUnit::Seed;
    if (!refRuns.empty()) {
        const auto& refRun = records.at(refRuns.front());
        refDataset = datasetKey(refRun);
        const RunConfig config = runConfigFromJson(json::parse(refRun.configJson));
        LoadControl load;
        load.cancel = settings.cancel;
        const Dataset dataset = loadDataset(config.dataset, load);
        segmentation =
            std::make_unique<Segmentation>(computeSegments(dataset, config.dataset.segments));
        if (bySeed)
            refSeeds = seedValues(store, records, refRuns, settings.testMetric);
        else
            refValues = averagedInteractions(store, refRuns, settings.testMetric);
    }
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        if (static_cast<int>(r) == ref)
            continue;
        std::string note;
        if (refRuns.empty())
            note = "the reference row has no completed run";
        else if (m.runIds[r].empty())
            note = "no completed run";
        for (const auto id : m.runIds[r])
            if (note.empty() && datasetKey(records.at(id)) != refDataset)
                note = fmt::format("run {} was trained on another dataset than the reference", id);
        InteractionMeans values;
        SeedValues seeds;
        if (note.empty() && bySeed)
            seeds = seedValues(store, records, m.runIds[r], settings.testMetric);
        else if (note.empty())
            values = averagedInteractions(store, m.runIds[r], settings.testMetric);
        for (const auto& seg : settings.segments) {
            if (settings.cancel && settings.cancel->load())
                throw Error(ErrorKind::Cancelled, "building the matrix was cancelled");
            SignificanceTest t;
            t.row = m.rows[r];
            t.segment = seg;
            t.metric = settings.testMetric;
            t.unit = settings.unit;
            t.note = note;
            t.t.p = t.wilcoxon.p = kNaN;
            t.ci.mean = t.ci.lo = t.ci.hi = kNaN;
            t.disagreement = signDisagreement(m, r, seg);
            const Segment* segment = segmentation ? segmentation->find(seg) : nullptr;
            if (t.note.empty() && !segment)
                t.note = "segment \"" + seg + "\" is not defined for this dataset";
            if (t.note.empty())
                testPairs(t,
                          bySeed ? seedPairs(seeds, refSeeds, seg)
                                 : interactionOrUserPairs(values, refValues, *segment,
                                                          settings.unit == TestUnit::User),
                          settings);
            m.tests.push_back(std::move(t));
        }
    }
    std::vector<double> tp;
    std::vector<double> wp;
    for (const auto& t : m.tests) {
        tp.push_back(t.t.p);
        wp.push_back(t.wilcoxon.p);
    }
    const auto tAdj = holmAdjust(tp);
    const auto wAdj = holmAdjust(wp);
    for (std::size_t k = 0; k < m.tests.size(); ++k) {
        m.tests[k].tHolm = tAdj[k];
        m.tests[k].wilcoxonHolm = wAdj[k];
        m.tests[k].significant = std::isfinite(tAdj[k]) && tAdj[k] < settings.alpha;
    }
}

}  // namespace

ResultsMatrix buildMatrix(const ExperimentStore& store, const std::vector<MatrixGroup>& groups,
                          const MatrixSettings& settings)
{
    if (groups.empty())
        throw Error(ErrorKind::Usage, "no runs to tabulate", {}, 0,
                    "give a sweep id or a list of run ids");
    ResultsMatrix m;
    m.settings = settings;
    for (const auto& seg : settings.segments)
        for (const auto& metric : settings.metrics)
            m.columns.push_back({seg, metric});

    // Completed runs per row.
    std::map<std::int64_t, RunRecord> records;
    for (const auto& g : groups) {
        m.rows.push_back(g.label);
        std::vector<std::int64_t> done;
        for (const auto id : g.runIds) {
            const auto run = store.run(id);
            if (!run)
                throw Error(ErrorKind::NotFound, "run " + std::to_string(id) + " does not exist",
                            store.path(), 0, "'sllmr runs list' shows the runs");
            if (run->status != RunStatus::Completed) {
                m.notes.push_back(fmt::format("row \"{}\": run {} is {}, left out", g.label, id,
                                              toString(run->status)));
                continue;
            }
            records.emplace(id, *run);
            done.push_back(id);
        }
        m.runIds.push_back(done);
    }
    m.reference = settings.reference.empty() ? m.rows.front() : settings.reference;
    const int ref = m.rowIndex(m.reference);
    if (ref < 0) {
        std::string rows;
        for (const auto& r : m.rows)
            rows += (rows.empty() ? "\"" : ", \"") + r + "\"";
        throw Error(ErrorKind::Usage, "reference \"" + m.reference + "\" is not a row", {}, 0,
                    "choose one of " + rows);
    }
    fillCells(store, m, ref);
    fillTests(store, records, m, ref);
    return m;
}

// -------------------------------------------------------------------------------------------------
// Exports

namespace {

// Block 1: the test metric per segment with differences and p.
void textTestMetricBlock(std::ostringstream& out, const ResultsMatrix& m, std::size_t width)
{
    const auto& s = m.settings;
    out << fmt::format("{:<{}} {:>5}", "row", width, "seeds");
    for (const auto& seg : s.segments)
        out << fmt::format("  {:<36}", seg + " " + s.testMetric);
    out << '\n';
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        const bool isRef = m.rows[r] == m.reference;
        out << fmt::format("{:<{}} {:>5}", m.rows[r] + (isRef ? " (ref)" : ""), width,
                           m.runIds[r].size());
        for (const auto& seg : s.segments) {
            std::string cell;
            for (std::size_t c = 0; c < m.columns.size(); ++c) {
                if (m.columns[c].segment != seg || m.columns[c].metric != s.testMetric)
                    continue;
                const auto& v = m.cells[r][c];
                cell = fixed(v.mean) + (std::isfinite(v.stdDev) ? "±" + fixed(v.stdDev) : "");
                if (v.best)
                    cell += "^";
                if (v.small())
                    cell += "†";
            }
            if (const auto* t = m.test(m.rows[r], seg)) {
                cell += " " + signedFixed(t->ci.mean) + " p" + pText(t->tHolm) +
                        (t->significant ? "*" : "") + (t->disagreement.empty() ? "" : "≠");
            }
            out << fmt::format("  {:<36}", cell.empty() ? std::string("-") : cell);
        }
        out << '\n';
    }
    out << fmt::format(
        "(^ best of the column; † computed on fewer than {} test interactions, too few to read;\n"
        " ≠ the row's metrics in this segment move in opposite directions, see below)\n",
        kSmallSegment);
}

// Block 2: the verdicts, long-tail items first.
void textVerdictBlock(std::ostringstream& out, const ResultsMatrix& m, std::size_t width)
{
    const auto& s = m.settings;
    std::vector<std::string> order;
    for (const char* first : {"tail", "cold", "overall"})
        if (std::find(s.segments.begin(), s.segments.end(), first) != s.segments.end())
            order.push_back(first);
    for (const auto& seg : s.segments)
        if (std::find(order.begin(), order.end(), seg) == order.end())
            order.push_back(seg);
    out << fmt::format("\nAgainst \"{}\" ({}, {:.0f}% CI{}; unit {}):\n", m.reference, s.testMetric,
                       s.bootstrap.level * 100,
                       s.unit == TestUnit::Seed
                           ? std::string(", t interval over seeds")
                           : fmt::format(", bootstrap over users, B = {}", s.bootstrap.resamples),
                       toString(s.unit));
    for (const auto& seg : order) {
        out << "  " << seg << ":\n";
        for (const auto& t : m.tests) {
            if (t.segment != seg)
                continue;
            if (!t.note.empty()) {
                out << fmt::format("    {:<{}} no test: {}\n", t.row, width, t.note);
                continue;
            }
            const char* verdict = !t.significant  ? "not significant"
                                  : t.ci.mean > 0 ? "significantly better"
                                                  : "significantly worse";
            out << fmt::format("    {:<{}} {} [{}, {}]  n={} {}s  p_t{} p_W{} (Holm)  {}\n", t.row,
                               width, signedFixed(t.ci.mean), signedFixed(t.ci.lo),
                               signedFixed(t.ci.hi), t.pairs, toString(t.unit), pText(t.tHolm),
                               pText(t.wilcoxonHolm), verdict);
            if (!t.disagreement.empty())
                out << fmt::format("    {:<{}} metrics disagree in sign: {}\n", "", width,
                                   t.disagreement);
        }
        if (std::any_of(m.tests.begin(), m.tests.end(), [&](const SignificanceTest& t) {
                return t.segment == seg && t.note.empty() && t.interactions > 0 &&
                       t.interactions < kSmallSegment;
            }))
            out << fmt::format("    († fewer than {} test interactions: read with care)\n",
                               kSmallSegment);
    }
}

// Block 3: every metric, mean ± std.
void textAllMetricsBlock(std::ostringstream& out, const ResultsMatrix& m, std::size_t width)
{
    const auto& s = m.settings;
    for (const auto& seg : s.segments) {
        out << fmt::format("\n{:<{}}", seg, width);
        for (const auto& metric : s.metrics)
            out << fmt::format(" {:>17}", metric);
        out << '\n';
        for (std::size_t r = 0; r < m.rows.size(); ++r) {
            out << fmt::format("{:<{}}", m.rows[r], width);
            for (std::size_t c = 0; c < m.columns.size(); ++c) {
                if (m.columns[c].segment != seg)
                    continue;
                const auto& v = m.cells[r][c];
                std::string cell = fixed(v.mean);
                if (std::isfinite(v.stdDev))
                    cell += "±" + fixed(v.stdDev);
                out << fmt::format(" {:>17}",
                                   cell + (v.best ? "^" : " ") + (v.small() ? "†" : " "));
            }
            out << '\n';
        }
    }
    if (std::any_of(m.cells.begin(), m.cells.end(), [](const auto& row) {
            return std::any_of(row.begin(), row.end(),
                               [](const MatrixCell& c) { return c.small(); });
        }))
        out << fmt::format("† computed on fewer than {} test interactions: too few to read\n",
                           kSmallSegment);
}

}  // namespace

std::string matrixText(const ResultsMatrix& m)
{
    std::ostringstream out;
    const auto& s = m.settings;
    std::size_t width = 10;
    for (const auto& r : m.rows)
        width = std::max(width, r.size() + 6);
    const int seeds = static_cast<int>(
        m.runIds.empty()
            ? 0
            : std::max_element(m.runIds.begin(), m.runIds.end(), [](const auto& x, const auto& y) {
                  return x.size() < y.size();
              })->size());
    out << fmt::format("{}{}{} rows, up to {} seeds; reference \"{}\"\n", m.title,
                       m.title.empty() ? "" : ": ", m.rows.size(), seeds, m.reference);
    out << fmt::format(
        "{} by segment: mean ± std over seeds, difference to the reference, Holm-adjusted p of a\n"
        "paired t-test; * significant at {} on this unit only\n{}\n\n",
        s.testMetric, s.alpha, testUnitDescription(s.unit, s.testMetric));

    textTestMetricBlock(out, m, width);
    textVerdictBlock(out, m, width);
    textAllMetricsBlock(out, m, width);
    for (const auto& note : m.notes)
        out << "note: " << note << '\n';
    return out.str();
}

std::string matrixCsv(const ResultsMatrix& m)
{
    std::ostringstream out;
    out << "row,reference,segment,metric,n,mean,std,best,difference,size,small,unit,pairs,"
           "interactions,users,mean_difference,ci_method,ci_lo,ci_hi,t,p_t,p_t_holm,wilcoxon_w,"
           "p_wilcoxon,p_wilcoxon_holm,significant,sign_disagreement\n";
    const auto num = [](double v) {
        return std::isfinite(v) ? fmt::format("{}", v) : std::string();
    };
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        for (std::size_t c = 0; c < m.columns.size(); ++c) {
            const auto& v = m.cells[r][c];
            const auto& col = m.columns[c];
            out << csvField(m.rows[r]) << ',' << (m.rows[r] == m.reference ? 1 : 0) << ','
                << col.segment << ',' << col.metric << ',' << v.n << ',' << num(v.mean) << ','
                << num(v.stdDev) << ',' << (v.best ? 1 : 0) << ',' << num(v.difference) << ','
                << v.size << ',' << (v.small() ? 1 : 0) << ',' << toString(m.settings.unit);
            const auto* t =
                col.metric == m.settings.testMetric ? m.test(m.rows[r], col.segment) : nullptr;
            if (t && t->note.empty())
                out << ',' << t->pairs << ',' << t->interactions << ',' << t->users << ','
                    << num(t->ci.mean) << ',' << csvField(t->ci.method) << ',' << num(t->ci.lo)
                    << ',' << num(t->ci.hi) << ',' << num(t->t.t) << ',' << num(t->t.p) << ','
                    << num(t->tHolm) << ',' << num(t->wilcoxon.w) << ',' << num(t->wilcoxon.p)
                    << ',' << num(t->wilcoxonHolm) << ',' << (t->significant ? 1 : 0) << ','
                    << csvField(t->disagreement);
            else
                out << ",,,,,,,,,,,,,,";
            out << '\n';
        }
    }
    return out.str();
}

json matrixJson(const ResultsMatrix& m)
{
    json j;
    j["title"] = m.title;
    j["reference"] = m.reference;
    j["test_metric"] = m.settings.testMetric;
    j["unit"] = toString(m.settings.unit);
    j["unit_description"] = testUnitDescription(m.settings.unit, m.settings.testMetric);
    j["small_segment"] = kSmallSegment;
    j["alpha"] = m.settings.alpha;
    j["bootstrap"] = {{"resamples", m.settings.bootstrap.resamples},
                      {"level", m.settings.bootstrap.level},
                      {"seed", m.settings.bootstrap.seed}};
    j["segments"] = m.settings.segments;
    j["metrics"] = m.settings.metrics;
    j["rows"] = json::array();
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        json row{{"label", m.rows[r]}, {"runs", m.runIds[r]}, {"cells", json::object()}};
        for (std::size_t c = 0; c < m.columns.size(); ++c) {
            const auto& v = m.cells[r][c];
            json values = json::array();
            for (double x : v.values)
                values.push_back(x);
            row["cells"][m.columns[c].segment][m.columns[c].metric] = {
                {"n", v.n},
                {"mean", number(v.mean)},
                {"std", number(v.stdDev)},
                {"difference", number(v.difference)},
                {"best", v.best},
                {"size", v.size},
                {"small", v.small()},
                {"values", values}};
        }
        j["rows"].push_back(row);
    }
    j["tests"] = json::array();
    for (const auto& t : m.tests) {
        json x{{"row", t.row},       {"segment", t.segment},
               {"metric", t.metric}, {"unit", toString(t.unit)},
               {"pairs", t.pairs},   {"interactions", t.interactions},
               {"users", t.users}};
        if (!t.disagreement.empty())
            x["sign_disagreement"] = t.disagreement;
        if (!t.note.empty()) {
            x["note"] = t.note;
        } else {
            x["mean_difference"] = number(t.ci.mean);
            x["ci"] = {number(t.ci.lo), number(t.ci.hi)};
            x["ci_method"] = t.ci.method;
            x["t"] = {{"t", number(t.t.t)},
                      {"df", t.t.df},
                      {"p", number(t.t.p)},
                      {"p_holm", number(t.tHolm)}};
            x["wilcoxon"] = {{"w", t.wilcoxon.w},
                             {"w_plus", t.wilcoxon.wPlus},
                             {"w_minus", t.wilcoxon.wMinus},
                             {"n", t.wilcoxon.n},
                             {"zeros", t.wilcoxon.zeros},
                             {"exact", t.wilcoxon.exact},
                             {"z", number(t.wilcoxon.z)},
                             {"p", number(t.wilcoxon.p)},
                             {"p_holm", number(t.wilcoxonHolm)}};
            x["significant"] = t.significant;
        }
        j["tests"].push_back(x);
    }
    j["notes"] = m.notes;
    return j;
}

std::string matrixLatex(const ResultsMatrix& m)
{
    std::ostringstream out;
    const auto& s = m.settings;
    out << "% requires \\usepackage{booktabs}\n\\begin{table}[t]\n\\centering\n\\small\n";
    out << "\\begin{tabular}{l" << std::string(m.columns.size(), 'c') << "}\n\\toprule\n";
    out << "Variant";
    for (const auto& seg : s.segments)
        out << " & \\multicolumn{" << s.metrics.size() << "}{c}{" << latexEscape(seg) << "}";
    out << " \\\\\n";
    for (std::size_t k = 0; k < s.segments.size(); ++k) {
        const auto from = 2 + k * s.metrics.size();
        out << "\\cmidrule(lr){" << from << '-' << from + s.metrics.size() - 1 << "}";
    }
    out << "\n";
    for (const auto& col : m.columns)
        out << " & " << latexEscape(col.metric == "auc" ? "AUC" : col.metric);
    out << " \\\\\n\\midrule\n";
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        out << latexEscape(m.rows[r]);
        if (m.rows[r] == m.reference)
            out << " (ref.)";
        for (std::size_t c = 0; c < m.columns.size(); ++c) {
            const auto& v = m.cells[r][c];
            std::string cell = v.n == 0 ? std::string("--") : fixed(v.mean);
            if (v.n > 0 && v.best)
                cell = "\\mathbf{" + cell + "}";
            if (std::isfinite(v.stdDev))
                cell += " \\pm " + fixed(v.stdDev);
            if (m.columns[c].metric == s.testMetric)
                if (const auto* t = m.test(m.rows[r], m.columns[c].segment); t && t->significant)
                    cell += "^{\\dagger}";
            if (v.small())
                cell += "^{\\S}";
            out << " & $" << cell << "$";
        }
        out << " \\\\\n";
    }
    out << "\\bottomrule\n\\end{tabular}\n";
    out << "\\caption{" << latexEscape(m.title.empty() ? std::string("Results") : m.title)
        << ": mean $\\pm$ std over seeds; best of each column in bold. $^{\\dagger}$: "
        << latexEscape(s.testMetric == "auc" ? "AUC" : s.testMetric)
        << " differs from the reference ``" << latexEscape(m.reference) << "'' (paired t-test, "
        << latexEscape(testUnitDescription(s.unit, s.testMetric)) << "; Holm-adjusted over the "
        << m.tests.size() << " comparisons of the table; $p < " << s.alpha
        << "$). $^{\\S}$: computed on fewer than " << kSmallSegment << " test interactions.}\n";
    out << "\\end{table}\n";
    return out.str();
}

}  // namespace sllmr
