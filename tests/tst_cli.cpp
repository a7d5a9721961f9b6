// The `sllmr` command line, driven as a real process: dataset and score-file inspection on the
// public data (JSON and human-readable output), exit codes (0 ok, 2 usage, 3 bad input or missing
// file, 4 database), recording datasets and score sets in an experiments database, training runs
// (run, runs list/show/compare/export, resuming a run killed with SIGKILL) and the gate inspector.
#include "run/runner.h"
#include "store/experiment_store.h"
#include "train/run_config.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include "test_paths.h"
#include "train_configs.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <tuple>

using namespace sllmr;
using nlohmann::json;

namespace {

using testconfigs::demoConfig;
using testconfigs::inspectConfig;
using testconfigs::tinyConfig;

const QString kCli = QStringLiteral(SLLMR_CLI);
const QString kScoreFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/scores");
const QString kCliFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/cli");
const QString kRepro = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/repro");
const QString kDataFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/data");

QString repro(const char* name)
{
    return kRepro + QLatin1Char('/') + QLatin1String(name);
}

QString dataFixture(const char* name)
{
    return kDataFixtures + QLatin1Char('/') + QLatin1String(name);
}

// A file of the LLM rankings data set: the bundled demo has ChatGPT's, the public data folder
// the others.
QString llm(const QString& rel)
{
    return testdata::dataFile(QStringLiteral("llm-rankings-ml-latest-small/") + rel);
}

QString scoreFixture(const char* name)
{
    return kScoreFixtures + QLatin1Char('/') + QLatin1String(name);
}

struct Result
{
    int code = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json;  // stdout parsed, when it is a JSON object
};

Result runCli(const QStringList& args)
{
    Result r;
    QProcess p;
    p.setProgram(kCli);
    p.setArguments(args);
    p.start();
    if (!p.waitForStarted(30000)) {
        r.err = "cannot start " + kCli.toUtf8();
        return r;
    }
    if (!p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    QJsonParseError pe;
    const auto doc = QJsonDocument::fromJson(r.out, &pe);
    if (pe.error == QJsonParseError::NoError && doc.isObject())
        r.json = doc.object();
    return r;
}

QByteArray describe(const QStringList& args, const Result& r)
{
    return "sllmr " + args.join(QLatin1Char(' ')).toUtf8() + " -> " + QByteArray::number(r.code) +
           "\nstderr: " + r.err.left(2000);
}

qint64 num(const QJsonObject& o, const char* key)
{
    return o.value(QLatin1String(key)).toInteger(-1);
}

QByteArray fileBytes(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList shippedSplitArgs()
{
    return {llm(QStringLiteral("split/train.tsv")), QStringLiteral("--test"),
            llm(QStringLiteral("split/test.tsv"))};
}

QStringList tinyData()
{
    return {QStringLiteral("--data"), scoreFixture("tiny_train.tsv"), QStringLiteral("--test"),
            scoreFixture("tiny_test.tsv")};
}

}  // namespace

#define RUN_OK(result, args)                    \
    const QStringList result##Args = (args);    \
    const Result result = runCli(result##Args); \
    QVERIFY2(result.code == 0, describe(result##Args, result).constData())

class TestCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void help_data();
    void help();
    void usageErrors_data();
    void usageErrors();
    void badInputErrors_data();
    void badInputErrors();

    void datasetInspectMovieLens();
    void datasetInspectShippedSplit();
    void scoresInspect_data();
    void scoresInspect();
    void scoresInspectHumanReadable();

    void saveDataset();
    void saveScoreSets();
    void foreignDatabase();

    void readerRegressions_data();
    void readerRegressions();
    void tokenScoresJson();
    void movieLensItemFiles();
    void sequencesDataset();
    void sequencesPaperDataset();
    void scoresMissingAndQuoting();
    void malformedInput_data();
    void malformedInput();
    void failedRunWithBrokenTextListsAsJson();
    void resumeAfterSigkillMatchesUninterrupted();
    void resultsDoNotDependOnBlasThreads();
    void frontRunsWithoutLibTorch();
    void killAtEveryCommitPointLosesNoEpoch_data();
    void killAtEveryCommitPointLosesNoEpoch();
    void cliRunsCommands();
    void cliInspect();

private:
    QTemporaryDir m_tmp;
};

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(kCli).isExecutable(), qPrintable(kCli));
    QVERIFY(m_tmp.isValid());
    qputenv("SLLMR_DEMO_DIR", QByteArray(SLLMR_DEMO_DIR));
}

void TestCli::help_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("sllmr") << QStringList{QStringLiteral("--help")} << QStringLiteral("dataset");
    QTest::newRow("dataset") << QStringList{QStringLiteral("dataset"), QStringLiteral("--help")}
                             << QStringLiteral("inspect");
    QTest::newRow("dataset inspect")
        << QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"),
                       QStringLiteral("--help")}
        << QStringLiteral("--json");
    QTest::newRow("scores inspect")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                       QStringLiteral("--help")}
        << QStringLiteral("--candidates");
}

void TestCli::help()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const Result r = runCli(args);
    QVERIFY2(r.code == 0, describe(args, r).constData());
    const QString out = QString::fromUtf8(r.out);
    QVERIFY2(out.contains(QStringLiteral("Usage")), r.out.constData());
    QVERIFY2(out.contains(mentions), r.out.constData());
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    const QString train = scoreFixture("tiny_train.tsv");
    QTest::newRow("no subcommand") << QStringList{};
    QTest::newRow("unknown option") << QStringList{
        QStringLiteral("dataset"), QStringLiteral("inspect"), train, QStringLiteral("--bogus")};
    QTest::newRow("missing path") << QStringList{QStringLiteral("dataset"),
                                                 QStringLiteral("inspect")};
    QTest::newRow("missing --data") << QStringList{
        QStringLiteral("scores"), QStringLiteral("inspect"), scoreFixture("ranks.tsv")};
    QTest::newRow("option without value") << QStringList{
        QStringLiteral("dataset"), QStringLiteral("inspect"), train, QStringLiteral("--test")};
    QTest::newRow("bad choice") << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                                               scoreFixture("ranks.tsv")} +
                                       tinyData() +
                                       QStringList{QStringLiteral("--kind"),
                                                   QStringLiteral("banana")};
    QTest::newRow("bad threshold")
        << QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), train,
                       QStringLiteral("--cold"), QStringLiteral("abc")};
    QTest::newRow("kind auto without header")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                       scoreFixture("no_header.tsv")} +
               tinyData();
}

void TestCli::usageErrors()
{
    QFETCH(QStringList, args);
    const Result r = runCli(args);
    QVERIFY2(r.code == 2, describe(args, r).constData());
    QVERIFY(!r.err.trimmed().isEmpty());
    QVERIFY(r.out.trimmed().isEmpty() || !r.out.contains("\"rows\""));
}

