// LLM score files (SPEC 7): the nine shipped ChatGPT / text-davinci-003 / PaLM-2 files against the
// shipped split, rank / pointwise / rating normalization on a tiny fixture dataset, candidate
// files, unknown ids, malformed inputs (each an Error naming file and line), and encodings
// (UTF-8 BOM + CRLF, gzip).
#include "common/error.h"
#include "data/loaders.h"
#include "io/line_reader.h"
#include "llm/scores.h"
#include "test_paths.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

using namespace sllmr;

Q_DECLARE_METATYPE(sllmr::ErrorKind)

namespace {

const QString kFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/scores");

// A file of the LLM rankings data set: the bundled demo has the split and ChatGPT's files,
// the public data folder the PaLM-2 and text-davinci-003 ones.
QString llmRel(const QString& rel)
{
    return QStringLiteral("llm-rankings-ml-latest-small/") + rel;
}

std::string llm(const QString& rel)
{
    return testdata::dataPath(llmRel(rel));
}

std::string fixture(const QString& name)
{
    return (kFixtures + QLatin1Char('/') + name).toStdString();
}

// Split "given" without a carved validation set, so that "training positives" are exactly the
// rows of the train file (the README's "in train" column counts those).
Dataset loadGiven(const std::string& train, const std::string& test)
{
    DatasetSpec s;
    s.path = train;
    s.testPath = test;
    s.split.method = "given";
    s.split.validation = "none";
    return loadDataset(s);
}

ScoreFileSpec scoreSpec(const std::string& path, const std::string& kind = "auto")
{
    ScoreFileSpec s;
    s.path = path;
    s.kind = kind;
    return s;
}

template <class F>
std::optional<Error> errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

using Pair = std::pair<std::string, std::string>;

// (original user id, original item id) -> normalized score.
std::map<Pair, float> byIds(const ScoreSet& set, const Dataset& ds)
{
    std::map<Pair, float> out;
    for (std::uint32_t u = 0; u + 1 < set.offsets.size(); ++u)
        for (std::uint32_t k = set.offsets[u]; k < set.offsets[u + 1]; ++k)
            out[{ds.users.label(u), ds.items.label(set.items[k])}] = set.values[k];
    return out;
}

// The CSR must cover every user, be monotone, hold one entry per scored pair, and keep r in [0,1].
void checkCsr(const ScoreSet& set, const Dataset& ds)
{
    QCOMPARE(set.offsets.size(), std::size_t(ds.numUsers()) + 1);
    QCOMPARE(set.offsets.front(), 0u);
    for (std::size_t u = 0; u + 1 < set.offsets.size(); ++u)
        QVERIFY2(set.offsets[u] <= set.offsets[u + 1], qPrintable(QString::number(u)));
    QCOMPARE(std::size_t(set.offsets.back()), set.size());
    QCOMPARE(set.values.size(), set.items.size());
    QCOMPARE(std::int64_t(set.size()), set.report.matched + set.report.candidatesAdded);
    std::set<std::uint64_t> pairs;
    std::int64_t users = 0;
    for (std::uint32_t u = 0; u + 1 < set.offsets.size(); ++u) {
        users += set.offsets[u + 1] > set.offsets[u];
        for (std::uint32_t k = set.offsets[u]; k < set.offsets[u + 1]; ++k) {
            QVERIFY(set.items[k] < ds.numItems());
            const float v = set.values[k];
            QVERIFY2(std::isfinite(v) && v >= 0.0f && v <= 1.0f,
                     qPrintable(QStringLiteral("value %1 at %2").arg(v).arg(k)));
            QVERIFY2(pairs.insert((std::uint64_t(u) << 32) | set.items[k]).second,
                     "a (user, item) pair is scored twice");
        }
    }
    QCOMPARE(users, set.report.usersCovered);
}

// Every row is matched, a duplicate, unknown, or (policy "skip") a skipped empty value.
void checkAccounted(const ScoreReport& r)
{
    const std::int64_t skipped = r.missingPolicy == "default" ? 0 : r.missingValues;
    QCOMPARE(r.rows, r.matched + r.duplicates + r.unknownUsers + r.unknownItems + skipped);
}

QByteArray readAll(const std::string& path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(bytes) == bytes.size();
}

bool writeGzip(const QString& path, const QByteArray& bytes)
{
    gzFile gz = gzopen(QFile::encodeName(path).constData(), "wb");
    if (!gz)
        return false;
    const int n = gzwrite(gz, bytes.constData(), static_cast<unsigned>(bytes.size()));
    return gzclose(gz) == Z_OK && n == bytes.size();
}

QByteArray utf16le(const std::u16string& text)
{
    QByteArray out;
    for (const char16_t c : text) {
        out += static_cast<char>(c & 0xFF);
        out += static_cast<char>(c >> 8);
    }
    return out;
}

QByteArray bomCrlf(const QByteArray& plain)
{
    QByteArray out("\xEF\xBB\xBF");
    out += QByteArray(plain).replace("\n", "\r\n");
    return out;
}

void compareSets(const ScoreSet& a, const ScoreSet& b)
{
    QCOMPARE(a.report.rows, b.report.rows);
    QCOMPARE(a.report.matched, b.report.matched);
    QCOMPARE(a.report.duplicates, b.report.duplicates);
    QCOMPARE(a.report.unknownUsers, b.report.unknownUsers);
    QCOMPARE(a.report.unknownItems, b.report.unknownItems);
    QCOMPARE(a.report.inTrain, b.report.inTrain);
    QCOMPARE(a.report.maxRank, b.report.maxRank);
    QCOMPARE(a.report.warnings, b.report.warnings);
    QVERIFY(a.offsets == b.offsets);
    QVERIFY(a.items == b.items);
    QVERIFY(a.values == b.values);
}

}  // namespace

