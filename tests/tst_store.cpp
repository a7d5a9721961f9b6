// Tests of ExperimentStore: schema creation and upgrade, refusal of files that are not ours (which
// must stay byte-for-byte unchanged), records, run lifecycle, metrics and transactional failure.
// Every database lives in a QTemporaryDir; a raw sqlite3 connection checks what is on disk.
#include "common/error.h"
#include "store/experiment_store.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QRegularExpression>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using sllmr::ErrorKind;
using sllmr::ExperimentStore;
using sllmr::RunStatus;
using sllmr::SweepItemRecord;

namespace {

QString qs(const std::string& text)
{
    return QString::fromStdString(text);
}

// A plain sqlite3 connection, independent of the store, to look at (or tamper with) the file.
class RawDb
{
public:
    explicit RawDb(const QString& path)
    {
        sqlite3_open_v2(QFile::encodeName(path).constData(), &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    }
    ~RawDb() { sqlite3_close(m_db); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    // Runs SQL without results; returns the error message, empty on success.
    QString exec(const std::string& sql)
    {
        char* message = nullptr;
        if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK)
            return {};
        QString text = QString::fromUtf8(message ? message : "unknown error");
        sqlite3_free(message);
        return text;
    }

    // Every row of a query, columns joined by '|'; integer parameters are bound in order.
    QStringList rows(const char* sql, std::initializer_list<std::int64_t> params = {})
    {
        QStringList result;
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &statement, nullptr) != SQLITE_OK)
            return {QStringLiteral("error: ") + QString::fromUtf8(sqlite3_errmsg(m_db))};
        int index = 0;
        for (const std::int64_t param : params)
            sqlite3_bind_int64(statement, ++index, param);
        while (sqlite3_step(statement) == SQLITE_ROW) {
            QStringList columns;
            for (int c = 0; c < sqlite3_column_count(statement); ++c) {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
                columns << (text ? QString::fromUtf8(text) : QStringLiteral("NULL"));
            }
            result << columns.join(QLatin1Char('|'));
        }
        sqlite3_finalize(statement);
        return result;
    }

    QString value(const char* sql, std::initializer_list<std::int64_t> params = {})
    {
        const QStringList all = rows(sql, params);
        return all.isEmpty() ? QString() : all.front();
    }

    std::int64_t integer(const char* sql, std::initializer_list<std::int64_t> params = {})
    {
        return value(sql, params).toLongLong();
    }

private:
    sqlite3* m_db = nullptr;
};

template <typename Fn>
std::optional<sllmr::Error> errorFrom(Fn&& fn)
{
    try {
        fn();
    } catch (const sllmr::Error& error) {
        return error;
    }
    return std::nullopt;
}

QByteArray fileBytes(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           file.write(bytes) == bytes.size();
}

// Journal files SQLite would leave beside a database it wrote to.
QStringList sidecars(const QString& path)
{
    QStringList found;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        if (QFile::exists(path + QLatin1String(suffix)))
            found << path + QLatin1String(suffix);
    }
    return found;
}

bool isIsoUtcMillis(const std::string& text)
{
    static const QRegularExpression pattern(
        QStringLiteral(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)"));
    return pattern.match(qs(text)).hasMatch();
}

QDateTime parseUtc(const std::string& text)
{
    return QDateTime::fromString(qs(text), Qt::ISODateWithMs);
}

sllmr::DatasetRecord makeDataset(const std::string& hash, const std::string& name = "movielens")
{
    sllmr::DatasetRecord record;
    record.name = name;
    record.source = "/data/" + name + "/ratings.dat";
    record.contentHash = hash;
    record.specJson = R"({"minRating":4})";
    record.statsJson = R"({"users":6040,"items":3706})";
    return record;
}

sllmr::ScoreSetRecord makeScoreSet(std::int64_t datasetId, const std::string& hash)
{
    sllmr::ScoreSetRecord record;
    record.datasetId = datasetId;
    record.name = "gpt scores";
    record.source = "/data/scores.csv";
    record.contentHash = hash;
    record.specJson = R"({"column":"score"})";
    record.reportJson = R"({"matched":0.98})";
    return record;
}

sllmr::RunRecord makeRun(std::optional<std::int64_t> datasetId, const std::string& name = "run")
{
    sllmr::RunRecord record;
    record.datasetId = datasetId;
    record.name = name;
    record.configJson = R"({"model":"gated","lr":0.001})";
    record.configHash = "cfg-" + name;
    record.seed = 1234567890123;
    record.softwareVersion = "0.1.0";
    return record;
}

// Columns of every table and every explicit index: what an upgraded schema must match.
QStringList schemaShape(RawDb& db)
{
    return db.rows(
               "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk "
               "FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' "
               "ORDER BY m.name, p.cid") +
           db.rows(
               "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
               "NULL ORDER BY name") +
           db.rows(
               "SELECT m.name, f.\"table\", f.\"from\", f.\"to\", f.on_delete "
               "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
               "WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq");
}

}  // namespace

class TestStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void createsFreshDatabase();
    void opensEmptyFile();
    void runStatusNames();
    void schemaSqlForTestsRejectsUnknownVersions();
    void deduplicatesDatasetsByHash();
    void deduplicatesScoreSetsPerDataset();
    void runLifecycleStampsTimes();
    void savesNotesAndTags();
    void unknownRunsAreNotFound();
    void epochMetricsRoundTrip();
    void segmentMetricsRoundTrip();
    void interactionMetricsRoundTrip();
    void gateBinsRoundTrip();
    void deleteRunCascadesToMetrics();
    void schemaForeignKeyActions();
    void marksStaleRunsInterrupted();
    void upgradesVersion1();
    void upgradesVersion2KeepsRunsAndAddsSweeps();
    void sweepQueueRoundTrip();
    void refusesFilesItDoesNotOwn_data();
    void refusesFilesItDoesNotOwn();
    void failedWritesLeaveDataIntact();
    void storedTextIsValidUtf8();
    void epochCommitsAsOne();
    void secondStoreSeesWrites();
    void importRunRemapsIdsAndCopiesEveryTable();
    void snapshotsRefuseFilesInUseAndReportDamage();
};

void TestStore::createsFreshDatabase()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    QVERIFY(!QFile::exists(path));

    ExperimentStore store(path.toStdString());
    QCOMPARE(qs(store.path()), path);
    QCOMPARE(store.schemaVersion(), sllmr::kSchemaVersion);
    QCOMPARE(store.schemaVersion(), 3);

    RawDb raw(path);
    QCOMPARE(raw.integer("PRAGMA user_version"), 3);
    QCOMPARE(raw.integer("PRAGMA application_id"), std::int64_t{sllmr::kApplicationId});
    QCOMPARE(raw.integer("PRAGMA application_id"), std::int64_t{0x534C4C4D});
    QCOMPARE(raw.value("PRAGMA journal_mode"), QStringLiteral("wal"));
    QCOMPARE(raw.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
             (QStringList{"datasets", "epoch_metrics", "gate_bins", "interaction_metrics", "runs",
                          "score_sets", "segment_metrics", "sweep_items", "sweeps"}));
    QCOMPARE(raw.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                      "ORDER BY name"),
             (QStringList{"runs_by_config_hash", "runs_by_status", "sweep_items_by_run"}));
    QVERIFY(raw.rows("SELECT name FROM pragma_table_info('runs')").contains("notes"));
    QVERIFY(raw.rows("SELECT name FROM pragma_table_info('runs')").contains("tags"));
    QVERIFY(store.datasets().empty());
    QVERIFY(store.runs().empty());
}

