#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QByteArray>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFont>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QObject>
#include <QStackedWidget>
#include <QStatusBar>
#include <QVBoxLayout>
#include <QtGlobal>

#include <array>
#include <utility>

#include "plot.h"
#include "settings.h"

namespace sllmr::ui {

namespace {

// Every QSettings key the window uses, with its type and fallback.
const SettingKey<QByteArray> kGeometry{"mainWindow/geometry", {}};
const SettingKey<QByteArray> kWindowState{"mainWindow/state", {}};
const SettingKey<int> kCurrentPage{"mainWindow/page", 0};
const SettingKey<QString> kLastDatasetDir{"paths/lastDatasetDir", {}};
const SettingKey<QString> kLastScoresDir{"paths/lastLlmScoresDir", {}};

constexpr int kDefaultWidth = 1200;
constexpr int kDefaultHeight = 760;
constexpr int kNavigationWidth = 180;
constexpr int kStatusMessageMs = 5000;

struct PageSpec
{
    MainWindow::Page page;
    const char* title;
    const char* description;
};

constexpr const char* kContext = "sllmr::ui::MainWindow";

constexpr std::array kPageSpecs{
    PageSpec{
        MainWindow::Page::Data, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Data"),
        QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                          "Load a ratings file (MovieLens CSV or a tab-separated split), map the "
                          "user and item ids, filter and split it into train, validation and "
                          "test. This page will show the users, items and density of the data "
                          "and how concentrated the ratings are on popular items.")},
    PageSpec{
        MainWindow::Page::LlmScores, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "LLM scores"),
        QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                          "Import an LLM's ranked recommendation lists (for example the ChatGPT "
                          "outputs in the demo), match them to the dataset's ids and report "
                          "what does not fit: missing users, duplicate (user, item) rows, "
                          "items the user already rated in training, ranks beyond the list "
                          "length.")},
    PageSpec{MainWindow::Page::ModelAndGate,
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Model and gate"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Choose the recommender model and the gate that decides, per user "
                               "and item, how much to trust the LLM's scores against the model's "
                               "own: gate inputs and size, loss, optimiser, learning rate, epochs "
                               "and seed.")},
    PageSpec{MainWindow::Page::Run, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Run"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Train on the CPU or a CUDA device with live loss curves and "
                               "validation metrics per epoch. Run > Start begins a run, Run > "
                               "Cancel (Esc) stops it.")},
    PageSpec{MainWindow::Page::Results, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Results"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Ranking metrics on the test split (Recall@K, NDCG@K, coverage), "
                               "overall and per user segment, compared with the baselines and with "
                               "the LLM's lists on their own.")},
    PageSpec{MainWindow::Page::Runs, QT_TRANSLATE_NOOP("sllmr::ui::MainWindow", "Runs"),
             QT_TRANSLATE_NOOP("sllmr::ui::MainWindow",
                               "Every run kept in the experiment store: its configuration, data "
                               "fingerprint and metrics, to compare runs side by side and export "
                               "them.")},
};

QString translate(const char* text)
{
    return QCoreApplication::translate(kContext, text);
}

QCustomPlot* createPopularityPlot(QWidget* parent)
{
    auto* plot = new QCustomPlot(parent);
    plot->setObjectName(QStringLiteral("popularityPlot"));
    plot->setMinimumHeight(240);

    plot->plotLayout()->insertRow(0);
    QFont titleFont = parent->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    plot->plotLayout()->addElement(
        0, 0,
        new QCPTextElement(
            plot, QCoreApplication::translate(kContext, "Item popularity (log scale)"), titleFont));

    plot->xAxis->setLabel(QCoreApplication::translate(kContext, "Items, most rated first"));
    plot->yAxis->setLabel(QCoreApplication::translate(kContext, "Ratings per item"));
    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    plot->yAxis->setNumberFormat(QStringLiteral("eb"));
    plot->yAxis->setNumberPrecision(0);
    plot->xAxis->setRange(0, 10000);
    plot->yAxis->setRange(1, 1000);

    QCPGraph* graph = plot->addGraph();
    graph->setName(QCoreApplication::translate(kContext, "Ratings per item"));
    graph->setLineStyle(QCPGraph::lsStepLeft);

    auto* placeholder = new QCPItemText(plot);
    placeholder->position->setType(QCPItemPosition::ptAxisRectRatio);
    placeholder->position->setCoords(0.5, 0.5);
    placeholder->setText(QCoreApplication::translate(kContext, "No dataset loaded"));
    placeholder->setColor(Qt::gray);
    placeholder->setObjectName(QStringLiteral("placeholder"));
    return plot;
}

}  // namespace