void TestCli::badInputErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("where");  // expected in stderr
    const QString badRatings = kCliFixtures + QStringLiteral("/bad_ratings.csv");
    const QString missing = m_tmp.filePath(QStringLiteral("no_such_file.csv"));
    QTest::newRow("malformed dataset")
        << QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), badRatings}
        << QStringLiteral("bad_ratings.csv:4:");
    QTest::newRow("malformed score file")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                       scoreFixture("negative_rank.tsv")} +
               tinyData()
        << QStringLiteral("negative_rank.tsv:3:");
    QTest::newRow("truncated score file")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                       scoreFixture("truncated.tsv"), QStringLiteral("--json")} +
               tinyData()
        << QStringLiteral("truncated.tsv:4:");
    QTest::newRow("missing dataset")
        << QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), missing}
        << QStringLiteral("no_such_file.csv");
    QTest::newRow("missing score file")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"), missing} + tinyData()
        << QStringLiteral("no_such_file.csv");
    QTest::newRow("missing candidates")
        << QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                       scoreFixture("ranks.tsv"), QStringLiteral("--candidates"), missing} +
               tinyData()
        << QStringLiteral("no_such_file.csv");
}

void TestCli::badInputErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, where);
    const Result r = runCli(args);
    QVERIFY2(r.code == 3, describe(args, r).constData());
    QVERIFY2(QString::fromUtf8(r.err).contains(where), describe(args, r).constData());
}

void TestCli::datasetInspectMovieLens()
{
    RUN_OK(r, (QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"),
                           testdata::dataFile(QStringLiteral("ml-latest-small/ratings.csv")),
                           QStringLiteral("--json")}));
    const QJsonObject& j = r.json;
    QVERIFY2(!j.isEmpty(), r.out.left(500).constData());
    QCOMPARE(num(j, "users"), 610);
    QCOMPARE(num(j, "items"), 9724);
    QCOMPARE(num(j, "interactions"), 100836);
    const auto train = j.value(QStringLiteral("train")).toObject();
    const auto validation = j.value(QStringLiteral("validation")).toObject();
    const auto test = j.value(QStringLiteral("test")).toObject();
    QCOMPARE(
        num(train, "interactions") + num(validation, "interactions") + num(test, "interactions"),
        100836);
    QVERIFY(num(test, "interactions") > 0);
    QCOMPARE(num(train, "users"), 610);

    const auto segments = j.value(QStringLiteral("segments")).toObject();
    auto seg = [&](const QString& name) { return segments.value(name).toObject(); };
    QStringList names{QStringLiteral("overall"), QStringLiteral("cold"), QStringLiteral("warm"),
                      QStringLiteral("tail"), QStringLiteral("head")};
    for (const char* prefix : {"hist_", "pop_"}) {
        int buckets = 0;
        for (int k = 1; k <= 5; ++k)
            if (segments.contains(QLatin1String(prefix) + QString::number(k)))
                buckets = k;
        QVERIFY2(buckets >= 1, prefix);
        QVERIFY(!segments.contains(QLatin1String(prefix) + QString::number(buckets + 1)));
        for (int k = 1; k <= buckets; ++k)
            names << QLatin1String(prefix) + QString::number(k);
    }
    for (const QString& name : names) {
        const auto s = seg(name);
        QVERIFY2(!s.isEmpty(), qPrintable(name));
        QVERIFY2(s.contains(QStringLiteral("users")) || s.contains(QStringLiteral("items")),
                 qPrintable(name));
        QVERIFY2(num(s, "test_interactions") >= 0, qPrintable(name));
    }
    // segment_order lists exactly the segments.
    QStringList order;
    for (const auto& v : j.value(QStringLiteral("segment_order")).toArray())
        order << v.toString();
    QCOMPARE(order.size(), segments.size());
    for (const QString& name : names)
        QVERIFY2(order.contains(name), qPrintable(name));

    const qint64 overall = num(seg(QStringLiteral("overall")), "test_interactions");
    QCOMPARE(overall, num(test, "interactions"));
    QCOMPARE(num(seg(QStringLiteral("cold")), "test_interactions") +
                 num(seg(QStringLiteral("warm")), "test_interactions"),
             overall);
    QCOMPARE(num(seg(QStringLiteral("tail")), "test_interactions") +
                 num(seg(QStringLiteral("head")), "test_interactions"),
             overall);
    QCOMPARE(num(seg(QStringLiteral("cold")), "users") + num(seg(QStringLiteral("warm")), "users"),
             610);
    QCOMPARE(num(seg(QStringLiteral("tail")), "items") + num(seg(QStringLiteral("head")), "items"),
             9724);
    // The buckets partition users and items too.
    qint64 histTest = 0;
    qint64 histUsers = 0;
    qint64 popTest = 0;
    qint64 popItems = 0;
    for (const QString& name : names) {
        if (name.startsWith(QStringLiteral("hist_"))) {
            histTest += num(seg(name), "test_interactions");
            histUsers += num(seg(name), "users");
        } else if (name.startsWith(QStringLiteral("pop_"))) {
            popTest += num(seg(name), "test_interactions");
            popItems += num(seg(name), "items");
        }
    }
    QCOMPARE(histTest, overall);
    QCOMPARE(histUsers, 610);
    QCOMPARE(popTest, overall);
    QCOMPARE(popItems, 9724);
}

void TestCli::datasetInspectShippedSplit()
{
    const QStringList base =
        QStringList{QStringLiteral("dataset"), QStringLiteral("inspect")} + shippedSplitArgs();
    RUN_OK(r, base + QStringList{QStringLiteral("--json")});
    const QJsonObject& j = r.json;
    QVERIFY2(!j.isEmpty(), r.out.left(500).constData());
    const auto train = j.value(QStringLiteral("train")).toObject();
    QCOMPARE(num(train, "users"), 603);
    QCOMPARE(num(train, "items"), 1862);
    QCOMPARE(num(j, "users"), 603);
    QCOMPARE(num(j, "items"), 1862);
    QCOMPARE(num(j, "interactions"), 51576 + 12629);
    QCOMPARE(num(j.value(QStringLiteral("test")).toObject(), "interactions"), 12629);
    QCOMPARE(num(train, "interactions") +
                 num(j.value(QStringLiteral("validation")).toObject(), "interactions"),
             51576);

    // The same dataset, human-readable.
    RUN_OK(h, base);
    const QString text = QString::fromUtf8(h.out);
    QVERIFY2(text.contains(QStringLiteral("users")), h.out.constData());
    QVERIFY(text.contains(QStringLiteral("603")));
    QVERIFY(text.contains(QStringLiteral("1,862")));
    const auto order = j.value(QStringLiteral("segment_order")).toArray();
    QVERIFY(order.size() >= 7);
    for (const auto& v : order)
        QVERIFY2(text.contains(v.toString()), qPrintable(v.toString()));
    QVERIFY(!text.trimmed().startsWith(QLatin1Char('{')));
}

void TestCli::scoresInspect_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<qint64>("rows");
    QTest::addColumn<qint64>("duplicates");
    // The table of shared/data/README.md.
    QTest::newRow("chatgpt EXP_1")
        << "chatgpt/output_exp_1_rec_movie.tsv" << qint64(29975) << qint64(1088);
    QTest::newRow("chatgpt EXP_2")
        << "chatgpt/output_exp_2_rec_movie_rerank_most_pop.tsv" << qint64(30121) << qint64(241);
    QTest::newRow("chatgpt EXP_3")
        << "chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv" << qint64(30073) << qint64(395);
    QTest::newRow("davinci EXP_1")
        << "text-davinci-003/output_EXP_1.tsv" << qint64(29649) << qint64(1534);
    QTest::newRow("davinci EXP_2")
        << "text-davinci-003/output_EXP_2.tsv" << qint64(28998) << qint64(195);
    QTest::newRow("davinci EXP_3")
        << "text-davinci-003/output_EXP_3.tsv" << qint64(31094) << qint64(1621);
    QTest::newRow("palm2 EXP_1") << "palm2/output_EXP_1.tsv" << qint64(28023) << qint64(8315);
    QTest::newRow("palm2 EXP_2") << "palm2/output_EXP_2.tsv" << qint64(28814) << qint64(6697);
    QTest::newRow("palm2 EXP_3") << "palm2/output_EXP_3.tsv" << qint64(27919) << qint64(5808);
}

