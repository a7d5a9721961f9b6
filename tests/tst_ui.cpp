// The Studio on the offscreen platform, through the same objects the dialogs and buttons use:
// the demo loads (dataset, LLM scores, LLM-alone quality), thresholds update live counts, a
// 2-epoch run reports each epoch and lands in experiments.db and the runs table, cancel stops
// within a second, pause holds training, quitting asks and marks a run or a sweep interrupted
// and both resume, Esc never cancels, the wheel leaves unfocused fields alone, the grid shown is
// the grid run, empty charts say what fills them, and the GUI thread never stalls for 100 ms
// while training runs. Every test function starts from a new window over a new experiment
// database (init()), and trains what it needs itself: the functions run in any order.
#include "ablation_page.h"
#include "chart.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "data_page.h"
#include "engine/run_controller.h"
#include "engine/runs_model.h"
#include "engine/sweep_controller.h"
#include "engine/workbench.h"
#include "executor_box.h"
#include "import_dialogs.h"
#include "inspector_page.h"
#include "main_window.h"
#include "model_page.h"
#include "results_page.h"
#include "run_page.h"
#include "runs_page.h"
#include "scores_page.h"
#include "scoring_dialog.h"
#include "slurm_cluster.h"
#include "store/experiment_store.h"
#include "teaching_demo.h"

#include <QAbstractButton>
#include <QComboBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QWheelEvent>
#include <QtTest>

#include <set>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace sllmr;
using sllmr::ui::MainWindow;

namespace {

constexpr int kLoadTimeoutMs = 60000;
constexpr int kRunTimeoutMs = 240000;

// The demo config made small: MF, dim 16, `epochs` epochs, no early stopping, 1 thread.
void smallRun(ui::Workbench* workbench, int epochs, const std::string& method = "selective")
{
    RunConfig c = workbench->config();
    c.name = "studio test";
    c.model.type = "mf";
    c.model.dim = 16;
    c.method.name = *parseChoice<MethodName>(method);
    c.gate.mode = method == "selective" ? GateMode::Reliability : GateMode::Off;
    c.train.epochs = epochs;
    c.train.patience = 0;
    c.train.threads = 1;
    workbench->updateTraining(c);
}

// Writes `bytes` to a new file at `path`; false when it cannot.
bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// Direct read of the database, bypassing the store class.
struct Db
{
    sqlite3* db = nullptr;
    explicit Db(const QString& path)
    {
        sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_busy_timeout(db, 10000);  // the Studio's workers may be writing
    }
    ~Db() { sqlite3_close(db); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    // Rows of a query as strings.
    QList<QStringList> query(const char* sql) const
    {
        QList<QStringList> rows;
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
            QTest::qFail(sqlite3_errmsg(db), __FILE__, __LINE__);
            return rows;
        }
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            QStringList row;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const auto* text = sqlite3_column_text(st, c);
                row << (text ? QString::fromUtf8(reinterpret_cast<const char*>(text)) : QString());
            }
            rows << row;
        }
        if (rc != SQLITE_DONE)  // an error is a failed test, never an empty result
            QTest::qFail(sqlite3_errmsg(db), __FILE__, __LINE__);
        sqlite3_finalize(st);
        return rows;
    }
};

// Answers the next question dialog with `button` once it is open; its text goes to `*text`.
void answerNextQuestion(QMessageBox::StandardButton button, QString* text)
{
    auto* poll = new QTimer(qApp);
    poll->setInterval(20);
    QObject::connect(poll, &QTimer::timeout, poll, [poll, button, text] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box)
            return;
        if (text)
            *text = box->text();
        poll->stop();
        poll->deleteLater();
        box->button(button)->click();
    });
    poll->start();
}

// The small grid fixture with its file paths made absolute.
QString smallGrid()
{
    const QString fixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/analysis/");
    QFile f(fixtures + QStringLiteral("small-grid.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QString grid = QString::fromUtf8(f.readAll());
    for (const char* name : {"train.tsv", "test.tsv", "llm.tsv"})
        grid.replace(QStringLiteral("\"%1\"").arg(QLatin1String(name)),
                     QStringLiteral("\"%1%2\"").arg(fixtures, QLatin1String(name)));
    return grid;
}

}  // namespace

class TestUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void demoLoadsThroughTheWorkbench();
    void thresholdsUpdateLiveCounts();
    void thresholdModeSwitchKeepsTheCut();
    void twoEpochRunReportsEveryEpoch();
    void runsTableMatchesTheDatabase();
    void cancelStopsWithinASecond();
    void escInATextFieldDoesNotCancel();
    void pauseHoldsTraining();
    void quitMarksInterruptedAndResumes();
    void quittingDuringASweepAsksAndInterrupts();
    void startIsRefusedWhileASweepTrains();
    void guiThreadNeverStalls();
    void chartsExportImageAndData();
    void emptyChartsShowWhatFillsThem();
    void legendsWrapInsteadOfClipping();
    void darkThemeReachesSidebarAndCheckBoxes();
    void resultsSayWhenSegmentsDiffer();
    void wheelOnlyChangesFocusedFields();
    void badScoreFileShowsAnErrorAndKeepsState();
    void recentListsOnlyFilesThatLoaded();
    void sequenceFilesOpenWithTheirLoader();
    void recentFilesReopenWithTheirLoader();
    void thresholdsEditedWhileLoadingApplyToTheNewData();
    void undoRestoresSettingsAndThresholds();
    void inspectorMatchesTheDatabase();
    void gridShownIsTheGridRun();
    void ablationSweepReachesTheMatrix();
    void executorChoiceIsTheGridsKey();
    void processesSweepShowsItsCellsAndCollects();
    void slurmSweepIsFollowedAndCollected();
    void guidedDemoQuotesTheLoadedData();
    void scoringDryRunWritesThePrompts();
    void importDialogsOfferFormatsAndEncodings();

private:
    void waitLoaded();
    /// Trains a small run of the demo to the end; its id.
    qint64 trainRun(int epochs);
    /// Re-reads the runs table and waits for it.
    void refreshRuns();
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MainWindow> m_window;
    // A one-node Slurm cluster for slurmSweepIsFollowedAndCollected (its own ports: tst_slurm may
    // have one at the same time), stopped at the end.
    QTemporaryDir m_clusterDir;
    TestCluster m_cluster;
};

void TestUi::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("SLLMR-test"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_ui"));
}

void TestUi::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QSettings().clear();
    m_window = std::make_unique<MainWindow>(m_dir->filePath(QStringLiteral("experiments.db")),
                                            QStringLiteral(SLLMR_DEMO_DIR), false);
    // The tests run from the build's tests/ folder: the CLI that runs a sweep's cells elsewhere.
    m_window->sweepController()->setCellProgram(QStringLiteral(SLLMR_CLI));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    waitLoaded();
}

void TestUi::cleanup()
{
    m_window.reset();  // the controllers cancel and wait
    m_dir.reset();
}

void TestUi::waitLoaded()
{
    auto* wb = m_window->workbench();
    QTRY_VERIFY_WITH_TIMEOUT(!wb->isBusy() && wb->state().scores && wb->state().preview,
                             kLoadTimeoutMs);
}

qint64 TestUi::trainRun(int epochs)
{
    smallRun(m_window->workbench(), epochs);
    auto* runs = m_window->runController();
    QSignalSpy finished(runs, &ui::RunController::finished);
    if (!m_window->startRun() || !finished.wait(kRunTimeoutMs))
        return 0;
    if (finished.front().at(1).toString() != QLatin1String("completed"))
        return 0;
    refreshRuns();
    return finished.front().at(0).toLongLong();
}

void TestUi::refreshRuns()
{
    QSignalSpy refreshed(m_window->runsModel(), &ui::RunsModel::refreshed);
    m_window->runsModel()->refresh();
    QVERIFY(refreshed.wait(kLoadTimeoutMs));
}

void TestUi::demoLoadsThroughTheWorkbench()
{
    const auto& s = m_window->workbench()->state();
    QVERIFY(s.dataset);
    QCOMPARE(s.dataset->numUsers(), 603u);
    QCOMPARE(s.dataset->numItems(), 1862u);
    QVERIFY(s.segmentation);
    QVERIFY(s.scores);
    QCOMPARE(s.scores->report.kind, std::string("rank"));
    // Both thresholds are drawn on their charts (hidden only until a dataset is loaded).
    for (const char* name : {"popularityChart", "historyChart"}) {
        auto* chart = m_window->dataPage()->findChild<ui::Chart*>(QLatin1String(name));
        QVERIFY(chart);
        auto* line = chart->findChild<QCPItemStraightLine*>(QStringLiteral("threshold"));
        QVERIFY(line);
        QVERIFY2(line->visible(), name);
    }
    // The LLM alone is better than chance overall on the demo (ChatGPT EXP_3).
    QVERIFY(!s.llmQuality.empty());
    QCOMPARE(s.llmQuality.front().segment, std::string("overall"));
    QVERIFY(s.llmQuality.front().auc > 0.55 && s.llmQuality.front().auc < 0.75);
    QCOMPARE(s.llmQuality.front().testInteractions,
             static_cast<std::int64_t>(s.dataset->test.size()));
    // The pages show it.
    auto* nav = m_window->findChild<QListWidget*>(QStringLiteral("navigation"));
    QVERIFY(nav);
    QCOMPARE(nav->count(), 8);
    QVERIFY(m_window->scoresPage()->segmentTable()->rowCount() >= 5);
    // The load report's counts are in sight, next to their labels (not pushed right by a warning).
    m_window->showPage(MainWindow::Page::LlmScores);
    auto* report = m_window->scoresPage()->findChild<QTableWidget*>(QStringLiteral("scoreReport"));
    QVERIFY(report);
    QTRY_VERIFY(report->rowCount() > 2 && report->isVisible());
    QCOMPARE(report->item(1, 1)->text(), QStringLiteral("matched (the scores)"));
    QCOMPARE(report->item(1, 0)->text(), QStringLiteral("29,174"));
    const QRect count = report->visualItemRect(report->item(1, 0));
    QVERIFY2(count.right() <= report->viewport()->width(),
             qPrintable(QStringLiteral("count cell ends at %1 of %2 px")
                            .arg(count.right())
                            .arg(report->viewport()->width())));
    QVERIFY(m_window->dataPage()->popularityChart()->graph(0)->dataCount() > 1000);
    // The history histogram's bins are users per length: height x width summed over the bins is
    // the number of users.
    const auto* history = m_window->dataPage()->historyChart()->graph(0)->data().data();
    QVERIFY(history->size() > 3);
    double users = 0;
    for (int k = 0; k + 1 < history->size(); ++k)
        users += history->at(k)->value * (history->at(k + 1)->key - history->at(k)->key);
    QVERIFY2(std::abs(users - 603) < 1e-6, qPrintable(QString::number(users)));
}

