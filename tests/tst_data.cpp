// Dataset loaders, preprocessing, splits and segments on the real public data and on fixtures,
// including malformed inputs.
#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "io/fields.h"
#include "io/line_reader.h"
#include "test_paths.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <numeric>
#include <set>

using namespace sllmr;

namespace {

const QString kFixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/data");
const QString kRepro = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/repro");
const QString kSequences = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/sequences");

std::string shared(const char* rel)
{
    return testdata::dataPath(QLatin1String(rel));
}

std::string fixture(const QString& name)
{
    return (kFixtures + QLatin1Char('/') + name).toStdString();
}

DatasetSpec randomSplit(const std::string& path)
{
    DatasetSpec s;
    s.path = path;
    s.split.method = "random";
    return s;
}

DatasetSpec shippedSplit()
{
    DatasetSpec s;
    s.path = shared("llm-rankings-ml-latest-small/split/train.tsv");
    s.testPath = shared("llm-rankings-ml-latest-small/split/test.tsv");
    s.split.method = "given";
    return s;
}

std::set<std::uint32_t> distinctUsers(const std::vector<Interaction>& rows)
{
    std::set<std::uint32_t> s;
    for (const auto& r : rows)
        s.insert(r.user);
    return s;
}

std::set<std::uint32_t> distinctItems(const std::vector<Interaction>& rows)
{
    std::set<std::uint32_t> s;
    for (const auto& r : rows)
        s.insert(r.item);
    return s;
}

// (original user, original item) pairs of a part, for comparing splits across loads.
std::set<std::pair<std::string, std::string>> labels(const Dataset& ds,
                                                     const std::vector<Interaction>& rows)
{
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& r : rows)
        out.emplace(ds.users.label(r.user), ds.items.label(r.item));
    return out;
}

long vmHwmKb()
{
    std::ifstream in("/proc/self/status");
    std::string key;
    long value = 0;
    while (in >> key) {
        if (key == "VmHWM:") {
            in >> value;
            return value;
        }
        in.ignore(4096, '\n');
    }
    return -1;
}

}  // namespace

class TestData : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void movieLensLatest();
    void movieLensTitlesAndGenres();
    void shippedSplit();
    void shippedGenreFeatures();
    void recboleSequences();
    void recboleTokens();
    void movieLensDatAndUData();
    void delimitedWithMapping();
    void gzipBomCrlfSameContent();
    void duplicatesKeepFirstOrLast();
    void implicitThresholdAndKcore();
    void leaveOneOutByTime();
    void temporalAndRandomRatio();
    void seededSplitsAreDeterministic();
    void segmentsAbsoluteAndQuantile();
    void segmentBucketsPartition();
    void summaryJson();
    void badInput_data();
    void badInput();
    void hugeLineIsRejectedWithoutReadingIt();
    void utf8Validation();
    void cancellation();

    void movieLens100kAnd1mItems_data();
    void movieLens100kAnd1mItems();
    void textEncodings();
    void sequencesFormat();
    void amazonPaperDatasets_data();
    void amazonPaperDatasets();
    void quotingAndVariants();
    void headerDetection();
    void readerRegressions_data();
    void readerRegressions();
    void fuzzInputsDoNotCrash_data();
    void fuzzInputsDoNotCrash();
    void excerptsCutOnCharacters();
};

void TestData::movieLensLatest()
{
    const Dataset ds = loadDataset(randomSplit(shared("ml-latest-small/ratings.csv")));
    QCOMPARE(ds.numUsers(), 610u);
    QCOMPARE(ds.numItems(), 9724u);
    QCOMPARE(ds.numInteractions(), std::size_t(100836));
    QCOMPARE(ds.report.rowsRead, 100836);
    QCOMPARE(ds.report.duplicates, 0);
    QVERIFY(ds.hasRatings);
    QVERIFY(ds.hasTimestamps);
    QCOMPARE(ds.files.size(), std::size_t(1));
    QCOMPARE(ds.files[0].format, std::string("movielens-csv"));
    QVERIFY(ds.files[0].header);
    // Original ids are kept: user 1's first rated movie in the file is movie 1 (4.0 stars).
    QCOMPARE(ds.users.label(ds.train.front().user), std::string("1"));
    // Random 20% test per user, 10% validation carved from the rest.
    const double testShare = double(ds.test.size()) / double(ds.numInteractions());
    QVERIFY2(testShare > 0.19 && testShare < 0.21, qPrintable(QString::number(testShare)));
    QVERIFY(!ds.validation.empty());
    QCOMPARE(std::int64_t(ds.validation.size()), ds.report.validationCarved);
    // Every user keeps training history.
    for (auto h : ds.historyLength)
        QVERIFY(h > 0);
}

void TestData::movieLensTitlesAndGenres()
{
    DatasetSpec s = randomSplit(shared("ml-latest-small/ratings.csv"));
    s.itemsPath = shared("ml-latest-small/movies.csv");
    const Dataset ds = loadDataset(s);
    QVERIFY(ds.itemInfo.hasTitles());
    const auto toy = ds.items.find(std::uint64_t(1));
    QVERIFY(toy);
    QCOMPARE(ds.itemInfo.titles[*toy], std::string("Toy Story (1995)"));
    // A quoted title with a comma (RFC 4180).
    const auto president = ds.items.find(std::uint64_t(11));
    QVERIFY(president);
    QCOMPARE(ds.itemInfo.titles[*president], std::string("American President, The (1995)"));
    // Every rated movie has a title; genres become categorical features.
    for (const auto& t : ds.itemInfo.titles)
        QVERIFY(!t.empty());
    QVERIFY(ds.itemInfo.hasFeatures());
    QCOMPARE(ds.itemInfo.featureOffsets.size(), std::size_t(ds.numItems()) + 1);
    const auto b = ds.itemInfo.featureOffsets[*toy];
    const auto e = ds.itemInfo.featureOffsets[*toy + 1];
    QCOMPARE(e - b, 5u);  // Adventure|Animation|Children|Comedy|Fantasy
    QCOMPARE(ds.itemInfo.featureNames[ds.itemInfo.features[b]], std::string("Adventure"));
}