void TestCli::scoresInspect()
{
    QFETCH(QString, file);
    SLLMR_REQUIRE_DATA(QStringLiteral("llm-rankings-ml-latest-small/") + file);
    QFETCH(qint64, rows);
    QFETCH(qint64, duplicates);
    RUN_OK(r, (QStringList{QStringLiteral("scores"), QStringLiteral("inspect"), llm(file),
                           QStringLiteral("--data"), llm(QStringLiteral("split/train.tsv")),
                           QStringLiteral("--test"), llm(QStringLiteral("split/test.tsv")),
                           QStringLiteral("--json")}));
    const QJsonObject& j = r.json;
    QVERIFY2(!j.isEmpty(), r.out.left(500).constData());
    for (const char* key : {"rows", "matched", "unknown_users", "unknown_items", "duplicates",
                            "out_of_range", "in_train", "users_covered"}) {
        QVERIFY2(j.contains(QLatin1String(key)), key);
        QVERIFY2(j.value(QLatin1String(key)).isDouble(), key);
    }
    QCOMPARE(j.value(QStringLiteral("kind")).toString(), QStringLiteral("rank"));
    QCOMPARE(num(j, "rows"), rows);
    QCOMPARE(num(j, "duplicates"), duplicates);
    QCOMPARE(num(j, "rows"), num(j, "matched") + num(j, "duplicates") + num(j, "unknown_users") +
                                 num(j, "unknown_items"));
    QCOMPARE(num(j, "out_of_range"), 0);
    QVERIFY(num(j, "in_train") > 0);
    QVERIFY(num(j, "users_covered") > 500 && num(j, "users_covered") <= 603);
}

void TestCli::scoresInspectHumanReadable()
{
    const QStringList args =
        QStringList{QStringLiteral("scores"), QStringLiteral("inspect"), scoreFixture("ranks.tsv"),
                    QStringLiteral("--candidates"), scoreFixture("candidates.tsv")} +
        tinyData();
    RUN_OK(r, args);
    const QString text = QString::fromUtf8(r.out);
    for (const char* word : {"rows", "matched", "duplicates", "unknown users", "unknown items",
                             "users covered", "candidates added", "line 6", "line 13"})
        QVERIFY2(text.contains(QLatin1String(word)), word);
    QVERIFY(!text.trimmed().startsWith(QLatin1Char('{')));

    RUN_OK(j, args + QStringList{QStringLiteral("--json")});
    QCOMPARE(num(j.json, "rows"), 14);
    QCOMPARE(num(j.json, "matched"), 9);
    QCOMPARE(num(j.json, "duplicates"), 1);
    QCOMPARE(num(j.json, "unknown_users"), 2);
    QCOMPARE(num(j.json, "unknown_items"), 2);
    QCOMPARE(num(j.json, "candidates_added"), 4);
    QCOMPARE(num(j.json, "users_covered"), 3);
}

void TestCli::saveDataset()
{
    const QString db = m_tmp.filePath(QStringLiteral("datasets.db"));
    const QStringList args = QStringList{QStringLiteral("--db"),         db,
                                         QStringLiteral("dataset"),      QStringLiteral("inspect"),
                                         scoreFixture("tiny_train.tsv"), QStringLiteral("--test"),
                                         scoreFixture("tiny_test.tsv"),  QStringLiteral("--save"),
                                         QStringLiteral("--json")};
    RUN_OK(first, args);
    QVERIFY(QFileInfo::exists(db));
    const qint64 id = num(first.json, "dataset_id");
    QVERIFY2(id > 0, first.out.left(500).constData());
    RUN_OK(second, args);
    QCOMPARE(num(second.json, "dataset_id"), id);  // deduplicated by content hash
    QCOMPARE(second.json.value(QStringLiteral("content_hash")),
             first.json.value(QStringLiteral("content_hash")));

    // Another preprocessing of the same files is another dataset.
    RUN_OK(third, (args + QStringList{QStringLiteral("--cold"), QStringLiteral("2")}));
    QVERIFY(num(third.json, "dataset_id") > 0);
    QVERIFY(num(third.json, "dataset_id") != id);

    // A malformed input with --save fails before the store is touched: nothing stored is lost.
    QFile dbFile(db);
    QVERIFY(dbFile.open(QIODevice::ReadOnly));
    const QByteArray before = dbFile.readAll();
    dbFile.close();
    const Result bad = runCli(QStringList{
        QStringLiteral("--db"), db, QStringLiteral("dataset"), QStringLiteral("inspect"),
        kCliFixtures + QStringLiteral("/bad_ratings.csv"), QStringLiteral("--save")});
    QCOMPARE(bad.code, 3);
    QVERIFY(dbFile.open(QIODevice::ReadOnly));
    QCOMPARE(dbFile.readAll(), before);
    dbFile.close();
    RUN_OK(again, args);
    QCOMPARE(num(again.json, "dataset_id"), id);  // the earlier record is still there
}

void TestCli::saveScoreSets()
{
    const QString db = m_tmp.filePath(QStringLiteral("scores.db"));
    const QStringList args = QStringList{QStringLiteral("--db"),    db,
                                         QStringLiteral("scores"),  QStringLiteral("inspect"),
                                         scoreFixture("ranks.tsv"), QStringLiteral("--save"),
                                         QStringLiteral("--json")} +
                             tinyData();
    RUN_OK(first, args);
    const qint64 datasetId = num(first.json, "dataset_id");
    const qint64 scoreSetId = num(first.json, "score_set_id");
    QVERIFY2(datasetId > 0 && scoreSetId > 0, first.out.left(500).constData());
    RUN_OK(again, args);
    QCOMPARE(num(again.json, "dataset_id"), datasetId);
    QCOMPARE(num(again.json, "score_set_id"), scoreSetId);

    // The same file read differently gives other scores: it must not be mistaken for the score
    // set already stored (which holds the linear mapping's spec).
    RUN_OK(exponential,
           (args + QStringList{QStringLiteral("--rank-mapping"), QStringLiteral("exponential")}));
    QCOMPARE(num(exponential.json, "dataset_id"), datasetId);
    QVERIFY2(num(exponential.json, "score_set_id") != scoreSetId,
             "a score set with another rank mapping was deduplicated into the linear one");
}

