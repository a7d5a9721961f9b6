// Sweeps beyond one process: a 2 x 2 grid (reliability gate and the random gate at its
// activation rate, seeds 1 and 2: the random cells refer to the reliability cells) run through
// `--executor processes` and `--executor slurm` on a real single-node Slurm cluster
// (tests/slurm/start-cluster.sh), collected from the per-cell shard stores into experiments.db,
// and compared row by row with a local sweep of the same grid: every stored metric is
// bit-identical per (row, seed). Also: collecting twice adds nothing, a broken or partial shard is
// reported and left byte-for-byte alone, a cancelled Slurm task shows as CANCELLED and completes
// when the sweep is resumed (only the cells without a completed shard are resubmitted).
//
// The Slurm test starts its own cluster and stops it afterwards; where the cluster cannot start
// (not root, packages missing) it is skipped with the reason. SLLMR_SLURM_CONF=PATH uses a
// running cluster instead.
#include "analysis/executors.h"
#include "analysis/grid.h"
#include "analysis/shards.h"
#include "analysis/sweep.h"
#include "cli_run.h"
#include "common/error.h"
#include "slurm_cluster.h"
#include "store/experiment_store.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>

using namespace sllmr;
using nlohmann::json;

namespace {

const QString kGrid = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/analysis/shard-grid.json");

json cliJson(const QStringList& args)
{
    const CliResult r = runCli(args);
    if (r.code != 0)
        qWarning("sllmr %s: exit %d\n%s", qPrintable(args.join(QLatin1Char(' '))), r.code,
                 r.err.constData());
    return json::parse(r.out.toStdString(), nullptr, false);
}

// Everything stored about the runs of a sweep, per (row, seed): what must be equal.
struct RunRows
{
    std::string status;
    std::vector<SegmentMetric> segments;
    std::vector<EpochMetric> epochs;  // without the wall time
    std::vector<InteractionMetric> interactions;
    std::vector<GateBin> bins;
};

std::map<std::pair<std::string, std::int64_t>, RunRows> sweepRows(const QString& db,
                                                                  std::int64_t sweepId)
{
    ExperimentStore store(db.toStdString());
    std::map<std::pair<std::string, std::int64_t>, RunRows> out;
    for (const auto& item : store.sweepItems(sweepId)) {
        RunRows rows;
        if (item.runId) {
            rows.status = toString(store.run(*item.runId)->status);
            rows.segments = store.segmentMetrics(*item.runId);
            for (const auto& e : store.epochMetrics(*item.runId))
                if (e.key != "seconds")
                    rows.epochs.push_back(e);
            rows.interactions = store.interactionMetrics(*item.runId, "auc");
            rows.bins = store.gateBins(*item.runId);
        }
        out[{item.rowLabel, item.seed}] = rows;
    }
    return out;
}

// Row counts of every table: collecting again must not change them.
std::map<std::string, std::int64_t> tableCounts(const QString& db)
{
    ExperimentStore store(db.toStdString());
    std::map<std::string, std::int64_t> counts;
    counts["runs"] = static_cast<std::int64_t>(store.runs().size());
    counts["datasets"] = static_cast<std::int64_t>(store.datasets().size());
    counts["score_sets"] = static_cast<std::int64_t>(store.scoreSets().size());
    for (const auto& run : store.runs()) {
        counts["epoch_metrics"] += static_cast<std::int64_t>(store.epochMetrics(run.id).size());
        counts["segment_metrics"] += static_cast<std::int64_t>(store.segmentMetrics(run.id).size());
        counts["interaction_metrics"] +=
            static_cast<std::int64_t>(store.interactionMetrics(run.id, "auc").size());
        counts["gate_bins"] += static_cast<std::int64_t>(store.gateBins(run.id).size());
    }
    return counts;
}

QByteArray fileBytes(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TestSlurm : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void gridExecutorKeyIsChecked();
    void batchScriptHasTheOptions();
    void processesExecutorMatchesLocal();
    void brokenShardsAreReportedAndLeftAlone();
    void slurmExecutorMatchesLocal();

private:
    // Every stored metric of `db`'s sweep equals the local sweep's, per (row, seed).
    void compareWithLocal(const QString& db, std::int64_t sweepId);
    // Starts the test cluster once; returns why it cannot run ("" when it runs).
    QString startCluster();
    // Waits until no cell of the sweep is pending or running; returns the cells.
    json waitForCells(const QString& db, std::int64_t sweepId, int timeoutMs);

    QTemporaryDir m_dir;
    QString m_localDb;
    std::int64_t m_localSweep = 0;
    QString m_processesDb;
    std::int64_t m_processesSweep = 0;
    TestCluster m_cluster;
};

void TestSlurm::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // The reference: the same grid run one item at a time in one process.
    m_localDb = m_dir.filePath(QStringLiteral("local.db"));
    const json local = cliJson({QStringLiteral("--db"), m_localDb, QStringLiteral("sweep"), kGrid,
                                QStringLiteral("--json")});
    QVERIFY(!local.is_discarded());
    QCOMPARE(local["status"].get<std::string>(), std::string("completed"));
    m_localSweep = local["sweep_id"].get<std::int64_t>();
}

