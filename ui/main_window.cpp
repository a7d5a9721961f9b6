#include "main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QByteArray>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPalette>
#include <QProgressBar>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyleFactory>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtGlobal>

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "ablation_page.h"
#include "common/error.h"
#include "common/paths.h"
#include "data_page.h"
#include "engine/run_controller.h"
#include "engine/runs_model.h"
#include "engine/sweep_controller.h"
#include "engine/workbench.h"
#include "error_text.h"
#include "inspector_page.h"
#include "model_page.h"
#include "results_page.h"
#include "run_page.h"
#include "runs_page.h"
#include "scores_page.h"
#include "scoring_dialog.h"
#include "settings.h"
#include "teaching_demo.h"
#include "wheel_guard.h"

namespace sllmr::ui {

namespace {

// Every QSettings key the window uses, with its type and fallback.
const SettingKey<QByteArray> kGeometry{"mainWindow/geometry", {}};
const SettingKey<QByteArray> kWindowState{"mainWindow/state", {}};
const SettingKey<int> kCurrentPage{"mainWindow/page", 0};
const SettingKey<QString> kLastConfig{"run/lastConfig", {}};
const SettingKey<bool> kDarkTheme{"view/dark", false};

constexpr int kDefaultWidth = 1360;
constexpr int kDefaultHeight = 860;
constexpr int kNavigationWidth = 190;
constexpr int kStatusMessageMs = 6000;
// The sidebar takes its colours from the palette, so the dark theme reaches it too.
const QString kNavigationStyle = QStringLiteral(
    "QListWidget { padding-top: 8px; background: palette(base); }"
    "QListWidget::item { padding: 8px 12px; }");

struct PageSpec
{
    MainWindow::Page page;
    const char* title;
    const char* tip;
};

constexpr std::array kPageSpecs{
    PageSpec{MainWindow::Page::Data, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Data"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "The interactions, their split, and the cold-start and long-tail "
                               "thresholds.")},
    PageSpec{MainWindow::Page::LlmScores, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "LLM scores"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "The LLM's scores computed offline, how they matched the data, and "
                               "how good the LLM is alone per segment.")},
    PageSpec{MainWindow::Page::ModelAndGate,
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Model and gate"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "The recommender, the LLM regularization and the gate that "
                               "switches it on per user and item.")},
    PageSpec{MainWindow::Page::Run, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Run"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Training with live losses, validation AUC and gate activation.")},
    PageSpec{
        MainWindow::Page::Results, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Results"),
        QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Test metrics per segment, runs side by side.")},
    PageSpec{MainWindow::Page::Runs, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Runs"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Every run in the experiment store: filter, annotate, resume, "
                               "rerun, delete.")},
    PageSpec{MainWindow::Page::Inspector,
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Gate inspector"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "What the gate did in a run: by history, popularity, Cold x Tail, "
                               "per epoch, and for one user or item.")},
    PageSpec{MainWindow::Page::Ablation,
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Ablation studio"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Grids of variants and seeds run as a queue; the results matrix "
                               "with paired significance tests.")},
};

QString translate(const char* text)
{
    return QCoreApplication::translate("sllmr::ui::MainWindow", text);
}

}  // namespace

void applyTheme(bool dark)
{
    if (!dark) {
        QApplication::setPalette(QApplication::style()->standardPalette());
        for (const char* boxes : {"QListView", "QCheckBox"})
            QApplication::setPalette(QApplication::style()->standardPalette(), boxes);
        return;
    }
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p;
    const QColor window(45, 45, 48), base(30, 30, 32), text(225, 225, 225);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(0, 114, 178));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(86, 180, 233));
    p.setColor(QPalette::Mid, QColor(90, 90, 95));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(120, 120, 120));
    QApplication::setPalette(p);
    // Fusion outlines a check box with a darker shade of the window colour, which vanishes on a
    // dark base: for check boxes and the lists that hold them (the runs to compare, the grid's
    // variants) that colour is a light grey.
    QPalette views = p;
    views.setColor(QPalette::Window, QColor(160, 160, 166));
    for (const char* boxes : {"QListView", "QCheckBox"})
        QApplication::setPalette(views, boxes);
}