class TestScores : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void shippedFiles_data();
    void shippedFiles();
    void shippedCandidates();

    void rankLinear();
    void rankExponential();
    void rankWithoutHeader();
    void pointwise();
    void rating();
    void candidatesFixture();
    void unknownIds();
    void duplicateIdsWrittenDifferently();
    void hugeRank();

    void badInput_data();
    void badInput();
    void badCandidates();

    void bomCrlfAndGzip();
    void shippedGzip();

    void quotedPandasFile();
    void missingValues_data();
    void missingValues();
    void latin1ScoreFile();
    void tokenIdsCutOnCharacters();

private:
    std::optional<Dataset> m_shipped;
    std::optional<Dataset> m_tiny;
    QTemporaryDir m_tmp;
};

void TestScores::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    m_tiny = loadGiven(fixture(QStringLiteral("tiny_train.tsv")),
                       fixture(QStringLiteral("tiny_test.tsv")));
    QCOMPARE(m_tiny->numUsers(), 3u);
    QCOMPARE(m_tiny->numItems(), 5u);
    QCOMPARE(m_tiny->train.size(), std::size_t(6));
    QCOMPARE(m_tiny->test.size(), std::size_t(3));
    // The shipped split is bundled with the demo.
    m_shipped =
        loadGiven(llm(QStringLiteral("split/train.tsv")), llm(QStringLiteral("split/test.tsv")));
    QCOMPARE(m_shipped->numUsers(), 603u);
    QCOMPARE(m_shipped->numItems(), 1862u);
    QCOMPARE(m_shipped->train.size(), std::size_t(51576));
    QCOMPARE(m_shipped->test.size(), std::size_t(12629));
}

// The table of /work/shared/data/README.md.
void TestScores::shippedFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<qint64>("rows");
    QTest::addColumn<qint64>("users");
    QTest::addColumn<qint64>("duplicates");
    QTest::addColumn<qint64>("inTrain");
    QTest::addColumn<qint64>("inTest");
    QTest::addColumn<qint64>("maxRank");
    QTest::addColumn<qint64>("usersCovered");

    auto row = [](const char* file, qint64 rows, qint64 users, qint64 dup, qint64 inTrain,
                  qint64 inTest, qint64 maxRank, qint64 covered) {
        QTest::newRow(file) << QString::fromLatin1(file) << rows << users << dup << inTrain
                            << inTest << maxRank << covered;
    };
    row("chatgpt/output_exp_1_rec_movie.tsv", 29975, 603, 1088, 5141, 1217, 50, 603);
    row("chatgpt/output_exp_2_rec_movie_rerank_most_pop.tsv", 30121, 603, 241, 8064, 1418, 50, 603);
    row("chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv", 30073, 603, 395, 4681, 2503, 50, 603);
    row("text-davinci-003/output_EXP_1.tsv", 29649, 603, 1534, 4511, 1315, 50, 603);
    row("text-davinci-003/output_EXP_2.tsv", 28998, 579, 195, 9248, 1194, 72, 579);
    row("text-davinci-003/output_EXP_3.tsv", 31094, 597, 1621, 9144, 1809, 89, 597);
    // 577 users appear in the file, but user 563's 50 rows all name movie 180985 (The Greatest
    // Showman), which is not in the split: 576 dataset users end up with a score.
    row("palm2/output_EXP_1.tsv", 28023, 577, 8315, 6889, 1097, 50, 576);
    row("palm2/output_EXP_2.tsv", 28814, 590, 6697, 7855, 1301, 59, 590);
    row("palm2/output_EXP_3.tsv", 27919, 570, 5808, 6470, 1751, 50, 570);
}

void TestScores::shippedFiles()
{
    QFETCH(QString, file);
    SLLMR_REQUIRE_DATA(llmRel(file));
    QFETCH(qint64, rows);
    QFETCH(qint64, users);
    QFETCH(qint64, duplicates);
    QFETCH(qint64, inTrain);
    QFETCH(qint64, inTest);
    QFETCH(qint64, maxRank);
    QFETCH(qint64, usersCovered);

    const ScoreSet set = loadScores(scoreSpec(llm(file)), *m_shipped);
    const auto& r = set.report;
    QCOMPARE(r.kind, std::string("rank"));
    QCOMPARE(r.rows, rows);
    QCOMPARE(r.duplicates, duplicates);
    QCOMPARE(r.inTrain, inTrain);
    QCOMPARE(r.inTest, inTest);
    QCOMPARE(r.maxRank, maxRank);
    QCOMPARE(r.usersCovered, usersCovered);
    QVERIFY(r.usersCovered <= users);
    // Every user id of the shipped files is a user of the split; the unmatched titles show up as
    // unknown items.
    QCOMPARE(r.unknownUsers, 0);
    QCOMPARE(r.distinctUnknownUsers, 0);
    QVERIFY(r.unknownItems > 0);
    QVERIFY(r.distinctUnknownItems > 0 && r.distinctUnknownItems <= r.unknownItems);
    QCOMPARE(r.outOfRange, 0);
    QCOMPARE(r.candidatesAdded, 0);
    checkAccounted(r);
    QVERIFY(r.matched > 0);
    QVERIFY(!r.warnings.empty());
    for (const auto& w : r.warnings)
        QVERIFY2(w.starts_with("line ") && w.find("unknown item") != std::string::npos, w.c_str());
    QVERIFY(!r.contentHash.empty());
    checkCsr(set, *m_shipped);
    // The first row of each user's list has rank 1 and maps to exactly 1.
    QVERIFY(std::count(set.values.begin(), set.values.end(), 1.0f) > 0);
}