void TestData::shippedSplit()
{
    const Dataset ds = loadDataset(::shippedSplit());
    // The split the LLM prompts were built from; validation is carved from train (last by time).
    QCOMPARE(ds.numUsers(), 603u);
    QCOMPARE(ds.test.size(), std::size_t(12629));
    QCOMPARE(ds.train.size() + ds.validation.size(), std::size_t(51576));
    QCOMPARE(ds.validation.size(), std::size_t(603));
    QCOMPARE(distinctUsers(ds.train).size(), std::size_t(603));
    QCOMPARE(distinctItems(ds.train).size(), std::size_t(1862));
    QCOMPARE(ds.report.crossSplitDuplicates, 0);
    // Smallest training history on the shipped split is 8 interactions, 7 after carving.
    const auto minHist = *std::min_element(ds.historyLength.begin(), ds.historyLength.end());
    QCOMPARE(minHist, 7u);
    // The validation interaction of a user is that user's latest training interaction.
    const auto off = ds.trainOffsets();
    for (const auto& v : ds.validation) {
        for (auto k = off[v.user]; k < off[v.user + 1]; ++k)
            QVERIFY(ds.train[k].time <= v.time);
    }
}

void TestData::shippedGenreFeatures()
{
    DatasetSpec s = ::shippedSplit();
    s.itemFeaturesPath = shared("llm-rankings-ml-latest-small/split/genre_map.tsv");
    s.itemFeatureNamesPath = shared("llm-rankings-ml-latest-small/split/genre_features.tsv");
    const Dataset ds = loadDataset(s);
    QVERIFY(ds.itemInfo.hasFeatures());
    QCOMPARE(ds.itemInfo.featureNames.front(), std::string("Thriller"));
    // genre_map.tsv: movie 1 -> 18 15 17 8 10.
    const auto one = ds.items.find(std::uint64_t(1));
    QVERIFY(one);
    const auto b = ds.itemInfo.featureOffsets[*one];
    QCOMPARE(ds.itemInfo.featureOffsets[*one + 1] - b, 5u);
    QCOMPARE(ds.itemInfo.features[b], 18u);
}

void TestData::recboleSequences()
{
    SLLMR_REQUIRE_DATA(QStringLiteral("amazon-games/Games-6k.test.inter"));
    DatasetSpec s;
    s.path = shared("amazon-games/Games-6k.test.inter");
    s.itemsPath = shared("amazon-games/Games.item");
    s.split.method = "leave-one-out";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.files[0].format, std::string("recbole"));
    QCOMPARE(ds.numUsers(), 50546u);
    QCOMPARE(ds.numInteractions(), std::size_t(440264));
    QCOMPARE(ds.test.size(), std::size_t(50546));
    QCOMPARE(ds.validation.size(), std::size_t(50546));
    QVERIFY(!ds.hasTimestamps);
    // Leave-one-out: user 0's test item is the row's last item (14), validation the one before.
    const auto u0 = ds.users.find(std::string_view("0"));
    QVERIFY(u0);
    const auto t = std::find_if(ds.test.begin(), ds.test.end(),
                                [&](const Interaction& r) { return r.user == *u0; });
    QCOMPARE(ds.items.label(t->item), std::string("14"));
    const auto v = std::find_if(ds.validation.begin(), ds.validation.end(),
                                [&](const Interaction& r) { return r.user == *u0; });
    QCOMPARE(ds.items.label(v->item), std::string("13"));
    // Every item has a title.
    for (const auto& title : ds.itemInfo.titles)
        QVERIFY(!title.empty());
    QCOMPARE(ds.itemInfo.titles[*ds.items.find(std::string_view("0"))],
             std::string("Fire Emblem: The Sacred Stones"));
}

void TestData::recboleTokens()
{
    DatasetSpec s;
    s.path = fixture(QStringLiteral("small.inter"));
    s.itemsPath = fixture(QStringLiteral("small.item"));
    s.split.method = "leave-one-out";
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.users.kind(), IdMap::Kind::Token);
    QCOMPARE(ds.numUsers(), 2u);
    QCOMPARE(ds.numItems(), 2u);
    QVERIFY(ds.hasRatings);
    QVERIFY(ds.hasTimestamps);
    QCOMPARE(ds.test.size(), std::size_t(1));  // u1 has two interactions, u2 one
    QCOMPARE(ds.items.label(ds.test[0].item), std::string("i2"));
    QCOMPARE(ds.itemInfo.titles[*ds.items.find(std::string_view("i2"))],
             std::string("Second Game"));
}

void TestData::movieLensDatAndUData()
{
    for (const char* name : {"ratings.dat", "u.data"}) {
        DatasetSpec s = randomSplit(fixture(QLatin1String(name)));
        s.split.validation = "none";
        const Dataset ds = loadDataset(s);
        QCOMPARE(ds.files[0].format,
                 std::string(QLatin1String(name) == QLatin1String("u.data") ? "movielens-udata"
                                                                            : "movielens-dat"));
        QVERIFY(!ds.files[0].header);
        QCOMPARE(ds.numUsers(), 2u);
        QVERIFY(ds.hasRatings && ds.hasTimestamps);
    }
    const Dataset dat = loadDataset(randomSplit(fixture(QStringLiteral("ratings.dat"))));
    QCOMPARE(dat.numInteractions(), std::size_t(4));
    QCOMPARE(dat.numItems(), 3u);
}

void TestData::delimitedWithMapping()
{
    DatasetSpec s = randomSplit(fixture(QStringLiteral("semicolon_named.csv")));
    s.userColumn = "who";
    s.itemColumn = "what";
    s.ratingColumn = "stars";
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.files[0].delimiter, std::string(";"));
    QCOMPARE(ds.numUsers(), 2u);
    QCOMPARE(ds.numInteractions(), std::size_t(3));
    QVERIFY(ds.hasRatings);
    QVERIFY(!ds.hasTimestamps);
    // An unknown column name is an error naming it.
    s.ratingColumn = "score";
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("'score'")), e.what());
        QCOMPARE(e.kind(), ErrorKind::BadInput);
    }
    // No header, mapping by index: item in column 0, user in column 1.
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("swapped.tsv")).toStdString();
    std::ofstream(path) << "100\t1\n101\t1\n100\t2\n";
    DatasetSpec t = randomSplit(path);
    t.userColumn = "1";
    t.itemColumn = "0";
    t.header = "no";
    t.split.validation = "none";
    const Dataset ds2 = loadDataset(t);
    QCOMPARE(ds2.numUsers(), 2u);
    QCOMPARE(ds2.numItems(), 2u);
    QVERIFY(ds2.items.find(std::uint64_t(101)));
}