void TestStore::opensEmptyFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("empty.db"));
    QVERIFY(writeFile(path, {}));
    QCOMPARE(QFileInfo(path).size(), 0);

    {
        ExperimentStore store(path.toStdString());
        QCOMPARE(store.schemaVersion(), 3);
        QVERIFY(store.addDataset(makeDataset("h")) > 0);
    }
    RawDb raw(path);
    QCOMPARE(raw.integer("PRAGMA application_id"), std::int64_t{sllmr::kApplicationId});
    QCOMPARE(raw.integer("SELECT count(*) FROM datasets"), 1);
}

void TestStore::runStatusNames()
{
    const std::vector<std::pair<RunStatus, std::string>> names = {
        {RunStatus::Pending, "pending"},     {RunStatus::Running, "running"},
        {RunStatus::Completed, "completed"}, {RunStatus::Failed, "failed"},
        {RunStatus::Cancelled, "cancelled"}, {RunStatus::Interrupted, "interrupted"}};
    for (const auto& [status, name] : names) {
        QCOMPARE(qs(sllmr::toString(status)), qs(name));
        QVERIFY(sllmr::runStatusFromString(name) == status);
    }
    const auto error = errorFrom([] { sllmr::runStatusFromString("Running"); });
    QVERIFY(error);
    QVERIFY(error->kind() == ErrorKind::Usage);
    QVERIFY2(std::string(error->what()).find("Running") != std::string::npos, error->what());
}

void TestStore::schemaSqlForTestsRejectsUnknownVersions()
{
    QVERIFY(errorFrom([] { sllmr::schemaSqlForTests(0); }));
    QVERIFY(errorFrom([] { sllmr::schemaSqlForTests(sllmr::kSchemaVersion + 1); }));
    for (int version = 1; version <= sllmr::kSchemaVersion; ++version) {
        const std::string sql = sllmr::schemaSqlForTests(version);
        QVERIFY(sql.find("PRAGMA user_version = " + std::to_string(version)) != std::string::npos);
        QVERIFY(sql.find("PRAGMA application_id = " + std::to_string(sllmr::kApplicationId)) !=
                std::string::npos);
    }
}

void TestStore::deduplicatesDatasetsByHash()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());

    const std::int64_t first = store.addDataset(makeDataset("hash-a", "movielens"));
    QVERIFY(first > 0);
    // Same content under another name: the existing record wins, nothing is added.
    QCOMPARE(store.addDataset(makeDataset("hash-a", "renamed")), first);
    const std::int64_t second = store.addDataset(makeDataset("hash-b", "amazon"));
    QVERIFY(second != first);

    const auto all = store.datasets();
    QCOMPARE(all.size(), std::size_t{2});
    QCOMPARE(all[0].id, first);
    QCOMPARE(all[1].id, second);

    const auto stored = store.dataset(first);
    QVERIFY(stored);
    QCOMPARE(qs(stored->name), QStringLiteral("movielens"));
    QCOMPARE(qs(stored->source), QStringLiteral("/data/movielens/ratings.dat"));
    QCOMPARE(qs(stored->contentHash), QStringLiteral("hash-a"));
    QCOMPARE(qs(stored->specJson), QStringLiteral(R"({"minRating":4})"));
    QCOMPARE(qs(stored->statsJson), QStringLiteral(R"({"users":6040,"items":3706})"));
    QVERIFY2(isIsoUtcMillis(stored->createdAt), stored->createdAt.c_str());

    const auto byHash = store.datasetByHash("hash-b");
    QVERIFY(byHash);
    QCOMPARE(byHash->id, second);
    QCOMPARE(qs(byHash->name), QStringLiteral("amazon"));
    QVERIFY(!store.datasetByHash("hash-z"));
    QVERIFY(!store.dataset(9999));

    // Values with quotes and non-ASCII text go in as parameters, untouched.
    const std::int64_t odd =
        store.addDataset(makeDataset("h'); DROP TABLE runs; --", "Bücher ‘x’"));
    QCOMPARE(qs(store.dataset(odd)->name), QStringLiteral("Bücher ‘x’"));
    QCOMPARE(store.datasets().size(), std::size_t{3});
}

void TestStore::deduplicatesScoreSetsPerDataset()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t d1 = store.addDataset(makeDataset("d1"));
    const std::int64_t d2 = store.addDataset(makeDataset("d2"));

    const std::int64_t s1 = store.addScoreSet(makeScoreSet(d1, "scores-x"));
    QCOMPARE(store.addScoreSet(makeScoreSet(d1, "scores-x")), s1);
    const std::int64_t s2 = store.addScoreSet(makeScoreSet(d1, "scores-y"));
    // The same score file for another dataset is another score set.
    const std::int64_t s3 = store.addScoreSet(makeScoreSet(d2, "scores-x"));
    QVERIFY(s1 != s2 && s1 != s3 && s2 != s3);

    QCOMPARE(store.scoreSets().size(), std::size_t{3});
    const auto forD1 = store.scoreSets(d1);
    QCOMPARE(forD1.size(), std::size_t{2});
    QCOMPARE(forD1[0].id, s1);
    QCOMPARE(forD1[1].id, s2);
    QCOMPARE(store.scoreSets(d2).size(), std::size_t{1});
    QVERIFY(store.scoreSets(std::int64_t{424242}).empty());

    const auto stored = store.scoreSet(s3);
    QVERIFY(stored);
    QCOMPARE(stored->datasetId, d2);
    QCOMPARE(qs(stored->name), QStringLiteral("gpt scores"));
    QCOMPARE(qs(stored->source), QStringLiteral("/data/scores.csv"));
    QCOMPARE(qs(stored->contentHash), QStringLiteral("scores-x"));
    QCOMPARE(qs(stored->specJson), QStringLiteral(R"({"column":"score"})"));
    QCOMPARE(qs(stored->reportJson), QStringLiteral(R"({"matched":0.98})"));
    QVERIFY(isIsoUtcMillis(stored->createdAt));
    QVERIFY(!store.scoreSet(9999));
}