MainWindow::MainWindow(QString databasePath, QString demoDir, bool restoreLastConfig,
                       QWidget* parent)
    : QMainWindow(parent), m_databasePath(std::move(databasePath)), m_demoDir(std::move(demoDir))
{
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(tr("SLLMR Studio"));
    if (!m_demoDir.isEmpty() && qEnvironmentVariableIsEmpty("SLLMR_DEMO_DIR"))
        qputenv("SLLMR_DEMO_DIR", m_demoDir.toLocal8Bit());  // core resolves "demo:" paths by it
    m_firstRun = !kGeometry.isStored();

    createEngine();
    createPages();
    createMenus();
    createStatusBar();
    connectTraining();
    connectPages();
    guardWheel(this);
    restoreSettings(restoreLastConfig);
    m_runsModel->refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::createEngine()
{
    m_workbench = new Workbench(m_databasePath, this);
    m_runs = new RunController(m_databasePath, this);
    m_sweeps = new SweepController(m_databasePath, this);
    m_runsModel = new RunsModel(m_databasePath, this);
    connect(m_workbench, &Workbench::failed, this, &MainWindow::showError);
    connect(m_runsModel, &RunsModel::failed, this,
            [this](const QString& message) { showError(tr("Experiment database"), message); });
}

void MainWindow::connectTraining()
{
    connect(m_runs, &RunController::runningChanged, this, &MainWindow::syncTrainingState);
    connect(m_runs, &RunController::pausedChanged, this, &MainWindow::syncTrainingState);
    connect(m_sweeps, &SweepController::runningChanged, this, &MainWindow::syncTrainingState);
    connect(m_sweeps, &SweepController::pausedChanged, this, &MainWindow::syncTrainingState);
    connect(m_runs, &RunController::started, m_runsModel, &RunsModel::refresh);
    connect(m_runs, &RunController::finished, this, [this](qint64 id, const QString& status) {
        m_runsModel->refreshThen([this, id, status] {
            if (status == QLatin1String("completed")) {
                QList<qint64> shown = m_resultsPage->shownRuns();
                if (!shown.contains(id))
                    shown << id;
                m_resultsPage->showRuns(shown);
            }
        });
        statusBar()->showMessage(tr("Run %1 %2.").arg(id).arg(status), kStatusMessageMs);
    });
    connect(m_runs, &RunController::failed, this, [this](qint64 id, const QString& message) {
        m_runsModel->refresh();
        showError(tr("Run %1 failed").arg(id), message);
    });
    connect(m_runs, &RunController::batchProgress, this, [this](const BatchUpdate& u) {
        if (!m_runs->isPaused())
            m_trainingLabel->setText(tr("Run %1: epoch %2 of %3")
                                         .arg(m_runs->currentRunId())
                                         .arg(u.epoch)
                                         .arg(u.epochs));
    });
    connect(m_sweeps, &SweepController::itemStarted, this, [this](const SweepItemUpdate&) {
        m_runsModel->refresh();
        syncTrainingState();
    });
    connect(m_sweeps, &SweepController::finished, this,
            [this](qint64 id, const QString& status, const QString&) {
                statusBar()->showMessage(tr("Sweep %1 %2.").arg(id).arg(status), kStatusMessageMs);
            });
}

void MainWindow::connectPages()
{
    connect(m_runPage, &RunPage::startRequested, this, &MainWindow::startRun);
    connect(m_runPage, &RunPage::cancelRequested, this, &MainWindow::confirmCancel);
    connect(m_runsPage, &RunsPage::runAgainRequested, this, &MainWindow::runAgain);
    connect(m_runsPage, &RunsPage::resumeRequested, this, [this](qint64 id) {
        if (isTraining()) {
            statusBar()->showMessage(tr("Training is in progress; resume run %1 when it has "
                                        "finished.")
                                         .arg(id),
                                     kStatusMessageMs);
            return;
        }
        if (m_runs->resume(id))
            showPage(Page::Run);
    });
    connect(m_runsPage, &RunsPage::inspectRequested, this, &MainWindow::inspectRun);
    connect(m_ablationPage, &AblationPage::inspectRequested, this, &MainWindow::inspectRun);
    connect(m_ablationPage, &AblationPage::failed, this,
            [this](const QString& message) { showError(tr("Ablation studio"), message); });
    connect(m_inspectorPage, &InspectorPage::failed, this,
            [this](const QString& message) { showError(tr("Gate inspector"), message); });
    connect(m_runsPage, &RunsPage::compareRequested, this, [this](const QList<qint64>& ids) {
        m_resultsPage->showRuns(ids);
        showPage(Page::Results);
    });
}

const LoadedState& MainWindow::demoState() const
{
    return m_workbench->state();
}

bool MainWindow::runDemoGrid()
{
    if (!m_ablationPage->loadPreset(QStringLiteral("demo-ablation"))) {
        showError(tr("Guided demo"), tr("The demo grid (resources/grids/demo-ablation.json) was "
                                        "not found next to the demo data in %1.")
                                         .arg(m_demoDir));
        return false;
    }
    showPage(Page::Ablation);
    return m_ablationPage->runGrid();
}

qint64 MainWindow::demoMatrixRun(const std::string& row) const
{
    const ResultsMatrix* m = m_ablationPage->matrix();
    if (!m)
        return 0;
    const int index = m->rowIndex(row);
    if (index < 0 || m->runIds[static_cast<std::size_t>(index)].empty())
        return 0;
    return m->runIds[static_cast<std::size_t>(index)].front();
}

void MainWindow::inspectRun(qint64 runId)
{
    m_inspectorPage->openRun(runId);
    showPage(Page::Inspector);
}

qint64 MainWindow::demoInspectedRun() const
{
    return m_inspectorPage->openedRun();
}

QString MainWindow::demoDirectionsSummary() const
{
    return m_inspectorPage->directionsSummary();
}

ScoringDialog* MainWindow::scoringDialog()
{
    if (!m_scoringDialog)
        m_scoringDialog = new ScoringDialog(m_workbench, this);
    return m_scoringDialog;
}

TeachingDemo* MainWindow::teachingDemo()
{
    if (!m_teachingDemo) {
        // Docked beside the page it explains (right), never over it; the dock can float or close.
        m_demoDock = new QDockWidget(tr("Guided demo"), this);
        m_demoDock->setObjectName(QStringLiteral("guidedDemoDock"));
        m_teachingDemo = new TeachingDemo(this, m_demoDock);
        m_demoDock->setWidget(m_teachingDemo);
        addDockWidget(Qt::RightDockWidgetArea, m_demoDock);
        connect(m_ablationPage, &AblationPage::itemStarted, m_teachingDemo,
                [demo = m_teachingDemo](int position, const QString& row, qint64) {
                    demo->sweepItemStarted(position, row);
                });
        connect(m_ablationPage, &AblationPage::matrixReady, m_teachingDemo,
                &TeachingDemo::matrixReady);
        connect(m_workbench, &Workbench::derivedChanged, m_teachingDemo, &TeachingDemo::render);
        connect(m_inspectorPage, &InspectorPage::opened, m_teachingDemo, &TeachingDemo::render);
    }
    return m_teachingDemo;
}

void MainWindow::createPages()
{
    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    m_navigation = new QListWidget(central);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setFixedWidth(kNavigationWidth);
    m_navigation->setFrameShape(QFrame::NoFrame);
    m_navigation->setSpacing(2);
    m_navigation->setAutoFillBackground(true);
    m_navigation->setStyleSheet(kNavigationStyle);

    auto* right = new QWidget(central);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->setSpacing(0);
    m_banner = createBanner(right);
    rightLayout->addWidget(m_banner);
    m_pages = new QStackedWidget(right);
    rightLayout->addWidget(m_pages, 1);
    m_pages->setObjectName(QStringLiteral("pages"));
    m_dataPage = new DataPage(m_workbench, m_pages);
    m_scoresPage = new ScoresPage(m_workbench, m_pages);
    m_modelPage = new ModelPage(m_workbench, m_pages);
    m_runPage = new RunPage(m_runs, m_pages);
    m_resultsPage = new ResultsPage(m_runsModel, m_databasePath, m_pages);
    m_runsPage = new RunsPage(m_runsModel, m_pages);
    m_inspectorPage = new InspectorPage(m_runsModel, m_databasePath, m_pages);
    m_ablationPage = new AblationPage(m_workbench, m_runsModel, m_sweeps, m_databasePath, m_pages);
    int step = 1;
    for (const PageSpec& spec : kPageSpecs) {
        auto* item = new QListWidgetItem(
            QStringLiteral("%1   %2").arg(step).arg(translate(spec.title)), m_navigation);
        item->setToolTip(translate(spec.tip));
        ++step;
    }
    for (QWidget* page : std::initializer_list<QWidget*>{m_dataPage, m_scoresPage, m_modelPage,
                                                         m_runPage, m_resultsPage, m_runsPage,
                                                         m_inspectorPage, m_ablationPage})
        m_pages->addWidget(page);

    auto* separator = new QFrame(central);
    separator->setFrameShape(QFrame::VLine);
    separator->setFrameShadow(QFrame::Sunken);
    layout->addWidget(m_navigation);
    layout->addWidget(separator);
    layout->addWidget(right, 1);
    setCentralWidget(central);
    connect(m_navigation, &QListWidget::currentRowChanged, m_pages,
            &QStackedWidget::setCurrentIndex);
    m_navigation->setCurrentRow(0);
}

void MainWindow::createMenus()
{
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    QAction* openDataset = fileMenu->addAction(tr("Open &dataset..."), this, [this] {
        showPage(Page::Data);
        m_dataPage->openDataset();
    });
    openDataset->setShortcut(QKeySequence::Open);
    QAction* openScores = fileMenu->addAction(tr("Open &LLM scores..."), this, [this] {
        showPage(Page::LlmScores);
        m_scoresPage->openScores();
    });
    openScores->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    fileMenu->addMenu(m_dataPage->recentMenu());
    fileMenu->addAction(tr("Load the &demo"), this, &MainWindow::loadDemo);
    fileMenu->addSeparator();
    fileMenu->addAction(tr("Load run &config..."), m_modelPage, &ModelPage::loadConfigFile);
    QAction* save =
        fileMenu->addAction(tr("&Save run config..."), m_modelPage, &ModelPage::saveConfigFile);
    save->setShortcut(QKeySequence::Save);
    fileMenu->addAction(tr("Edit run config as &JSON..."), m_modelPage, &ModelPage::editAsJson);
    fileMenu->addSeparator();
    QAction* quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    quit->setMenuRole(QAction::QuitRole);

    QMenu* editMenu = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = editMenu->addAction(tr("&Undo a setting"), m_workbench, &Workbench::undo);
    undo->setShortcut(QKeySequence::Undo);
    undo->setToolTip(
        tr("Back to the configuration before the last change of a setting or a "
           "threshold (a text field being edited undoes its own typing first)."));
    QAction* redo = editMenu->addAction(tr("&Redo a setting"), m_workbench, &Workbench::redo);
    redo->setShortcut(QKeySequence::Redo);
    const auto syncUndo = [this, undo, redo] {
        undo->setEnabled(m_workbench->canUndo());
        redo->setEnabled(m_workbench->canRedo());
    };
    connect(m_workbench, &Workbench::undoChanged, this, syncUndo);
    syncUndo();

    createRunMenu();

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    int step = 0;
    for (const PageSpec& spec : kPageSpecs) {
        QAction* a = viewMenu->addAction(translate(spec.title), this,
                                         [this, page = spec.page] { showPage(page); });
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + step)));
        ++step;
    }
    viewMenu->addSeparator();
    QAction* dark = viewMenu->addAction(tr("&Dark theme"));
    dark->setCheckable(true);
    dark->setChecked(kDarkTheme.get());
    connect(dark, &QAction::toggled, this, [](bool on) {
        kDarkTheme.set(on);
        applyTheme(on);
    });

    QMenu* toolsMenu = menuBar()->addMenu(tr("&Tools"));
    toolsMenu->addAction(tr("&Score the users with an LLM..."), this,
                         [this] { scoringDialog()->show(); });
    toolsMenu->addAction(tr("&Guided demo..."), this, [this] {
        teachingDemo();
        m_demoDock->show();
        m_demoDock->raise();
    });

    createHelpMenu();
}