// ChatGPT EXP_3 re-ranked the UserKNN top-50: candidates it did not return get the default.
void TestScores::shippedCandidates()
{
    const auto llmPath = llm(QStringLiteral("chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv"));
    const auto candPath = llm(QStringLiteral("candidates_baseline/userknn_top50_candidates.tsv"));
    const ScoreSet plain = loadScores(scoreSpec(llmPath), *m_shipped);
    const auto plainScores = byIds(plain, *m_shipped);

    // Expected additions, computed independently from the candidate file.
    std::set<Pair> expectedAdded;
    {
        QFile f(QString::fromStdString(candPath));
        QVERIFY(f.open(QIODevice::ReadOnly));
        while (!f.atEnd()) {
            const auto parts = f.readLine().trimmed().split('\t');
            if (parts.size() < 2)
                continue;
            const Pair p{parts[0].toStdString(), parts[1].toStdString()};
            if (!m_shipped->users.find(std::stoull(p.first)) ||
                !m_shipped->items.find(std::stoull(p.second)) || plainScores.count(p))
                continue;
            expectedAdded.insert(p);
        }
    }
    QVERIFY(!expectedAdded.empty());

    for (const double def : {0.5, 0.3}) {
        ScoreFileSpec spec = scoreSpec(llmPath);
        spec.candidatesPath = candPath;
        if (def != 0.5)
            spec.candidateDefault = def;
        const ScoreSet set = loadScores(spec, *m_shipped);
        QVERIFY(set.report.candidatesAdded > 0);
        QCOMPARE(set.report.candidatesAdded, std::int64_t(expectedAdded.size()));
        QCOMPARE(set.report.matched, plain.report.matched);
        QCOMPARE(set.report.rows, plain.report.rows);
        checkAccounted(set.report);
        checkCsr(set, *m_shipped);
        const auto scores = byIds(set, *m_shipped);
        QCOMPARE(scores.size(), plainScores.size() + expectedAdded.size());
        for (const auto& [pair, v] : plainScores)
            QCOMPARE(scores.at(pair), v);  // the LLM's own answers keep their score
        for (const auto& pair : expectedAdded)
            QVERIFY2(scores.at(pair) == static_cast<float>(def),
                     qPrintable(QStringLiteral("%1,%2 -> %3")
                                    .arg(QString::fromStdString(pair.first),
                                         QString::fromStdString(pair.second))
                                    .arg(scores.at(pair))));
    }
}

// ranks.tsv on the tiny dataset (users 1..3, items 10..50):
//   user 1: 10→1, 30→2, 40→3, 50→4, 99→5 (unknown item)    N = 5
//   user 2: 20→1, 50→5, 20→2 (duplicate), 99→3 (unknown)     N = max(4 rows, rank 5) = 5
//   user 3: 20→1, 30→1, 40→2                                 N = max(3 rows, rank 2) = 3
//   user 9 (unknown): 2 rows
void TestScores::rankLinear()
{
    const ScoreSet set = loadScores(scoreSpec(fixture(QStringLiteral("ranks.tsv"))), *m_tiny);
    const auto& r = set.report;
    QCOMPARE(r.kind, std::string("rank"));
    QCOMPARE(r.rows, 14);
    QCOMPARE(r.matched, 9);
    QCOMPARE(r.duplicates, 1);
    QCOMPARE(r.unknownUsers, 2);
    QCOMPARE(r.unknownItems, 2);
    QCOMPARE(r.inTrain, 2);  // (1,10), (3,40)
    QCOMPARE(r.inTest, 1);   // (1,30)
    QCOMPARE(r.usersCovered, 3);
    QCOMPARE(r.itemsCovered, 5);
    QCOMPARE(r.maxRank, 5);
    QCOMPARE(r.outOfRange, 0);
    checkAccounted(r);
    checkCsr(set, *m_tiny);

    auto lin = [](double rank, double n) { return static_cast<float>(1.0 - (rank - 1.0) / n); };
    const std::map<Pair, float> expected{
        {{"1", "10"}, lin(1, 5)}, {{"1", "30"}, lin(2, 5)}, {{"1", "40"}, lin(3, 5)},
        {{"1", "50"}, lin(4, 5)}, {{"2", "20"}, lin(1, 5)}, {{"2", "50"}, lin(5, 5)},
        {{"3", "20"}, lin(1, 3)}, {{"3", "30"}, lin(1, 3)}, {{"3", "40"}, lin(2, 3)},
    };
    const auto got = byIds(set, *m_tiny);
    QCOMPARE(got.size(), expected.size());
    for (const auto& [pair, v] : expected) {
        QVERIFY2(got.count(pair), pair.first.c_str());
        QVERIFY2(got.at(pair) == v, qPrintable(QStringLiteral("%1,%2: %3 != %4")
                                                   .arg(QString::fromStdString(pair.first),
                                                        QString::fromStdString(pair.second))
                                                   .arg(got.at(pair))
                                                   .arg(v)));
    }
    QCOMPARE(got.at({"1", "40"}), 0.6f);
    QCOMPARE(got.at({"2", "50"}), 0.2f);  // rank 5 of a 4-row list: N_u = 5, not 4
    // The duplicate (2,20) at rank 2 is ignored: the first occurrence (rank 1) is kept.
    QCOMPARE(got.at({"2", "20"}), 1.0f);
    // Within a user, the CSR keeps file order.
    const auto u1 = *m_tiny->users.find(std::uint64_t(1));
    QCOMPARE(set.offsets[u1 + 1] - set.offsets[u1], 4u);
    QCOMPARE(m_tiny->items.label(set.items[set.offsets[u1]]), std::string("10"));
    QCOMPARE(m_tiny->items.label(set.items[set.offsets[u1] + 3]), std::string("50"));
}