void TestUi::thresholdsUpdateLiveCounts()
{
    auto* wb = m_window->workbench();
    const auto& ds = *wb->state().dataset;
    auto* table = m_window->modelPage()->previewTable();
    QVERIFY(table->rowCount() > 0);
    QCOMPARE(table->item(0, 0)->text(), QStringLiteral("overall"));
    for (double tau : {20.0, 50.0}) {
        m_window->modelPage()->setGateThresholds(tau, std::nullopt);
        std::int64_t cold = 0;
        for (auto h : ds.historyLength)
            cold += h < tau;
        QCOMPARE(table->item(0, 1)->text(), QStringLiteral("%1 / %2").arg(cold).arg(ds.numUsers()));
        QCOMPARE(wb->config().gate.tauUser.value_or(-1), tau);
    }
    // Threshold gate without q: the entries switched on are exactly those of cold users or
    // tail items (rule any).
    m_window->modelPage()->setGateMode(QStringLiteral("threshold"));
    RunConfig c = wb->config();
    c.gate.useUncertainty = false;
    wb->updateTraining(c);
    m_window->modelPage()->showConfig(wb->config());
    const auto& scores = *wb->state().scores;
    const double tauI = wb->state().segmentation->tauItem;
    std::int64_t on = 0;
    for (std::uint32_t u = 0; u + 1 < scores.offsets.size(); ++u)
        for (auto k = scores.offsets[u]; k < scores.offsets[u + 1]; ++k)
            on += ds.historyLength[u] < 50.0 || ds.popularity[scores.items[k]] < tauI;
    QCOMPARE(table->item(0, 3)->text().section(QLatin1Char(' '), 0, 0).remove(QLatin1Char(',')),
             QString::number(on));
    // Back to the defaults for the runs below.
    m_window->modelPage()->setGateThresholds(std::nullopt, std::nullopt);
    c = wb->config();
    c.gate.useUncertainty = true;
    c.gate.mode = GateMode::Reliability;
    wb->updateTraining(c);

    // Data page: a new cold threshold changes the live label and, after the debounce, the
    // segmentation the workbench holds.
    m_window->dataPage()->setThresholds(Threshold{"absolute", 30}, Threshold{"quantile", 0.2});
    QVERIFY(m_window->dataPage()->liveSummary().contains(QStringLiteral("|H(u)| < 30")));
    QTRY_COMPARE_WITH_TIMEOUT(wb->state().segmentation->tauUser, 30.0, kLoadTimeoutMs);
    m_window->dataPage()->setThresholds(Threshold{"quantile", 0.2}, Threshold{"quantile", 0.2});
    QTRY_VERIFY_WITH_TIMEOUT(wb->state().segmentation->tauUser != 30.0, kLoadTimeoutMs);
    waitLoaded();
}

// Switching a threshold between a share and a count keeps the same cut; counts show as whole
// numbers; a share that ties widen says how many it really holds.
void TestUi::thresholdModeSwitchKeepsTheCut()
{
    const auto& ds = *m_window->workbench()->state().dataset;
    auto* page = m_window->dataPage();
    auto* coldMode = page->findChild<QComboBox*>(QStringLiteral("coldMode"));
    auto* coldValue = page->findChild<QDoubleSpinBox*>(QStringLiteral("coldValue"));
    QVERIFY(coldMode && coldValue);
    page->setThresholds(Threshold{"quantile", 0.3}, Threshold{"quantile", 0.2});
    const double tau = resolveThreshold(Threshold{"quantile", 0.3}, ds.historyLength);
    QVERIFY(tau > 3);  // not the value the switch used to fall back on
    QVERIFY(page->liveSummary().contains(QStringLiteral("|H(u)| < %1:").arg(tau)));

    coldMode->setCurrentIndex(coldMode->findData(QStringLiteral("absolute")));
    QCOMPARE(coldValue->value(), tau);
    QCOMPARE(coldValue->text(), QString::number(tau));  // "27", not "27.000"
    QVERIFY(page->liveSummary().contains(QStringLiteral("|H(u)| < %1:").arg(tau)));

    coldMode->setCurrentIndex(coldMode->findData(QStringLiteral("quantile")));
    QVERIFY(page->liveSummary().contains(QStringLiteral("|H(u)| < %1:").arg(tau)));

    // Every count, users and items: the share it switches to takes the same entries (a share
    // rounded to three decimals used to move the cut to the next count).
    const auto sameCut = [page](QComboBox* mode, QDoubleSpinBox* value,
                                const std::vector<std::uint32_t>& counts, bool users) {
        const auto base = quantileBase(counts);
        const auto below = [&counts](double t) {
            return std::count_if(counts.begin(), counts.end(),
                                 [t](std::uint32_t c) { return c < t; });
        };
        std::set<std::uint32_t> cuts(base.begin(), base.end());
        int checked = 0;
        for (const auto c : cuts) {
            const double t = c + 1.0;
            const Threshold count{"absolute", t};
            if (users)
                page->setThresholds(count, Threshold{"quantile", 0.2});
            else
                page->setThresholds(Threshold{"quantile", 0.2}, count);
            mode->setCurrentIndex(mode->findData(QStringLiteral("quantile")));
            const double share = value->value();
            const double back = resolveThreshold(Threshold{"quantile", share}, base);
            if (below(back) != below(t))
                return QStringLiteral("count %1 became share %2, which cuts at %3")
                    .arg(t)
                    .arg(share)
                    .arg(back);
            ++checked;
        }
        return checked > 20 ? QString() : QStringLiteral("only %1 counts").arg(checked);
    };
    auto* tailMode = page->findChild<QComboBox*>(QStringLiteral("tailMode"));
    auto* tailValue = page->findChild<QDoubleSpinBox*>(QStringLiteral("tailValue"));
    QVERIFY(tailMode && tailValue);
    const QString users = sameCut(coldMode, coldValue, ds.historyLength, true);
    QVERIFY2(users.isEmpty(), qPrintable(users));
    const QString items = sameCut(tailMode, tailValue, ds.popularity, false);
    QVERIFY2(items.isEmpty(), qPrintable(items));

    // Items: many share the smallest counts, so a small share holds far more items than asked.
    const double asked = 0.05;
    page->setThresholds(Threshold{"absolute", 30}, Threshold{"quantile", asked});
    const double tauI = resolveThreshold(Threshold{"quantile", asked}, ds.popularity);
    const auto tail = std::count_if(ds.popularity.begin(), ds.popularity.end(),
                                    [tauI](std::uint32_t p) { return p < tauI; });
    const double held = static_cast<double>(tail) / static_cast<double>(ds.numItems());
    QVERIFY2(held > asked + 0.01, qPrintable(QString::number(held)));
    const QString summary = page->liveSummary();
    QVERIFY2(summary.contains(QStringLiteral("%1% of them, not 5.0%").arg(100.0 * held, 0, 'f', 1)),
             qPrintable(summary));
    // A count cut and a share without ties carry no such note.
    QCOMPARE(summary.count(QStringLiteral("of them")), 1);
}

void TestUi::twoEpochRunReportsEveryEpoch()
{
    auto* wb = m_window->workbench();
    smallRun(wb, 2);
    auto* runs = m_window->runController();
    QSignalSpy epochs(runs, &ui::RunController::epochFinished);
    QSignalSpy finished(runs, &ui::RunController::finished);
    QVERIFY(m_window->startRun());
    QVERIFY(runs->isRunning());
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(epochs.size(), 2);
    const auto e1 = epochs.at(0).at(0).value<ui::EpochUpdate>();
    const auto e2 = epochs.at(1).at(0).value<ui::EpochUpdate>();
    QCOMPARE(e1.epoch, 1);
    QCOMPARE(e2.epoch, 2);
    QVERIFY(e1.validationAuc.contains(QStringLiteral("overall")));
    QVERIFY(e1.gateMean.contains(QStringLiteral("cold")));
    QVERIFY(e2.baseLoss < e1.baseLoss);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("completed"));
    const qint64 id = finished.at(0).at(0).toLongLong();
    QVERIFY(!runs->isRunning());
    // Live charts got one point per epoch per series.
    QCOMPARE(m_window->runPage()->lossChart()->graph(0)->dataCount(), 2);
    // The LLM-alone AUC the scores page shows is the one the evaluator stored.
    ExperimentStore store(m_window->databasePath().toStdString());
    double stored = -1;
    for (const auto& m : store.segmentMetrics(id))
        if (m.segment == "overall" && m.metric == "llm_auc")
            stored = m.value;
    QVERIFY(std::abs(stored - wb->state().llmQuality.front().auc) < 1e-9);
    // The results page shows the finished run (the runs table and the metrics are read in the
    // background).
    QTRY_VERIFY_WITH_TIMEOUT(m_window->resultsPage()->shownRuns().contains(id), kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->resultsPage()->table()->rowCount() > 5, kLoadTimeoutMs);
}