void TestStore::runLifecycleStampsTimes()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t datasetId = store.addDataset(makeDataset("d"));
    const std::int64_t scoreSetId = store.addScoreSet(makeScoreSet(datasetId, "s"));

    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
    sllmr::RunRecord record = makeRun(datasetId, "first");
    record.scoreSetId = scoreSetId;
    record.createdAt = "1999-01-01T00:00:00.000Z";  // ignored: the store stamps it
    const std::int64_t first = store.createRun(record);

    auto run = store.run(first);
    QVERIFY(run);
    QCOMPARE(run->id, first);
    QCOMPARE(run->datasetId.value_or(-1), datasetId);
    QCOMPARE(run->scoreSetId.value_or(-1), scoreSetId);
    QCOMPARE(qs(run->name), QStringLiteral("first"));
    QCOMPARE(qs(run->configJson), QStringLiteral(R"({"model":"gated","lr":0.001})"));
    QCOMPARE(qs(run->configHash), QStringLiteral("cfg-first"));
    QCOMPARE(run->seed, std::int64_t{1234567890123});
    QCOMPARE(qs(run->softwareVersion), QStringLiteral("0.1.0"));
    QVERIFY(run->status == RunStatus::Pending);
    QVERIFY2(isIsoUtcMillis(run->createdAt), run->createdAt.c_str());
    const QDateTime created = parseUtc(run->createdAt);
    QVERIFY(created.isValid());
    QCOMPARE(created.timeSpec(), Qt::UTC);
    QVERIFY(created >= before);
    QVERIFY(created <= QDateTime::currentDateTimeUtc().addSecs(1));
    QVERIFY(run->startedAt.empty());
    QVERIFY(run->finishedAt.empty());
    QVERIFY(run->error.empty());

    store.setRunStatus(first, RunStatus::Running);
    run = store.run(first);
    QVERIFY(run->status == RunStatus::Running);
    QVERIFY2(isIsoUtcMillis(run->startedAt), run->startedAt.c_str());
    QVERIFY(run->startedAt >= run->createdAt);
    QVERIFY(run->finishedAt.empty());

    store.setRunStatus(first, RunStatus::Completed);
    run = store.run(first);
    QVERIFY(run->status == RunStatus::Completed);
    QVERIFY2(isIsoUtcMillis(run->finishedAt), run->finishedAt.c_str());
    QVERIFY(run->finishedAt >= run->startedAt);
    QVERIFY(run->error.empty());

    // Failed keeps its message; a run without dataset or score set is allowed.
    const std::int64_t second = store.createRun(makeRun(std::nullopt, "second"));
    QVERIFY(!store.run(second)->datasetId);
    QVERIFY(!store.run(second)->scoreSetId);
    store.setRunStatus(second, RunStatus::Running);
    store.setRunStatus(second, RunStatus::Failed, "out of memory in epoch 3");
    run = store.run(second);
    QVERIFY(run->status == RunStatus::Failed);
    QCOMPARE(qs(run->error), QStringLiteral("out of memory in epoch 3"));
    QVERIFY(isIsoUtcMillis(run->startedAt));
    QVERIFY(isIsoUtcMillis(run->finishedAt));

    // Cancelled before it started: finished, never started.
    const std::int64_t third = store.createRun(makeRun(datasetId, "third"));
    store.setRunStatus(third, RunStatus::Cancelled);
    run = store.run(third);
    QVERIFY(run->status == RunStatus::Cancelled);
    QVERIFY(run->startedAt.empty());
    QVERIFY(isIsoUtcMillis(run->finishedAt));

    // Newest first.
    const auto all = store.runs();
    QCOMPARE(all.size(), std::size_t{3});
    QCOMPARE(all[0].id, third);
    QCOMPARE(all[1].id, second);
    QCOMPARE(all[2].id, first);
    QVERIFY(!store.run(9999));
}

void TestStore::savesNotesAndTags()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));
    QVERIFY(store.run(id)->notes.empty());
    QVERIFY(store.run(id)->tags.empty());

    store.setRunNotes(id, "baseline; lr too high?\nsecond line", "baseline,gated");
    auto run = store.run(id);
    QCOMPARE(qs(run->notes), QStringLiteral("baseline; lr too high?\nsecond line"));
    QCOMPARE(qs(run->tags), QStringLiteral("baseline,gated"));

    store.setRunNotes(id, "", "");
    run = store.run(id);
    QVERIFY(run->notes.empty());
    QVERIFY(run->tags.empty());

    sllmr::RunRecord withNotes = makeRun(std::nullopt, "noted");
    withNotes.notes = "from the start";
    withNotes.tags = "a,b";
    const std::int64_t noted = store.createRun(withNotes);
    QCOMPARE(qs(store.run(noted)->notes), QStringLiteral("from the start"));
    QCOMPARE(qs(store.run(noted)->tags), QStringLiteral("a,b"));
}

void TestStore::unknownRunsAreNotFound()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));

    const std::vector<std::pair<const char*, std::function<void()>>> calls = {
        {"setRunStatus", [&] { store.setRunStatus(777, RunStatus::Running); }},
        {"setRunNotes", [&] { store.setRunNotes(777, "n", "t"); }},
        {"deleteRun", [&] { store.deleteRun(777); }},
        {"addEpochMetrics",
         [&] {
             store.addEpochMetrics(777, {{1, "loss", 0.1}});
         }},
        {"addSegmentMetrics",
         [&] {
             store.addSegmentMetrics(777, {{"all", "auc", 0.5, 10}});
         }},
        {"addInteractionMetrics",
         [&] {
             store.addInteractionMetrics(777, {{1, 2, "auc", 0.5}});
         }},
        {"addGateBins",
         [&] {
             store.addGateBins(777, {{1, "history", 0, 0, 1, 5, 0.5, 0.5}});
         }},
    };
    for (const auto& [name, call] : calls) {
        const auto error = errorFrom(call);
        QVERIFY2(error, name);
        QVERIFY2(error->kind() == ErrorKind::NotFound, name);
        QVERIFY2(std::string(error->what()).find("run 777") != std::string::npos, error->what());
    }
    // Nothing happened to the run that exists.
    QVERIFY(store.run(id)->status == RunStatus::Pending);
    QCOMPARE(store.runs().size(), std::size_t{1});
}