void TestScores::rankExponential()
{
    for (const double decay : {0.1, 0.5}) {
        ScoreFileSpec spec = scoreSpec(fixture(QStringLiteral("ranks.tsv")));
        spec.rankMapping = "exponential";
        spec.decay = decay;
        const ScoreSet set = loadScores(spec, *m_tiny);
        checkCsr(set, *m_tiny);
        auto ex = [decay](double rank) {
            return static_cast<float>(std::exp(-decay * (rank - 1)));
        };
        const std::map<Pair, float> expected{
            {{"1", "10"}, ex(1)}, {{"1", "30"}, ex(2)}, {{"1", "40"}, ex(3)},
            {{"1", "50"}, ex(4)}, {{"2", "20"}, ex(1)}, {{"2", "50"}, ex(5)},
            {{"3", "20"}, ex(1)}, {{"3", "30"}, ex(1)}, {{"3", "40"}, ex(2)},
        };
        const auto got = byIds(set, *m_tiny);
        QCOMPARE(got.size(), expected.size());
        for (const auto& [pair, v] : expected)
            QVERIFY2(got.at(pair) == v, qPrintable(QStringLiteral("%1,%2 decay %3")
                                                       .arg(QString::fromStdString(pair.first),
                                                            QString::fromStdString(pair.second))
                                                       .arg(decay)));
        QCOMPARE(got.at({"1", "10"}), 1.0f);
    }
}

// Without a header the kind cannot be detected (Usage), but it can be named.
void TestScores::rankWithoutHeader()
{
    const auto path = fixture(QStringLiteral("no_header.tsv"));
    const auto err = errorOf([&] { loadScores(scoreSpec(path), *m_tiny); });
    QVERIFY(err);
    QCOMPARE(err->kind(), ErrorKind::Usage);
    QVERIFY2(std::string(err->what()).find(path + ":1") != std::string::npos, err->what());

    const ScoreSet set = loadScores(scoreSpec(path, "rank"), *m_tiny);
    QCOMPARE(set.report.rows, 2);
    QCOMPARE(set.report.matched, 2);
    const auto got = byIds(set, *m_tiny);
    QCOMPARE(got.at({"1", "10"}), 1.0f);
    QCOMPARE(got.at({"1", "20"}), 0.5f);
}

void TestScores::pointwise()
{
    // The header's 'score' column means pointwise; naming the kind gives the same result.
    for (const char* kind : {"auto", "pointwise"}) {
        const ScoreSet set =
            loadScores(scoreSpec(fixture(QStringLiteral("pointwise.csv")), kind), *m_tiny);
        const auto& r = set.report;
        QCOMPARE(r.kind, std::string("pointwise"));
        QCOMPARE(r.rows, 6);
        QCOMPARE(r.matched, 6);
        QCOMPARE(r.outOfRange, 2);
        QCOMPARE(r.maxRank, 0);
        checkAccounted(r);
        checkCsr(set, *m_tiny);
        const auto got = byIds(set, *m_tiny);
        QCOMPARE(got.at({"1", "10"}), 0.9f);
        QCOMPARE(got.at({"1", "20"}), 0.0f);
        QCOMPARE(got.at({"2", "30"}), 1.0f);
        QCOMPARE(got.at({"2", "40"}), 1.0f);  // 1.5 clamped
        QCOMPARE(got.at({"3", "50"}), 0.0f);  // -0.25 clamped
        QVERIFY(got.at({"3", "10"}) == 0.3333f);
    }
}