QString findDemoDir()
{
    const QString fromEnv = qEnvironmentVariable("SLLMR_DEMO_DIR");
    if (!fromEnv.isEmpty() && QFileInfo(fromEnv).isDir()) {
        return QDir(fromEnv).absolutePath();
    }
    if (QCoreApplication::instance() != nullptr) {
        const QString installed = QDir(QCoreApplication::applicationDirPath())
                                      .filePath(QStringLiteral("../share/sllmr/demo"));
        if (QFileInfo(installed).isDir()) {
            return QDir::cleanPath(installed);
        }
    }
#ifdef SLLMR_DEMO_DIR_DEV
    const QString sourceTree = QStringLiteral(SLLMR_DEMO_DIR_DEV);
    if (QFileInfo(sourceTree).isDir()) {
        return QDir::cleanPath(sourceTree);
    }
#endif
    return {};
}

MainWindow::MainWindow(QString databasePath, QString demoDir, QWidget* parent)
    : QMainWindow(parent), m_databasePath(std::move(databasePath)), m_demoDir(std::move(demoDir))
{
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(tr("SLLMR Studio"));

    createPages();
    createMenus();
    createStatusBar();
    restoreSettings();
}

MainWindow::~MainWindow() = default;

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
    m_navigation->setStyleSheet(
        QStringLiteral("QListWidget { padding-top: 8px; }"
                       "QListWidget::item { padding: 8px 12px; }"));

    m_pages = new QStackedWidget(central);
    m_pages->setObjectName(QStringLiteral("pages"));

    int step = 1;
    for (const PageSpec& spec : kPageSpecs) {
        const QString title = translate(spec.title);
        m_navigation->addItem(QStringLiteral("%1   %2").arg(step).arg(title));

        auto* page = new QWidget(m_pages);
        auto* pageLayout = new QVBoxLayout(page);
        pageLayout->setContentsMargins(24, 18, 24, 18);
        pageLayout->setSpacing(12);

        auto* heading =
            new QLabel(tr("Step %1 of %2: %3").arg(step).arg(kPageSpecs.size()).arg(title), page);
        QFont headingFont = heading->font();
        headingFont.setBold(true);
        headingFont.setPointSizeF(headingFont.pointSizeF() * 1.4);
        heading->setFont(headingFont);
        pageLayout->addWidget(heading);

        auto* description = new QLabel(translate(spec.description), page);
        description->setTextFormat(Qt::PlainText);
        description->setWordWrap(true);
        pageLayout->addWidget(description);

        if (spec.page == Page::Data) {
            m_popularityPlot = createPopularityPlot(page);
            pageLayout->addWidget(m_popularityPlot, 1);
        } else {
            pageLayout->addStretch(1);
        }
        m_pages->addWidget(page);
        ++step;
    }

    auto* separator = new QFrame(central);
    separator->setFrameShape(QFrame::VLine);
    separator->setFrameShadow(QFrame::Sunken);

    layout->addWidget(m_navigation);
    layout->addWidget(separator);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);

    connect(m_navigation, &QListWidget::currentRowChanged, m_pages,
            &QStackedWidget::setCurrentIndex);
    m_navigation->setCurrentRow(0);
}