void TestSlurm::cleanupTestCase()
{
    m_cluster.stop();
}

void TestSlurm::gridExecutorKeyIsChecked()
{
    const auto settings =
        executorFromJson(json::parse(R"({"name": "slurm", "partition": "short", "time": "00:10:00",
                                         "cpus_per_task": 2, "throttle": 4,
                                         "sbatch": ["--qos=low"]})"),
                         "g.json");
    QCOMPARE(settings.kind, ExecutorKind::Slurm);
    QCOMPARE(settings.slurm.partition, std::string("short"));
    QCOMPARE(settings.slurm.cpusPerTask, 2);
    QCOMPARE(toJson(settings)["throttle"].get<int>(), 4);
    // Slurm's own formats pass: minutes, [D-]HH:MM:SS, and sizes with or without a unit.
    for (const char* ok : {R"({"time": "30", "mem": "500"})", R"({"time": "1-00:00:00"})",
                           R"({"time": "45:00", "mem": "4G"})", R"({"time": "2-12"})"})
        QCOMPARE(executorFromJson(json::parse(ok), "g.json").kind, ExecutorKind::Local);
    for (const char* bad :
         {R"({"name": "pbs"})", R"({"name": "slurm", "partiton": "x"})",
          R"({"name": "processes", "jobs": 0})", R"({"time": "1\n#SBATCH x"})", R"(["slurm"])",
          R"({"time": "2 hours"})", R"({"mem": "lots"})", R"({"mem": "4 GB"})"}) {
        try {
            executorFromJson(json::parse(bad), "g.json");
            QFAIL(bad);
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Usage);
            QVERIFY2(std::string(e.what()).find("g.json") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("executor") != std::string::npos, e.what());
        }
    }
}

void TestSlurm::batchScriptHasTheOptions()
{
    const Grid grid = loadGrid(kGrid.toStdString());
    const auto m = previewManifest(grid.name, expandGrid(grid), 7, "/shared/sweep-7");
    const auto waves = cellWaves(m, m.cells());
    QCOMPARE(waves.size(), std::size_t{2});  // the random cells wait for the reliability cells
    QCOMPARE(waves[0], (std::vector<int>{0, 1}));
    QCOMPARE(waves[1], (std::vector<int>{2, 3}));
    SlurmOptions o;
    o.partition = "short";
    o.time = "00:05:00";
    o.cpusPerTask = 2;
    o.mem = "2G";
    o.account = "lab";
    o.throttle = 1;
    o.extra = {"--qos=low", "#SBATCH --exclusive"};
    const QString script =
        QString::fromStdString(slurmScript(m, o, waves[0], "/opt/sllmr/bin/sllmr"));
    for (const char* line :
         {"#SBATCH --array=0,1%1\n", "#SBATCH --partition=short\n", "#SBATCH --time=00:05:00\n",
          "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=2G\n", "#SBATCH --account=lab\n",
          "#SBATCH --qos=low\n", "#SBATCH --exclusive\n",
          "#SBATCH --output=/shared/sweep-7/cells/%a/slurm-%A_%a.log\n",
          "exec '/opt/sllmr/bin/sllmr' run --sweep-dir '/shared/sweep-7' --cell "
          "\"$SLURM_ARRAY_TASK_ID\""})
        QVERIFY2(script.contains(QLatin1String(line)), qPrintable(script));
}