void MainWindow::createRunMenu()
{
    QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
    m_startAction = runMenu->addAction(tr("&Start"), this, &MainWindow::startRun);
    m_startAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_pauseAction = runMenu->addAction(tr("&Pause"), this, [this] {
        if (m_runs->isRunning())
            m_runs->setPaused(!m_runs->isPaused());
        else if (m_sweeps->isRunning())
            m_sweeps->setPaused(!m_sweeps->isPaused());
    });
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pauseAction->setEnabled(false);
    // No shortcut on purpose: Esc in a text field or a dialog must never stop training.
    m_cancelAction = runMenu->addAction(tr("&Cancel..."), this, &MainWindow::confirmCancel);
    m_cancelAction->setEnabled(false);
}

void MainWindow::createHelpMenu()
{
    QMenu* helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction* keys =
        helpMenu->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    keys->setShortcut(QKeySequence::HelpContents);
    helpMenu->addAction(tr("&README"), this,
                        [this] { showDocument(tr("README"), QStringLiteral(":/docs/README.md")); });
    helpMenu->addAction(tr("The method (&SPEC)"), this, [this] {
        showDocument(tr("SPEC: the method"), QStringLiteral(":/docs/SPEC.md"));
    });
    helpMenu->addSeparator();
    QAction* aboutAction = helpMenu->addAction(tr("&About SLLMR Studio"), this, &MainWindow::about);
    aboutAction->setMenuRole(QAction::AboutRole);
    helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

QWidget* MainWindow::createBanner(QWidget* parent)
{
    auto* banner = new QFrame(parent);
    banner->setObjectName(QStringLiteral("firstRunBanner"));
    banner->setFrameShape(QFrame::StyledPanel);
    auto* layout = new QHBoxLayout(banner);
    auto* text = new QLabel(
        tr("Welcome. The Studio opens on the bundled demo (MovieLens latest-small with ChatGPT's "
           "rankings). Press Ctrl+R to train a first model on it, "
           "or open Tools > Guided demo for a tour of where the LLM helps. Help > Keyboard "
           "shortcuts lists the keys."),
        banner);
    text->setTextFormat(Qt::PlainText);
    text->setWordWrap(true);
    auto* close = new QToolButton(banner);
    close->setText(tr("Got it"));
    layout->addWidget(text, 1);
    layout->addWidget(close);
    connect(close, &QToolButton::clicked, banner, &QWidget::hide);
    // It speaks of the demo: once another dataset is open it is out of date.
    connect(m_workbench, &Workbench::datasetLoaded, banner, [this, banner] {
        // The config holds the demo's paths resolved ("demo:" is gone by now).
        std::string demo = sllmr::demoDir();  // not the window's own demoDir()
        if (!demo.empty() && !demo.ends_with('/'))
            demo += '/';
        if (demo.empty() || !m_workbench->config().dataset.path.starts_with(demo))
            banner->hide();
    });
    banner->hide();
    return banner;
}

void MainWindow::showShortcuts()
{
    const QList<std::pair<QString, QString>> keys{
        {QStringLiteral("Ctrl+1 ... Ctrl+8"), tr("Go to a workflow page")},
        {QStringLiteral("Ctrl+O"), tr("Open a dataset")},
        {QStringLiteral("Ctrl+Shift+O"), tr("Open LLM scores")},
        {QStringLiteral("Ctrl+Z / Ctrl+Shift+Z"),
         tr("Undo / redo a change of a setting or a threshold")},
        {QStringLiteral("Ctrl+S"), tr("Save the run configuration")},
        {QStringLiteral("Ctrl+R"), tr("Start a run (refused while a run or a sweep trains)")},
        {QStringLiteral("Ctrl+P"), tr("Pause or continue the run or sweep in training")},
        {tr("Run > Cancel..."), tr("Cancel training (asks first; Esc never cancels)")},
        {QStringLiteral("Ctrl+Q"), tr("Quit (asks first while training)")},
        {QStringLiteral("F1"), tr("This list")},
    };
    QString html = QStringLiteral("<table cellpadding='4'>");
    for (const auto& [key, what] : keys)
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                    .arg(key.toHtmlEscaped(), what.toHtmlEscaped());
    html += QStringLiteral("</table>");
    QMessageBox box(QMessageBox::NoIcon, tr("Keyboard shortcuts"), html, QMessageBox::Close, this);
    box.setTextFormat(Qt::RichText);
    box.exec();
}

void MainWindow::showDocument(const QString& title, const QString& resource)
{
    QFile file(resource);
    if (!file.open(QIODevice::ReadOnly)) {
        showError(title, tr("The document %1 is not bundled with this build.").arg(resource));
        return;
    }
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(title);
    auto* layout = new QVBoxLayout(dialog);
    auto* browser = new QTextBrowser(dialog);
    browser->setOpenExternalLinks(true);
    browser->setMarkdown(QString::fromUtf8(file.readAll()));
    layout->addWidget(browser);
    dialog->resize(820, 720);
    dialog->show();
}

void MainWindow::createStatusBar()
{
    const QString store =
        m_databasePath.isEmpty() ? tr("(none)") : QDir::toNativeSeparators(m_databasePath);
    m_busyLabel = new QLabel(this);
    m_busyBar = new QProgressBar(this);
    m_busyBar->setRange(0, 1000);
    m_busyBar->setMaximumWidth(180);
    m_busyCancel = new QToolButton(this);
    m_busyCancel->setText(tr("Cancel"));
    m_busyCancel->setToolTip(tr("Stop loading; what was loaded before stays."));
    for (QWidget* w : std::initializer_list<QWidget*>{m_busyLabel, m_busyBar, m_busyCancel}) {
        statusBar()->addWidget(w);
        w->hide();
    }
    connect(m_busyCancel, &QToolButton::clicked, m_workbench, &Workbench::cancelLoad);
    connect(m_workbench, &Workbench::busyChanged, this, [this](bool busy, const QString& what) {
        m_busyLabel->setText(what + QStringLiteral("..."));
        m_busyBar->setValue(0);
        for (QWidget* w : std::initializer_list<QWidget*>{m_busyLabel, m_busyBar, m_busyCancel})
            w->setVisible(busy);
    });
    connect(m_workbench, &Workbench::loadProgress, this,
            [this](double fraction, const QString& stage) {
                m_busyBar->setValue(static_cast<int>(fraction * 1000.0));
                m_busyBar->setFormat(stage);
            });
    m_trainingLabel = new QLabel(this);
    m_trainingLabel->setObjectName(QStringLiteral("trainingLabel"));
    m_trainingLabel->setTextFormat(Qt::PlainText);
    statusBar()->addPermanentWidget(m_trainingLabel);
    m_storeLabel = new QLabel(tr("Store: %1").arg(store), this);
    m_storeLabel->setObjectName(QStringLiteral("storeLabel"));
    // The run count stays in view (a start-up message was replaced by the next status message).
    connect(m_runsModel, &RunsModel::refreshed, m_storeLabel, [this, store] {
        if (!m_runsModel->lastError().isEmpty()) {
            m_storeLabel->setText(tr("Store: %1 \u00b7 not readable").arg(store));
            return;
        }
        const auto runs = m_runsModel->rows().size();
        const QString count = runs == 1 ? tr("1 run") : tr("%1 runs").arg(runs);
        m_storeLabel->setText(tr("Store: %1 \u00b7 %2").arg(store, count));
    });
    m_storeLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_storeLabel->setToolTip(tr("Experiment database: %1\nDemo data: %2")
                                 .arg(store, m_demoDir.isEmpty() ? tr("(not found)") : m_demoDir));
    statusBar()->addPermanentWidget(m_storeLabel);
}

void MainWindow::restoreSettings(bool restoreLastConfig)
{
    const QByteArray geometry = kGeometry.get();
    if (geometry.isEmpty() || !restoreGeometry(geometry))
        resize(kDefaultWidth, kDefaultHeight);
    const QByteArray state = kWindowState.get();
    if (!state.isEmpty())
        restoreState(state);
    const int page = kCurrentPage.get();
    if (page >= 0 && page < m_navigation->count())
        m_navigation->setCurrentRow(page);
    if (kDarkTheme.get())
        applyTheme(true);

    m_banner->setVisible(m_firstRun);
    const QString last = kLastConfig.get();
    if (restoreLastConfig && !last.isEmpty()) {
        try {
            m_workbench->setConfig(runConfigFromJson(nlohmann::json::parse(last.toStdString())));
            return;
        } catch (const std::exception&) {
            // A config from another version or a moved file: fall back to the demo.
        }
    }
    loadDemo();
}

void MainWindow::saveSettings() const
{
    kGeometry.set(saveGeometry());
    kWindowState.set(saveState());
    kCurrentPage.set(m_navigation->currentRow());
    kLastConfig.set(QString::fromStdString(toJson(m_workbench->config()).dump()));
}

void MainWindow::loadDemo()
{
    try {
        m_workbench->setConfig(runConfigFromJson(toJson(defaultRunConfig()), {}));
    } catch (const Error& e) {
        showError(tr("Demo"), errorText(e));
    }
}

bool MainWindow::isTraining() const
{
    return m_runs->isRunning() || m_sweeps->isRunning();
}

bool MainWindow::startRun()
{
    if (m_runs->isRunning() || m_sweeps->isRunning()) {
        const QString why =
            m_runs->isRunning()
                ? tr("Run %1 is in progress: wait for it, or cancel it (Run > Cancel).")
                      .arg(m_runs->currentRunId())
                : tr("Sweep %1 is training its queue: a second training in parallel would halve "
                     "the speed of both. Wait for it, or cancel it (Run > Cancel).")
                      .arg(m_sweeps->currentSweepId());
        statusBar()->showMessage(why, kStatusMessageMs);
        return false;
    }
    if (m_workbench->isBusy()) {
        showError(tr("Start run"), tr("The data is still loading. Start the run when the status "
                                      "bar shows it has finished."));
        return false;
    }
    const RunConfig& config = m_workbench->config();
    if (config.method.name != MethodName::None && !config.scores.given()) {
        showError(tr("Start run"), tr("Method '%1' needs LLM scores. Open a score file on the "
                                      "LLM scores page, or choose method 'none'.")
                                       .arg(QString::fromStdString(toString(config.method.name))));
        return false;
    }
    m_banner->hide();
    showPage(Page::Run);
    return m_runs->start(config);
}

void MainWindow::confirmCancel()
{
    if (m_runs->isRunning()) {
        if (ask(tr("Cancel the run"),
                tr("Stop run %1 after the current batch? It is kept as 'cancelled' and can be "
                   "resumed from its last finished epoch on the Runs page.")
                    .arg(m_runs->currentRunId())))
            m_runs->cancel();
    } else if (m_sweeps->isRunning()) {
        if (ask(tr("Cancel the sweep"),
                tr("Stop sweep %1 after the current batch? Its finished runs are kept and Resume "
                   "on the Ablation page continues the queue.")
                    .arg(m_sweeps->currentSweepId())))
            m_sweeps->cancel();
    }
}

void MainWindow::syncTrainingState()
{
    const bool running = isTraining();
    const bool paused = m_runs->isPaused() || m_sweeps->isPaused();
    m_startAction->setEnabled(!running);
    m_pauseAction->setEnabled(running);
    m_cancelAction->setEnabled(running);
    m_pauseAction->setText(paused ? tr("Con&tinue") : tr("&Pause"));
    m_ablationPage->setTrainingElsewhere(m_runs->isRunning());
    QString text;
    if (m_runs->isRunning()) {
        text = tr("Run %1").arg(m_runs->currentRunId());
    } else if (m_sweeps->isRunning()) {
        const SweepItemUpdate& item = m_sweeps->currentItem();
        text = item.items > 0 ? tr("Sweep %1: run %2 of %3 (%4, seed %5)")
                                    .arg(m_sweeps->currentSweepId())
                                    .arg(item.position + 1)
                                    .arg(item.items)
                                    .arg(item.row)
                                    .arg(item.seed)
                              : tr("Sweep starting");
    }
    if (running && paused)
        text += tr(" \u00b7 Paused");
    m_trainingLabel->setText(text);
    m_trainingLabel->setVisible(running);
}

bool MainWindow::ask(const QString& title, const QString& question)
{
    QMessageBox box(QMessageBox::Question, title, question, QMessageBox::Yes | QMessageBox::No,
                    this);
    box.setObjectName(QStringLiteral("confirmDialog"));
    box.setTextFormat(Qt::PlainText);
    box.setDefaultButton(QMessageBox::No);
    return box.exec() == QMessageBox::Yes;
}

void MainWindow::runAgain(const RunConfig& config)
{
    m_workbench->setConfig(config);
    showPage(Page::ModelAndGate);
    statusBar()->showMessage(tr("Configuration loaded from the run: check it and press Ctrl+R."),
                             kStatusMessageMs);
}

void MainWindow::showError(const QString& title, const QString& message)
{
    // Window-modal but not blocking: errors from background work never stall the event loop.
    auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorDialog"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->open();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    // A run and a sweep are treated alike: ask, then stop and keep them `interrupted`.
    QString question;
    if (m_runs->isRunning())
        question = tr("Run %1 is in progress. Stop it and quit? It is kept as 'interrupted' and "
                      "can be resumed from its last finished epoch on the Runs page.")
                       .arg(m_runs->currentRunId());
    else if (m_sweeps->isRunning())
        question = tr("Sweep %1 is in progress (run %2). Stop it and quit? The sweep and its "
                      "current run are kept as 'interrupted'; Resume on the Ablation page "
                      "continues the queue from the last finished epoch.")
                       .arg(m_sweeps->currentSweepId())
                       .arg(m_sweeps->currentRunId());
    if (!question.isEmpty()) {
        if (!ask(tr("Quit"), question)) {
            event->ignore();
            return;
        }
        const QString error =
            m_runs->isRunning() ? m_runs->interruptAndWait() : m_sweeps->interruptAndWait();
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Quit"),
                                 tr("Training stopped, but it could not be marked "
                                    "'interrupted' (it stays 'cancelled' and resumes the same "
                                    "way): %1")
                                     .arg(error));
    }
    saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange && m_navigation)
        m_navigation->setStyleSheet(kNavigationStyle);  // re-reads palette(base)
    QMainWindow::changeEvent(event);
}