void TestCli::foreignDatabase()
{
    const QString db = m_tmp.filePath(QStringLiteral("experiments.db"));
    const QByteArray content("This is not an SQLite database, just a text file.\n");
    {
        QFile f(db);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(content), qint64(content.size()));
    }
    const QStringList datasetArgs{QStringLiteral("--db"),         db,
                                  QStringLiteral("dataset"),      QStringLiteral("inspect"),
                                  scoreFixture("tiny_train.tsv"), QStringLiteral("--test"),
                                  scoreFixture("tiny_test.tsv"),  QStringLiteral("--save"),
                                  QStringLiteral("--json")};
    const QStringList scoreArgs = QStringList{QStringLiteral("--db"),    db,
                                              QStringLiteral("scores"),  QStringLiteral("inspect"),
                                              scoreFixture("ranks.tsv"), QStringLiteral("--save")} +
                                  tinyData();
    for (const QStringList& args : {datasetArgs, scoreArgs}) {
        const Result r = runCli(args);
        QVERIFY2(r.code == 4, describe(args, r).constData());
        QVERIFY2(r.err.contains("experiments.db"), r.err.constData());
        QCOMPARE(fileBytes(db), content);
    }
    // Nothing else was created next to it (no -wal / -shm / journal).
    QVERIFY(!QFileInfo::exists(db + QStringLiteral("-wal")));
    QVERIFY(!QFileInfo::exists(db + QStringLiteral("-journal")));
}

// The reproducers of 2026-11-30 through the real binary: exit 3 and file:line on stderr.
void TestCli::readerRegressions_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("where");  // expected in stderr
    QTest::addColumn<QString>("problem");
    const QString inspect = QStringLiteral("inspect");
    const QString dataset = QStringLiteral("dataset");
    const QString db = m_tmp.filePath(QStringLiteral("regressions.db"));
    QTest::newRow("items: one-column header")
        << QStringList{dataset, inspect, repro("train_ok.csv"), QStringLiteral("--items"),
                       repro("movies_onecol.csv")}
        << "movies_onecol.csv:1:"
        << "1 column";
    QTest::newRow("items: blank first line")
        << QStringList{dataset, inspect, repro("train_ok.csv"), QStringLiteral("--items"),
                       repro("items_blank_first_line.csv")}
        << "items_blank_first_line.csv:2:"
        << "1 column";
    QTest::newRow("items: one-column header in a run config")
        << QStringList{QStringLiteral("--db"), db, QStringLiteral("run"),
                       repro("run-items-onecol.json")}
        << "movies_onecol.csv:1:"
        << "1 column";
    QTest::newRow("excerpt cut in a character")
        << QStringList{dataset, inspect, repro("utf8_cut2.csv"), QStringLiteral("--json")}
        << "utf8_cut2.csv:3:"
        << "user id";
    QTest::newRow("rows after the gzip stream")
        << QStringList{dataset, inspect, repro("gz_trailing.csv.gz")} << "gz_trailing.csv.gz:44:"
        << "not gzip data";
    QTest::newRow("rating 1e300") << QStringList{dataset, inspect, repro("rating_1e300.csv")}
                                  << "rating_1e300.csv:44:"
                                  << "out of range";
    QTest::newRow("CR-only line ends")
        << QStringList{dataset, inspect, repro("cr_only.csv")} << "cr_only.csv:1:"
        << "CR-only";
    QTest::newRow("Latin-1 u.item without --encoding")
        << QStringList{dataset, inspect, dataFixture("ml-100k/u.data"), QStringLiteral("--items"),
                       dataFixture("ml-100k/u.item")}
        << "u.item:4:"
        << "--encoding";
    QTest::newRow("empty score with --missing error")
        << QStringList{QStringLiteral("scores"),
                       inspect,
                       scoreFixture("pandas_quoted.csv"),
                       QStringLiteral("--kind"),
                       QStringLiteral("rating"),
                       QStringLiteral("--missing"),
                       QStringLiteral("error")} +
               tinyData()
        << "pandas_quoted.csv:5:"
        << "empty";
}

void TestCli::readerRegressions()
{
    QFETCH(QStringList, args);
    QFETCH(QString, where);
    QFETCH(QString, problem);
    const Result r = runCli(args);
    QVERIFY2(r.code == 3, describe(args, r).constData());
    const QString err = QString::fromUtf8(r.err);
    QVERIFY2(err.contains(where), describe(args, r).constData());
    QVERIFY2(err.contains(problem, Qt::CaseInsensitive), describe(args, r).constData());
    QVERIFY2(!err.contains(QChar::ReplacementCharacter), describe(args, r).constData());
}

// An unknown token id longer than an excerpt: the JSON report is written (exit 0).
void TestCli::tokenScoresJson()
{
    RUN_OK(r, (QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                           repro("s_token_utf8.tsv"), QStringLiteral("--data"),
                           dataFixture("small.inter"), QStringLiteral("--split"),
                           QStringLiteral("leave-one-out"), QStringLiteral("--kind"),
                           QStringLiteral("pointwise"), QStringLiteral("--json")}));
    QCOMPARE(num(r.json, "unknown_users"), 1);
    QCOMPARE(num(r.json, "matched"), 1);
    const auto warnings = r.json.value(QStringLiteral("warnings")).toArray();
    QCOMPARE(warnings.size(), 1);
    QVERIFY(!warnings[0].toString().contains(QChar::ReplacementCharacter));
}

void TestCli::movieLensItemFiles()
{
    const std::pair<const char*, const char*> releases[] = {
        {"ml-100k/u.data", "ml-100k/u.item"}, {"ml-1m/ratings.dat", "ml-1m/movies.dat"}};
    for (const auto& [ratings, items] : releases) {
        RUN_OK(r, (QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"),
                               dataFixture(ratings), QStringLiteral("--items"), dataFixture(items),
                               QStringLiteral("--encoding"), QStringLiteral("latin1"),
                               QStringLiteral("--json")}));
        QCOMPARE(num(r.json, "users"), 3);
        QCOMPARE(num(r.json, "interactions"), 17);
        QVERIFY(r.json.value(QStringLiteral("has_titles")).toBool());
        QVERIFY(num(r.json, "item_features") >= 10);  // the genres of the seven rated movies
        const auto files = r.json.value(QStringLiteral("files")).toArray();
        QCOMPARE(files.last().toObject().value(QStringLiteral("encoding")).toString(),
                 QStringLiteral("latin1"));
    }
}

void TestCli::sequencesDataset()
{
    const QString path =
        QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/sequences/Beauty_head.txt");
    RUN_OK(r, (QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), path,
                           QStringLiteral("--format"), QStringLiteral("sequences"),
                           QStringLiteral("--split"), QStringLiteral("leave-one-out"),
                           QStringLiteral("--json")}));
    QCOMPARE(num(r.json, "users"), 6);
    QCOMPARE(num(r.json, "items"), 49);
    QCOMPARE(num(r.json, "interactions"), 54);
    QCOMPARE(num(r.json.value(QStringLiteral("test")).toObject(), "interactions"), 6);
    // Without the loader it is detected.
    RUN_OK(d, (QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), path,
                           QStringLiteral("--json")}));
    QCOMPARE(num(d.json, "interactions"), 54);
    QCOMPARE(d.json.value(QStringLiteral("files"))
                 .toArray()
                 .first()
                 .toObject()
                 .value(QStringLiteral("format"))
                 .toString(),
             QStringLiteral("sequences"));
    // Sequences whose first two lines look like space-separated interactions are not: exit 3, the
    // first longer line, and the option to use.
    const QString shortLines = m_tmp.filePath(QStringLiteral("short_sequences.txt"));
    {
        QFile f(shortLines);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("1 10 11\n2 12 13\n3 14 15 16 17\n");
    }
    const QStringList bad{QStringLiteral("dataset"), QStringLiteral("inspect"), shortLines};
    const Result b = runCli(bad);
    QVERIFY2(b.code == 3, describe(bad, b).constData());
    QVERIFY2(b.err.contains("short_sequences.txt:3:") && b.err.contains("--format sequences"),
             describe(bad, b).constData());
}