void TestUi::runsTableMatchesTheDatabase()
{
    QVERIFY(trainRun(1) > 0);
    auto* model = m_window->runsModel();
    refreshRuns();
    Db db(m_window->databasePath());
    const auto rows = db.query("SELECT id, status FROM runs ORDER BY id DESC");
    QCOMPARE(model->rowCount(), rows.size());
    // The status bar keeps the count in view.
    auto* store = m_window->findChild<QLabel*>(QStringLiteral("storeLabel"));
    QVERIFY(store);
    QVERIFY2(store->text().endsWith(rows.size() == 1 ? QStringLiteral(" 1 run")
                                                     : QStringLiteral(" %1 runs").arg(rows.size())),
             qPrintable(store->text()));
    for (int r = 0; r < rows.size(); ++r) {
        const ui::RunRow* row = model->runById(rows[r][0].toLongLong());
        QVERIFY(row);
        QCOMPARE(row->status, rows[r][1]);
    }
    const auto auc = db.query(
        "SELECT run_id, value FROM segment_metrics WHERE segment = "
        "'overall' AND metric = 'auc'");
    QVERIFY(!auc.isEmpty());
    for (const auto& a : auc)
        QCOMPARE(model->runById(a[0].toLongLong())->auc, a[1].toDouble());
    // Notes and tags are written off the GUI thread and read back.
    const qint64 id = rows.front()[0].toLongLong();
    bool done = false;
    model->setNotes(id, QStringLiteral("first look"), QStringLiteral("demo, test"),
                    [&done](const QString& error) { done = error.isEmpty(); });
    QTRY_VERIFY(done);
    QTRY_COMPARE(model->runById(id)->tags, QStringLiteral("demo, test"));  // refreshed after it
    QCOMPARE(db.query("SELECT notes, tags FROM runs ORDER BY id DESC").front(),
             (QStringList{QStringLiteral("first look"), QStringLiteral("demo, test")}));
    // The filter finds the run by its tag and hides it for another status.
    m_window->runsPage()->setFilterText(QStringLiteral("demo, test"));
    QCOMPARE(m_window->runsPage()->proxy()->rowCount(), 1);
    m_window->runsPage()->setFilterText(QStringLiteral("no such run"));
    QCOMPARE(m_window->runsPage()->proxy()->rowCount(), 0);
    m_window->runsPage()->setFilterText({});
    // Newest first, and the sorted column's tooltip says so in words.
    auto* proxy = m_window->runsPage()->proxy();
    QCOMPARE(proxy->sortColumn(), static_cast<int>(ui::RunsModel::Id));
    QVERIFY(proxy->headerData(ui::RunsModel::Id, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("largest first")));
    QVERIFY(!proxy->headerData(ui::RunsModel::Auc, Qt::Horizontal, Qt::ToolTipRole)
                 .toString()
                 .contains(QStringLiteral("Sorted by")));
}

void TestUi::cancelStopsWithinASecond()
{
    auto* wb = m_window->workbench();
    smallRun(wb, 50);
    auto* runs = m_window->runController();
    QSignalSpy batches(runs, &ui::RunController::batchProgress);
    QSignalSpy finished(runs, &ui::RunController::finished);
    QVERIFY(m_window->startRun());
    QVERIFY(batches.wait(kRunTimeoutMs));
    QElapsedTimer clock;
    clock.start();
    runs->cancel();
    QVERIFY(finished.wait(5000));
    qInfo("cancel to finished: %lld ms", clock.elapsed());
    QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
    Db db(m_window->databasePath());
    QCOMPARE(db.query("SELECT status FROM runs ORDER BY id DESC LIMIT 1").front().front(),
             QStringLiteral("cancelled"));
}

void TestUi::escInATextFieldDoesNotCancel()
{
    smallRun(m_window->workbench(), 50);
    auto* runs = m_window->runController();
    QSignalSpy batches(runs, &ui::RunController::batchProgress);
    QSignalSpy finished(runs, &ui::RunController::finished);
    QVERIFY(m_window->startRun());
    QVERIFY(batches.wait(kRunTimeoutMs));
    // Esc in a text field (and on the window) only does what Esc does there.
    m_window->showPage(MainWindow::Page::Ablation);
    QLineEdit* field = m_window->ablationPage()->seedsEdit();
    field->setFocus();
    QTest::keyClick(field, Qt::Key_Escape);
    QTest::keyClick(m_window.get(), Qt::Key_Escape);
    QTest::qWait(500);
    QVERIFY(runs->isRunning());
    QVERIFY(finished.isEmpty());
    // Cancelling is deliberate: Run > Cancel asks first; "No" keeps training.
    answerNextQuestion(QMessageBox::No, nullptr);
    m_window->confirmCancel();
    QTest::qWait(300);
    QVERIFY(runs->isRunning());
    QString question;
    answerNextQuestion(QMessageBox::Yes, &question);
    m_window->confirmCancel();
    QVERIFY(question.contains(QStringLiteral("Stop run")));
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
}

void TestUi::quittingDuringASweepAsksAndInterrupts()
{
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    QCOMPARE(page->expand(), 4);
    auto* sweeps = m_window->sweepController();
    QSignalSpy batches(sweeps, &ui::SweepController::batchProgress);
    QVERIFY(page->runGrid());
    QVERIFY(batches.wait(kRunTimeoutMs));
    sweeps->setPaused(true);  // hold the first run mid-epoch
    const qint64 sweepId = sweeps->currentSweepId();
    const qint64 runId = sweeps->currentRunId();
    QVERIFY(sweepId > 0 && runId > 0);
    // The status bar names it like a run.
    auto* training = m_window->findChild<QLabel*>(QStringLiteral("trainingLabel"));
    QVERIFY(training);
    QTRY_VERIFY(training->text().contains(QStringLiteral("Sweep %1").arg(sweepId)));
    QVERIFY(training->text().contains(QStringLiteral("Paused")));

    // Quitting asks; "No" keeps it running.
    QString question;
    answerNextQuestion(QMessageBox::No, &question);
    QVERIFY(!m_window->close());
    QVERIFY(question.contains(QStringLiteral("Sweep %1").arg(sweepId)));
    QVERIFY(sweeps->isRunning());
    // "Yes": the sweep and its current run stop as `interrupted`.
    answerNextQuestion(QMessageBox::Yes, nullptr);
    QVERIFY(m_window->close());
    QVERIFY(!sweeps->isRunning());
    {
        Db db(m_window->databasePath());
        QCOMPARE(
            db.query(qPrintable(
                         QStringLiteral("SELECT status FROM sweeps WHERE id = %1").arg(sweepId)))
                .front()
                .front(),
            QStringLiteral("interrupted"));
        QCOMPARE(
            db.query(qPrintable(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(runId)))
                .front()
                .front(),
            QStringLiteral("interrupted"));
        QCOMPARE(db.query(qPrintable(QStringLiteral("SELECT status FROM sweep_items WHERE "
                                                    "sweep_id = %1 AND run_id = %2")
                                         .arg(sweepId)
                                         .arg(runId)))
                     .front()
                     .front(),
                 QStringLiteral("interrupted"));
    }
    // Resumable: the same run continues and the queue completes.
    QSignalSpy finished(sweeps, &ui::SweepController::finished);
    QVERIFY(page->resumeSweep(sweepId));
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(finished.front().at(1).toString(), QStringLiteral("completed"));
    Db db(m_window->databasePath());
    QCOMPARE(
        db.query(qPrintable(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(runId)))
            .front()
            .front(),
        QStringLiteral("completed"));
    QCOMPARE(db.query(qPrintable(QStringLiteral("SELECT count(*) FROM sweep_items WHERE "
                                                "sweep_id = %1 AND status = 'completed'")
                                     .arg(sweepId)))
                 .front()
                 .front(),
             QStringLiteral("4"));
}

void TestUi::startIsRefusedWhileASweepTrains()
{
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    auto* sweeps = m_window->sweepController();
    QSignalSpy batches(sweeps, &ui::SweepController::batchProgress);
    QVERIFY(page->runGrid());
    QVERIFY(batches.wait(kRunTimeoutMs));
    sweeps->setPaused(true);
    // Ctrl+R does what Run > Start does: refused with a message while the sweep trains.
    QVERIFY(!m_window->startRun());
    QVERIFY(!m_window->runController()->isRunning());
    QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("Sweep")));
    sweeps->cancelAndWait();
    QVERIFY(!sweeps->isRunning());
}

void TestUi::pauseHoldsTraining()
{
    auto* wb = m_window->workbench();
    smallRun(wb, 2);
    auto* runs = m_window->runController();
    QSignalSpy batches(runs, &ui::RunController::batchProgress);
    QSignalSpy finished(runs, &ui::RunController::finished);
    QVERIFY(m_window->startRun());
    QVERIFY(batches.wait(kRunTimeoutMs));
    runs->setPaused(true);
    QVERIFY(runs->isPaused());
    QTest::qWait(300);  // a report already on its way may still arrive
    const auto held = batches.size();
    QTest::qWait(1200);
    QCOMPARE(batches.size(), held);
    QVERIFY(finished.isEmpty());
    // The page says so, without a stale rate or ETA, and the log records it.
    auto* page = m_window->runPage();
    QCOMPARE(page->rateLabel()->text(), QStringLiteral("Paused"));
    QVERIFY(page->progressBar()->format().startsWith(QStringLiteral("Paused")));
    QVERIFY(page->runLog()->toPlainText().contains(QStringLiteral("paused")));
    runs->setPaused(false);
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("completed"));
    QVERIFY(page->runLog()->toPlainText().contains(QStringLiteral("continued")));
}