void TestScores::rating()
{
    const auto path = fixture(QStringLiteral("ratings.csv"));
    {
        const ScoreSet set = loadScores(scoreSpec(path), *m_tiny);  // 'rating' header, 1..5
        const auto& r = set.report;
        QCOMPARE(r.kind, std::string("rating"));
        QCOMPARE(r.rows, 6);
        QCOMPARE(r.matched, 6);
        QCOMPARE(r.outOfRange, 2);
        checkCsr(set, *m_tiny);
        const auto got = byIds(set, *m_tiny);
        QCOMPARE(got.at({"1", "10"}), 1.0f);
        QCOMPARE(got.at({"1", "20"}), 0.0f);
        QCOMPARE(got.at({"2", "30"}), 0.5f);
        QCOMPARE(got.at({"2", "40"}), 0.875f);
        QCOMPARE(got.at({"3", "50"}), 1.0f);  // 6 clamped to 5
        QCOMPARE(got.at({"3", "10"}), 0.0f);  // 0 clamped to 1
    }
    {
        ScoreFileSpec spec = scoreSpec(path, "rating");
        spec.ratingMin = 0;
        spec.ratingMax = 10;
        const ScoreSet set = loadScores(spec, *m_tiny);
        QCOMPARE(set.report.outOfRange, 0);
        checkCsr(set, *m_tiny);
        const auto got = byIds(set, *m_tiny);
        QCOMPARE(got.at({"1", "10"}), 0.5f);
        QCOMPARE(got.at({"1", "20"}), 0.1f);
        QCOMPARE(got.at({"2", "40"}), 0.45f);
        QCOMPARE(got.at({"3", "50"}), 0.6f);
        QCOMPARE(got.at({"3", "10"}), 0.0f);
    }
}

// candidates.tsv: (1,20), (2,30), (3,50) and (3,10) from the list row "3<TAB>10 20" are offered
// but not returned; (2,99) and (9,10) have unknown ids; (1,20) is offered twice.
void TestScores::candidatesFixture()
{
    for (const double def : {0.5, 0.25}) {
        ScoreFileSpec spec = scoreSpec(fixture(QStringLiteral("ranks.tsv")));
        spec.candidatesPath = fixture(QStringLiteral("candidates.tsv"));
        spec.candidateDefault = def;
        const ScoreSet set = loadScores(spec, *m_tiny);
        const auto& r = set.report;
        QCOMPARE(r.candidatesAdded, 4);
        QCOMPARE(r.matched, 9);
        QCOMPARE(r.rows, 14);
        QCOMPARE(std::int64_t(set.size()), 13);
        QCOMPARE(r.usersCovered, 3);
        checkAccounted(r);
        checkCsr(set, *m_tiny);
        const auto got = byIds(set, *m_tiny);
        QCOMPARE(got.size(), std::size_t(13));
        for (const Pair& p : {Pair{"1", "20"}, Pair{"2", "30"}, Pair{"3", "50"}, Pair{"3", "10"}})
            QVERIFY2(got.at(p) == static_cast<float>(def), p.second.c_str());
        QCOMPARE(got.at({"1", "10"}), 1.0f);
        QCOMPARE(got.at({"1", "30"}), 0.8f);
        QCOMPARE(got.at({"2", "20"}), 1.0f);
        QCOMPARE(got.at({"3", "20"}), 1.0f);
    }
}

void TestScores::unknownIds()
{
    const ScoreSet set = loadScores(scoreSpec(fixture(QStringLiteral("ranks.tsv"))), *m_tiny);
    const auto& r = set.report;
    QCOMPARE(r.unknownUsers, 2);  // user 9, lines 13 and 14
    QCOMPARE(r.distinctUnknownUsers, 1);
    QCOMPARE(r.unknownItems, 2);  // item 99, lines 6 and 15
    QCOMPARE(r.distinctUnknownItems, 1);
    QCOMPARE(r.warnings.size(), std::size_t(2));
    QCOMPARE(r.warnings[0], std::string("line 6: unknown item '99'"));
    QCOMPARE(r.warnings[1], std::string("line 13: unknown user '9'"));
}

// "010" and "10" are the same item of an integer-id dataset: the second row is a duplicate of the
// first, not a second score for the same pair.
void TestScores::duplicateIdsWrittenDifferently()
{
    const ScoreSet set =
        loadScores(scoreSpec(fixture(QStringLiteral("leading_zeros.tsv"))), *m_tiny);
    QCOMPARE(set.report.rows, 3);
    QCOMPARE(set.report.matched, 1);
    QCOMPARE(set.report.duplicates, 2);
    QCOMPARE(std::int64_t(set.size()), 1);
    checkCsr(set, *m_tiny);
    QCOMPARE(byIds(set, *m_tiny).at({"1", "10"}), 1.0f);  // first occurrence kept
}

// A rank far beyond any list (1e20 does not fit in 64 bits) must not produce a score outside
// [0,1]: either an error naming the line or a value in range.
void TestScores::hugeRank()
{
    const auto path = fixture(QStringLiteral("huge_rank.tsv"));
    std::optional<ScoreSet> set;
    const auto err = errorOf([&] { set = loadScores(scoreSpec(path), *m_tiny); });
    if (err) {
        QCOMPARE(err->kind(), ErrorKind::BadInput);
        QVERIFY2(std::string(err->what()).find(path + ":3") != std::string::npos, err->what());
        return;
    }
    QCOMPARE(set->report.matched, 2);
    QVERIFY(set->report.maxRank > 0);
    checkCsr(*set, *m_tiny);
}