void TestData::gzipBomCrlfSameContent()
{
    const Dataset plain = loadDataset(randomSplit(fixture(QStringLiteral("small.csv"))));
    const Dataset gz = loadDataset(randomSplit(fixture(QStringLiteral("small.csv.gz"))));
    const Dataset bom = loadDataset(randomSplit(fixture(QStringLiteral("bom_crlf.csv"))));
    QVERIFY(gz.files[0].compressed);
    QVERIFY(!plain.files[0].compressed);
    for (const Dataset* other : {&gz, &bom}) {
        QCOMPARE(other->numInteractions(), plain.numInteractions());
        QCOMPARE(labels(*other, other->test), labels(plain, plain.test));
        QCOMPARE(labels(*other, other->train), labels(plain, plain.train));
    }
    // Same bytes after decompression: same content hash, so the store sees one dataset.
    QCOMPARE(gz.contentHash, plain.contentHash);
    // The hash is over decoded lines: a BOM and CRLF line ends do not make another dataset.
    QCOMPARE(bom.contentHash, plain.contentHash);
}

void TestData::duplicatesKeepFirstOrLast()
{
    DatasetSpec s = randomSplit(fixture(QStringLiteral("duplicates.csv")));
    s.split.testRatio = 0.0;
    s.split.validation = "none";
    const Dataset first = loadDataset(s);
    QCOMPARE(first.report.duplicates, 3);  // (1,10) once more, (2,13) twice more
    QCOMPARE(first.train.size(), std::size_t(4));
    auto ratingOf = [](const Dataset& ds, std::uint64_t u, std::uint64_t i) {
        for (const auto& r : ds.train)
            if (ds.users.integerId(r.user) == u && ds.items.integerId(r.item) == i)
                return r.rating;
        return -1.0f;
    };
    QCOMPARE(ratingOf(first, 1, 10), 4.0f);
    QCOMPARE(ratingOf(first, 2, 13), 4.5f);
    s.duplicates = "last";
    const Dataset last = loadDataset(s);
    QCOMPARE(last.report.duplicates, 3);
    QCOMPARE(ratingOf(last, 1, 10), 2.0f);
    QCOMPARE(ratingOf(last, 2, 13), 3.0f);
}

void TestData::implicitThresholdAndKcore()
{
    DatasetSpec s = randomSplit(fixture(QStringLiteral("small.csv")));
    s.split.testRatio = 0.0;
    s.split.validation = "none";
    s.implicitThreshold = 3.5;
    const Dataset t = loadDataset(s);
    // Ratings >= 3.5: (1,10) (1,12) (2,13) (3,12) (3,13) (3,14).
    QCOMPARE(t.report.belowThreshold, 3);
    QCOMPARE(t.train.size(), std::size_t(6));
    // 2-core without the threshold: only (3,14) goes (item 14 has one row); all else has >= 2.
    s.implicitThreshold.reset();
    s.kcore = 2;
    const Dataset k = loadDataset(s);
    QCOMPARE(k.report.kcoreRemoved, 1);
    QCOMPARE(k.train.size(), std::size_t(8));
    QCOMPARE(k.numItems(), 4u);
    QVERIFY(!k.items.find(std::uint64_t(14)));
    for (auto h : k.historyLength)
        QVERIFY(h >= 2);
    // Iterated: after the threshold, removing item 10 and 14 and user 2 cascades until nothing is
    // left, which is an error that says what to do.
    s.implicitThreshold = 3.5;
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("no interactions are left") != std::string::npos);
    }
    // Ids are compacted but keep their original labels.
    s.implicitThreshold = 4.0;
    s.kcore = 0;
    const Dataset c = loadDataset(s);
    QCOMPARE(c.numItems(), 4u);  // 10, 12, 13, 14 rated >= 4
    QVERIFY(!c.items.find(std::uint64_t(11)));
    QCOMPARE(c.items.label(*c.items.find(std::uint64_t(14))), std::string("14"));
    // Threshold without ratings is a usage error.
    DatasetSpec noRatings = randomSplit(fixture(QStringLiteral("semicolon_named.csv")));
    noRatings.ratingColumn = "";
    noRatings.implicitThreshold = 3;
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("pairs.csv")).toStdString();
    std::ofstream(path) << "1,2\n1,3\n";
    noRatings.path = path;
    QVERIFY_THROWS_EXCEPTION(Error, loadDataset(noRatings));
}

void TestData::leaveOneOutByTime()
{
    // small.csv's user 3 rows are in time order 50, 60, 70, 80; user 1: 100, 200, 300.
    DatasetSpec s = randomSplit(fixture(QStringLiteral("small.csv")));
    s.split.method = "leave-one-out";
    const Dataset ds = loadDataset(s);
    auto partOf = [&](const std::vector<Interaction>& rows, std::uint64_t user) {
        std::vector<std::uint64_t> items;
        for (const auto& r : rows)
            if (ds.users.integerId(r.user) == user)
                items.push_back(ds.items.integerId(r.item));
        return items;
    };
    QCOMPARE(partOf(ds.test, 3), std::vector<std::uint64_t>{14});
    QCOMPARE(partOf(ds.validation, 3), std::vector<std::uint64_t>{13});
    QCOMPARE(partOf(ds.train, 3), (std::vector<std::uint64_t>{11, 12}));
    QCOMPARE(partOf(ds.test, 1), std::vector<std::uint64_t>{12});
    // User 2 (times 150 for item 10, 160 for item 13): test is the later one, item 13; no
    // validation because that would leave no training history.
    QCOMPARE(partOf(ds.test, 2), std::vector<std::uint64_t>{13});
    QCOMPARE(partOf(ds.validation, 2), std::vector<std::uint64_t>{});
    QCOMPARE(partOf(ds.train, 2), std::vector<std::uint64_t>{10});
}