void TestSlurm::compareWithLocal(const QString& db, std::int64_t sweepId)
{
    const auto local = sweepRows(m_localDb, m_localSweep);
    const auto other = sweepRows(db, sweepId);
    QCOMPARE(other.size(), local.size());
    for (const auto& [key, want] : local) {
        const auto& got = other.at(key);
        const QByteArray what =
            QByteArray::fromStdString(key.first + " seed " + std::to_string(key.second));
        QVERIFY2(got.status == "completed", what.constData());
        QVERIFY2(!want.segments.empty() && !want.interactions.empty(), what.constData());
        QCOMPARE(got.segments.size(), want.segments.size());
        for (std::size_t k = 0; k < want.segments.size(); ++k) {
            QCOMPARE(got.segments[k].segment, want.segments[k].segment);
            QCOMPARE(got.segments[k].metric, want.segments[k].metric);
            // Bit-identical (NaN where both are NaN, e.g. an empty segment).
            QVERIFY2(got.segments[k].value == want.segments[k].value ||
                         (std::isnan(got.segments[k].value) && std::isnan(want.segments[k].value)),
                     (what + " " +
                      QByteArray::fromStdString(want.segments[k].segment + " " +
                                                want.segments[k].metric))
                         .constData());
        }
        QCOMPARE(got.epochs.size(), want.epochs.size());
        for (std::size_t k = 0; k < want.epochs.size(); ++k) {
            QCOMPARE(got.epochs[k].key, want.epochs[k].key);
            QVERIFY2(
                got.epochs[k].value == want.epochs[k].value ||
                    (std::isnan(got.epochs[k].value) && std::isnan(want.epochs[k].value)),
                (what + " epoch " + QByteArray::fromStdString(want.epochs[k].key)).constData());
        }
        QCOMPARE(got.interactions.size(), want.interactions.size());
        for (std::size_t k = 0; k < want.interactions.size(); ++k) {
            QCOMPARE(got.interactions[k].user, want.interactions[k].user);
            QCOMPARE(got.interactions[k].item, want.interactions[k].item);
            QCOMPARE(got.interactions[k].value, want.interactions[k].value);
        }
        QCOMPARE(got.bins.size(), want.bins.size());
        for (std::size_t k = 0; k < want.bins.size(); ++k) {
            QCOMPARE(got.bins[k].count, want.bins[k].count);
            QCOMPARE(got.bins[k].meanActivation, want.bins[k].meanActivation);
        }
    }
    // The random cells copy the activation rate of the reliability run of their seed in this
    // database (ids remapped from the shards), and their best model came along.
    ExperimentStore store(db.toStdString());
    std::map<std::int64_t, std::int64_t> reliability;  // seed -> run
    for (const auto& item : store.sweepItems(sweepId))
        if (item.rowLabel == "reliability")
            reliability[item.seed] = *item.runId;
    for (const auto& item : store.sweepItems(sweepId)) {
        const auto config = json::parse(store.run(*item.runId)->configJson);
        if (item.rowLabel == "random")
            QCOMPARE(config["gate"]["reference_run"].get<std::int64_t>(),
                     reliability.at(item.seed));
        QVERIFY(QFile::exists(db + QStringLiteral(".checkpoints/run-%1/best.pt").arg(*item.runId)));
    }
}