void TestScores::badInput_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("kind");  // ScoreFileSpec::kind
    QTest::addColumn<ErrorKind>("errorKind");
    QTest::addColumn<int>("line");  // 0: no line (the file as a whole)
    QTest::addColumn<QString>("problem");
    QTest::addColumn<QString>("valueColumn");  // ScoreFileSpec::valueColumn

    auto fx = [](const char* name) { return kFixtures + QLatin1Char('/') + QLatin1String(name); };
    auto tmp = [this](const char* name, const QByteArray& bytes) {
        const QString p = m_tmp.filePath(QLatin1String(name));
        if (!writeFile(p, bytes))
            qFatal("cannot write %s", qPrintable(p));
        return p;
    };
    const auto bad = ErrorKind::BadInput;
    auto add = [](const char* tag, const QString& path, const char* kind, ErrorKind errorKind,
                  int line, const char* problem, const char* valueColumn = "") {
        QTest::newRow(tag) << path << QString::fromLatin1(kind) << errorKind << line
                           << QString::fromLatin1(problem) << QString::fromLatin1(valueColumn);
    };
    add("empty", fx("empty.tsv"), "auto", bad, 0, "empty");
    add("only blank lines", tmp("blank.tsv", "\n\n  \n"), "rank", bad, 0, "empty");
    add("header only", fx("header_only.tsv"), "auto", bad, 1, "no data rows");
    add("NaN score", fx("nan_score.csv"), "auto", bad, 3, "nan");
    add("inf score", fx("inf_score.csv"), "auto", bad, 4, "inf");
    add("score beyond double", tmp("huge.csv", "user,item,score\n1,10,1e999\n"), "pointwise", bad,
        2, "1e999");
    add("negative rank", fx("negative_rank.tsv"), "auto", bad, 3, "-2");
    add("rank 0", fx("rank_zero.tsv"), "auto", bad, 4, "rank 0");
    add("non-integer rank", fx("noninteger_rank.tsv"), "auto", bad, 3, "2.5");
    add("non-numeric user", fx("nonnumeric_user.tsv"), "auto", bad, 3, "abc");
    add("id beyond 64 bits", fx("id_beyond_64bit.tsv"), "auto", bad, 2, "99999999999999999999999");
    add("wrong field count", fx("wrong_fields.tsv"), "auto", bad, 3, "4 fields");
    add("truncated last line", fx("truncated.tsv"), "auto", bad, 4, "2 fields");
    add("binary garbage",
        tmp("garbage.tsv", QByteArray("user\titem\trank\n1\t10\t1\n") +
                               QByteArray("\x01\x02\x00\x03\xff\t\x7f\n", 8)),
        "auto", bad, 3, "NUL");
    add("UTF-16 with BOM",
        tmp("utf16.tsv", QByteArray("\xFF\xFE", 2) + utf16le(u"user\titem\trank\n1\t10\t1\n")),
        "auto", bad, 1, "UTF-16");
    add("Latin-1 title",
        tmp("latin1.tsv",
            "userId\ttitle\tmovieId\trank\n1\tHeat (1995)\t10\t1\n"
            "1\tAm\xe9lie (2001)\t20\t2\n"),
        "auto", bad, 3, "UTF-8");
    add("bad rank after BOM and CRLF",
        tmp("crlf_bad.tsv", "\xEF\xBB\xBFuser\titem\trank\r\n1\t10\t1\r\n1\t20\tx\r\n"), "auto",
        bad, 3, "'x'");
    add("missing file", m_tmp.filePath(QStringLiteral("missing.tsv")), "auto", ErrorKind::NotFound,
        0, "not found");
    add("kind auto without header", fx("no_header.tsv"), "auto", ErrorKind::Usage, 1, "header");
    add("unknown value column", fx("ranks.tsv"), "auto", bad, 1, "'nope'", "nope");
    add("value column beyond fields", fx("ranks.tsv"), "auto", bad, 1, "beyond", "7");
}

void TestScores::badInput()
{
    QFETCH(QString, path);
    QFETCH(QString, kind);
    QFETCH(ErrorKind, errorKind);
    QFETCH(int, line);
    QFETCH(QString, problem);
    QFETCH(QString, valueColumn);

    ScoreFileSpec spec = scoreSpec(path.toStdString(), kind.toStdString());
    spec.valueColumn = valueColumn.toStdString();
    const auto err = errorOf([&] { loadScores(spec, *m_tiny); });
    QVERIFY2(err, "no error");
    const std::string what = err->what();
    QCOMPARE(int(err->kind()), int(errorKind));
    QCOMPARE(err->file(), spec.path);
    QCOMPARE(err->line(), std::int64_t(line));
    const std::string where =
        line > 0 ? spec.path + ":" + std::to_string(line) + ":" : spec.path + ":";
    QVERIFY2(what.starts_with(where), what.c_str());
    QVERIFY2(what.find(QFileInfo(path).fileName().toStdString()) != std::string::npos,
             what.c_str());
    QVERIFY2(QString::fromStdString(what).contains(problem, Qt::CaseInsensitive), what.c_str());
}