void TestData::temporalAndRandomRatio()
{
    DatasetSpec s = randomSplit(shared("ml-latest-small/ratings.csv"));
    s.split.method = "temporal";
    s.split.testRatio = 0.25;
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    // Per user the test part is the latest 25% (rounded, at least 1, leaving 1 in train).
    const auto off = ds.trainOffsets();
    std::vector<std::int64_t> firstTest(ds.numUsers(), std::numeric_limits<std::int64_t>::max());
    std::vector<std::uint32_t> testCount(ds.numUsers(), 0);
    for (const auto& r : ds.test) {
        firstTest[r.user] = std::min(firstTest[r.user], r.time);
        ++testCount[r.user];
    }
    for (std::uint32_t u = 0; u < ds.numUsers(); ++u) {
        const auto n = ds.historyLength[u] + testCount[u];
        QCOMPARE(testCount[u], std::uint32_t(std::clamp<std::size_t>(
                                   std::size_t(double(n) * 0.25 + 0.5), 1, n - 1)));
        for (auto k = off[u]; k < off[u + 1]; ++k)
            QVERIFY(ds.train[k].time <= firstTest[u]);
    }
}

void TestData::seededSplitsAreDeterministic()
{
    DatasetSpec s = randomSplit(shared("ml-latest-small/ratings.csv"));
    s.seed = 7;
    const Dataset a = loadDataset(s);
    const Dataset b = loadDataset(s);
    QCOMPARE(labels(a, a.test), labels(b, b.test));
    QCOMPARE(labels(a, a.validation), labels(b, b.validation));
    s.seed = 8;
    const Dataset c = loadDataset(s);
    QVERIFY(labels(a, a.test) != labels(c, c.test));
    QCOMPARE(a.test.size(), c.test.size());   // same per-user counts, other choices
    QVERIFY(a.contentHash != c.contentHash);  // the seed is part of the recorded spec
}

void TestData::segmentsAbsoluteAndQuantile()
{
    DatasetSpec s = ::shippedSplit();
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    // The paper's absolute cold threshold (< 3) is empty on this split (smallest history is 8).
    SegmentSpec abs;
    abs.cold = {"absolute", 3};
    abs.tail = {"absolute", 11};
    const Segmentation a = computeSegments(ds, abs);
    QCOMPARE(a.find("cold")->memberCount, 0u);
    QCOMPARE(a.find("cold")->testInteractions, 0);
    std::uint32_t tailItems = 0;
    for (auto p : ds.popularity)
        tailItems += p < 11;
    QCOMPARE(a.find("tail")->memberCount, tailItems);
    // Bottom 20% of users by history, ties at the boundary included.
    SegmentSpec q;
    const Segmentation b = computeSegments(ds, q);
    const auto* cold = b.find("cold");
    QVERIFY(cold->memberCount >= std::uint32_t(0.2 * 603));
    std::vector<std::uint32_t> h(ds.historyLength);
    std::sort(h.begin(), h.end());
    QCOMPARE(b.tauUser, double(h[std::size_t(std::ceil(0.2 * 603)) - 1] + 1));
    std::uint32_t below = 0;
    for (auto x : ds.historyLength)
        below += x < b.tauUser;
    QCOMPARE(cold->memberCount, below);
    // Complements partition the test interactions.
    const auto overall = b.find("overall")->testInteractions;
    QCOMPARE(overall, std::int64_t(ds.test.size()));
    QCOMPARE(cold->testInteractions + b.find("warm")->testInteractions, overall);
    QCOMPARE(b.find("tail")->testInteractions + b.find("head")->testInteractions, overall);
    QCOMPARE(cold->memberCount + b.find("warm")->memberCount, ds.numUsers());

    // A count's cut as a share: the quantile base drops zero counts, and the share takes the same
    // entries with the decimals that needs (5,000 distinct counts need four).
    QCOMPARE(quantileBase({0, 3, 0, 1}), (std::vector<std::uint32_t>{3, 1}));
    std::vector<std::uint32_t> counts(5000);
    std::iota(counts.begin(), counts.end(), 1u);
    for (const double tau : {2.0, 1235.0, 4999.0, 5001.0, 1e9}) {
        const auto share = shareForCut(counts, tau);
        QVERIFY(share.has_value());
        QCOMPARE(resolveThreshold(Threshold{"quantile", *share}, counts), std::min(tau, 5001.0));
    }
    QCOMPARE(*shareForCut(counts, 1235.0), 0.2468);
    QVERIFY(!shareForCut(counts, 1.0).has_value());  // nothing below 1
    // Ties: counts 1 x 400 and 2 x 600; "below 2" is the 40% share, and any share up to it.
    std::vector<std::uint32_t> tied(400, 1u);
    tied.insert(tied.end(), 600, 2u);
    QCOMPARE(resolveThreshold(Threshold{"quantile", *shareForCut(tied, 2.0)}, tied), 2.0);
}

void TestData::segmentBucketsPartition()
{
    const Dataset ds = loadDataset(::shippedSplit());
    const Segmentation seg = computeSegments(ds, SegmentSpec{});
    for (const char* prefix : {"hist_", "pop_"}) {
        std::int64_t tests = 0;
        std::uint32_t members = 0;
        int buckets = 0;
        double lastHi = 0;
        for (const auto& s : seg.segments) {
            if (s.name.rfind(prefix, 0) != 0)
                continue;
            ++buckets;
            QCOMPARE(s.lo, lastHi);  // contiguous ranges
            lastHi = s.hi;
            tests += s.testInteractions;
            members += s.memberCount;
            QVERIFY(s.memberCount > 0);
        }
        QVERIFY(buckets >= 4 && buckets <= 5);
        QVERIFY(std::isinf(lastHi));
        QCOMPARE(tests, std::int64_t(ds.test.size()));
        QCOMPARE(members, std::string(prefix) == "hist_" ? ds.numUsers() : ds.numItems());
    }
}