void TestStore::epochMetricsRoundTrip()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));
    const std::int64_t other = store.createRun(makeRun(std::nullopt, "other"));

    store.addEpochMetrics(id, {{2, "loss", 0.40}, {1, "loss", 0.50}, {1, "val_auc", 0.71}});
    store.addEpochMetrics(other, {{1, "loss", 9.0}});
    auto metrics = store.epochMetrics(id);
    QCOMPARE(metrics.size(), std::size_t{3});
    QCOMPARE(metrics[0].epoch, 1);  // ordered by epoch, key
    QCOMPARE(qs(metrics[0].key), QStringLiteral("loss"));
    QCOMPARE(metrics[0].value, 0.50);
    QCOMPARE(qs(metrics[1].key), QStringLiteral("val_auc"));
    QCOMPARE(metrics[1].value, 0.71);
    QCOMPARE(metrics[2].epoch, 2);
    QCOMPARE(metrics[2].value, 0.40);

    // Same (epoch, key) replaces; NaN and infinity survive (SQLite stores NaN as NULL).
    store.addEpochMetrics(id, {{1, "loss", 0.45},
                               {3, "val_auc", std::numeric_limits<double>::quiet_NaN()},
                               {3, "grad_norm", std::numeric_limits<double>::infinity()}});
    metrics = store.epochMetrics(id);
    QCOMPARE(metrics.size(), std::size_t{5});
    QCOMPARE(metrics[0].value, 0.45);
    QCOMPARE(qs(metrics[3].key), QStringLiteral("grad_norm"));
    QVERIFY(std::isinf(metrics[3].value));
    QCOMPARE(qs(metrics[4].key), QStringLiteral("val_auc"));
    QVERIFY(std::isnan(metrics[4].value));

    store.addEpochMetrics(id, {});  // nothing to add is fine
    QCOMPARE(store.epochMetrics(id).size(), std::size_t{5});
    QCOMPARE(store.epochMetrics(other).size(), std::size_t{1});
    QVERIFY(store.epochMetrics(9999).empty());
}

void TestStore::segmentMetricsRoundTrip()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));

    store.addSegmentMetrics(
        id,
        {{"cold", "auc", 0.61, 120}, {"all", "auc", 0.72, 6040}, {"all", "ndcg@10", 0.31, 6040}});
    store.addSegmentMetrics(id, {{"cold", "auc", 0.63, 121}});
    const auto metrics = store.segmentMetrics(id);
    QCOMPARE(metrics.size(), std::size_t{3});
    QCOMPARE(qs(metrics[0].segment), QStringLiteral("all"));
    QCOMPARE(qs(metrics[0].metric), QStringLiteral("auc"));
    QCOMPARE(metrics[0].value, 0.72);
    QCOMPARE(metrics[0].size, std::int64_t{6040});
    QCOMPARE(qs(metrics[1].metric), QStringLiteral("ndcg@10"));
    QCOMPARE(qs(metrics[2].segment), QStringLiteral("cold"));
    QCOMPARE(metrics[2].value, 0.63);
    QCOMPARE(metrics[2].size, std::int64_t{121});
}

void TestStore::interactionMetricsRoundTrip()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));

    std::vector<sllmr::InteractionMetric> metrics;
    for (std::int64_t user = 0; user < 50; ++user) {
        metrics.push_back({user, user * 7 + 1, "auc", 0.01 * static_cast<double>(user)});
        metrics.push_back({user, user * 7 + 1, "ndcg", 1.0});
    }
    store.addInteractionMetrics(id, metrics);
    store.addInteractionMetrics(id, {{3, 22, "auc", 0.99}});  // replaces user 3's value

    const auto auc = store.interactionMetrics(id, "auc");
    QCOMPARE(auc.size(), std::size_t{50});
    for (std::size_t i = 0; i < auc.size(); ++i) {
        QCOMPARE(auc[i].user, static_cast<std::int64_t>(i));  // ordered by user, item
        QCOMPARE(auc[i].item, static_cast<std::int64_t>(i) * 7 + 1);
        QCOMPARE(qs(auc[i].metric), QStringLiteral("auc"));
    }
    QCOMPARE(auc[3].value, 0.99);
    QCOMPARE(auc[4].value, 0.04);
    QCOMPARE(store.interactionMetrics(id, "ndcg").size(), std::size_t{50});
    QVERIFY(store.interactionMetrics(id, "mrr").empty());
}

void TestStore::gateBinsRoundTrip()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t id = store.createRun(makeRun(std::nullopt));

    store.addGateBins(id, {{2, "history", 0, 0.0, 5.0, 100, 0.20, 0.10},
                           {1, "popularity", 1, 0.5, 1.0, 40, 0.70, 0.65},
                           {1, "history", 1, 5.0, 20.0, 300, 0.55, 0.50},
                           {1, "history", 0, 0.0, 5.0, 90, 0.25, 0.12}});
    store.addGateBins(id, {{1, "history", 0, 0.0, 5.0, 91, 0.26, 0.13}});

    const auto bins = store.gateBins(id);
    QCOMPARE(bins.size(), std::size_t{4});
    // epoch, dimension, bin order
    QCOMPARE(bins[0].epoch, 1);
    QCOMPARE(qs(bins[0].dimension), QStringLiteral("history"));
    QCOMPARE(bins[0].bin, 0);
    QCOMPARE(bins[0].lo, 0.0);
    QCOMPARE(bins[0].hi, 5.0);
    QCOMPARE(bins[0].count, std::int64_t{91});
    QCOMPARE(bins[0].meanActivation, 0.26);
    QCOMPARE(bins[0].activeShare, 0.13);
    QCOMPARE(bins[1].bin, 1);
    QCOMPARE(bins[1].hi, 20.0);
    QCOMPARE(qs(bins[2].dimension), QStringLiteral("popularity"));
    QCOMPARE(bins[2].activeShare, 0.65);
    QCOMPARE(bins[3].epoch, 2);
    QCOMPARE(bins[3].count, std::int64_t{100});
}

void TestStore::deleteRunCascadesToMetrics()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    ExperimentStore store(path.toStdString());
    const std::int64_t doomed = store.createRun(makeRun(std::nullopt, "doomed"));
    const std::int64_t kept = store.createRun(makeRun(std::nullopt, "kept"));
    for (const std::int64_t id : {doomed, kept}) {
        store.addEpochMetrics(id, {{1, "loss", 0.5}, {2, "loss", 0.4}});
        store.addSegmentMetrics(id, {{"all", "auc", 0.7, 10}});
        store.addInteractionMetrics(id, {{1, 2, "auc", 1.0}, {1, 3, "auc", 0.0}});
        store.addGateBins(id, {{1, "history", 0, 0, 1, 5, 0.5, 0.5}});
    }

    RawDb raw(path);
    const char* tables[] = {"SELECT count(*) FROM epoch_metrics WHERE run_id = ?",
                            "SELECT count(*) FROM segment_metrics WHERE run_id = ?",
                            "SELECT count(*) FROM interaction_metrics WHERE run_id = ?",
                            "SELECT count(*) FROM gate_bins WHERE run_id = ?"};
    const std::int64_t expected[] = {2, 1, 2, 1};
    for (int t = 0; t < 4; ++t)
        QCOMPARE(raw.integer(tables[t], {doomed}), expected[t]);

    store.deleteRun(doomed);
    QVERIFY(!store.run(doomed));
    QCOMPARE(store.runs().size(), std::size_t{1});
    for (int t = 0; t < 4; ++t) {
        QCOMPARE(raw.integer(tables[t], {doomed}), 0);
        QCOMPARE(raw.integer(tables[t], {kept}), expected[t]);
    }
    QVERIFY(store.epochMetrics(doomed).empty());
    QCOMPARE(store.epochMetrics(kept).size(), std::size_t{2});

    const auto again = errorFrom([&] { store.deleteRun(doomed); });
    QVERIFY(again);
    QVERIFY(again->kind() == ErrorKind::NotFound);
}