MainWindow::Page MainWindow::currentPage() const
{
    return static_cast<Page>(m_pages->currentIndex());
}

void MainWindow::showPage(Page page)
{
    m_navigation->setCurrentRow(static_cast<int>(page));
}

void MainWindow::about()
{
    QMessageBox::about(
        this, tr("About SLLMR Studio"),
        tr("<h3>SLLMR Studio %1</h3>"
           "<p>A workbench for training recommenders that learn when to trust an LLM's "
           "rankings (Selective LLM-Guided Regularization).</p>"
           "<p>Experiment store: <code>%2</code><br/>Demo data: <code>%3</code></p>"
           "<p>Demo data: MovieLens ml-latest-small &copy; GroupLens, University of Minnesota "
           "(research use only, see its README.txt); ChatGPT rankings from Di Palma et al., "
           "\"Evaluating ChatGPT as a Recommender System: A Rigorous Approach\" (Apache-2.0).</p>"
           "<p>Built with Qt %4, QCustomPlot and LibTorch.</p>")
            .arg(QCoreApplication::applicationVersion().toHtmlEscaped(),
                 QDir::toNativeSeparators(m_databasePath).toHtmlEscaped(),
                 m_demoDir.isEmpty() ? tr("not found")
                                     : QDir::toNativeSeparators(m_demoDir).toHtmlEscaped(),
                 QString::fromLatin1(qVersion())));
}

}  // namespace sllmr::ui