void TestData::summaryJson()
{
    const Dataset ds = loadDataset(::shippedSplit());
    const auto j = datasetSummary(ds, computeSegments(ds, SegmentSpec{}));
    QCOMPARE(j["users"].get<int>(), 603);
    QCOMPARE(j["items"].get<int>(), 1862);
    QCOMPARE(j["interactions"].get<int>(), 64205);
    QCOMPARE(j["train"]["users"].get<int>(), 603);
    QCOMPARE(j["train"]["items"].get<int>(), 1862);
    QCOMPARE(j["test"]["interactions"].get<int>(), 12629);
    for (const char* seg : {"overall", "cold", "warm", "tail", "head", "hist_1", "pop_1"}) {
        QVERIFY2(j["segments"].contains(seg), seg);
        QVERIFY(j["segments"][seg].contains("test_interactions"));
        QVERIFY(j["segments"][seg].contains("users") || j["segments"][seg].contains("items"));
    }
    // The spec round-trips strictly.
    const DatasetSpec back = datasetSpecFromJson(j["spec"]);
    QCOMPARE(nlohmann::json(back), j["spec"]);
    auto bad = j["spec"];
    bad["split"]["test_ratoi"] = 0.1;
    try {
        datasetSpecFromJson(bad);
        QFAIL("unknown key accepted");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("dataset.split.test_ratoi") != std::string::npos,
                 e.what());
    }
    bad = j["spec"];
    bad["segments"]["cold"]["value"] = 1.5;
    QVERIFY_THROWS_EXCEPTION(Error, datasetSpecFromJson(bad));
}

void TestData::badInput_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("problem");
    QTest::newRow("empty file") << "empty.csv" << 0 << "empty";
    QTest::newRow("header only") << "header_only.csv" << 1 << "no data rows";
    QTest::newRow("wrong field count") << "wrong_fields.csv" << 3 << "found 3 fields, expected 4";
    QTest::newRow("non-numeric id") << "nonnumeric_id.csv" << 3 << "'x7'";
    QTest::newRow("non-numeric rating") << "nonnumeric_rating.csv" << 3 << "'good' is not a number";
    QTest::newRow("NaN rating") << "nan_rating.csv" << 3 << "NaN";
    QTest::newRow("infinite rating") << "inf_rating.csv" << 3 << "infinite";
    QTest::newRow("truncated last line") << "truncated.csv" << 4 << "found 2 fields";
    QTest::newRow("mixed delimiters") << "mixed_delimiters.csv" << 3 << "delimiters";
    QTest::newRow("id beyond 64 bits") << "id_beyond_64bit.csv" << 3 << "does not fit in 64 bits";
    QTest::newRow("negative id") << "negative_id.csv" << 3 << "'-11'";
    QTest::newRow("UTF-16") << "utf16.csv" << 1 << "UTF-16";
    QTest::newRow("Latin-1 byte") << "latin1.csv" << 3 << "invalid UTF-8";
    QTest::newRow("binary garbage") << "binary_garbage.csv" << 1 << "binary data";
    QTest::newRow("truncated gzip") << "truncated.csv.gz" << 1 << "compressed data ends early";
}

void TestData::badInput()
{
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(QString, problem);
    try {
        loadDataset(randomSplit(fixture(file)));
        QFAIL("expected an error");
    } catch (const Error& e) {
        const QString what = QString::fromStdString(e.what());
        QVERIFY2(what.contains(file), qPrintable(what));
        QCOMPARE(e.line(), std::int64_t(line));
        if (line > 0)
            QVERIFY2(what.contains(file + QLatin1Char(':') + QString::number(line)),
                     qPrintable(what));
        QVERIFY2(what.contains(problem, Qt::CaseInsensitive), qPrintable(what));
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QVERIFY2(!e.hint().empty(), "every input error says what to do");
    }
    // Quoted titles: an unterminated quote names its line.
    try {
        DatasetSpec s = randomSplit(fixture(QStringLiteral("small.csv")));
        s.itemsPath = fixture(QStringLiteral("movies_unterminated.csv"));
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(3));
        QVERIFY(std::string(e.what()).find("unterminated quote") != std::string::npos);
    }
}

void TestData::hugeLineIsRejectedWithoutReadingIt()
{
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("oneline.csv")).toStdString();
    {
        std::ofstream out(path, std::ios::binary);
        out << "userId,movieId,rating,timestamp\n";
        const std::string chunk(1 << 20, '7');
        for (int i = 0; i < 100; ++i)
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
    const long before = vmHwmKb();
    LineReader reader(path);
    std::string_view line;
    QVERIFY(reader.next(line));  // the header
    try {
        while (reader.next(line)) {}
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(2));
        QVERIFY(std::string(e.what()).find("longer than") != std::string::npos);
    }
    // The reader stopped after about one buffer, not 100 MB, and its buffer stayed within the
    // bound of one longest line (1 MiB) plus one read chunk (1 MiB).
    QVERIFY(reader.textBytes() < 4u << 20);
    QVERIFY(reader.bufferCapacity() <= (2u << 20) + 1);
    const long after = vmHwmKb();
    QVERIFY2(after - before < 16 * 1024,
             qPrintable(QStringLiteral("peak grew by %1 kB").arg(after - before)));
    // Through the dataset loader the error names file and line.
    try {
        loadDataset(randomSplit(path));
        QFAIL("expected an error");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("oneline.csv:2") != std::string::npos);
    }
}

void TestData::utf8Validation()
{
    QCOMPARE(findInvalidUtf8("plain ascii"), std::string_view::npos);
    QCOMPARE(findInvalidUtf8("Am\xC3\xA9lie (2001)"), std::string_view::npos);  // é
    QCOMPARE(findInvalidUtf8("\xE2\x82\xAC and \xF0\x9F\x8E\xAC"), std::string_view::npos);
    QCOMPARE(findInvalidUtf8("Am\xE9lie"), std::size_t(2));     // Latin-1 é
    QCOMPARE(findInvalidUtf8("x\xC0\xAF"), std::size_t(1));     // overlong '/'
    QCOMPARE(findInvalidUtf8("\xED\xA0\x80"), std::size_t(0));  // surrogate
    QCOMPARE(findInvalidUtf8("abcdefgh\xC3"), std::size_t(8));  // cut sequence
}