void TestStore::schemaForeignKeyActions()
{
    // Deleting a dataset (no API yet, so through SQL) removes its score sets and detaches runs.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    ExperimentStore store(path.toStdString());
    const std::int64_t datasetId = store.addDataset(makeDataset("d"));
    const std::int64_t scoreSetId = store.addScoreSet(makeScoreSet(datasetId, "s"));
    sllmr::RunRecord record = makeRun(datasetId);
    record.scoreSetId = scoreSetId;
    const std::int64_t runId = store.createRun(record);

    RawDb raw(path);
    QCOMPARE(raw.exec("PRAGMA foreign_keys = ON; DELETE FROM datasets;"), QString());
    QVERIFY(store.scoreSets().empty());
    const auto run = store.run(runId);
    QVERIFY(run);
    QVERIFY(!run->datasetId);
    QVERIFY(!run->scoreSetId);
}

void TestStore::marksStaleRunsInterrupted()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("experiments.db")).toStdString();
    std::int64_t running1 = 0, running2 = 0, completed = 0, pending = 0;
    {
        // A process that dies with two runs in flight.
        ExperimentStore store(path);
        running1 = store.createRun(makeRun(std::nullopt, "r1"));
        running2 = store.createRun(makeRun(std::nullopt, "r2"));
        completed = store.createRun(makeRun(std::nullopt, "done"));
        pending = store.createRun(makeRun(std::nullopt, "queued"));
        store.setRunStatus(running1, RunStatus::Running);
        store.setRunStatus(running2, RunStatus::Running);
        store.setRunStatus(completed, RunStatus::Running);
        store.setRunStatus(completed, RunStatus::Completed);
    }
    ExperimentStore store(path);
    const std::string completedAt = store.run(completed)->finishedAt;
    QCOMPARE(store.markStaleRunsInterrupted(), 2);
    for (const std::int64_t id : {running1, running2}) {
        const auto run = store.run(id);
        QVERIFY(run->status == RunStatus::Interrupted);
        QVERIFY(isIsoUtcMillis(run->startedAt));
        QVERIFY(isIsoUtcMillis(run->finishedAt));
    }
    QVERIFY(store.run(completed)->status == RunStatus::Completed);
    QCOMPARE(qs(store.run(completed)->finishedAt), qs(completedAt));
    QVERIFY(store.run(pending)->status == RunStatus::Pending);
    QCOMPARE(store.markStaleRunsInterrupted(), 0);
}

void TestStore::upgradesVersion1()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("old.db"));
    {
        RawDb raw(path);
        QCOMPARE(raw.exec(sllmr::schemaSqlForTests(1)), QString());
        QCOMPARE(raw.exec("INSERT INTO datasets VALUES (1, 'ml', 'ratings.dat', 'h1', '{}', '{}', "
                          "'2025-01-01T00:00:00.000Z');"
                          "INSERT INTO runs (id, dataset_id, score_set_id, name, config_json, "
                          "config_hash, status, seed, software_version, created_at, started_at, "
                          "finished_at) VALUES (7, 1, NULL, 'old run', '{\"lr\":0.1}', 'c1', "
                          "'completed', 42, '0.0.9', '2025-01-01T00:00:01.000Z', "
                          "'2025-01-01T00:00:02.000Z', '2025-01-01T00:10:00.000Z');"
                          "INSERT INTO epoch_metrics VALUES (7, 1, 'loss', 0.25);"),
                 QString());
        QCOMPARE(raw.integer("PRAGMA user_version"), 1);
        QVERIFY(!raw.rows("SELECT name FROM pragma_table_info('runs')").contains("notes"));
    }

    {
        ExperimentStore store(path.toStdString());
        QCOMPARE(store.schemaVersion(), 3);
        const auto run = store.run(7);
        QVERIFY(run);
        QCOMPARE(qs(run->name), QStringLiteral("old run"));
        QVERIFY(run->status == RunStatus::Completed);
        QCOMPARE(run->seed, std::int64_t{42});
        QCOMPARE(run->datasetId.value_or(-1), std::int64_t{1});
        QCOMPARE(qs(run->createdAt), QStringLiteral("2025-01-01T00:00:01.000Z"));
        QCOMPARE(qs(run->finishedAt), QStringLiteral("2025-01-01T00:10:00.000Z"));
        QVERIFY(run->notes.empty());
        QVERIFY(run->tags.empty());
        QCOMPARE(store.epochMetrics(7).size(), std::size_t{1});
        QCOMPARE(qs(store.dataset(1)->contentHash), QStringLiteral("h1"));
        store.setRunNotes(7, "kept after upgrade", "v1");
        QCOMPARE(qs(store.run(7)->notes), QStringLiteral("kept after upgrade"));
    }

    // The upgraded schema is the one a fresh database gets.
    const QString freshPath = dir.filePath(QStringLiteral("fresh.db"));
    {
        ExperimentStore fresh(freshPath.toStdString());
    }
    RawDb upgraded(path);
    RawDb fresh(freshPath);
    QCOMPARE(upgraded.integer("PRAGMA user_version"), 3);
    QCOMPARE(upgraded.integer("PRAGMA application_id"), std::int64_t{sllmr::kApplicationId});
    QCOMPARE(upgraded.value("PRAGMA journal_mode"), QStringLiteral("wal"));
    QCOMPARE(schemaShape(upgraded), schemaShape(fresh));
    QVERIFY(!schemaShape(fresh).isEmpty());
    QCOMPARE(upgraded.value("SELECT notes || '|' || tags FROM runs WHERE id = 7"),
             QStringLiteral("kept after upgrade|v1"));
}

void TestStore::upgradesVersion2KeepsRunsAndAddsSweeps()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("v2.db"));
    {
        RawDb raw(path);
        QCOMPARE(raw.exec(sllmr::schemaSqlForTests(2)), QString());
        QCOMPARE(raw.exec("INSERT INTO runs (id, name, config_json, config_hash, status, seed, "
                          "software_version, created_at, notes, tags) VALUES (3, 'v2 run', '{}', "
                          "'c3', 'completed', 1, '0.1', '2026-01-01T00:00:00.000Z', 'n', 't');"
                          "INSERT INTO segment_metrics VALUES (3, 'tail', 'auc', 0.71, 12);"),
                 QString());
        QCOMPARE(raw.integer("PRAGMA user_version"), 2);
        QVERIFY(raw.rows("SELECT name FROM sqlite_master WHERE name = 'sweeps'").isEmpty());
    }
    {
        ExperimentStore store(path.toStdString());
        QCOMPARE(store.schemaVersion(), 3);
        QCOMPARE(qs(store.run(3)->notes), QStringLiteral("n"));
        QCOMPARE(store.segmentMetrics(3).at(0).value, 0.71);
        QVERIFY(store.sweeps().empty());
        SweepItemRecord item;
        item.rowLabel = "none";
        item.seed = 1;
        item.configJson = "{}";
        item.configHash = "c3";
        item.runId = 3;
        item.status = RunStatus::Completed;
        const auto id = store.createSweep({0, "old runs", "{}", {}, RunStatus::Completed}, {item});
        QCOMPARE(store.sweepItems(id).at(0).runId.value_or(0), std::int64_t{3});
    }
    const QString freshPath = dir.filePath(QStringLiteral("fresh.db"));
    {
        ExperimentStore fresh(freshPath.toStdString());
    }
    RawDb upgraded(path);
    RawDb fresh(freshPath);
    QCOMPARE(schemaShape(upgraded), schemaShape(fresh));
    QCOMPARE(upgraded.integer("PRAGMA user_version"), 3);
}