void TestUi::quitMarksInterruptedAndResumes()
{
    auto* wb = m_window->workbench();
    smallRun(wb, 3);
    auto* runs = m_window->runController();
    QSignalSpy epochs(runs, &ui::RunController::epochFinished);
    QVERIFY(m_window->startRun());
    QVERIFY(epochs.wait(kRunTimeoutMs));
    const qint64 id = runs->currentRunId();
    // Closing the window asks; "No" keeps the run going, "Yes" stops it as `interrupted`.
    QString question;
    answerNextQuestion(QMessageBox::No, &question);
    QVERIFY(!m_window->close());
    QVERIFY(question.contains(QStringLiteral("Run %1").arg(id)));
    QVERIFY(runs->isRunning());
    answerNextQuestion(QMessageBox::Yes, nullptr);
    QVERIFY(m_window->close());
    QVERIFY(!runs->isRunning());
    refreshRuns();
    QCOMPARE(m_window->runsModel()->runById(id)->status, QStringLiteral("interrupted"));
    QSignalSpy finished(runs, &ui::RunController::finished);
    QSignalSpy resumed(runs, &ui::RunController::resumedFrom);
    QVERIFY(runs->resume(id));
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(finished.at(0).at(0).toLongLong(), id);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("completed"));
    // The resumed run's charts show the earlier epochs too, and the log says where it went on.
    QCOMPARE(resumed.size(), 1);
    const int from = resumed.front().front().toInt();
    QVERIFY(from >= 1);
    QCOMPARE(m_window->runPage()->lossChart()->graph(0)->dataCount(), 3);
    QVERIFY(m_window->runPage()->runLog()->toPlainText().contains(
        QStringLiteral("resumed from epoch %1").arg(from)));
    ExperimentStore store(m_window->databasePath().toStdString());
    int last = 0;
    for (const auto& m : store.epochMetrics(id))
        last = std::max(last, m.epoch);
    QCOMPARE(last, 3);
}

void TestUi::guiThreadNeverStalls()
{
    auto* wb = m_window->workbench();
    smallRun(wb, 3);
    m_window->showPage(MainWindow::Page::Run);  // the live charts redraw while it runs
    auto* runs = m_window->runController();
    QSignalSpy finished(runs, &ui::RunController::finished);
    QElapsedTimer clock;
    qint64 last = 0, worst = 0;
    QTimer heartbeat;
    heartbeat.setInterval(5);
    connect(&heartbeat, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        worst = std::max(worst, now - last);
        last = now;
    });
    clock.start();
    heartbeat.start();
    QVERIFY(m_window->startRun());
    QVERIFY(finished.wait(kRunTimeoutMs));
    heartbeat.stop();
    qInfo("longest GUI-thread stall during a %lld ms run: %lld ms", clock.elapsed(), worst);
    QVERIFY2(worst < 100, qPrintable(QStringLiteral("stalled %1 ms").arg(worst)));
}

void TestUi::chartsExportImageAndData()
{
    const qint64 id = trainRun(3);
    QVERIFY(id > 0);
    ui::Chart* chart = m_window->runPage()->lossChart();
    const QString csv = chart->toCsv();
    QVERIFY(csv.startsWith(QStringLiteral("series,x,y\n")));
    QVERIFY(csv.count(QLatin1Char('\n')) >= 1 + 3 * 3);  // base, LLM, gate x 3 epochs
    const QString png = m_dir->filePath(QStringLiteral("loss.png"));
    const QString pdf = m_dir->filePath(QStringLiteral("loss.pdf"));
    QVERIFY(chart->exportImage(png));
    QVERIFY(chart->exportImage(pdf));
    QVERIFY(QImage(png).width() > 100);
    QFile f(pdf);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.read(4) == "%PDF");
    QTRY_VERIFY_WITH_TIMEOUT(
        m_window->resultsPage()->chart()->toCsv().contains(QStringLiteral("run %1").arg(id)),
        kLoadTimeoutMs);
    // Hovering a point reads out its exact value.
    ui::Chart* loss = m_window->runPage()->lossChart();
    QCPGraph* base = loss->graph(0);
    loss->replot();
    const QPointF at(loss->xAxis->coordToPixel(base->data()->at(0)->key),
                     loss->yAxis->coordToPixel(base->data()->at(0)->value));
    QVERIFY(loss->readoutAt(at).contains(QLocale().toString(base->data()->at(0)->value, 'f', 4)));
}

void TestUi::emptyChartsShowWhatFillsThem()
{
    // A fresh store: no run yet. Every empty chart keeps its size and says what fills it.
    m_window->showPage(MainWindow::Page::Run);
    for (ui::Chart* chart : {m_window->runPage()->lossChart(), m_window->runPage()->aucChart(),
                             m_window->runPage()->gateChart()}) {
        QTRY_VERIFY(chart->placeholderLabel()->isVisible());
        QVERIFY(chart->placeholder().contains(QStringLiteral("Ctrl+R")));
        QVERIFY(chart->width() >= chart->minimumSizeHint().width());
        QVERIFY(chart->height() >= chart->minimumSizeHint().height());
        // The plot itself keeps the chart's width (an empty legend row once narrowed it to a
        // corner box).
        chart->replot();
        QVERIFY2(chart->axisRect()->width() > chart->width() / 2,
                 qPrintable(QStringLiteral("plot %1 px of a %2 px chart")
                                .arg(chart->axisRect()->width())
                                .arg(chart->width())));
        // The empty axes already show the range values will take (AUC and activations 0-1).
        QVERIFY(chart->yAxis->range().upper <= 1.05);
        QVERIFY(chart->xAxis->range().lower > 0 && chart->xAxis->range().upper <= 2);
    }
    m_window->showPage(MainWindow::Page::Results);
    ui::Chart* results = m_window->resultsPage()->chart();
    QTRY_VERIFY(results->placeholderLabel()->isVisible());
    const QLabel* label = results->placeholderLabel();
    QVERIFY(label->text().startsWith(QStringLiteral("Tick one or more completed runs")));
    // The whole sentence fits inside the chart: it wraps instead of being clipped.
    QVERIFY(results->rect().contains(label->geometry()));
    QVERIFY(label->heightForWidth(label->width()) <= label->height());
    QVERIFY(!results->title().contains(QStringLiteral("  ")));  // no metric left out
}