// The command of the issue, on the paper's Amazon Sports and Outdoors.
void TestCli::sequencesPaperDataset()
{
    const QString rel = QStringLiteral("amazon-2014-5core/Sports_and_Outdoors.txt");
    SLLMR_REQUIRE_DATA(rel);
    const QString path = testdata::dataFile(rel);
    RUN_OK(r, (QStringList{QStringLiteral("dataset"), QStringLiteral("inspect"), path,
                           QStringLiteral("--format"), QStringLiteral("sequences"),
                           QStringLiteral("--split"), QStringLiteral("leave-one-out")}));
    const QString text = QString::fromUtf8(r.out);
    QVERIFY2(text.contains(QStringLiteral("users       35,598")), r.out.constData());
    QVERIFY2(text.contains(QStringLiteral("items     18,357")), r.out.constData());
    QVERIFY2(text.contains(QStringLiteral("interactions      296,337")), r.out.constData());
}

void TestCli::scoresMissingAndQuoting()
{
    const QStringList base = QStringList{QStringLiteral("scores"), QStringLiteral("inspect"),
                                         scoreFixture("pandas_quoted.csv"),
                                         QStringLiteral("--kind"), QStringLiteral("rating")} +
                             tinyData();
    RUN_OK(skip, base + QStringList{QStringLiteral("--json")});
    QCOMPARE(num(skip.json, "rows"), 4);
    QCOMPARE(num(skip.json, "matched"), 2);
    QCOMPARE(num(skip.json, "missing_values"), 1);
    QCOMPARE(num(skip.json, "unknown_items"), 1);
    RUN_OK(def, (base + QStringList{QStringLiteral("--missing"), QStringLiteral("default"),
                                    QStringLiteral("--json")}));
    QCOMPARE(num(def.json, "matched"), 3);
    QCOMPARE(def.json.value(QStringLiteral("missing_policy")).toString(),
             QStringLiteral("default"));
    RUN_OK(text, base);
    QVERIFY2(text.out.contains("missing values"), text.out.constData());
}

// Every kind of user mistake and hostile file, one row each: what is run, the exit code it must
// give (2 usage, 3 bad input, 4 database; never 1, which is for bugs) and what the message must
// name (file:line or the setting). In the arguments:
//   {repro}/NAME  a file of tests/fixtures/repro
//   {db}          a new database in a temporary folder
//   {copy}/NAME   a writable copy of tests/fixtures/repro/NAME (its bytes are checked after a
//                 refusal: exit 4 must leave it unchanged, with no -wal/-shm/-journal beside it)
//   {dir}         a folder; {fifo} a named pipe (opening it would block)
//   {name=A<C3>}  the argument name=A followed by the byte 0xC3 (not valid UTF-8)
void TestCli::malformedInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("names");  // expected in stderr (or stdout for code 0)

    const QString tiny = QStringLiteral("{repro}/tiny-run.json");
    const auto row = [](const char* name, QStringList args, int code, const char* names) {
        QTest::newRow(name) << args << code << QString::fromUtf8(names);
    };
    // Run configs.
    row("number beyond a double", {"run", "{repro}/config-1e400.json"}, 3,
        "config-1e400.json:75: not a usable JSON value");
    row("config is a folder", {"run", "{dir}"}, 3, "is a folder");
    row("config is a FIFO", {"run", "{fifo}"}, 3, "not a regular file");
    row("missing config", {"run", "{repro}/no-such.json"}, 3, "no-such.json");
    row("seed -1", {"run", "{repro}/seed-negative.json"}, 2, "setting 'seed' = -1 is out of range");
    row("seed 2^64", {"run", "{repro}/seed-2e64.json"}, 2, "setting 'seed' = ");
    row("column index beyond int (config)", {"run", "{repro}/column-beyond-int.json"}, 2,
        "dataset.columns.user");
    row("--set into a value", {"run", tiny, "--set", "seed.x=1"}, 2, "'seed' is a value");
    row("--set invalid UTF-8", {"run", tiny, "--set", "{name=A<C3>}"}, 2,
        "setting 'name' is not valid UTF-8");
    row("--set unknown key", {"run", tiny, "--set", "method.lamda=1"}, 2, "method.lamda");
    row("--set empty key part", {"run", tiny, "--set", "method..name=x"}, 2, "is not a key");
    row("--set out of range", {"run", tiny, "--set", "train.epochs=0"}, 2, "train.epochs");
    // A small floating-point bound is shown as it is, not rounded to six decimals.
    row("--set rate below its bound", {"run", tiny, "--set", "train.learning_rate=1e-9"}, 2,
        "'train.learning_rate' = 1e-09 is out of range (allowed: 1e-07 .. 1)");
    row("--set rate just past its bound", {"run", tiny, "--set", "train.learning_rate=1.0000001"},
        2, "'train.learning_rate' = 1.0000001 is out of range (allowed: 1e-07 .. 1)");
    row("--set float for an integer", {"run", tiny, "--set", "train.epochs=2.5"}, 2,
        "'train.epochs' = 2.5 is not a whole number");
    // Column options.
    row("--user-col beyond int",
        {"dataset", "inspect", "{repro}/train_ok.csv", "--user-col", "99999999999"}, 2,
        "99999999999");
    row("--score-user-col beyond int",
        {"scores", "inspect", "{repro}/train_ok.csv", "--data", "{repro}/train_ok.csv",
         "--score-user-col", "2147483648"},
        2, "2147483648");
    // Data files (the kinds tested before, kept in the table).
    row("malformed dataset", {"dataset", "inspect", kCliFixtures + "/bad_ratings.csv"}, 3,
        "bad_ratings.csv:4:");
    row("missing dataset", {"dataset", "inspect", "{repro}/no-such.csv"}, 3, "no-such.csv");
    row("malformed score file",
        QStringList{"scores", "inspect", scoreFixture("negative_rank.tsv")} + tinyData(), 3,
        "negative_rank.tsv:3:");
    // Stores.
    row("unknown run", {"--db", "{db}", "runs", "show", "99"}, 3, "run 99 does not exist");
    row("trigger in the store (run)", {"--db", "{copy}/trigger_tamper.db", "run", tiny}, 4,
        "unexpected trigger 'tamper'");
    row("recursive view (runs list)", {"--db", "{copy}/view_hang.db", "runs", "list"}, 4,
        "unexpected view 'runs'");
    row("huge blob view (runs list --json)",
        {"--db", "{copy}/huge_blob_view.db", "runs", "list", "--json"}, 4,
        "unexpected view 'runs'");
    row("bad UTF-8 row: runs list --json",
        {"--db", "{copy}/bad_utf8_text.db", "runs", "list", "--json"}, 0, "\"A\xEF\xBF\xBD\"");
    row("bad UTF-8 row: runs show --json",
        {"--db", "{copy}/bad_utf8_text.db", "runs", "show", "1", "--json"}, 0, "\"A\xEF\xBF\xBD\"");
    row("bad UTF-8 row: runs export json",
        {"--db", "{copy}/bad_utf8_text.db", "runs", "export", "1", "--format", "json"}, 0,
        "\"A\xEF\xBF\xBD\"");
    row("unparsable stored config: runs list",
        {"--db", "{copy}/bad_config_json.db", "runs", "list"}, 0, "(unreadable config)");
    row("unparsable stored config: runs list --json",
        {"--db", "{copy}/bad_config_json.db", "runs", "list", "--json"}, 0,
        "the stored config is not a readable run config");
    row("unparsable stored config: resume",
        {"--db", "{copy}/bad_config_json.db", "run", "--resume", "1"}, 4,
        "the stored config of run 1 cannot be used");
}