void TestData::cancellation()
{
    std::atomic<bool> cancel{true};
    LoadControl control;
    control.cancel = &cancel;
    try {
        loadDataset(randomSplit(shared("ml-latest-small/ratings.csv")), control);
        QFAIL("expected cancellation");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Cancelled);
    }
    // Progress reaches 1.0 on a normal load.
    cancel = false;
    double last = -1;
    control.progress = [&](double f, const std::string&) { last = f; };
    loadDataset(randomSplit(shared("ml-latest-small/ratings.csv")), control);
    QCOMPARE(last, 1.0);
}

// MovieLens 100K (u.data + u.item, '|'-separated with 19 genre flags) and 1M (ratings.dat +
// movies.dat, '::'-separated): Latin-1 item files whose titles and genres are read as UTF-8.
void TestData::movieLens100kAnd1mItems_data()
{
    QTest::addColumn<QString>("ratings");
    QTest::addColumn<QString>("items");
    QTest::addColumn<QString>("format");
    QTest::newRow("100K u.item") << "ml-100k/u.data"
                                 << "ml-100k/u.item"
                                 << "movielens-uitem";
    QTest::newRow("1M movies.dat") << "ml-1m/ratings.dat"
                                   << "ml-1m/movies.dat"
                                   << "movielens-movies-dat";
}

void TestData::movieLens100kAnd1mItems()
{
    QFETCH(QString, ratings);
    QFETCH(QString, items);
    QFETCH(QString, format);
    DatasetSpec s = randomSplit(fixture(ratings));
    s.itemsPath = fixture(items);
    s.encoding = "latin1";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.numUsers(), 3u);
    QCOMPARE(ds.numItems(), 7u);
    QCOMPARE(ds.numInteractions(), std::size_t(17));
    QCOMPARE(ds.files.back().format, format.toStdString());
    QCOMPARE(ds.files.back().encoding, std::string("latin1"));
    QCOMPARE(ds.files.back().rows, 8);  // 1251 (8 1/2) is in the item file, not in the ratings
    auto title = [&](std::uint64_t id) { return ds.itemInfo.titles[*ds.items.find(id)]; };
    QCOMPARE(title(73), std::string("Mis\xC3\xA9rables, Les (1995)"));
    QCOMPARE(title(1190), std::string("Tie Me Up! Tie Me Down! (\xC2\xA1\xC3\x81tame!) (1990)"));
    QCOMPARE(title(11), std::string("American President, The (1995)"));
    // Genres become categorical item features: Toy Story has five, one of them "Children's".
    QVERIFY(ds.itemInfo.hasFeatures());
    const auto toy = *ds.items.find(std::uint64_t(1));
    std::set<std::string> toyGenres;
    for (auto k = ds.itemInfo.featureOffsets[toy]; k < ds.itemInfo.featureOffsets[toy + 1]; ++k)
        toyGenres.insert(ds.itemInfo.featureNames[ds.itemInfo.features[k]]);
    QCOMPARE(toyGenres,
             (std::set<std::string>{"Adventure", "Animation", "Children's", "Comedy", "Fantasy"}));
    // Without the encoding the first accented title is an error naming file, line and the option.
    s.encoding = "utf-8";
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QCOMPARE(e.line(), std::int64_t(4));  // 29: "City of Lost Children ... (Cit\xE9 ..."
        QVERIFY2(std::string(e.what()).find(fixture(items) + ":4:") != std::string::npos, e.what());
        QVERIFY2(e.hint().find("--encoding") != std::string::npos, e.what());
        QVERIFY2(e.hint().find("latin1") != std::string::npos, e.what());
    }
}

// Windows-1252 (a curly apostrophe, 0x92) and the same text in UTF-8 give one content hash.
void TestData::textEncodings()
{
    DatasetSpec s = randomSplit(fixture(QStringLiteral("cp1252_ratings.csv")));
    s.itemsPath = fixture(QStringLiteral("cp1252_movies.csv"));
    s.encoding = "cp1252";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.itemInfo.titles[*ds.items.find(std::uint64_t(7209))],
             std::string("M. Hulot\xE2\x80\x99s Holiday (Mr. Hulot's Holiday) (Vacances de "
                         "Monsieur Hulot, Les) (1953)"));
    QCOMPARE(ds.itemInfo.titles[*ds.items.find(std::uint64_t(73))],
             std::string("Mis\xC3\xA9rables, Les (1995)"));
    QCOMPARE(ds.files.back().encoding, std::string("cp1252"));
    // The same text converted to UTF-8 is the same dataset.
    QTemporaryDir dir;
    const auto utf8 = dir.filePath(QStringLiteral("movies_utf8.csv")).toStdString();
    {
        QFile in(QString::fromStdString(s.itemsPath));
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray bytes = in.readAll();
        QString text;
        for (const char c : bytes)
            text += static_cast<unsigned char>(c) == 0x92 ? QChar(0x2019)
                                                          : QChar(static_cast<unsigned char>(c));
        std::ofstream(utf8, std::ios::binary) << text.toStdString();
    }
    DatasetSpec u = s;
    u.itemsPath = utf8;
    u.encoding = "utf-8";
    QCOMPARE(loadDataset(u).contentHash, ds.contentHash);
    // Through the JSON spec.
    nlohmann::json j = s;
    j["encoding"] = "latin-9";
    QVERIFY_THROWS_EXCEPTION(Error, datasetSpecFromJson(j));
    j["encoding"] = "cp1252";
    QCOMPARE(datasetSpecFromJson(j).encoding, std::string("cp1252"));
}