// Errors in the candidate file name the candidate file and its line.
void TestScores::badCandidates()
{
    ScoreFileSpec spec = scoreSpec(fixture(QStringLiteral("ranks.tsv")));
    spec.candidatesPath = m_tmp.filePath(QStringLiteral("cand_bad.tsv")).toStdString();
    QVERIFY(writeFile(QString::fromStdString(spec.candidatesPath), "1\t10\t1\n1\tx20\t2\n"));
    auto err = errorOf([&] { loadScores(spec, *m_tiny); });
    QVERIFY(err);
    QCOMPARE(err->kind(), ErrorKind::BadInput);
    QVERIFY2(std::string(err->what()).starts_with(spec.candidatesPath + ":2:"), err->what());

    QVERIFY(writeFile(QString::fromStdString(spec.candidatesPath), "1\t10\t1\n2\n"));
    err = errorOf([&] { loadScores(spec, *m_tiny); });
    QVERIFY(err);
    QCOMPARE(err->kind(), ErrorKind::BadInput);
    QVERIFY2(std::string(err->what()).starts_with(spec.candidatesPath + ":2:"), err->what());

    spec.candidatesPath = m_tmp.filePath(QStringLiteral("no_such_candidates.tsv")).toStdString();
    err = errorOf([&] { loadScores(spec, *m_tiny); });
    QVERIFY(err);
    QCOMPARE(err->kind(), ErrorKind::NotFound);
    QVERIFY2(std::string(err->what()).find(spec.candidatesPath) != std::string::npos, err->what());
}

void TestScores::bomCrlfAndGzip()
{
    const auto plainPath = fixture(QStringLiteral("ranks.tsv"));
    const QByteArray plain = readAll(plainPath);
    QVERIFY(!plain.isEmpty());
    QVERIFY(!plain.contains('\r'));
    const QString crlfPath = m_tmp.filePath(QStringLiteral("ranks_bom_crlf.tsv"));
    const QString gzPath = m_tmp.filePath(QStringLiteral("ranks.tsv.gz"));
    const QString gzCrlfPath = m_tmp.filePath(QStringLiteral("ranks_bom_crlf.tsv.gz"));
    QVERIFY(writeFile(crlfPath, bomCrlf(plain)));
    QVERIFY(writeGzip(gzPath, plain));
    QVERIFY(writeGzip(gzCrlfPath, bomCrlf(plain)));
    QCOMPARE(readAll(gzPath.toStdString()).left(2), QByteArray("\x1f\x8b"));

    for (const char* mapping : {"linear", "exponential"}) {
        ScoreFileSpec spec = scoreSpec(plainPath);
        spec.rankMapping = mapping;
        spec.candidatesPath = fixture(QStringLiteral("candidates.tsv"));
        const ScoreSet ref = loadScores(spec, *m_tiny);
        for (const QString& p : {crlfPath, gzPath, gzCrlfPath}) {
            spec.path = p.toStdString();
            const ScoreSet other = loadScores(spec, *m_tiny);
            compareSets(ref, other);
            if (QTest::currentTestFailed())
                qWarning("differs: %s", qPrintable(p));
        }
    }
    // A BOM + CRLF, gzip-compressed candidate file too.
    {
        ScoreFileSpec spec = scoreSpec(plainPath);
        spec.candidatesPath = fixture(QStringLiteral("candidates.tsv"));
        const ScoreSet ref = loadScores(spec, *m_tiny);
        const QString candGz = m_tmp.filePath(QStringLiteral("candidates.tsv.gz"));
        QVERIFY(writeGzip(candGz, bomCrlf(readAll(spec.candidatesPath))));
        spec.candidatesPath = candGz.toStdString();
        const ScoreSet other = loadScores(spec, *m_tiny);
        QCOMPARE(other.report.candidatesAdded, ref.report.candidatesAdded);
        compareSets(ref, other);
    }
}

void TestScores::shippedGzip()
{
    SLLMR_REQUIRE_DATA(llmRel(QStringLiteral("palm2/output_EXP_2.tsv")));
    const auto path = llm(QStringLiteral("palm2/output_EXP_2.tsv"));
    const QByteArray plain = readAll(path);
    QVERIFY(plain.size() > 100000);
    const QString gzPath = m_tmp.filePath(QStringLiteral("palm2_EXP_2.tsv.gz"));
    const QString crlfPath = m_tmp.filePath(QStringLiteral("palm2_EXP_2_crlf.tsv"));
    QVERIFY(writeGzip(gzPath, plain));
    QVERIFY(writeFile(crlfPath, bomCrlf(plain)));
    const ScoreSet ref = loadScores(scoreSpec(path), *m_shipped);
    compareSets(ref, loadScores(scoreSpec(gzPath.toStdString()), *m_shipped));
    compareSets(ref, loadScores(scoreSpec(crlfPath.toStdString()), *m_shipped));
}

// What pandas writes: an unnamed index column, a quoted title holding the delimiter, "" escapes.
void TestScores::quotedPandasFile()
{
    ScoreFileSpec spec = scoreSpec(fixture(QStringLiteral("pandas_quoted.csv")), "rating");
    const ScoreSet set = loadScores(spec, *m_tiny);
    const auto& r = set.report;
    QCOMPARE(r.rows, 4);
    QCOMPARE(r.unknownItems, 1);  // item 2 ("Lion King, The (1994)") is not in the dataset
    QCOMPARE(r.matched, 2);
    QCOMPARE(r.missingValues, 1);  // the last row's rating is empty: skipped
    checkAccounted(r);
    const auto got = byIds(set, *m_tiny);
    QCOMPARE(got.at({"1", "20"}), 1.0f);   // rating 5 on 1..5
    QCOMPARE(got.at({"2", "30"}), 0.25f);  // rating 2
}

