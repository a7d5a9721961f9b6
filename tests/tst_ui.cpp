// The Studio on the offscreen platform, through the same objects the dialogs and buttons use:
// the demo loads (dataset, LLM scores, LLM-alone quality), thresholds update live counts, a
// 2-epoch run reports each epoch and lands in experiments.db and the runs table, cancel stops
// within a second, pause holds training, quitting marks a run interrupted and it resumes, and
// the GUI thread never stalls for 100 ms while training runs.
#include "ablation_page.h"
#include "chart.h"
#include "data/loaders.h"
#include "data_page.h"
#include "import_dialogs.h"
#include "inspector_page.h"
#include "main_window.h"
#include "model_page.h"
#include "results_page.h"
#include "run_controller.h"
#include "run_page.h"
#include "runs_model.h"
#include "runs_page.h"
#include "scores_page.h"
#include "scoring_dialog.h"
#include "store/experiment_store.h"
#include "teaching_demo.h"
#include "workbench.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTableWidget>
#include <QComboBox>
#include <QtTest>

#include <sqlite3.h>

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

// Direct read of the database, bypassing the store class.
struct Db
{
    sqlite3* db = nullptr;
    explicit Db(const QString& path)
    {
        sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
    }
    ~Db() { sqlite3_close(db); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    // Rows of a query as strings.
    QList<QStringList> query(const char* sql) const
    {
        QList<QStringList> rows;
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK)
            return rows;
        while (sqlite3_step(st) == SQLITE_ROW) {
            QStringList row;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const auto* text = sqlite3_column_text(st, c);
                row << (text ? QString::fromUtf8(reinterpret_cast<const char*>(text)) : QString());
            }
            rows << row;
        }
        sqlite3_finalize(st);
        return rows;
    }
};

}  // namespace

class TestUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void demoLoadsThroughTheWorkbench();
    void thresholdsUpdateLiveCounts();
    void twoEpochRunReportsEveryEpoch();
    void runsTableMatchesTheDatabase();
    void cancelStopsWithinASecond();
    void pauseHoldsTraining();
    void quitMarksInterruptedAndResumes();
    void guiThreadNeverStalls();
    void chartsExportImageAndData();
    void badScoreFileShowsAnErrorAndKeepsState();
    void inspectorMatchesTheDatabase();
    void ablationSweepReachesTheMatrix();
    void guidedDemoQuotesTheLoadedData();
    void scoringDryRunWritesThePrompts();
    void importDialogsOfferFormatsAndEncodings();

private:
    void waitLoaded();
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestUi::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QCoreApplication::setOrganizationName(QStringLiteral("SLLMR-test"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_ui"));
    QSettings().clear();
    m_window = std::make_unique<MainWindow>(m_dir.filePath(QStringLiteral("experiments.db")),
                                            QStringLiteral(SLLMR_DEMO_DIR), false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    waitLoaded();
}

void TestUi::waitLoaded()
{
    auto* wb = m_window->workbench();
    QTRY_VERIFY_WITH_TIMEOUT(!wb->isBusy() && wb->state().scores && wb->state().preview,
                             kLoadTimeoutMs);
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
    QVERIFY(m_window->dataPage()->popularityChart()->graph(0)->dataCount() > 1000);
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
    // The results page shows the finished run.
    QVERIFY(m_window->resultsPage()->shownRuns().contains(id));
    QVERIFY(m_window->resultsPage()->table()->rowCount() > 5);
}

void TestUi::runsTableMatchesTheDatabase()
{
    auto* model = m_window->runsModel();
    model->refresh();
    Db db(m_window->databasePath());
    const auto rows = db.query("SELECT id, status FROM runs ORDER BY id DESC");
    QCOMPARE(model->rowCount(), rows.size());
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
    QCOMPARE(db.query("SELECT notes, tags FROM runs ORDER BY id DESC").front(),
             (QStringList{QStringLiteral("first look"), QStringLiteral("demo, test")}));
    // The filter finds the run by its tag and hides it for another status.
    m_window->runsPage()->setFilterText(QStringLiteral("demo, test"));
    QCOMPARE(m_window->runsPage()->proxy()->rowCount(), 1);
    m_window->runsPage()->setFilterText(QStringLiteral("no such run"));
    QCOMPARE(m_window->runsPage()->proxy()->rowCount(), 0);
    m_window->runsPage()->setFilterText({});
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
    runs->setPaused(false);
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("completed"));
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
    runs->interruptAndWait();  // what closing the window does after the user confirms
    QVERIFY(!runs->isRunning());
    m_window->runsModel()->refresh();
    QCOMPARE(m_window->runsModel()->runById(id)->status, QStringLiteral("interrupted"));
    QSignalSpy finished(runs, &ui::RunController::finished);
    QVERIFY(runs->resume(id));
    QVERIFY(finished.wait(kRunTimeoutMs));
    QCOMPARE(finished.at(0).at(0).toLongLong(), id);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("completed"));
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
    ui::Chart* chart = m_window->runPage()->lossChart();
    const QString csv = chart->toCsv();
    QVERIFY(csv.startsWith(QStringLiteral("series,x,y\n")));
    QVERIFY(csv.count(QLatin1Char('\n')) >= 1 + 3 * 3);  // base, LLM, gate x 3 epochs
    const QString png = m_dir.filePath(QStringLiteral("loss.png"));
    const QString pdf = m_dir.filePath(QStringLiteral("loss.pdf"));
    QVERIFY(chart->exportImage(png));
    QVERIFY(chart->exportImage(pdf));
    QVERIFY(QImage(png).width() > 100);
    QFile f(pdf);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.read(4) == "%PDF");
    QVERIFY(m_window->resultsPage()->chart()->toCsv().contains(QStringLiteral("run ")));
}