// One line per user, 'user item item ...' in time order (SASRec / S3-Rec / ICLRec).
void TestData::sequencesFormat()
{
    DatasetSpec s;
    s.path = (kSequences + QStringLiteral("/Beauty_head.txt")).toStdString();
    s.format = "sequences";
    s.split.method = "leave-one-out";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.files[0].format, std::string("sequences"));
    QCOMPARE(ds.numUsers(), 6u);
    QCOMPARE(ds.numItems(), 49u);
    QCOMPARE(ds.numInteractions(), std::size_t(54));
    QCOMPARE(ds.test.size(), std::size_t(6));
    QCOMPARE(ds.validation.size(), std::size_t(6));
    QVERIFY(!ds.hasTimestamps);
    QVERIFY(!ds.hasRatings);
    // Line 1 is "1 1 2 3 4 5": test item 5, validation item 4, train 1 2 3 in that order.
    const auto u1 = *ds.users.find(std::uint64_t(1));
    for (const auto& r : ds.test)
        if (r.user == u1)
            QCOMPARE(ds.items.label(r.item), std::string("5"));
    for (const auto& r : ds.validation)
        if (r.user == u1)
            QCOMPARE(ds.items.label(r.item), std::string("4"));
    std::vector<std::string> train;
    for (const auto& r : ds.train)
        if (r.user == u1)
            train.push_back(ds.items.label(r.item));
    QCOMPARE(train, (std::vector<std::string>{"1", "2", "3"}));
    // Auto-detection recognises the layout: the same dataset.
    s.format = "auto";
    QCOMPARE(detectFormat(s.path, "1 1 2 3 4 5", "2 6 7 8 9 10 4 11"), std::string("sequences"));
    const Dataset detected = loadDataset(s);
    QCOMPARE(detected.files[0].format, std::string("sequences"));
    QCOMPARE(detected.numInteractions(), ds.numInteractions());
    QCOMPARE(detected.test.size(), ds.test.size());
    // A delimiter or a column mapping says the file has columns: read as such, the error says
    // which loader would read it.
    DatasetSpec columns = s;
    columns.delimiter = " ";
    try {
        loadDataset(columns);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QVERIFY2(e.hint().find("--format sequences") != std::string::npos, e.what());
    }
    // Space-separated interactions keep their column count and stay "delimited"; so do lines
    // with anything but numbers.
    QCOMPARE(detectFormat("x.txt", "1 10 4 978300760", "1 12 5 978300761"),
             std::string("delimited"));
    QCOMPARE(detectFormat("x.txt", "1 10 4", "2 11 3"), std::string("delimited"));
    QCOMPARE(detectFormat("x.txt", "u1 i1 i2 i3 i4", "u2 i5 i6"), std::string("delimited"));
    QCOMPARE(detectFormat("x.txt", "1,2,3,4,5,6", "2,3,4"), std::string("delimited"));
    QCOMPARE(detectFormat("x.txt", "1 10 11", "2 12"), std::string("sequences"));
    QCOMPARE(detectFormat("x.txt", "1 10 11 12 13 14", ""), std::string("sequences"));
    // Sequences whose first two lines look like interactions load as delimited, and the error at
    // the first longer line says which loader to choose.
    QTemporaryDir dir;
    const auto short2 = dir.filePath(QStringLiteral("short.txt")).toStdString();
    std::ofstream(short2) << "1 10 11\n2 12 13\n3 14 15 16 17\n";
    s.path = short2;
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(3));
        QVERIFY2(e.hint().find("--format sequences") != std::string::npos, e.what());
    }
    // A user without items is an error naming the line.
    const auto path = dir.filePath(QStringLiteral("seq.txt")).toStdString();
    std::ofstream(path) << "1 10 11\n2\n";
    s.path = path;
    s.format = "sequences";
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(2));
        QVERIFY2(std::string(e.what()).find("no items") != std::string::npos, e.what());
    }
}

void TestData::amazonPaperDatasets_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<uint>("users");
    QTest::addColumn<uint>("items");
    QTest::addColumn<qint64>("interactions");
    // The counts of /work/shared/data/README.md.
    QTest::newRow("Beauty") << "Beauty.txt" << 22363u << 12101u << qint64(198502);
    QTest::newRow("Sports") << "Sports_and_Outdoors.txt" << 35598u << 18357u << qint64(296337);
    QTest::newRow("Toys") << "Toys_and_Games.txt" << 19412u << 11924u << qint64(167597);
}

void TestData::amazonPaperDatasets()
{
    QFETCH(QString, file);
    QFETCH(uint, users);
    QFETCH(uint, items);
    QFETCH(qint64, interactions);
    const QString rel = QStringLiteral("amazon-2014-5core/") + file;
    SLLMR_REQUIRE_DATA(rel);
    const QString path = testdata::dataFile(rel);
    DatasetSpec s;
    s.path = path.toStdString();
    s.format = "sequences";
    s.split.method = "leave-one-out";
    const Dataset ds = loadDataset(s);
    QCOMPARE(ds.numUsers(), users);
    QCOMPARE(ds.numItems(), items);
    QCOMPARE(std::int64_t(ds.numInteractions()), interactions);
    QCOMPARE(ds.report.duplicates, 0);
    // Leave-one-out by position: every user (5+ items) has one test and one validation item.
    QCOMPARE(ds.test.size(), std::size_t(users));
    QCOMPARE(ds.validation.size(), std::size_t(users));
}

// RFC 4180 quoting, a BOM before a quoted header, CRLF and trailing delimiters.
void TestData::quotingAndVariants()
{
    QTemporaryDir dir;
    const auto path = dir.filePath(QStringLiteral("quoted.csv")).toStdString();
    std::ofstream(path, std::ios::binary)
        << "\xEF\xBB\xBF\"user\",\"item\",\"rating\",\"timestamp\",\r\n"
        << "\"u,1\",\"i \"\"one\"\"\",4.0,100,\r\n"
        << "\"u,1\",i2,3.5,200,\r\n"
        << "u2,i2,5,300,\r\n";
    DatasetSpec s = randomSplit(path);
    s.split.testRatio = 0.0;
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    QVERIFY(ds.files[0].header);
    QCOMPARE(ds.users.kind(), IdMap::Kind::Token);
    QCOMPARE(ds.numUsers(), 2u);
    QCOMPARE(ds.numInteractions(), std::size_t(3));
    QVERIFY(ds.users.find(std::string_view("u,1")));
    QVERIFY(ds.items.find(std::string_view("i \"one\"")));
    QVERIFY(ds.hasRatings && ds.hasTimestamps);
    // An unterminated quote names its line.
    std::ofstream(path, std::ios::binary) << "user,item\n1,10\n\"2,11\n";
    try {
        loadDataset(randomSplit(path));
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(3));
        QVERIFY2(std::string(e.what()).find("unterminated quote") != std::string::npos, e.what());
    }
}