void MainWindow::createMenus()
{
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    QAction* openDatasetAction =
        fileMenu->addAction(tr("Open &dataset..."), this, &MainWindow::openDataset);
    openDatasetAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_O));
    QAction* openScoresAction =
        fileMenu->addAction(tr("Open &LLM scores..."), this, &MainWindow::openLlmScores);
    openScoresAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    fileMenu->addSeparator();
    QAction* quitAction = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    quitAction->setMenuRole(QAction::QuitRole);

    QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
    m_startAction = runMenu->addAction(tr("&Start"), this, [this] {
        showPage(Page::Run);
        Q_EMIT startRequested();
    });
    m_startAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_cancelAction = runMenu->addAction(tr("&Cancel"), this, [this] { Q_EMIT cancelRequested(); });
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancelAction->setEnabled(false);

    QMenu* helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction* aboutAction = helpMenu->addAction(tr("&About SLLMR Studio"), this, &MainWindow::about);
    aboutAction->setMenuRole(QAction::AboutRole);
    helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::createStatusBar()
{
    const QString store =
        m_databasePath.isEmpty() ? tr("(none)") : QDir::toNativeSeparators(m_databasePath);
    const QString demo =
        m_demoDir.isEmpty() ? tr("(not found)") : QDir::toNativeSeparators(m_demoDir);
    m_storeLabel = new QLabel(tr("Store: %1  Demo: %2").arg(store, demo), this);
    m_storeLabel->setObjectName(QStringLiteral("storeLabel"));
    m_storeLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_storeLabel->setToolTip(tr("Experiment database: %1\nDemo data: %2").arg(store, demo));
    statusBar()->addPermanentWidget(m_storeLabel);
}

void MainWindow::restoreSettings()
{
    const QByteArray geometry = kGeometry.get();
    if (geometry.isEmpty() || !restoreGeometry(geometry)) {
        resize(kDefaultWidth, kDefaultHeight);
    }
    const QByteArray state = kWindowState.get();
    if (!state.isEmpty()) {
        restoreState(state);
    }
    const int page = kCurrentPage.get();
    if (page >= 0 && page < m_navigation->count()) {
        m_navigation->setCurrentRow(page);
    }
}

void MainWindow::saveSettings() const
{
    kGeometry.set(saveGeometry());
    kWindowState.set(saveState());
    kCurrentPage.set(m_navigation->currentRow());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    saveSettings();
    QMainWindow::closeEvent(event);
}

MainWindow::Page MainWindow::currentPage() const
{
    return static_cast<Page>(m_pages->currentIndex());
}

void MainWindow::showPage(Page page)
{
    m_navigation->setCurrentRow(static_cast<int>(page));
}

void MainWindow::setRunning(bool running)
{
    m_startAction->setEnabled(!running);
    m_cancelAction->setEnabled(running);
}

QString MainWindow::browseStartDir(const QString& subdir) const
{
    if (m_demoDir.isEmpty()) {
        return QDir::currentPath();
    }
    const QString candidate = QDir(m_demoDir).filePath(subdir);
    return QFileInfo(candidate).isDir() ? candidate : m_demoDir;
}

void MainWindow::openDataset()
{
    QString startDir = kLastDatasetDir.get();
    if (startDir.isEmpty() || !QFileInfo(startDir).isDir()) {
        startDir = browseStartDir(QStringLiteral("ml-latest-small"));
    }
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open dataset"), startDir,
                                     tr("Ratings (*.csv *.tsv *.dat *.inter);;All files (*)"));
    if (path.isEmpty()) {
        return;
    }
    kLastDatasetDir.set(QFileInfo(path).absolutePath());
    showPage(Page::Data);
    statusBar()->showMessage(tr("Dataset: %1").arg(QDir::toNativeSeparators(path)),
                             kStatusMessageMs);
    Q_EMIT datasetChosen(path);
}

void MainWindow::openLlmScores()
{
    QString startDir = kLastScoresDir.get();
    if (startDir.isEmpty() || !QFileInfo(startDir).isDir()) {
        startDir = browseStartDir(QStringLiteral("llm-rankings-ml-latest-small/chatgpt"));
    }
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open LLM scores"), startDir, tr("LLM rankings (*.tsv *.csv);;All files (*)"));
    if (path.isEmpty()) {
        return;
    }
    kLastScoresDir.set(QFileInfo(path).absolutePath());
    showPage(Page::LlmScores);
    statusBar()->showMessage(tr("LLM scores: %1").arg(QDir::toNativeSeparators(path)),
                             kStatusMessageMs);
    Q_EMIT llmScoresChosen(path);
}

void MainWindow::about()
{
    QMessageBox::about(
        this, tr("About SLLMR Studio"),
        tr("<h3>SLLMR Studio %1</h3>"
           "<p>A workbench for training recommenders that learn when to trust an LLM's "
           "rankings.</p>"
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