void TestStore::sweepQueueRoundTrip()
{
    QTemporaryDir dir;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const std::int64_t runId = store.createRun(makeRun(std::nullopt, "first"));
    std::vector<SweepItemRecord> items(3);
    for (int k = 0; k < 3; ++k) {
        items[k].position = k;
        items[k].rowLabel = k == 2 ? "b" : "a";
        items[k].seed = k + 1;
        items[k].configJson = "{\"seed\":" + std::to_string(k + 1) + "}";
        items[k].configHash = "h" + std::to_string(k);
    }
    items[1].duplicateOf = 0;
    const auto id =
        store.createSweep({0, "grid", "{\"name\":\"grid\"}", {}, RunStatus::Pending}, items);
    QVERIFY(id > 0);
    QCOMPARE(store.sweeps().size(), std::size_t{1});
    QCOMPARE(qs(store.sweep(id)->name), QStringLiteral("grid"));
    QVERIFY(!store.sweep(id)->createdAt.empty());
    auto stored = store.sweepItems(id);
    QCOMPARE(stored.size(), std::size_t{3});
    QCOMPARE(qs(stored[2].rowLabel), QStringLiteral("b"));
    QCOMPARE(stored[1].duplicateOf.value_or(-1), 0);
    QVERIFY(!stored[0].duplicateOf);
    QVERIFY(!stored[0].runId);
    QVERIFY(stored[0].status == RunStatus::Pending);

    store.setSweepItem(id, 0, runId, RunStatus::Running);
    store.setSweepStatus(id, RunStatus::Running);
    stored = store.sweepItems(id);
    QCOMPARE(stored[0].runId.value_or(0), runId);
    QVERIFY(stored[0].status == RunStatus::Running);
    QVERIFY(store.sweep(id)->status == RunStatus::Running);
    QVERIFY(errorFrom([&] { store.setSweepItem(id, 9, std::nullopt, RunStatus::Failed); }));
    QVERIFY(errorFrom([&] { store.setSweepStatus(id + 1, RunStatus::Failed); }));

    // Deleting a run keeps the queue item and forgets the run id.
    store.deleteRun(runId);
    QVERIFY(!store.sweepItems(id)[0].runId);
}

void TestStore::refusesFilesItDoesNotOwn_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("newer schema") << "newer"
                                  << "written by a newer SLLMR Studio (schema 5, this build reads "
                                     "up to 3)";
    QTest::newRow("foreign table") << "foreign"
                                   << "another program";
    QTest::newRow("foreign WAL database") << "foreign-wal"
                                          << "another program";
    QTest::newRow("other application id") << "other-id"
                                          << "application id 0x12345678";
    QTest::newRow("empty but versioned") << "versioned"
                                         << "another program";
    QTest::newRow("text file") << "text"
                               << "not an SQLite database";
    QTest::newRow("truncated copy") << "truncated"
                                    << "damaged or truncated";
    // Ours by id and version, but with objects this program never creates: they could run code
    // (a trigger during `run`) or hang or blow up a read (a view in place of a table).
    QTest::newRow("trigger") << "tamper:CREATE TRIGGER tamper AFTER INSERT ON runs BEGIN "
                                "UPDATE datasets SET name = 'tampered'; END;"
                             << "unexpected trigger 'tamper'";
    QTest::newRow("view over a renamed table")
        << "tamper:ALTER TABLE runs RENAME TO runs_real; CREATE VIEW runs AS WITH RECURSIVE "
           "c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT r.* FROM runs_real r, "
           "(SELECT max(n) FROM c);"
        << "unexpected view 'runs'";
    QTest::newRow("extra table") << "tamper:CREATE TABLE pwned (at TEXT);"
                                 << "unexpected table 'pwned'";
    QTest::newRow("changed index")
        << "tamper:DROP INDEX runs_by_status; CREATE INDEX runs_by_status ON runs(status, seed);"
        << "index 'runs_by_status' is defined differently";
    QTest::newRow("missing index") << "tamper:DROP INDEX sweep_items_by_run;"
                                   << "missing index 'sweep_items_by_run'";
    QTest::newRow("old schema with a trigger (not upgraded)")
        << "old-tamper:CREATE TRIGGER t2 AFTER INSERT ON runs BEGIN SELECT 1; END;"
        << "unexpected trigger 't2'";
}

void TestStore::refusesFilesItDoesNotOwn()
{
    QFETCH(QString, kind);
    QFETCH(QString, expected);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    if (kind.startsWith(QStringLiteral("tamper:"))) {
        {
            ExperimentStore store(path.toStdString());
            store.addDataset(makeDataset("h"));
        }
        RawDb raw(path);
        QCOMPARE(raw.exec(kind.mid(7).toStdString()), QString());
    } else if (kind.startsWith(QStringLiteral("old-tamper:"))) {
        RawDb raw(path);
        QCOMPARE(raw.exec(sllmr::schemaSqlForTests(2) + kind.mid(11).toStdString()), QString());
    } else if (kind == "newer" || kind == "truncated") {
        {
            ExperimentStore store(path.toStdString());
            store.addDataset(makeDataset("h"));
            store.createRun(makeRun(std::nullopt));
        }
        if (kind == "newer") {
            RawDb raw(path);
            QCOMPARE(raw.exec("PRAGMA user_version = 5"), QString());
        } else {
            const QByteArray whole = fileBytes(path);
            QVERIFY(whole.size() > 4096);
            QVERIFY(writeFile(path, whole.left(100)));
        }
    } else if (kind == "text") {
        QVERIFY(
            writeFile(path, QByteArray("user,item,rating\n1,31,2.5\n1,1029,3.0\n").repeated(40)));
    } else {
        RawDb raw(path);
        const std::string sql =
            kind == "foreign"       ? "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);"
            : kind == "foreign-wal" ? "PRAGMA journal_mode = WAL; CREATE TABLE foo (x);"
            : kind == "other-id"    ? "PRAGMA application_id = 305419896; CREATE TABLE runs (x);"
                                    : "PRAGMA user_version = 3;";
        QCOMPARE(raw.exec(sql), QString());
    }
    QVERIFY(sidecars(path).isEmpty());
    const QByteArray before = fileBytes(path);
    QVERIFY(!before.isEmpty());

    const auto error = errorFrom([&] { ExperimentStore store(path.toStdString()); });
    QVERIFY(error);
    QVERIFY(error->kind() == ErrorKind::Store);
    const QString message = QString::fromUtf8(error->what());
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("experiments.db")), qPrintable(message));
    QVERIFY2(!error->hint().empty(), qPrintable(message));

    QCOMPARE(fileBytes(path), before);
    QCOMPARE(sidecars(path), QStringList());
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"experiments.db"});
}