void TestCli::malformedInput()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, names);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString copied;
    QByteArray copiedBytes;
    bool invalidName = false;
    QStringList expanded;
    for (QString arg : args) {
        arg.replace(QStringLiteral("{repro}"), kRepro);
        arg.replace(QStringLiteral("{db}"), dir.filePath(QStringLiteral("experiments.db")));
        if (arg.startsWith(QStringLiteral("{copy}/"))) {
            copied = dir.filePath(arg.mid(7));
            QVERIFY(QFile::copy(kRepro + QLatin1Char('/') + arg.mid(7), copied));
            QVERIFY(QFile::setPermissions(copied, QFile::ReadOwner | QFile::WriteOwner));
            copiedBytes = fileBytes(copied);
            arg = copied;
        }
        if (arg == QStringLiteral("{dir}"))
            arg = dir.path();
        if (arg == QStringLiteral("{fifo}")) {
            arg = dir.filePath(QStringLiteral("config.fifo"));
            QCOMPARE(::mkfifo(QFile::encodeName(arg).constData(), 0600), 0);
        }
        if (arg == QStringLiteral("{name=A<C3>}")) {
            invalidName = true;
            continue;
        }
        expanded << arg;
    }
    // A byte that is not UTF-8 cannot travel in a QString: the shell appends that argument.
    QProcess p;
    if (invalidName) {
        p.setProgram(QStringLiteral("/bin/sh"));
        p.setArguments(QStringList{QStringLiteral("-c"),
                                   QStringLiteral("exec \"$0\" \"$@\" \"name=A$(printf '\\303')\""),
                                   kCli} +
                       expanded);
    } else {
        p.setProgram(kCli);
        p.setArguments(expanded);
    }
    p.start();
    QVERIFY(p.waitForStarted(30000));
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        QFAIL("sllmr did not finish within 60 s");
    }
    const QByteArray out = p.readAllStandardOutput();
    const QByteArray err = p.readAllStandardError();
    const QByteArray what = "sllmr " + expanded.join(QLatin1Char(' ')).toUtf8() + " -> " +
                            QByteArray::number(p.exitCode()) + "\nstderr: " + err.left(2000);
    QVERIFY2(p.exitStatus() == QProcess::NormalExit, what.constData());
    QVERIFY2(p.exitCode() == code, what.constData());
    QVERIFY2(!err.contains("internal error"), what.constData());
    QVERIFY2((code == 0 ? out : err).contains(names.toUtf8()),
             (what + "\nstdout: " + out.left(2000)).constData());
    if (code == 0 && (expanded.contains(QStringLiteral("--json")) ||
                      expanded.contains(QStringLiteral("json")))) {
        QJsonParseError pe;
        QJsonDocument::fromJson(out, &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, out.left(2000).constData());
    }
    // A refused file (the message says it was left unchanged) must really be unchanged.
    if (code == 4 && !copied.isEmpty() && err.contains("left it unchanged")) {
        QCOMPARE(fileBytes(copied), copiedBytes);  // refused: not a byte changed
        for (const char* suffix : {"-wal", "-shm", "-journal"})
            QVERIFY(!QFileInfo::exists(copied + QLatin1String(suffix)));
    }
}

// A run that fails with an error message whose UTF-8 was cut stores it (with U+FFFD); every JSON
// listing of that store then still works.
void TestCli::failedRunWithBrokenTextListsAsJson()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("p.db"));
    const Result failed = runCli({QStringLiteral("--db"), db, QStringLiteral("run"),
                                  kRepro + QStringLiteral("/run-utf8-error.json")});
    QVERIFY2(failed.code == 3, failed.err.constData());
    for (const QStringList& args :
         {QStringList{QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--json")},
          QStringList{QStringLiteral("runs"), QStringLiteral("show"), QStringLiteral("1"),
                      QStringLiteral("--json")},
          QStringList{QStringLiteral("runs"), QStringLiteral("export"), QStringLiteral("1"),
                      QStringLiteral("--format"), QStringLiteral("json")}}) {
        const QStringList all = QStringList{QStringLiteral("--db"), db} + args;
        const Result r = runCli(all);
        QVERIFY2(r.code == 0, describe(all, r).constData());
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, r.out.left(2000).constData());
        QVERIFY2(r.out.contains("\"status\": \"failed\""), r.out.left(2000).constData());
        QVERIFY2(r.out.contains("utf8_cut2.csv"), r.out.left(2000).constData());
    }
}

void TestCli::resumeAfterSigkillMatchesUninterrupted()
{
    QTemporaryDir dir;
    const QString cli = QStringLiteral(SLLMR_CLI);
    const QString config = dir.filePath(QStringLiteral("run.json"));
    {
        json j = toJson(demoConfig("selective", "reliability", 3));
        std::ofstream(config.toStdString()) << j.dump(2);
    }
    auto runCli = [&](const QString& db, const QStringList& args) {
        QProcess p;
        p.start(cli, QStringList{QStringLiteral("--db"), db} + args);
        p.waitForFinished(300000);
        return json::parse(p.readAllStandardOutput().toStdString(), nullptr, false);
    };
    // Uninterrupted.
    const QString dbA = dir.filePath(QStringLiteral("a.db"));
    const json full = runCli(dbA, {QStringLiteral("run"), config, QStringLiteral("--json")});
    QVERIFY2(!full.is_discarded(), "no JSON from the uninterrupted run");
    QCOMPARE(full["status"].get<std::string>(), std::string("completed"));

    // Killed with SIGKILL after its first epoch, then resumed.
    const QString dbB = dir.filePath(QStringLiteral("b.db"));
    QProcess p;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(cli, {QStringLiteral("--db"), dbB, QStringLiteral("run"), config});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    // Without a terminal the CLI prints one line per finished (and checkpointed) epoch.
    QTRY_VERIFY_WITH_TIMEOUT((err += p.readAllStandardError()).contains("epoch 1:"), 120000);
    p.kill();  // SIGKILL: no chance to clean up
    p.waitForFinished();
    {
        ExperimentStore store(dbB.toStdString());
        QCOMPARE(store.run(1)->status, RunStatus::Running);  // as the kill left it
        QCOMPARE(store.markStaleRunsInterrupted(), 1);
    }
    const json resumed = runCli(dbB, {QStringLiteral("run"), QStringLiteral("--resume"),
                                      QStringLiteral("1"), QStringLiteral("--json")});
    QVERIFY2(!resumed.is_discarded(), "no JSON from the resumed run");
    QCOMPARE(resumed["status"].get<std::string>(), std::string("completed"));
    for (const char* seg : {"overall", "cold", "tail"})
        for (const char* metric : {"auc", "gauc", "ndcg@10", "recall@20", "mrr"})
            QCOMPARE(resumed["metrics"][seg][metric].get<double>(),
                     full["metrics"][seg][metric].get<double>());
}