void TestScores::missingValues_data()
{
    QTest::addColumn<QString>("policy");
    QTest::addColumn<qint64>("matched");
    QTest::newRow("skip") << "skip" << qint64(2);
    QTest::newRow("default") << "default" << qint64(4);
    QTest::newRow("error") << "error" << qint64(-1);
}

// An LLM that did not answer leaves the value cell empty.
void TestScores::missingValues()
{
    QFETCH(QString, policy);
    QFETCH(qint64, matched);
    const QString path = m_tmp.filePath(QStringLiteral("missing.csv"));
    QVERIFY(writeFile(path, "user,item,score\n1,10,0.9\n1,20,\n2,30, \n2,40,0.4\n3,99,\n"));
    ScoreFileSpec spec = scoreSpec(path.toStdString());
    spec.missing = policy.toStdString();
    spec.candidateDefault = 0.25;
    if (matched < 0) {
        const auto err = errorOf([&] { loadScores(spec, *m_tiny); });
        QVERIFY(err);
        QCOMPARE(err->kind(), ErrorKind::BadInput);
        QCOMPARE(err->line(), std::int64_t(3));
        QVERIFY2(err->hint().find("--missing") != std::string::npos, err->what());
        return;
    }
    const ScoreSet set = loadScores(spec, *m_tiny);
    const auto& r = set.report;
    QCOMPARE(r.rows, 5);
    QCOMPARE(r.missingValues, 3);
    QCOMPARE(r.matched, matched);
    QCOMPARE(r.missingPolicy, policy.toStdString());
    checkAccounted(r);
    checkCsr(set, *m_tiny);
    const auto got = byIds(set, *m_tiny);
    QCOMPARE(got.at({"1", "10"}), 0.9f);
    if (policy == QLatin1String("default")) {
        QCOMPARE(got.at({"1", "20"}), 0.25f);
        QCOMPARE(r.unknownItems, 1);  // 3,99: an unknown item, whatever its value
    } else {
        QVERIFY(!got.count({"1", "20"}));
    }
    const auto json = scoreReportJson(r);
    QCOMPARE(json.at("missing_values").get<std::int64_t>(), 3);
    // The policy is part of the score set's identity only when a value is missing.
    ScoreFileSpec other = spec;
    other.missing = policy == QLatin1String("skip") ? "default" : "skip";
    QVERIFY(loadScores(other, *m_tiny).report.contentHash != r.contentHash);
    ScoreFileSpec full = scoreSpec(fixture(QStringLiteral("pointwise.csv")));
    const auto h = loadScores(full, *m_tiny).report.contentHash;
    full.missing = "error";
    QCOMPARE(loadScores(full, *m_tiny).report.contentHash, h);
}

void TestScores::latin1ScoreFile()
{
    const QByteArray utf8(
        "userId\ttitle\tmovieId\trank\n1\tAm\xC3\xA9lie (2001)\t20\t1\n"
        "1\tHeat (1995)\t10\t2\n");
    const QByteArray latin1(
        "userId\ttitle\tmovieId\trank\n1\tAm\xE9lie (2001)\t20\t1\n"
        "1\tHeat (1995)\t10\t2\n");
    const QString u = m_tmp.filePath(QStringLiteral("titles_utf8.tsv"));
    const QString l = m_tmp.filePath(QStringLiteral("titles_latin1.tsv"));
    QVERIFY(writeFile(u, utf8));
    QVERIFY(writeFile(l, latin1));
    ScoreFileSpec spec = scoreSpec(l.toStdString());
    const auto err = errorOf([&] { loadScores(spec, *m_tiny); });
    QVERIFY(err);
    QCOMPARE(err->line(), std::int64_t(2));
    QVERIFY2(err->hint().find("--score-encoding") != std::string::npos, err->what());
    spec.encoding = "latin1";
    const ScoreSet a = loadScores(spec, *m_tiny);
    const ScoreSet b = loadScores(scoreSpec(u.toStdString()), *m_tiny);
    QCOMPARE(a.report.matched, 2);
    compareSets(a, b);
    QCOMPARE(a.report.contentHash, b.report.contentHash);  // the same text
}

// Unknown token ids longer than an excerpt: the warning is cut on a character, and the JSON of
// the report can be written.
void TestScores::tokenIdsCutOnCharacters()
{
    DatasetSpec s;
    s.path = (QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/data/small.inter")).toStdString();
    s.split.method = "leave-one-out";
    s.split.validation = "none";
    const Dataset tokens = loadDataset(s);
    for (const char* name : {"s_token_utf8.tsv", "scores-utf8-cut-json.bin"}) {
        ScoreFileSpec spec = scoreSpec(
            (QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/repro/") + QLatin1String(name))
                .toStdString(),
            "pointwise");
        const ScoreSet set = loadScores(spec, tokens);
        QCOMPARE(set.report.unknownUsers, 1);
        QCOMPARE(set.report.warnings.size(), std::size_t(1));
        QVERIFY2(set.report.warnings[0].find("...") != std::string::npos,
                 set.report.warnings[0].c_str());
        for (const auto& w : set.report.warnings)
            QCOMPARE(findInvalidUtf8(w), std::string_view::npos);
        QVERIFY(!scoreReportJson(set.report).dump().empty());
    }
}

QTEST_APPLESS_MAIN(TestScores)
#include "tst_scores.moc"