void TestStore::failedWritesLeaveDataIntact()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    ExperimentStore store(path.toStdString());
    const std::int64_t datasetId = store.addDataset(makeDataset("d"));
    store.addScoreSet(makeScoreSet(datasetId, "s"));
    const std::int64_t runId = store.createRun(makeRun(datasetId));
    store.addEpochMetrics(runId, {{1, "loss", 0.5}});

    // A score set for a dataset that does not exist violates the foreign key.
    auto error = errorFrom([&] { store.addScoreSet(makeScoreSet(4242, "orphan")); });
    QVERIFY(error);
    QVERIFY(error->kind() == ErrorKind::Store);
    QVERIFY2(std::string(error->what()).find("cannot add the score set") != std::string::npos,
             error->what());
    QVERIFY2(std::string(error->what()).find("FOREIGN KEY") != std::string::npos, error->what());
    QCOMPARE(store.scoreSets().size(), std::size_t{1});

    error = errorFrom([&] { store.createRun(makeRun(std::int64_t{4242}, "orphan")); });
    QVERIFY(error);
    QVERIFY(error->kind() == ErrorKind::Store);
    QCOMPARE(store.runs().size(), std::size_t{1});

    // A batch that fails half way leaves none of its rows: the trigger refuses the third row.
    {
        RawDb raw(path);
        QCOMPARE(raw.exec("CREATE TRIGGER refuse_boom BEFORE INSERT ON epoch_metrics "
                          "WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END;"),
                 QString());
    }
    error = errorFrom([&] {
        store.addEpochMetrics(runId, {{1, "loss", 0.9}, {2, "loss", 0.4}, {2, "boom", 1.0}});
    });
    QVERIFY(error);
    QVERIFY(error->kind() == ErrorKind::Store);
    QVERIFY2(std::string(error->what()).find("boom refused") != std::string::npos, error->what());
    auto metrics = store.epochMetrics(runId);
    QCOMPARE(metrics.size(), std::size_t{1});
    QCOMPARE(metrics[0].value, 0.5);

    // The store is still usable: no transaction was left open.
    store.addEpochMetrics(runId, {{2, "loss", 0.4}});
    QCOMPARE(store.epochMetrics(runId).size(), std::size_t{2});
    QCOMPARE(store.datasets().size(), std::size_t{1});
    RawDb raw(path);
    QCOMPARE(raw.integer("SELECT count(*) FROM epoch_metrics"), 2);
}

void TestStore::storedTextIsValidUtf8()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    ExperimentStore store(path.toStdString());
    const std::int64_t runId = store.createRun(makeRun(std::nullopt, "A\xC3"));
    // An error message cut inside a character (as a reader's excerpt may be) is stored with the
    // broken bytes replaced by U+FFFD.
    store.setRunStatus(runId, RunStatus::Failed, "line 1: caf\xC3");
    QCOMPARE(store.run(runId)->error, std::string("line 1: caf\xEF\xBF\xBD"));
    QCOMPARE(store.run(runId)->name, std::string("A\xEF\xBF\xBD"));
    {
        RawDb raw(path);
        QCOMPARE(raw.value("SELECT hex(error) FROM runs"),
                 QStringLiteral("6C696E6520313A20636166EFBFBD"));
        // Bytes written by another program come back valid as well, the rest of the row intact.
        QCOMPARE(raw.exec("UPDATE runs SET notes = CAST(x'4F4BFF80E282' AS TEXT)"), QString());
    }
    const auto runs = store.runs();
    QCOMPARE(runs.size(), std::size_t{1});
    QCOMPARE(runs[0].notes, std::string("OK\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
    QCOMPARE(runs[0].error, std::string("line 1: caf\xEF\xBF\xBD"));
}

void TestStore::epochCommitsAsOne()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("experiments.db"));
    ExperimentStore store(path.toStdString());
    const std::int64_t runId = store.createRun(makeRun(std::nullopt));
    for (int epoch = 1; epoch <= 3; ++epoch)
        store.addEpoch(runId, {{epoch, "base_loss", 1.0 / epoch}, {epoch, "seconds", 2.0}},
                       {{epoch, "history", 0, 0.0, 1.0, 5, 0.5, 0.25}});
    QCOMPARE(store.epochMetrics(runId).size(), std::size_t{6});
    QCOMPARE(store.gateBins(runId).size(), std::size_t{3});
    // A resumed run drops what came after its checkpoint: both kinds of rows.
    QCOMPARE(store.discardEpochsAfter(runId, 1), 6);
    QCOMPARE(store.epochMetrics(runId).size(), std::size_t{2});
    QCOMPARE(store.gateBins(runId).size(), std::size_t{1});
    QCOMPARE(store.gateBins(runId)[0].epoch, 1);
    // All or nothing: a gate bin that fails (here refused by a trigger added behind the open
    // store's back) leaves none of the epoch's metrics either.
    {
        RawDb raw(path);
        QCOMPARE(raw.exec("CREATE TRIGGER refuse_boom BEFORE INSERT ON gate_bins "
                          "WHEN NEW.dimension = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;"),
                 QString());
    }
    QVERIFY(errorFrom([&] {
        store.addEpoch(runId, {{2, "base_loss", 0.5}}, {{2, "boom", 0, 0.0, 1.0, 5, 0.5, 0.25}});
    }));
    QCOMPARE(store.epochMetrics(runId).size(), std::size_t{2});
    QVERIFY(errorFrom([&] { store.addEpoch(runId + 1, {{2, "base_loss", 0.5}}, {}); }));
}

void TestStore::secondStoreSeesWrites()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("experiments.db")).toStdString();
    ExperimentStore writer(path);
    const std::int64_t datasetId = writer.addDataset(makeDataset("shared"));
    const std::int64_t runId = writer.createRun(makeRun(datasetId, "shared run"));
    writer.setRunStatus(runId, RunStatus::Running);
    writer.addEpochMetrics(runId, {{1, "loss", 0.3}});

    ExperimentStore reader(path);
    QCOMPARE(reader.schemaVersion(), 3);
    QCOMPARE(reader.datasets().size(), std::size_t{1});
    QCOMPARE(reader.datasetByHash("shared")->id, datasetId);
    const auto run = reader.run(runId);
    QVERIFY(run);
    QCOMPARE(qs(run->name), QStringLiteral("shared run"));
    QVERIFY(run->status == RunStatus::Running);
    QCOMPARE(reader.epochMetrics(runId).size(), std::size_t{1});

    // And the other way round, while both stay open.
    reader.setRunNotes(runId, "seen by both", "shared");
    writer.addEpochMetrics(runId, {{2, "loss", 0.2}});
    QCOMPARE(qs(writer.run(runId)->notes), QStringLiteral("seen by both"));
    QCOMPARE(reader.epochMetrics(runId).size(), std::size_t{2});
}