// Every stored row of a run but the wall-clock seconds, in a comparable form.
static QStringList storedRows(const ExperimentStore& store, std::int64_t runId)
{
    const auto qs = [](const std::string& text) { return QString::fromStdString(text); };
    QStringList rows;
    const auto number = [](double v) { return QString::number(v, 'g', 17); };
    for (const auto& m : store.epochMetrics(runId))
        if (m.key != "seconds")  // wall time: never equal between two runs
            rows << QStringLiteral("epoch %1 %2 %3").arg(m.epoch).arg(qs(m.key), number(m.value));
    for (const auto& b : store.gateBins(runId))
        rows << QStringLiteral("bin %1 %2 %3 %4 %5 %6 %7 %8")
                    .arg(b.epoch)
                    .arg(qs(b.dimension))
                    .arg(b.bin)
                    .arg(number(b.lo), number(b.hi))
                    .arg(b.count)
                    .arg(number(b.meanActivation), number(b.activeShare));
    for (const auto& m : store.segmentMetrics(runId))
        rows << QStringLiteral("segment %1 %2 %3 %4")
                    .arg(qs(m.segment), qs(m.metric), number(m.value))
                    .arg(m.size);
    for (const auto& m : store.interactionMetrics(runId, "auc"))
        rows << QStringLiteral("interaction %1 %2 %3").arg(m.user).arg(m.item).arg(number(m.value));
    return rows;
}

// OpenBLAS (Debian's BLAS) keeps its own thread pool, one thread per core unless
// OPENBLAS_NUM_THREADS says otherwise, and splits a matrix product differently by thread count. A
// DeepFM run's numbers once changed with it, i.e. with the machine; the engine now gives OpenBLAS
// one thread whatever the environment says. Same config and seed with 1 and with 4 OpenBLAS
// threads: every metric equal.
void TestCli::resultsDoNotDependOnBlasThreads()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("run.json"));
    {
        auto c = demoConfig("none", "off", 1);
        c.model.type = "deepfm";
        c.model.dim = 64;
        c.eval.userShare = 0.2;
        std::ofstream(config.toStdString()) << toJson(c).dump(2);
    }
    std::vector<json> runs;
    for (const char* blasThreads : {"1", "4"}) {
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("OPENBLAS_NUM_THREADS"), QString::fromLatin1(blasThreads));
        p.setProcessEnvironment(env);
        p.start(kCli, {QStringLiteral("--db"), dir.filePath(QStringLiteral("runs.db")),
                       QStringLiteral("run"), config, QStringLiteral("--json")});
        p.waitForFinished(300000);
        runs.push_back(json::parse(p.readAllStandardOutput().toStdString(), nullptr, false));
        QVERIFY2(!runs.back().is_discarded() && runs.back()["status"] == "completed",
                 p.readAllStandardError().constData());
    }
    int compared = 0;
    for (const auto& [segment, metrics] : runs[0]["metrics"].items())
        for (const auto& [metric, value] : metrics.items()) {
            QVERIFY2(runs[1]["metrics"][segment][metric] == value,
                     qPrintable(QString::fromStdString(segment + " " + metric)));
            compared += value.is_number_float() ? 1 : 0;
        }
    QVERIFY(compared > 20);
}

// `sllmr` is the LibTorch-free front: it links no LibTorch library, answers the commands that do
// not train itself, and hands run/sweep/inspect to the sllmr-engine beside it (the other tests run
// through it). Without that engine it says so, naming the path, with exit code 1.
void TestCli::frontRunsWithoutLibTorch()
{
    QProcess ldd;
    ldd.start(QStringLiteral("ldd"), {kCli});
    QVERIFY(ldd.waitForFinished(60000));
    const QByteArray libraries = ldd.readAllStandardOutput();
    QVERIFY2(libraries.contains("libsqlite3"), libraries.constData());  // ldd did list them
    QVERIFY2(!libraries.contains("libtorch") && !libraries.contains("libc10"),
             libraries.constData());

    const Result version = runCli({QStringLiteral("--version")});
    QCOMPARE(version.code, 0);
    QVERIFY(version.out.contains("LibTorch"));

    QTemporaryDir dir;
    const QString alone = dir.filePath(QStringLiteral("sllmr"));
    QVERIFY(QFile::copy(kCli, alone));
    QFile::setPermissions(alone, QFile::permissions(kCli));
    for (const QString& command : {QStringLiteral("run"), QStringLiteral("inspect")}) {
        QProcess p;
        p.start(alone, {QStringLiteral("--db"), dir.filePath(QStringLiteral("x.db")), command,
                        QStringLiteral("1")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains(dir.filePath(QStringLiteral("sllmr-engine")).toUtf8()),
                 err.constData());
    }
    // A command that does not train runs in the copy alone.
    QProcess p;
    p.start(alone, {QStringLiteral("config"), QStringLiteral("template")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(p.readAllStandardOutput().contains("\"threads\": 1"));
}

void TestCli::killAtEveryCommitPointLosesNoEpoch_data()
{
    QTest::addColumn<QString>("fault");
    QTest::addColumn<bool>("batchShares");
    QTest::newRow("epoch file written, rows not stored") << "before-epoch-rows:2" << false;
    QTest::newRow("rows stored, checkpoint not committed")
        << "between-metrics-and-checkpoint:2" << false;
    QTest::newRow("checkpoint committed, best.pt not refreshed") << "after-checkpoint:3" << false;
    QTest::newRow("last epoch stored, not evaluated") << "after-checkpoint:4" << false;
    // DeepFM with dropout in two batch shares, each share drawing from its own generator.
    QTest::newRow("batch shares: rows stored, checkpoint not committed")
        << "between-metrics-and-checkpoint:2" << true;
    QTest::newRow("batch shares: checkpoint committed") << "after-checkpoint:3" << true;
}

// A real `sllmr run` is killed (SIGKILL, through SLLMR_FAULT) at each point of the checkpoint
// protocol, resumed with `run --resume`, and must then hold exactly the rows of an uninterrupted
// run of the same config and seed: every epoch metric, gate bin, segment and per-interaction
// metric, bit for bit.
void TestCli::killAtEveryCommitPointLosesNoEpoch()
{
    QFETCH(QString, fault);
    QFETCH(bool, batchShares);
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("tiny.json"));
    {
        RunConfig c = tinyConfig();
        c.method.name = MethodName::Selective;
        c.gate.mode = GateMode::Reliability;
        c.train.epochs = 4;
        if (batchShares) {
            c.model.type = "deepfm";
            c.model.hidden = {16};
            c.model.dropout = 0.3;
            c.train.parallel = TrainParallel::Batch;
            c.train.threads = 2;
        }
        std::ofstream(config.toStdString()) << toJson(c).dump(2);
    }
    auto runCli = [&](const QString& db, const QStringList& args, const QString& withFault) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (!withFault.isEmpty())
            env.insert(QStringLiteral("SLLMR_FAULT"), withFault);
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(SLLMR_CLI), QStringList{QStringLiteral("--db"), db} + args);
        p.waitForFinished(120000);
        return std::pair{p.exitStatus(), p.exitCode()};
    };
    const QString full = dir.filePath(QStringLiteral("full.db"));
    QCOMPARE(runCli(full, {QStringLiteral("run"), config}, {}), std::pair(QProcess::NormalExit, 0));

    const QString killed = dir.filePath(QStringLiteral("killed.db"));
    QCOMPARE(runCli(killed, {QStringLiteral("run"), config}, fault).first, QProcess::CrashExit);
    {
        ExperimentStore store(killed.toStdString());
        QCOMPARE(store.run(1)->status, RunStatus::Running);  // as the kill left it
    }
    QCOMPARE(runCli(killed,
                    {QStringLiteral("run"), QStringLiteral("--resume"), QStringLiteral("1")}, {}),
             std::pair(QProcess::NormalExit, 0));

    const ExperimentStore a(full.toStdString());
    const ExperimentStore b(killed.toStdString());
    QCOMPARE(b.run(1)->status, RunStatus::Completed);
    const QStringList expected = storedRows(a, 1);
    QVERIFY(expected.size() > 40);
    QCOMPARE(storedRows(b, 1), expected);
    // The finished run keeps the best parameters for the inspector and no epoch files.
    const QDir checkpoints(QString::fromStdString(checkpointDir(b, 1)));
    QVERIFY(checkpoints.exists(QStringLiteral("best.pt")));
    QCOMPARE(checkpoints.entryList({QStringLiteral("epoch-*")}, QDir::Files), QStringList());
}