void TestSlurm::processesExecutorMatchesLocal()
{
    m_processesDb = m_dir.filePath(QStringLiteral("processes.db"));
    QElapsedTimer clock;
    clock.start();
    const json out =
        cliJson({QStringLiteral("--db"), m_processesDb, QStringLiteral("sweep"), kGrid,
                 QStringLiteral("--executor"), QStringLiteral("processes"),
                 QStringLiteral("--jobs"), QStringLiteral("2"), QStringLiteral("--json")});
    qInfo("processes executor, 2 jobs, 4 cells: %.1f s", clock.elapsed() / 1000.0);
    QVERIFY(!out.is_discarded());
    QCOMPARE(out["imported"].get<int>(), 4);
    QCOMPARE(out["not_collected"].get<int>(), 0);
    m_processesSweep = out["sweep_id"].get<std::int64_t>();
    compareWithLocal(m_processesDb, m_processesSweep);

    // Collecting again adds nothing.
    const auto before = tableCounts(m_processesDb);
    const json again = cliJson({QStringLiteral("--db"), m_processesDb, QStringLiteral("sweeps"),
                                QStringLiteral("collect"), QString::number(m_processesSweep),
                                QStringLiteral("--json")});
    QCOMPARE(again["imported"].get<int>(), 0);
    QCOMPARE(again["already_collected"].get<int>(), 4);
    QCOMPARE(again["status"].get<std::string>(), std::string("completed"));
    QCOMPARE(tableCounts(m_processesDb), before);

    // The matrix works on the collected runs as on local ones.
    const CliResult matrix = runCli({QStringLiteral("--db"), m_processesDb,
                                     QStringLiteral("matrix"), QString::number(m_processesSweep),
                                     QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY2(matrix.code == 0, matrix.err.constData());
    QCOMPARE(json::parse(matrix.out.toStdString())["rows"].size(), std::size_t{2});
}

void TestSlurm::brokenShardsAreReportedAndLeftAlone()
{
    if (m_processesSweep == 0)
        QSKIP("needs the shards of processesExecutorMatchesLocal, which did not run");
    const std::string source =
        sweepFolderOf(ExperimentStore(m_processesDb.toStdString()), m_processesSweep);
    // A new sweep of the same grid whose folder gets copies of those shards: cell 1 truncated
    // (a partial copy), cell 3 overwritten with garbage, cells 0 and 2 intact.
    const QString db = m_dir.filePath(QStringLiteral("broken.db"));
    ExperimentStore store(db.toStdString());
    const Grid grid = loadGrid(kGrid.toStdString());
    const auto id = createSweep(store, grid, expandGrid(grid));
    ExecutorSettings settings;
    settings.kind = ExecutorKind::Processes;
    const SweepManifest m = createSweepFolder(
        store, id, m_dir.filePath(QStringLiteral("broken")).toStdString(), toJson(settings));
    for (const int p : m.cells())
        QVERIFY(QFile::copy(QString::fromStdString(shardPath(source, p)),
                            QString::fromStdString(shardPath(m.folder, p))));
    const QString partial = QString::fromStdString(shardPath(m.folder, 1));
    const QString garbage = QString::fromStdString(shardPath(m.folder, 3));
    {
        QFile f(partial);
        QVERIFY(f.resize(f.size() / 2));
        QFile g(garbage);
        QVERIFY(g.open(QIODevice::WriteOnly | QIODevice::Truncate));
        g.write(QByteArray(8192, 'x'));
    }
    const QByteArray partialBytes = fileBytes(partial);
    const QByteArray garbageBytes = fileBytes(garbage);

    const CollectReport report = collectSweep(store, id);
    QCOMPARE(report.imported, 2);  // cells 0 and 2 (2 refers to 0, which came first)
    QCOMPARE(report.skipped, 2);
    QCOMPARE(report.sweepStatus, RunStatus::Running);
    for (const auto& item : report.items) {
        if (item.position == 1 || item.position == 3) {
            QCOMPARE(item.outcome, CollectedItem::Outcome::Skipped);
            QVERIFY2(item.note.find("broken") != std::string::npos, item.note.c_str());
        }
    }
    QCOMPARE(fileBytes(partial), partialBytes);
    QCOMPARE(fileBytes(garbage), garbageBytes);
    QVERIFY(!QFile::exists(partial + QStringLiteral("-wal")));

    // Once the shards are whole again, the rest comes home; then nothing more.
    for (const int p : {1, 3}) {
        const QString target = QString::fromStdString(shardPath(m.folder, p));
        QVERIFY(QFile::remove(target));
        QVERIFY(QFile::copy(QString::fromStdString(shardPath(source, p)), target));
    }
    const CollectReport rest = collectSweep(store, id);
    QCOMPARE(rest.imported, 2);
    QCOMPARE(rest.alreadyCollected, 2);
    QCOMPARE(rest.sweepStatus, RunStatus::Completed);
    QCOMPARE(collectSweep(store, id).imported, 0);
    QCOMPARE(static_cast<int>(store.runs().size()), 4);
    QCOMPARE(static_cast<int>(store.datasets().size()), 1);  // deduplicated by content hash
}

QString TestSlurm::startCluster()
{
    return m_cluster.start(m_dir.filePath(QStringLiteral("cluster")), 6817);
}

json TestSlurm::waitForCells(const QString& db, std::int64_t sweepId, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    json status;
    while (clock.elapsed() < timeoutMs) {
        status =
            cliJson({QStringLiteral("--db"), db, QStringLiteral("sweeps"), QStringLiteral("status"),
                     QString::number(sweepId), QStringLiteral("--json")});
        bool busy = status.is_discarded();
        if (!busy)
            for (const auto& c : status["cells"])
                busy |= c["state"] == "pending" || c["state"] == "running";
        if (!busy)
            return status;
        QThread::msleep(500);
    }
    return status;
}

void TestSlurm::slurmExecutorMatchesLocal()
{
    if (const QString problem = startCluster(); !problem.isEmpty())
        QSKIP(qPrintable(QStringLiteral("no Slurm cluster: ") + problem));
    QElapsedTimer clock;
    clock.start();
    const QString db = m_dir.filePath(QStringLiteral("slurm.db"));
    // The nodes run the cells through a wrapper that waits for a file, so that cell 0
    // (reliability, seed 1) is cancelled while it runs, and cannot finish first: a cell of this
    // grid takes about a second, and cancelling it once it was seen running raced its end. (A
    // task cancelled while pending leaves no trace in squeue.) Its dependent, cell 2 (random,
    // seed 1), then fails for want of its reference run.
    const QString go = m_dir.filePath(QStringLiteral("go"));
    const QString wrapper = m_dir.filePath(QStringLiteral("sllmr-after-go"));
    {
        QFile f(wrapper);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(
                    "#!/bin/sh\n# waits for %1 (at most 2 minutes), then runs the cell\n"
                    "i=0\nwhile [ ! -e '%1' ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n"
                    "exec '%2' \"$@\"\n")
                    .arg(go, QStringLiteral(SLLMR_CLI))
                    .toUtf8());
        f.close();
        f.setPermissions(f.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                         QFileDevice::ExeOther);
    }
    const json submitted = cliJson(
        {QStringLiteral("--db"), db, QStringLiteral("sweep"), kGrid, QStringLiteral("--executor"),
         QStringLiteral("slurm"), QStringLiteral("--cpus-per-task"), QStringLiteral("1"),
         QStringLiteral("--time"), QStringLiteral("00:10:00"), QStringLiteral("--program"), wrapper,
         QStringLiteral("--json")});
    QVERIFY(!submitted.is_discarded());
    QCOMPARE(submitted["jobs"].size(), std::size_t{2});  // two waves: the random cells wait
    const auto sweepId = submitted["sweep_id"].get<std::int64_t>();
    const std::string firstJob = submitted["jobs"][0]["job_id"].get<std::string>();
    const QString task = QString::fromStdString(firstJob + "_0");
    QByteArray state;
    QElapsedTimer wait;
    wait.start();
    while (state != "RUNNING" && wait.elapsed() < 60000) {
        QProcess q;
        q.start(QStringLiteral("squeue"),
                {QStringLiteral("-h"), QStringLiteral("-r"), QStringLiteral("-j"), task,
                 QStringLiteral("-o"), QStringLiteral("%T")});
        q.waitForFinished(10000);
        state = q.readAllStandardOutput().trimmed();
        QThread::msleep(100);
    }
    QCOMPARE(state, QByteArray("RUNNING"));
    QCOMPARE(QProcess::execute(QStringLiteral("scancel"), {task}), 0);
    QVERIFY(QFile(go).open(QIODevice::WriteOnly));  // the other cells go on

    json status = waitForCells(db, sweepId, 300000);
    QVERIFY(!status.is_discarded());
    std::map<int, json> cells;
    for (const auto& c : status["cells"])
        cells[c["position"].get<int>()] = c;
    QCOMPARE(cells.at(0)["state"].get<std::string>(), std::string("failed"));
    QCOMPARE(cells.at(0)["slurm_state"].get<std::string>(), std::string("CANCELLED"));
    QCOMPARE(cells.at(1)["state"].get<std::string>(), std::string("completed"));
    QCOMPARE(cells.at(2)["state"].get<std::string>(), std::string("failed"));
    QVERIFY2(cells.at(2)["log_tail"].get<std::string>().find("reference") != std::string::npos,
             cells.at(2).dump().c_str());
    QCOMPARE(cells.at(3)["state"].get<std::string>(), std::string("completed"));

    // What is complete comes home now; the rest after the resume.
    json collected =
        cliJson({QStringLiteral("--db"), db, QStringLiteral("sweeps"), QStringLiteral("collect"),
                 QString::number(sweepId), QStringLiteral("--json")});
    QCOMPARE(collected["imported"].get<int>(), 2);
    QCOMPARE(collected["not_collected"].get<int>(), 2);

    const json resumed =
        cliJson({QStringLiteral("--db"), db, QStringLiteral("sweep"), QStringLiteral("--resume"),
                 QString::number(sweepId), QStringLiteral("--json")});
    QVERIFY(!resumed.is_discarded());
    std::vector<int> resubmitted;
    for (const auto& job : resumed["jobs"])
        for (const auto& c : job["cells"])
            resubmitted.push_back(c.get<int>());
    QCOMPARE(resubmitted, (std::vector<int>{0, 2}));
    status = waitForCells(db, sweepId, 300000);
    for (const auto& c : status["cells"])
        QVERIFY2(c["state"] == "completed", c.dump().c_str());

    collected =
        cliJson({QStringLiteral("--db"), db, QStringLiteral("sweeps"), QStringLiteral("collect"),
                 QString::number(sweepId), QStringLiteral("--json")});
    QCOMPARE(collected["imported"].get<int>(), 2);
    QCOMPARE(collected["status"].get<std::string>(), std::string("completed"));
    compareWithLocal(db, sweepId);
    // The resumed cell left one run in its shard.
    {
        const std::string folder = sweepFolderOf(ExperimentStore(db.toStdString()), sweepId);
        const ExperimentStore shard(shardPath(folder, 0));
        QCOMPARE(shard.runs().size(), std::size_t{1});
    }
    const auto before = tableCounts(db);
    collected =
        cliJson({QStringLiteral("--db"), db, QStringLiteral("sweeps"), QStringLiteral("collect"),
                 QString::number(sweepId), QStringLiteral("--json")});
    QCOMPARE(collected["imported"].get<int>(), 0);
    QCOMPARE(tableCounts(db), before);
    qInfo("Slurm sweep of 4 cells with a cancel and a resume, collected and compared: %.1f s",
          clock.elapsed() / 1000.0);
}

QTEST_GUILESS_MAIN(TestSlurm)  // QProcess needs an application object

#include "tst_slurm.moc"