void TestUi::legendsWrapInsteadOfClipping()
{
    // Long series names in a narrow chart: the legend wraps to rows that fit the chart's width.
    ui::Chart chart(QStringLiteral("narrow"));
    chart.showLegendBelow();
    for (int k = 0; k < 6; ++k)
        chart.addGraph()->setName(QStringLiteral("selective, reliability gate, seed %1").arg(k));
    chart.resize(360, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.replot();
    QVERIFY(chart.legend->visible());
    QVERIFY2(chart.legend->outerRect().right() <= chart.width(),
             qPrintable(QStringLiteral("legend to x = %1 in a %2 px chart")
                            .arg(chart.legend->outerRect().right())
                            .arg(chart.width())));
    QVERIFY(chart.legend->wrap() < 4);
    // Wide again: entries side by side.
    chart.resize(1600, 300);
    chart.replot();
    QCOMPARE(chart.legend->wrap(), 4);
    QVERIFY(chart.legend->outerRect().right() <= chart.width());
    // Fitted to the data, no point sits on the plot's edge (the gate parameters once did).
    chart.graph(0)->setData({1, 2, 3}, {0.9, 1.1, -0.42});
    chart.rescaleWithMargin();
    QVERIFY(chart.yAxis->range().lower < -0.42 && chart.yAxis->range().upper > 1.1);
}

void TestUi::darkThemeReachesSidebarAndCheckBoxes()
{
    QAction* dark = nullptr;
    for (QAction* menu : m_window->menuBar()->actions())
        if (menu->menu())
            for (QAction* a : menu->menu()->actions())
                if (a->isCheckable() && a->text().contains(QStringLiteral("Dark")))
                    dark = a;
    QVERIFY(dark);
    dark->setChecked(true);
    auto* nav = m_window->findChild<QListWidget*>(QStringLiteral("navigation"));
    QVERIFY(nav);
    QTRY_VERIFY(nav->palette().color(QPalette::Base).lightness() < 80);  // the sidebar follows
    // Fusion outlines a check box with the window colour made darker: it must stand out from the
    // dark base the box is drawn on (unticked boxes once vanished).
    const QPalette boxes = QApplication::palette("QCheckBox");
    const int outline = boxes.color(QPalette::Window).darker(140).lightness();
    QVERIFY2(outline - boxes.color(QPalette::Base).lightness() > 40,
             qPrintable(QStringLiteral("outline %1 on base %2")
                            .arg(outline)
                            .arg(boxes.color(QPalette::Base).lightness())));
    QCOMPARE(QApplication::palette("QListView").color(QPalette::Window),
             boxes.color(QPalette::Window));
    dark->setChecked(false);
    QTRY_VERIFY(nav->palette().color(QPalette::Base).lightness() > 180);
}

void TestUi::resultsSayWhenSegmentsDiffer()
{
    // Two runs whose cold segment differs (another threshold): the Results page says their
    // segments are not comparable, and names each series by the setting that tells them apart.
    const qint64 first = trainRun(1);
    QVERIFY(first > 0);
    auto* wb = m_window->workbench();
    SegmentSpec segments = wb->config().dataset.segments;
    segments.cold = Threshold{"absolute", 40};
    wb->setSegments(segments);
    QTRY_VERIFY_WITH_TIMEOUT(!wb->isBusy() && wb->state().segmentation->tauUser == 40,
                             kLoadTimeoutMs);
    const qint64 second = trainRun(1);
    QVERIFY(second > 0);
    auto* page = m_window->resultsPage();
    m_window->showPage(MainWindow::Page::Results);
    page->setMetric(QStringLiteral("auc"));
    page->showRuns({first, second});
    QTRY_VERIFY_WITH_TIMEOUT(
        page->lowAucNote()->isVisible() &&
            page->lowAucNote()->text().contains(QStringLiteral("Not the same segments")),
        kLoadTimeoutMs);
    QVERIFY(page->lowAucNote()->text().contains(QStringLiteral("cold")));
    QVERIFY(page->lowAucNote()->text().contains(QStringLiteral("run %1").arg(second)));
    // The two series differ only in the threshold, and their names say so.
    const QString csv = page->chart()->toCsv();
    QVERIFY2(csv.contains(QStringLiteral("cold.value 40")), qPrintable(csv.left(400)));
}

void TestUi::wheelOnlyChangesFocusedFields()
{
    m_window->showPage(MainWindow::Page::ModelAndGate);
    QSpinBox* seed = m_window->modelPage()->seedBox();
    QTRY_VERIFY(seed->isVisible());
    const int before = seed->value();
    m_window->modelPage()->setFocus();
    QVERIFY(!seed->hasFocus());
    auto wheel = [seed] {
        const QPointF at(seed->width() / 2.0, seed->height() / 2.0);
        QWheelEvent event(at, seed->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(seed, &event);
    };
    for (int k = 0; k < 3; ++k)
        wheel();
    QCOMPARE(seed->value(), before);  // scrolling the form over it leaves it alone
    QCOMPARE(seed->focusPolicy(), Qt::StrongFocus);
    // Focused (clicked or tabbed into), the wheel changes it.
    m_window->activateWindow();
    seed->setFocus();
    if (!seed->hasFocus())
        QSKIP("the offscreen platform gave no keyboard focus to the window");
    wheel();
    QCOMPARE(seed->value(), before + 1);
}

void TestUi::gridShownIsTheGridRun()
{
    auto* page = m_window->ablationPage();
    // A grid file the form can show: the form reads it back.
    page->setGridText(smallGrid());
    QVERIFY(page->formShowsGrid());
    QCOMPARE(page->seedsEdit()->text(), QStringLiteral("1, 2"));
    QStringList ticked;
    for (int k = 0; k < page->variantList()->count(); ++k)
        if (page->variantList()->item(k)->checkState() == Qt::Checked)
            ticked << page->variantList()->item(k)->text();
    QCOMPARE(ticked, (QStringList{QStringLiteral("global"), QStringLiteral("reliability")}));
    // Changing the form rewrites the file at once, keeping its base.
    page->seedsEdit()->setText(QStringLiteral("7"));
    Q_EMIT page->seedsEdit()->textEdited(QStringLiteral("7"));
    for (int k = 0; k < page->variantList()->count(); ++k)
        if (page->variantList()->item(k)->text() == QLatin1String("none"))
            page->variantList()->item(k)->setCheckState(Qt::Checked);
    const auto shown = nlohmann::json::parse(page->gridText().toStdString());
    QCOMPARE(shown["seeds"], nlohmann::json::array({7}));
    QCOMPARE(shown["variants"].size(), std::size_t{3});
    QCOMPARE(shown["base"]["train"]["epochs"], nlohmann::json(2));  // the fixture's base stays
    QCOMPARE(page->expand(), 3);

    // What runs is exactly what is shown: the stored sweep has the shown rows and seeds.
    auto* sweeps = m_window->sweepController();
    QSignalSpy started(sweeps, &ui::SweepController::sweepStarted);
    QVERIFY(page->runGrid());
    QVERIFY(started.wait(kRunTimeoutMs));
    const qint64 sweepId = started.front().at(0).toLongLong();
    QCOMPARE(started.front().at(1).toInt(), 3);
    sweeps->cancelAndWait();
    Db db(m_window->databasePath());
    const auto items = db.query(qPrintable(
        QStringLiteral("SELECT row_label, seed FROM sweep_items WHERE sweep_id = %1 ORDER BY "
                       "position")
            .arg(sweepId)));
    QCOMPARE(items.size(), 3);
    QStringList rows;
    for (const auto& item : items) {
        QCOMPARE(item[1], QStringLiteral("7"));
        rows << item[0];
    }
    QCOMPARE(rows, (QStringList{QStringLiteral("none"), QStringLiteral("global"),
                                QStringLiteral("reliability")}));
    // A file with settings the form cannot show disables the form and says why.
    auto other = shown;
    other["axes"]["train.epochs"] = {1, 2};
    page->setGridText(QString::fromStdString(other.dump(2)));
    QVERIFY(!page->formShowsGrid());
}

void TestUi::badScoreFileShowsAnErrorAndKeepsState()
{
    auto* wb = m_window->workbench();
    const auto before = wb->state().scores;
    const QString bad = m_dir->filePath(QStringLiteral("bad.tsv"));
    QVERIFY(writeFile(bad, "user\titem\tscore\n1\t1\tnan\n"));
    QSignalSpy failed(wb, &ui::Workbench::failed);
    ScoreFileSpec spec;
    spec.path = bad.toStdString();
    spec.kind = "pointwise";
    // The dialog the error would open is modal; report it through the signal only.
    disconnect(wb, &ui::Workbench::failed, m_window.get(), nullptr);
    wb->loadScores(spec);
    QVERIFY(failed.wait(kLoadTimeoutMs));
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(
        message.contains(QStringLiteral("bad.tsv")) && message.contains(QStringLiteral("line 2")),
        qPrintable(message));
    QCOMPARE(wb->state().scores, before);  // what was loaded stays
}

void TestUi::recentListsOnlyFilesThatLoaded()
{
    auto* wb = m_window->workbench();
    QMenu* recent = m_window->dataPage()->recentMenu();
    QVERIFY(recent);
    QVERIFY(!recent->menuAction()->isEnabled());  // nothing opened yet
    // The File menu shows the same menu.
    const auto fileMenus = m_window->menuBar()->actions();
    QVERIFY(!fileMenus.isEmpty() && fileMenus.front()->menu());
    QVERIFY(fileMenus.front()->menu()->actions().contains(recent->menuAction()));

    // A file that fails to load is not listed.
    disconnect(wb, &ui::Workbench::failed, m_window.get(), nullptr);
    const QString bad = m_dir->filePath(QStringLiteral("broken.inter"));
    QVERIFY(writeFile(bad, "no header here\n"));
    QSignalSpy failed(wb, &ui::Workbench::failed);
    m_window->dataPage()->openDataset(bad);
    QVERIFY(failed.wait(kLoadTimeoutMs));
    QVERIFY(!recent->menuAction()->isEnabled());
    QVERIFY(recent->actions().isEmpty());

    // One that loads is, once.
    const QString ratings = QDir(QStringLiteral(SLLMR_DEMO_DIR))
                                .filePath(QStringLiteral("ml-latest-small/ratings.csv"));
    QSignalSpy loaded(wb, &ui::Workbench::datasetLoaded);
    failed.clear();
    m_window->dataPage()->openDataset(ratings);
    QVERIFY2(loaded.wait(kLoadTimeoutMs),
             failed.isEmpty() ? "timeout" : qPrintable(failed.back().at(1).toString()));
    QTRY_VERIFY(recent->menuAction()->isEnabled());
    QCOMPARE(recent->actions().size(), 1);
    QVERIFY(recent->actions().front()->text().contains(QFileInfo(ratings).absoluteFilePath()));
}

// A sequence-per-line file (the Amazon layout) opens the import dialog preset to its loader and
// leave-one-out, and what the dialog returns loads.
void TestUi::sequenceFilesOpenWithTheirLoader()
{
    auto* wb = m_window->workbench();
    const QString path =
        QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/sequences/Beauty_head.txt");
    QString loader, split;
    bool delimiterEnabled = true;
    // Stopped and gone with this function, so that it never answers a later test's dialog.
    QTimer poll;
    poll.setInterval(20);
    connect(&poll, &QTimer::timeout, &poll, [&poll, &loader, &split, &delimiterEnabled] {
        auto* dialog = qobject_cast<ui::DatasetImportDialog*>(QApplication::activeModalWidget());
        if (!dialog)
            return;
        poll.stop();
        for (auto* box : dialog->findChildren<QComboBox*>()) {
            if (box->findData(QStringLiteral(";")) >= 0)  // the delimiter: not for sequences
                delimiterEnabled = box->isEnabled();
            if (box->findText(QStringLiteral("sequences")) >= 0)
                loader = box->currentText();
            if (box->findText(QStringLiteral("leave-one-out")) >= 0)
                split = box->currentText();
        }
        dialog->accept();
    });
    poll.start();
    QSignalSpy loaded(wb, &ui::Workbench::datasetLoaded);
    m_window->dataPage()->openDataset(path);
    QVERIFY(loaded.wait(kLoadTimeoutMs));
    QCOMPARE(loader, QStringLiteral("sequences"));
    QCOMPARE(split, QStringLiteral("leave-one-out"));
    QVERIFY(!delimiterEnabled);
    QCOMPARE(wb->config().dataset.format, std::string("sequences"));
    QCOMPARE(wb->state().dataset->numUsers(), 6u);
    QCOMPARE(wb->state().dataset->test.size(), std::size_t(6));
}

// A file loaded through the import dialog reopens from Recent with the loader and split it last
// loaded with (also when changed with "Loader and split..."), without asking again.
void TestUi::recentFilesReopenWithTheirLoader()
{
    auto* wb = m_window->workbench();
    QWidget* banner = m_window->firstRunBanner();
    QVERIFY(!banner->isHidden());  // a first start (init() clears the settings), on the demo
    const QString path =
        QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/sequences/Beauty_head.txt");
    int dialogs = 0;
    QString split;  // what the next dialog is set to before it is accepted
    QTimer poll;
    poll.setInterval(20);
    connect(&poll, &QTimer::timeout, &poll, [&dialogs, &split] {
        auto* dialog = qobject_cast<ui::DatasetImportDialog*>(QApplication::activeModalWidget());
        if (!dialog)
            return;
        ++dialogs;
        for (auto* box : dialog->findChildren<QComboBox*>())
            if (box->findText(QStringLiteral("leave-one-out")) >= 0)
                box->setCurrentText(split);
        dialog->accept();
    });
    poll.start();
    QSignalSpy loaded(wb, &ui::Workbench::datasetLoaded);
    split = QStringLiteral("temporal");
    m_window->dataPage()->openDataset(path);
    QVERIFY(loaded.wait(kLoadTimeoutMs));
    QCOMPARE(dialogs, 1);
    QCOMPARE(wb->config().dataset.format, std::string("sequences"));
    QCOMPARE(wb->config().dataset.split.method, std::string("temporal"));
    QVERIFY(banner->isHidden());  // it speaks of the demo

    // Changed through "Loader and split...".
    QPushButton* loader = nullptr;
    for (auto* button : m_window->dataPage()->findChildren<QPushButton*>())
        if (button->text().startsWith(QStringLiteral("Loader and split")))
            loader = button;
    QVERIFY(loader);
    split = QStringLiteral("random");
    loader->click();
    QVERIFY(loaded.wait(kLoadTimeoutMs));
    QCOMPARE(dialogs, 2);
    QCOMPARE(wb->config().dataset.split.method, std::string("random"));

    // The demo in between (the banner, shown again, stays with it), then the file from Recent.
    banner->show();
    m_window->loadDemo();
    QVERIFY(loaded.wait(kLoadTimeoutMs));
    QVERIFY(wb->config().dataset.format != "sequences");
    QVERIFY(!banner->isHidden());
    QMenu* recent = m_window->dataPage()->recentMenu();
    QTRY_COMPARE(recent->actions().size(), 1);
    recent->actions().front()->trigger();
    QVERIFY(loaded.wait(kLoadTimeoutMs));
    QCOMPARE(dialogs, 2);  // no dialog
    QCOMPARE(wb->config().dataset.format, std::string("sequences"));
    QCOMPARE(wb->config().dataset.split.method, std::string("random"));
    QCOMPARE(wb->state().dataset->numUsers(), 6u);
}

void TestUi::thresholdsEditedWhileLoadingApplyToTheNewData()
{
    // New thresholds while a dataset loads once superseded the load with a segmentation of the
    // old dataset: the new dataset never arrived. They now apply to the dataset that loads.
    auto* wb = m_window->workbench();
    DatasetSpec spec;
    spec.path = (QStringLiteral(SLLMR_DEMO_DIR) + QStringLiteral("/ml-latest-small/ratings.csv"))
                    .toStdString();
    spec.split.method = "leave-one-out";
    QSignalSpy loaded(wb, &ui::Workbench::datasetLoaded);
    QSignalSpy failed(wb, &ui::Workbench::failed);
    wb->loadDataset(spec);
    SegmentSpec segments = wb->config().dataset.segments;
    segments.cold = Threshold{"absolute", 30};
    segments.tail = Threshold{"absolute", 7};
    wb->setSegments(segments);
    QVERIFY2(loaded.wait(kLoadTimeoutMs),
             failed.isEmpty() ? "timeout" : qPrintable(failed.back().at(1).toString()));
    QTRY_VERIFY2_WITH_TIMEOUT(
        !wb->isBusy() && wb->state().segmentation && wb->state().segmentation->tauUser == 30,
        qPrintable(QStringLiteral("tau_u %1, tau_i %2, config %3 %4")
                       .arg(wb->state().segmentation->tauUser)
                       .arg(wb->state().segmentation->tauItem)
                       .arg(QString::fromStdString(wb->config().dataset.segments.cold.mode))
                       .arg(wb->config().dataset.segments.cold.value)),
        kLoadTimeoutMs);
    QCOMPARE(wb->state().segmentation->tauItem, 7.0);
    QCOMPARE(wb->config().dataset.path, spec.path);
    QCOMPARE(wb->config().dataset.segments.cold.value, 30.0);
    QCOMPARE(wb->state().dataset->numUsers(), 610u);  // ml-latest-small, not the demo's split
}

void TestUi::undoRestoresSettingsAndThresholds()
{
    auto* wb = m_window->workbench();
    const RunConfig before = wb->config();
    const double tauBefore = wb->state().segmentation->tauUser;
    QVERIFY(!wb->canRedo());
    // A training setting, then a threshold.
    RunConfig c = before;
    c.model.dim = before.model.dim + 16;
    wb->updateTraining(c);
    SegmentSpec segments = before.dataset.segments;
    segments.cold = Threshold{"absolute", 30};
    wb->setSegments(segments);
    QTRY_VERIFY_WITH_TIMEOUT(!wb->isBusy() && wb->state().segmentation->tauUser == 30,
                             kLoadTimeoutMs);
    QVERIFY(wb->canUndo());
    // Undo the threshold: segmentation and the Data page's field go back.
    wb->undo();
    QTRY_VERIFY_WITH_TIMEOUT(!wb->isBusy() && wb->state().segmentation->tauUser == tauBefore,
                             kLoadTimeoutMs);
    QCOMPARE(wb->config().dataset.segments.cold.mode, before.dataset.segments.cold.mode);
    QCOMPARE(wb->config().model.dim, before.model.dim + 16);
    QVERIFY(
        m_window->dataPage()->liveSummary().contains(QStringLiteral("|H(u)| < %1").arg(tauBefore)));
    // Undo the setting, then redo it.
    wb->undo();
    QCOMPARE(wb->config().model.dim, before.model.dim);
    QVERIFY(wb->canRedo());
    wb->redo();
    QCOMPARE(wb->config().model.dim, before.model.dim + 16);
    // The Edit menu offers it with the standard keys.
    bool found = false;
    for (QAction* menu : m_window->menuBar()->actions())
        if (menu->menu())
            for (QAction* a : menu->menu()->actions())
                found =
                    found || (a->shortcut() == QKeySequence(QKeySequence::Undo) && a->isEnabled());
    QVERIFY(found);
}

void TestUi::inspectorMatchesTheDatabase()
{
    QVERIFY(trainRun(2) > 0);
    Db db(m_window->databasePath());
    const auto completed =
        db.query("SELECT id FROM runs WHERE status = 'completed' ORDER BY id LIMIT 1");
    QVERIFY(!completed.isEmpty());
    const qint64 id = completed.front().front().toLongLong();
    auto* page = m_window->inspectorPage();
    QSignalSpy opened(page, &ui::InspectorPage::opened);
    QSignalSpy failed(page, &ui::InspectorPage::failed);
    page->openRun(id);
    QVERIFY2(opened.wait(kLoadTimeoutMs),
             failed.isEmpty() ? "timeout" : qPrintable(failed.front().front().toString()));
    QCOMPARE(page->openedRun(), id);
    auto* picker = page->findChild<QComboBox*>(QStringLiteral("inspectorRun"));
    QVERIFY(picker);
    QTRY_COMPARE(picker->currentData().toLongLong(), id);  // the list shows the run that is open
    // The "during training" bars are the stored gate bins of the evaluated (best) epoch.
    const auto best =
        db.query(QStringLiteral("SELECT value FROM segment_metrics WHERE run_id = %1 AND segment = "
                                "'overall' AND metric = 'best_epoch'")
                     .arg(id)
                     .toUtf8()
                     .constData());
    QVERIFY(!best.isEmpty());
    const auto bins = db.query(QStringLiteral("SELECT bin, mean_activation FROM gate_bins WHERE "
                                              "run_id = %1 AND epoch = %2 AND dimension = "
                                              "'history' ORDER BY bin")
                                   .arg(id)
                                   .arg(best.front().front().toDouble())
                                   .toUtf8()
                                   .constData());
    QVERIFY(!bins.isEmpty());
    auto* bars = qobject_cast<QCPBars*>(page->historyChart()->plottable(0));
    QVERIFY(bars);
    QCOMPARE(bars->dataCount(), bins.size());
    for (int k = 0; k < bins.size(); ++k) {
        QCOMPARE(bars->data()->at(k)->key, bins[k][0].toDouble() + 1);
        QVERIFY(std::abs(bars->data()->at(k)->value - bins[k][1].toDouble()) < 1e-9);
    }
    // The Cold x Tail grid covers every LLM-scored entry once.
    std::int64_t entries = 0;
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
            const QString text = page->gridTable()->item(r, c)->text();
            entries += text.section(QLatin1Char('\n'), 2, 2)
                           .section(QLatin1Char(' '), 0, 0)
                           .remove(QLatin1Char(','))
                           .toLongLong();
        }
    QCOMPARE(entries, static_cast<std::int64_t>(m_window->workbench()->state().scores->size()));
    // The directions view: one row per item segment when the run has the hinge, and a sentence.
    auto* directions = page->findChild<QTableWidget*>(QStringLiteral("directionsTable"));
    QVERIFY(directions);
    const auto method = db.query(
        QStringLiteral("SELECT config_json FROM runs WHERE id = %1").arg(id).toUtf8().constData());
    const bool hinge = method.front().front().contains(QStringLiteral("\"global\"")) ||
                       method.front().front().contains(QStringLiteral("\"selective\""));
    QCOMPARE(directions->rowCount() > 0, hinge);
    QVERIFY(!page->directionsSummary().isEmpty());
    // Search by title, then drill down to a user.
    QSignalSpy shown(page, &ui::InspectorPage::detailShown);
    // Typing is enough: no Enter.
    m_window->showPage(MainWindow::Page::Inspector);
    auto* field = page->findChild<QLineEdit*>(QStringLiteral("inspectorSearch"));
    QVERIFY(field);
    QTest::keyClicks(field, QStringLiteral("toy story"));
    QTRY_VERIFY_WITH_TIMEOUT(page->hitsList()->count() > 0, kLoadTimeoutMs);
    QVERIFY(page->hitsList()->item(0)->text().contains(QStringLiteral("Toy Story")));
    page->showUser(QStringLiteral("1"));
    QVERIFY(shown.wait(kLoadTimeoutMs));
    QCOMPARE(shown.back().at(0).toString(), QStringLiteral("user"));
    QVERIFY(page->scoredTable()->rowCount() > 0);
    QVERIFY(page->testsTable()->rowCount() > 0);
    // Each test item's AUC equals the stored per-interaction AUC.
    for (int r = 0; r < page->testsTable()->rowCount(); ++r)
        QCOMPARE(page->testsTable()->item(r, 3)->text(), page->testsTable()->item(r, 4)->text());
    // The detail tables sort by value (not text) when a header is clicked, and the pairs tab says
    // how many pairs there are.
    auto* scored = page->scoredTable();
    QVERIFY(scored->isSortingEnabled());
    scored->horizontalHeader()->setSortIndicator(2, Qt::DescendingOrder);  // pop(i)
    QVERIFY(scored->rowCount() > 2);
    for (int r = 1; r < scored->rowCount(); ++r)
        QVERIFY(scored->item(r - 1, 2)->text().toLongLong() >=
                scored->item(r, 2)->text().toLongLong());
    bool pairsTab = false;
    for (auto* tabs : page->findChildren<QTabWidget*>())
        for (int t = 0; t < tabs->count(); ++t)
            pairsTab =
                pairsTab || tabs->tabText(t).startsWith(QStringLiteral("LLM pairs and the gate ("));
    QVERIFY(pairsTab);
}

void TestUi::ablationSweepReachesTheMatrix()
{
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    QString message;
    QCOMPARE(page->expand(&message), 4);  // 2 variants x 2 seeds
    QSignalSpy finished(page, &ui::AblationPage::sweepFinished);
    QSignalSpy matrix(page, &ui::AblationPage::matrixReady);
    QSignalSpy failed(page, &ui::AblationPage::failed);
    QVERIFY(page->runGrid());
    QVERIFY(page->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(),
             qPrintable(failed.isEmpty() ? QString() : failed.front().front().toString()));
    QCOMPARE(finished.front().at(1).toString(), QStringLiteral("completed"));
    QTRY_VERIFY_WITH_TIMEOUT(!matrix.isEmpty(), kLoadTimeoutMs);
    const ResultsMatrix* m = page->matrix();
    QVERIFY(m);
    QCOMPARE(m->rows.size(), std::size_t{2});
    QCOMPARE(page->matrixTable()->rowCount(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(page->queueTable()->rowCount(), 4, kLoadTimeoutMs);
    // The matrix cell is the mean over the seeds of the stored test AUC.
    const int col = [&] {
        for (std::size_t c = 0; c < m->columns.size(); ++c)
            if (m->columns[c].segment == "overall" && m->columns[c].metric == "auc")
                return static_cast<int>(c);
        return -1;
    }();
    QVERIFY(col >= 0);
    Db db(m_window->databasePath());
    for (std::size_t r = 0; r < m->rows.size(); ++r) {
        double sum = 0;
        for (auto id : m->runIds[r])
            sum += db.query(QStringLiteral("SELECT value FROM segment_metrics WHERE run_id = %1 "
                                           "AND segment = 'overall' AND metric = 'auc'")
                                .arg(id)
                                .toUtf8()
                                .constData())
                       .front()
                       .front()
                       .toDouble();
        QCOMPARE(m->runIds[r].size(), std::size_t{2});
        QVERIFY(std::abs(m->cells[r][static_cast<std::size_t>(col)].mean - sum / 2) < 1e-12);
    }
    QVERIFY(m->test("reliability", "overall"));
    // Exports.
    for (const char* suffix : {"csv", "json", "tex"}) {
        const QString path =
            m_dir->filePath(QStringLiteral("matrix.%1").arg(QLatin1String(suffix)));
        QVERIFY(page->exportMatrix(path));
        QVERIFY(QFileInfo(path).size() > 100);
    }
    // The unit of the tests: user by default; the combo box rebuilds the matrix on another.
    QVERIFY(m->settings.unit == TestUnit::User);
    QVERIFY(m->test("reliability", "overall")->unit == TestUnit::User);
    const auto userPairs = m->test("reliability", "overall")->pairs;  // `m` is replaced below
    auto* unit = page->findChild<QComboBox*>(QStringLiteral("matrixUnit"));
    QVERIFY(unit);
    matrix.clear();
    unit->setCurrentIndex(unit->findData(QStringLiteral("interaction")));
    Q_EMIT unit->activated(unit->currentIndex());
    QTRY_VERIFY_WITH_TIMEOUT(!matrix.isEmpty(), kLoadTimeoutMs);
    QVERIFY(page->matrix()->settings.unit == TestUnit::Interaction);
    QVERIFY(page->matrix()->test("reliability", "overall")->pairs > userPairs);
}

void TestUi::guidedDemoQuotesTheLoadedData()
{
    ui::TeachingDemo demo(m_window.get(), m_window.get());
    QCOMPARE(demo.step(), 0);
    QVERIFY(
        demo.text().contains(QString::number(m_window->workbench()->state().dataset->numUsers())));
    // "<" in the text is text, not the start of an HTML tag: the whole first step is shown.
    const QString tau = QString::number(m_window->workbench()->state().segmentation->tauUser);
    QVERIFY2(demo.text().contains(QStringLiteral("(|H(u)| < %1)").arg(tau)),
             qPrintable(demo.text()));
    QCOMPARE(tau, QStringLiteral("20"));
    QVERIFY(demo.text().contains(QStringLiteral("Drag the dashed lines")));
    QCOMPARE(m_window->currentPage(), MainWindow::Page::Data);
    demo.goTo(1);
    double overall = 0;
    for (const auto& q : m_window->workbench()->state().llmQuality)
        if (q.segment == "overall")
            overall = q.auc;
    QVERIFY(demo.text().contains(QString::number(overall, 'f', 3)));
    QCOMPARE(m_window->currentPage(), MainWindow::Page::LlmScores);
    demo.goTo(ui::TeachingDemo::stepCount() - 1);
    QCOMPARE(m_window->currentPage(), MainWindow::Page::Inspector);

    // The window's own guide is docked beside the pages (right), not a window over them.
    ui::TeachingDemo* docked = m_window->teachingDemo();
    auto* dock = qobject_cast<QDockWidget*>(docked->parentWidget());
    QVERIFY(dock);
    QCOMPARE(m_window->dockWidgetArea(dock), Qt::RightDockWidgetArea);
    QVERIFY(!docked->isWindow());
}

void TestUi::scoringDryRunWritesThePrompts()
{
    ui::ScoringDialog dialog(m_window->workbench());
    ScoringParams p = dialog.params();
    p.candidates.maxUsers = 5;
    p.outputPath = m_dir->filePath(QStringLiteral("scores.tsv")).toStdString();
    p.batchOutputPath = p.outputPath + ".batch.jsonl";
    p.endpoint.baseUrl = "http://127.0.0.1:9/v1";  // never contacted in a dry run
    dialog.setParams(p);
    QSignalSpy finished(&dialog, &ui::ScoringDialog::finished);
    QVERIFY(dialog.start());
    QVERIFY(finished.wait(kLoadTimeoutMs));
    QVERIFY2(finished.front().at(0).toBool(), qPrintable(finished.front().at(1).toString()));
    QFile batch(QString::fromStdString(p.batchOutputPath));
    QVERIFY(batch.open(QIODevice::ReadOnly));
    QCOMPARE(batch.readAll().count('\n'), 5);
    QCOMPARE(dialog.lastResult().batchRequests, std::int64_t{5});
}

// The open dialogs offer every loader, the text encodings and what an empty score cell means,
// and what they return loads: MovieLens 100K with its Latin-1 u.item.
void TestUi::importDialogsOfferFormatsAndEncodings()
{
    const QString data = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/data/ml-100k/");
    DatasetSpec base;
    base.path = (data + QStringLiteral("u.data")).toStdString();
    base.itemsPath = (data + QStringLiteral("u.item")).toStdString();
    base.split.method = "random";
    base.encoding = "latin1";
    ui::DatasetImportDialog dialog(base);
    QStringList loaders;
    QComboBox* encoding = nullptr;
    for (auto* box : dialog.findChildren<QComboBox*>()) {
        if (box->findText(QStringLiteral("sequences")) >= 0)
            for (int i = 0; i < box->count(); ++i)
                loaders << box->itemText(i);
        if (box->findText(QStringLiteral("cp1252")) >= 0)
            encoding = box;
    }
    QVERIFY(loaders.contains(QStringLiteral("movielens-udata")));
    QVERIFY(encoding);
    QCOMPARE(encoding->currentText(), QStringLiteral("latin1"));
    const DatasetSpec spec = dialog.spec();
    QCOMPARE(spec.encoding, std::string("latin1"));
    const Dataset ds = loadDataset(spec);
    QCOMPARE(ds.itemInfo.titles[*ds.items.find(std::uint64_t(73))],
             std::string("Mis\xC3\xA9rables, Les (1995)"));
    encoding->setCurrentText(QStringLiteral("cp1252"));
    QCOMPARE(dialog.spec().encoding, std::string("cp1252"));

    ScoreFileSpec scores;
    scores.path = (QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/scores/pandas_quoted.csv"))
                      .toStdString();
    scores.missing = "default";
    scores.encoding = "cp1252";
    ui::ScoresImportDialog scoresDialog(scores);
    QCOMPARE(scoresDialog.spec().missing, std::string("default"));
    QCOMPARE(scoresDialog.spec().encoding, std::string("cp1252"));
    for (auto* box : scoresDialog.findChildren<QComboBox*>())
        if (box->findData(QStringLiteral("error")) >= 0)
            box->setCurrentIndex(box->findData(QStringLiteral("error")));
    QCOMPARE(scoresDialog.spec().missing, std::string("error"));
}

namespace {

void chooseExecutor(ui::ExecutorBox* box, ExecutorKind kind)
{
    QComboBox* combo = box->kindBox();
    combo->setCurrentIndex(combo->findData(static_cast<int>(kind)));
}

// The queue's column `header` as shown.
QStringList queueColumn(QTableWidget* table, const QString& header)
{
    QStringList out;
    for (int c = 0; c < table->columnCount(); ++c)
        if (table->horizontalHeaderItem(c)->text() == header)
            for (int r = 0; r < table->rowCount(); ++r)
                out << (table->item(r, c) ? table->item(r, c)->text() : QString());
    return out;
}

bool allAre(const QStringList& values, const QString& want, int count)
{
    return values.size() == count &&
           std::all_of(values.begin(), values.end(), [&](const QString& v) { return v == want; });
}

}  // namespace

void TestUi::executorChoiceIsTheGridsKey()
{
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    ui::ExecutorBox* box = page->executorBox();
    QCOMPARE(box->settings().kind, ExecutorKind::Local);
    QVERIFY(!page->gridText().contains(QStringLiteral("\"executor\"")));

    // Slurm: the grid file gets the key, and the preview is the script sbatch would be given.
    chooseExecutor(box, ExecutorKind::Slurm);
    auto* time = box->findChild<QLineEdit*>(QStringLiteral("slurmTime"));
    QVERIFY(time);
    QTest::keyClicks(time, QStringLiteral("00:20:00"));
    box->findChild<QSpinBox*>(QStringLiteral("slurmThrottle"))->setValue(2);
    auto grid = nlohmann::json::parse(page->gridText().toStdString());
    QCOMPARE(grid["executor"]["name"].get<std::string>(), std::string("slurm"));
    QCOMPARE(grid["executor"]["time"].get<std::string>(), std::string("00:20:00"));
    QCOMPARE(grid["executor"]["throttle"].get<int>(), 2);
    const QString script = box->script();
    QVERIFY2(script.contains(QStringLiteral("#SBATCH --time=00:20:00\n")), qPrintable(script));
    QVERIFY2(script.contains(QStringLiteral("#SBATCH --array=")) &&
                 script.contains(QStringLiteral("%2\n")),
             qPrintable(script));
    QVERIFY(script.contains(QStringLiteral(SLLMR_CLI)));  // the CLI runs each cell
    QVERIFY(script.contains(QStringLiteral("--cell")));
    // The form still edits the same file and keeps the executor.
    QLineEdit* seeds = page->seedsEdit();
    seeds->selectAll();
    QTest::keyClicks(seeds, QStringLiteral("1, 2, 3"));
    grid = nlohmann::json::parse(page->gridText().toStdString());
    QCOMPARE(grid["seeds"].size(), std::size_t{3});
    QCOMPARE(grid["executor"]["name"].get<std::string>(), std::string("slurm"));

    // The file decides: a key written there shows in the box.
    grid["executor"] = {{"name", "processes"}, {"jobs", 3}};
    page->setGridText(QString::fromStdString(grid.dump(2)));
    QCOMPARE(box->settings().kind, ExecutorKind::Processes);
    QCOMPARE(box->findChild<QSpinBox*>(QStringLiteral("executorJobs"))->value(), 3);
    QVERIFY(box->script().isEmpty());
    // A bad key is reported with the grid's other errors, and Run grid refuses it.
    grid["executor"] = {{"name", "cloud"}};
    page->setGridText(QString::fromStdString(grid.dump(2)));
    QString message;
    QCOMPARE(page->expand(&message), -1);
    QVERIFY2(message.contains(QStringLiteral("executor.name")), qPrintable(message));
    QSignalSpy failed(page, &ui::AblationPage::failed);
    QVERIFY(!page->runGrid());
    QCOMPARE(failed.size(), 1);
    // While the file is wrong the box is out of use (an edit there could not be written back).
    QVERIFY(!box->kindBox()->isEnabled());
    // A time limit sbatch would refuse is named like any other grid error.
    grid["executor"] = {{"name", "slurm"}, {"time", "2 hours"}};
    page->setGridText(QString::fromStdString(grid.dump(2)));
    QCOMPARE(page->expand(&message), -1);
    QVERIFY2(message.contains(QStringLiteral("executor.time")), qPrintable(message));
    grid["executor"] = {{"name", "slurm"}, {"time", "2:00:00"}};
    page->setGridText(QString::fromStdString(grid.dump(2)));
    QVERIFY(page->expand() > 0);
    QVERIFY(box->kindBox()->isEnabled());
    QVERIFY(box->script().contains(QStringLiteral("#SBATCH --time=2:00:00\n")));
    // Back to this Studio: the key goes.
    grid["executor"] = "processes";
    page->setGridText(QString::fromStdString(grid.dump(2)));
    chooseExecutor(box, ExecutorKind::Local);
    QVERIFY(!page->gridText().contains(QStringLiteral("\"executor\"")));
}

void TestUi::processesSweepShowsItsCellsAndCollects()
{
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    chooseExecutor(page->executorBox(), ExecutorKind::Processes);
    QCOMPARE(page->expand(), 4);
    QSignalSpy finished(page, &ui::AblationPage::sweepFinished);
    QSignalSpy failed(page, &ui::AblationPage::failed);
    QSignalSpy matrix(page, &ui::AblationPage::matrixReady);
    QVERIFY(page->runGrid());
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(),
             qPrintable(failed.isEmpty() ? QString() : failed.front().front().toString()));
    QCOMPARE(finished.front().at(1).toString(), QStringLiteral("completed"));
    const qint64 sweepId = finished.front().at(0).toLongLong();
    QTRY_VERIFY_WITH_TIMEOUT(!matrix.isEmpty(), kLoadTimeoutMs);
    QCOMPARE(page->matrix()->rows.size(), std::size_t{2});

    // The queue shows each cell's shard and the item in this database.
    QTRY_COMPARE_WITH_TIMEOUT(page->shownSweep(), sweepId, kLoadTimeoutMs);
    QTableWidget* queue = page->queueTable();
    // (A queue read while the last cells ended may still show them uncollected: wait for the
    // read after the collection.)
    QTRY_VERIFY_WITH_TIMEOUT(
        allAre(queueColumn(queue, QStringLiteral("Cell")), QStringLiteral("completed"), 4) &&
            allAre(queueColumn(queue, QStringLiteral("In this database")),
                   QStringLiteral("completed"), 4),
        kLoadTimeoutMs);
    Db db(m_window->databasePath());
    const auto runs = [&] { return db.query("SELECT count(*) FROM runs").front().front().toInt(); };
    QCOMPARE(runs(), 4);

    // Collect again: nothing more comes in.
    auto* collect = page->findChild<QPushButton*>(QStringLiteral("collectSweep"));
    QVERIFY(collect && collect->isEnabled());
    QSignalSpy collected(page, &ui::AblationPage::collected);
    collect->click();
    QTRY_VERIFY_WITH_TIMEOUT(!collected.isEmpty(), kLoadTimeoutMs);
    QCOMPARE(collected.front().at(1).toInt(), 0);
    QCOMPARE(collected.front().at(2).toInt(), 0);
    QCOMPARE(runs(), 4);
}

void TestUi::slurmSweepIsFollowedAndCollected()
{
    QVERIFY(m_clusterDir.isValid());
    if (const QString problem = m_cluster.start(m_clusterDir.path(), 6827); !problem.isEmpty())
        QSKIP(qPrintable(QStringLiteral("no Slurm cluster: ") + problem));
    m_window->showPage(ui::StudioPage::Ablation);  // the queue polls only while it is shown
    auto* page = m_window->ablationPage();
    page->setGridText(smallGrid());
    ui::ExecutorBox* box = page->executorBox();
    chooseExecutor(box, ExecutorKind::Slurm);
    box->findChild<QSpinBox*>(QStringLiteral("slurmCpus"))->setValue(1);
    QTest::keyClicks(box->findChild<QLineEdit*>(QStringLiteral("slurmTime")),
                     QStringLiteral("00:10:00"));
    QSignalSpy submitted(page, &ui::AblationPage::submitted);
    QSignalSpy finished(page, &ui::AblationPage::sweepFinished);
    QSignalSpy failed(page, &ui::AblationPage::failed);
    QVERIFY(page->runGrid());
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kLoadTimeoutMs);
    QVERIFY2(failed.isEmpty(),
             qPrintable(failed.isEmpty() ? QString() : failed.front().front().toString()));
    QCOMPARE(finished.front().at(1).toString(), QStringLiteral("submitted"));
    QCOMPARE(submitted.size(), 1);
    const QStringList jobs = submitted.front().at(1).toStringList();
    QVERIFY(!jobs.isEmpty());
    const qint64 sweepId = submitted.front().at(0).toLongLong();

    // The queue follows the cells (read off the GUI thread, every few seconds) until all of them
    // have completed in their shards; nothing is in this database before Collect.
    QTRY_COMPARE_WITH_TIMEOUT(page->shownSweep(), sweepId, kLoadTimeoutMs);
    QTableWidget* queue = page->queueTable();
    QTRY_VERIFY_WITH_TIMEOUT(
        allAre(queueColumn(queue, QStringLiteral("Cell")), QStringLiteral("completed"), 4),
        kRunTimeoutMs);
    for (const QString& task : queueColumn(queue, QStringLiteral("Slurm")))
        QVERIFY2(task.startsWith(jobs.front()) || (jobs.size() > 1 && task.startsWith(jobs[1])),
                 qPrintable(task));
    QVERIFY(allAre(queueColumn(queue, QStringLiteral("In this database")),
                   QStringLiteral("pending"), 4));
    auto* collect = page->findChild<QPushButton*>(QStringLiteral("collectSweep"));
    QVERIFY(collect->isEnabled());
    QCOMPARE(collect->text(), QStringLiteral("Collect (4 ready)"));
    QSignalSpy collected(page, &ui::AblationPage::collected);
    QSignalSpy matrix(page, &ui::AblationPage::matrixReady);
    collect->click();
    QTRY_VERIFY_WITH_TIMEOUT(!collected.isEmpty(), kLoadTimeoutMs);
    QCOMPARE(collected.front().at(1).toInt(), 4);
    QCOMPARE(collected.front().at(2).toInt(), 0);
    // The matrix works on the collected runs as on local ones.
    QTRY_VERIFY_WITH_TIMEOUT(!matrix.isEmpty(), kLoadTimeoutMs);
    QCOMPARE(page->matrix()->rows.size(), std::size_t{2});
    QTRY_VERIFY_WITH_TIMEOUT(allAre(queueColumn(queue, QStringLiteral("In this database")),
                                    QStringLiteral("completed"), 4),
                             kLoadTimeoutMs);
    Db db(m_window->databasePath());
    QCOMPARE(
        db.query("SELECT count(*) FROM runs WHERE status = 'completed'").front().front().toInt(),
        4);
}

QTEST_MAIN(TestUi)
#include "tst_ui.moc"