// A first row of text ids is data when it looks like the rows below; a header is explained.
void TestData::headerDetection()
{
    const std::string tokens = (kRepro + QStringLiteral("/tokens.csv")).toStdString();
    std::int64_t lines = 0;
    {
        std::ifstream in(tokens);
        std::string l;
        while (std::getline(in, l))
            lines += !l.empty();
    }
    DatasetSpec s = randomSplit(tokens);
    s.split.testRatio = 0.0;
    s.split.validation = "none";
    const Dataset ds = loadDataset(s);
    QVERIFY(!ds.files[0].header);
    QCOMPARE(ds.files[0].rows, lines);
    QVERIFY(ds.users.find(std::string_view("u1")));
    QCOMPARE(ds.files[0].notes.size(), std::size_t(1));
    QVERIFY2(ds.files[0].notes[0].find("read as data") != std::string::npos,
             ds.files[0].notes[0].c_str());
    // Saying so makes it a header (one row fewer), without a note.
    s.header = "yes";
    const Dataset h = loadDataset(s);
    QCOMPARE(h.files[0].rows, lines - 1);
    // A header of names the loader does not know, over numeric rows: explained in the report.
    DatasetSpec named = randomSplit(fixture(QStringLiteral("semicolon_named.csv")));
    named.split.validation = "none";
    const Dataset n = loadDataset(named);
    QVERIFY(n.files[0].header);
    QCOMPARE(n.files[0].rows, 3);
    QCOMPARE(n.files[0].notes.size(), std::size_t(1));
    QVERIFY2(n.files[0].notes[0].find("column 1 holds text there and numbers below") !=
                 std::string::npos,
             n.files[0].notes[0].c_str());
}

// The reproducers of 2026-11-30: each is an Error naming file and line, in valid UTF-8.
void TestData::readerRegressions_data()
{
    QTest::addColumn<QString>("data");
    QTest::addColumn<QString>("items");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("problem");
    QTest::newRow("items: one-column header") << "train_ok.csv"
                                              << "movies_onecol.csv" << 1 << "1 column";
    QTest::newRow("items: blank first line") << "train_ok.csv"
                                             << "items_blank_first_line.csv" << 2 << "1 column";
    QTest::newRow("excerpt cut in a character") << "utf8_cut2.csv"
                                                << "" << 3 << "user id";
    QTest::newRow("rows after the gzip stream") << "gz_trailing.csv.gz"
                                                << "" << 44 << "not gzip data";
    QTest::newRow("rating 1e300") << "rating_1e300.csv"
                                  << "" << 44 << "out of range";
    QTest::newRow("CR-only line ends") << "cr_only.csv"
                                       << "" << 1 << "CR-only";
}

void TestData::readerRegressions()
{
    QFETCH(QString, data);
    QFETCH(QString, items);
    QFETCH(int, line);
    QFETCH(QString, problem);
    DatasetSpec s = randomSplit((kRepro + QLatin1Char('/') + data).toStdString());
    if (!items.isEmpty())
        s.itemsPath = (kRepro + QLatin1Char('/') + items).toStdString();
    const QString file = items.isEmpty() ? data : items;
    try {
        loadDataset(s);
        QFAIL("expected an error");
    } catch (const Error& e) {
        const std::string what = e.what();
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QCOMPARE(e.line(), std::int64_t(line));
        QVERIFY2(what.find((file + QLatin1Char(':') + QString::number(line) + QLatin1Char(':'))
                               .toStdString()) != std::string::npos,
                 what.c_str());
        QVERIFY2(QString::fromStdString(what).contains(problem, Qt::CaseInsensitive), what.c_str());
        QVERIFY2(!e.hint().empty(), what.c_str());
        QCOMPARE(findInvalidUtf8(what), std::string_view::npos);
    }
}

// Minimised fuzzer inputs (items, RecBole, score readers), whole and without their first byte,
// read as every kind of item file and as a RecBole .inter: an Error or a dataset, never a crash.
void TestData::fuzzInputsDoNotCrash_data()
{
    QTest::addColumn<QString>("input");
    for (const char* name :
         {"items-blank-first-line.min.bin", "items-one-column-header.bin",
          "recbole-crash-a08f1523.bin", "recbole-item-blank-first-line.min.bin",
          "scores-utf8-cut-json.bin", "scores-utf8-cut-json.fuzzer-found.min.bin"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestData::fuzzInputsDoNotCrash()
{
    QFETCH(QString, input);
    QFile f(kRepro + QLatin1Char('/') + input);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray whole = f.readAll();
    QTemporaryDir dir;
    int errors = 0;
    int loads = 0;
    for (const QByteArray& bytes : {whole, whole.mid(1)}) {
        for (const char* name : {"movies.csv", "games.item", "u.item", "movies.dat", "x.inter"}) {
            const auto path = dir.filePath(QLatin1String(name)).toStdString();
            std::ofstream(path, std::ios::binary).write(bytes.constData(), bytes.size());
            DatasetSpec s = randomSplit(fixture(QStringLiteral("small.inter")));
            if (QLatin1String(name) == QLatin1String("x.inter"))
                s.path = path;
            else
                s.itemsPath = path;
            try {
                loadDataset(s);
                ++loads;
            } catch (const Error& e) {
                ++errors;
                QCOMPARE(findInvalidUtf8(e.what()), std::string_view::npos);
            }
        }
    }
    QCOMPARE(errors + loads, 10);
}

void TestData::excerptsCutOnCharacters()
{
    const std::string e = std::string(39, 'x') + "\xC3\xA9" + "tail";
    QCOMPARE(excerpt(e), std::string(39, 'x') + "...");
    QCOMPARE(excerpt(std::string(38, 'x') + "\xC3\xA9" + "tail"),
             std::string(38, 'x') + "\xC3\xA9...");
    QCOMPARE(excerpt("Am\xE9lie"), std::string("Am\\xE9lie"));  // not UTF-8: escaped
    QCOMPARE(excerpt("a\tb"), std::string("a\\x09b"));
    QCOMPARE(excerpt("\xF0\x9F\x8E\xAC"), std::string("\xF0\x9F\x8E\xAC"));
    QCOMPARE(excerpt("ab\xF0\x9F\x8E\xAC", 5), std::string("ab..."));
}

QTEST_APPLESS_MAIN(TestData)
#include "tst_data.moc"