void TestCli::cliRunsCommands()
{
    QTemporaryDir dir;
    const QString cli = QStringLiteral(SLLMR_CLI);
    const QString db = dir.filePath(QStringLiteral("experiments.db"));
    const QString config = dir.filePath(QStringLiteral("tiny.json"));
    {
        RunConfig c = tinyConfig();
        c.method.name = MethodName::Selective;
        c.train.epochs = 2;
        std::ofstream(config.toStdString()) << toJson(c).dump(2);
    }
    struct Out
    {
        int code;
        QByteArray out;
        QByteArray err;
    };
    auto run = [&](const QStringList& args) {
        QProcess p;
        p.start(cli, QStringList{QStringLiteral("--db"), db} + args);
        p.waitForFinished(120000);
        return Out{p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    };
    for (int k = 0; k < 2; ++k) {
        const Out r = run({QStringLiteral("run"), config, QStringLiteral("--json"),
                           QStringLiteral("--set"), QStringLiteral("method.lambda=%1").arg(k + 1)});
        QVERIFY2(r.code == 0, r.err.constData());
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["run_id"].get<int>(), k + 1);
        QCOMPARE(j["status"].get<std::string>(), std::string("completed"));
        QCOMPARE(j["metrics"]["overall"]["size"].get<int>(), 4);
        QVERIFY(j["metrics"]["overall"].contains("ndcg@10"));
    }
    // list, show, compare, export
    Out r = run({QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const json list = json::parse(r.out.toStdString());
    QCOMPARE(list.size(), std::size_t(2));
    QCOMPARE(list[0]["run_id"].get<int>(), 2);  // newest first
    r = run({QStringLiteral("runs"), QStringLiteral("show"), QStringLiteral("1"),
             QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const json show = json::parse(r.out.toStdString());
    QCOMPARE(show["epochs"].size(), std::size_t(2));
    QVERIFY(show["epochs"][0].contains("base_loss"));
    QVERIFY(show["epochs"][0].contains("llm_loss"));
    QCOMPARE(show["config"]["method"]["lambda"].get<double>(), 1.0);
    r = run({QStringLiteral("runs"), QStringLiteral("compare"), QStringLiteral("1"),
             QStringLiteral("2")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("run 1") && r.out.contains("run 2") && r.out.contains("overall") &&
            r.out.contains("cold") && r.out.contains("tail"));
    r = run({QStringLiteral("runs"), QStringLiteral("export"), QStringLiteral("2"),
             QStringLiteral("--format"), QStringLiteral("csv")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("run_id,kind,segment,epoch,metric,value,size\n"));
    QVERIFY(r.out.contains("2,segment,overall,,auc,"));
    QVERIFY(r.out.contains("2,epoch,,1,base_loss,"));
    // Errors: unknown run (3), unknown config key (2), describe lists keys.
    QCOMPARE(run({QStringLiteral("runs"), QStringLiteral("show"), QStringLiteral("99")}).code, 3);
    r = run(
        {QStringLiteral("run"), config, QStringLiteral("--set"), QStringLiteral("method.lamda=1")});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("method.lamda"));
    r = run({QStringLiteral("config"), QStringLiteral("describe"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QVERIFY(json::parse(r.out.toStdString()).size() > 80);
}

void TestCli::cliInspect()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("experiments.db"));
    std::int64_t runId = 0;
    {
        ExperimentStore store(db.toStdString());
        RunConfig c = inspectConfig();
        c.train.epochs = 2;
        runId = executeRun(c, store).runId;
    }
    auto run = [&](const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(SLLMR_CLI),
                QStringList{QStringLiteral("--db"), db, QStringLiteral("inspect"),
                            QString::number(runId)} +
                    args);
        p.waitForFinished(120000);
        return std::make_tuple(p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError());
    };
    auto [code, out, err] =
        run({QStringLiteral("--find"), QStringLiteral("casino"), QStringLiteral("--json")});
    QVERIFY2(code == 0, err.constData());
    json hits = json::parse(out.toStdString());
    QCOMPARE(hits.size(), std::size_t(1));
    QCOMPARE(hits[0]["id"].get<std::string>(), std::string("12"));
    QCOMPARE(hits[0]["title"].get<std::string>(), std::string("Casino (1995)"));
    std::tie(code, out, err) =
        run({QStringLiteral("--user"), QStringLiteral("2"), QStringLiteral("--json")});
    QVERIFY2(code == 0, err.constData());
    const json user = json::parse(out.toStdString());
    QCOMPARE(user["scored"].size(), std::size_t(3));
    QCOMPARE(user["pairs"].size(), std::size_t(3));
    QCOMPARE(user["tests"][0]["auc"].get<double>(), user["tests"][0]["stored_auc"].get<double>());
    std::tie(code, out, err) = run({QStringLiteral("--user"), QStringLiteral("2")});
    QCOMPARE(code, 0);
    QVERIFY(out.contains("Casino (1995)") && out.contains("Candidate LLM pairs"));
    std::tie(code, out, err) = run({});
    QCOMPARE(code, 0);
    QVERIFY(out.contains("cold/tail") && out.contains("Distribution of a"));
    std::tie(code, out, err) = run({QStringLiteral("--bins"), QStringLiteral("--json")});
    QCOMPARE(code, 0);
    QVERIFY(json::parse(out.toStdString())["training"].size() > 0);
    std::tie(code, out, err) = run({QStringLiteral("--epochs")});
    QCOMPARE(code, 0);
    QVERIFY(out.contains("w_cold") && out.contains("sigmoid(b)"));
    std::tie(code, out, err) = run({QStringLiteral("--item"), QStringLiteral("999")});
    QCOMPARE(code, 3);
    QVERIFY(err.contains("item '999'"));
    std::tie(code, out, err) = run({QStringLiteral("--grid"), QStringLiteral("--bins")});
    QCOMPARE(code, 2);  // one view at a time
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