void TestStore::importRunRemapsIdsAndCopiesEveryTable()
{
    QTemporaryDir dir;
    const std::string shardPath = dir.filePath(QStringLiteral("shard.db")).toStdString();
    std::int64_t shardRun = 0;
    {
        ExperimentStore shard(shardPath);
        const auto d = shard.addDataset(makeDataset("data-a"));
        const auto sc = shard.addScoreSet(makeScoreSet(d, "scores-a"));
        auto run = makeRun(d, "cell run");
        run.scoreSetId = sc;
        run.status = RunStatus::Completed;
        shardRun = shard.createRun(run);
        shard.addEpochMetrics(shardRun, {{1, "base_loss", 0.5}, {2, "base_loss", 0.25}});
        shard.addSegmentMetrics(shardRun, {{"overall", "auc", 0.81, 100}, {"cold", "auc", 0.7, 9}});
        shard.addInteractionMetrics(shardRun, {{3, 4, "auc", 0.9}, {5, 6, "auc", 0.1}});
        shard.addGateBins(shardRun, {{1, "history", 0, 0.0, 5.0, 10, 0.4, 0.3}});
    }  // closed: no -wal left, as a finished task leaves it
    QVERIFY(!QFile::exists(QString::fromStdString(shardPath + "-wal")));

    ExperimentStore target(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const auto other = target.addDataset(makeDataset("data-b"));
    target.createRun(makeRun(other, "earlier run"));
    target.createRun(makeRun(other, "another run"));
    sllmr::SweepRecord sweep;
    sweep.name = "s";
    sweep.gridJson = "{}";
    SweepItemRecord item;
    item.rowLabel = "row";
    item.configJson = "{}";
    item.configHash = "h";
    SweepItemRecord duplicate = item;
    duplicate.position = 1;
    duplicate.duplicateOf = 0;
    const auto sweepId = target.createSweep(sweep, {item, duplicate});

    const ExperimentStore shard(shardPath, sllmr::StoreAccess::ReadOnlySnapshot);
    sllmr::RunImport options;
    options.configJson = R"({"remapped":true})";
    options.configHash = "new-hash";
    options.sweepItems = {{sweepId, 0}, {sweepId, 1}};
    const auto id = target.importRun(shard, shardRun, options);
    QCOMPARE(id, std::int64_t{3});  // this store's next id, not the shard's 1
    const auto run = target.run(id);
    QCOMPARE(qs(run->name), QStringLiteral("cell run"));
    QCOMPARE(qs(run->configJson), QStringLiteral(R"({"remapped":true})"));
    QCOMPARE(qs(run->configHash), QStringLiteral("new-hash"));
    QVERIFY(run->status == RunStatus::Completed);
    QCOMPARE(qs(target.dataset(*run->datasetId)->contentHash), QStringLiteral("data-a"));
    QVERIFY(*run->datasetId != other);
    QCOMPARE(target.scoreSet(*run->scoreSetId)->datasetId, *run->datasetId);
    QCOMPARE(target.epochMetrics(id).size(), std::size_t{2});
    QCOMPARE(target.epochMetrics(id)[1].value, 0.25);
    QCOMPARE(target.segmentMetrics(id).size(), std::size_t{2});
    QCOMPARE(target.segmentMetrics(id)[1].value, 0.81);
    QCOMPARE(target.segmentMetrics(id)[1].size, std::int64_t{100});
    QCOMPARE(target.interactionMetrics(id, "auc").size(), std::size_t{2});
    QCOMPARE(target.interactionMetrics(id, "auc")[0].value, 0.9);
    QCOMPARE(target.gateBins(id).size(), std::size_t{1});
    QCOMPARE(target.gateBins(id)[0].meanActivation, 0.4);
    for (const auto& i : target.sweepItems(sweepId)) {
        QCOMPARE(i.runId.value_or(0), id);
        QVERIFY(i.status == RunStatus::Completed);
    }
    // A second import reuses the dataset and score set (matched by content hash).
    const auto again = target.importRun(shard, shardRun);
    QCOMPARE(target.run(again)->datasetId, run->datasetId);
    QCOMPARE(target.run(again)->scoreSetId, run->scoreSetId);
    QCOMPARE(target.datasets().size(), std::size_t{2});

    // The list of copied tables covers every per-run table of the schema (sweep_items refers to
    // runs but is the queue, not run data).
    RawDb raw(dir.filePath(QStringLiteral("experiments.db")));
    QStringList withRunId = raw.rows(
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p "
        "WHERE m.type = 'table' AND p.name = 'run_id' AND m.name <> 'sweep_items' ORDER BY 1");
    QStringList copied;
    for (const auto& t : sllmr::runTablesForTests())
        copied << qs(t);
    copied.sort();
    QCOMPARE(copied, withRunId);
}

void TestStore::snapshotsRefuseFilesInUseAndReportDamage()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("shard.db")).toStdString();
    {
        ExperimentStore store(path);
        store.createRun(makeRun(std::nullopt));
        QVERIFY(QFile::exists(QString::fromStdString(path + "-wal")));  // open: in use
        const auto error = errorFrom(
            [&] { ExperimentStore snapshot(path, sllmr::StoreAccess::ReadOnlySnapshot); });
        QVERIFY(error);
        QVERIFY(error->kind() == sllmr::ErrorKind::Store);
        QVERIFY2(error->problem().find("in use") != std::string::npos, error->what());
        QVERIFY(!sllmr::storeFileProblem(path).empty());
    }
    QCOMPARE(qs(sllmr::storeFileProblem(path)), QString());
    {
        const ExperimentStore snapshot(path, sllmr::StoreAccess::ReadOnlySnapshot);
        QCOMPARE(snapshot.runs().size(), std::size_t{1});
    }
    QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
    QVERIFY(!QFile::exists(QString::fromStdString(path + "-shm")));
    // A partial copy is reported, and left as it was.
    QFile f(QString::fromStdString(path));
    QVERIFY(f.resize(f.size() / 2));
    const auto size = f.size();
    QVERIFY(!sllmr::storeFileProblem(path).empty());
    QCOMPARE(QFile(QString::fromStdString(path)).size(), size);
    QVERIFY(
        !sllmr::storeFileProblem(dir.filePath(QStringLiteral("missing.db")).toStdString()).empty());
}

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