void TestUi::badScoreFileShowsAnErrorAndKeepsState()
{
    auto* wb = m_window->workbench();
    const auto before = wb->state().scores;
    const QString bad = m_dir.filePath(QStringLiteral("bad.tsv"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("user\titem\tscore\n1\t1\tnan\n");
    f.close();
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

void TestUi::inspectorMatchesTheDatabase()
{
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
    const auto method = db.query(QStringLiteral("SELECT config_json FROM runs WHERE id = %1")
                                     .arg(id)
                                     .toUtf8()
                                     .constData());
    const bool hinge = method.front().front().contains(QStringLiteral("\"global\"")) ||
                       method.front().front().contains(QStringLiteral("\"selective\""));
    QCOMPARE(directions->rowCount() > 0, hinge);
    QVERIFY(!page->directionsSummary().isEmpty());
    // Search by title, then drill down to a user.
    QSignalSpy shown(page, &ui::InspectorPage::detailShown);
    page->search(QStringLiteral("toy story"));
    QTRY_VERIFY_WITH_TIMEOUT(page->hitsList()->count() > 0, kLoadTimeoutMs);
    page->showUser(QStringLiteral("1"));
    QVERIFY(shown.wait(kLoadTimeoutMs));
    QCOMPARE(shown.back().at(0).toString(), QStringLiteral("user"));
    QVERIFY(page->scoredTable()->rowCount() > 0);
    QVERIFY(page->testsTable()->rowCount() > 0);
    // Each test item's AUC equals the stored per-interaction AUC.
    for (int r = 0; r < page->testsTable()->rowCount(); ++r)
        QCOMPARE(page->testsTable()->item(r, 3)->text(), page->testsTable()->item(r, 4)->text());
}

void TestUi::ablationSweepReachesTheMatrix()
{
    const QString fixtures = QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/analysis/");
    QFile f(fixtures + QStringLiteral("small-grid.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QString grid = QString::fromUtf8(f.readAll());
    for (const char* name : {"train.tsv", "test.tsv", "llm.tsv"})
        grid.replace(QStringLiteral("\"%1\"").arg(QLatin1String(name)),
                     QStringLiteral("\"%1%2\"").arg(fixtures, QLatin1String(name)));
    auto* page = m_window->ablationPage();
    page->setGridText(grid);
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
    QCOMPARE(page->queueTable()->rowCount(), 4);
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
        const QString path = m_dir.filePath(QStringLiteral("matrix.%1").arg(QLatin1String(suffix)));
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
    ui::TeachingDemo demo(m_window.get());
    QCOMPARE(demo.step(), 0);
    QVERIFY(
        demo.text().contains(QString::number(m_window->workbench()->state().dataset->numUsers())));
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
}

void TestUi::scoringDryRunWritesThePrompts()
{
    ui::ScoringDialog dialog(m_window->workbench());
    ScoringParams p = dialog.params();
    p.candidates.maxUsers = 5;
    p.outputPath = m_dir.filePath(QStringLiteral("scores.tsv")).toStdString();
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

QTEST_MAIN(TestUi)
#include "tst_ui.moc"
