// sllmr-studio: the desktop Studio. A thin main: options, the main window, nothing else.

#include <QApplication>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QPixmap>
#include <QStatusBar>
#include <QString>
#include <QTimer>

#include <cstdio>

#include "ablation_page.h"
#include "common/paths.h"
#include "common/torch_runtime.h"
#include "engine/store_queries.h"
#include "engine/workbench.h"
#include "inspector_page.h"
#include "main_window.h"
#include "results_page.h"
#include "train/run_config.h"

namespace {

constexpr int kScreenshotDelayMs = 400;  // lets the first layout and paint settle

void fail(const QString& message)
{
    std::fprintf(stderr, "sllmr-studio: %s\n", qPrintable(message));
}

// The command-line options, declared once.
struct Options
{
    QCommandLineOption db{QStringLiteral("db"),
                          QStringLiteral("Experiment database (default: ./experiments.db)."),
                          QStringLiteral("PATH"), QStringLiteral("experiments.db")};
    QCommandLineOption demo{QStringLiteral("demo"),
                            QStringLiteral("Folder with the bundled demo data (default: found)."),
                            QStringLiteral("DIR")};
    QCommandLineOption screenshot{
        QStringLiteral("screenshot"),
        QStringLiteral("Render the main window to a PNG once it is shown, then quit."),
        QStringLiteral("FILE")};
    QCommandLineOption quitAfter{QStringLiteral("quit-after"),
                                 QStringLiteral("Quit after MS milliseconds."),
                                 QStringLiteral("MS")};
    QCommandLineOption page{
        QStringLiteral("page"),
        QStringLiteral(
            "Open on this page: data, scores, model, run, results, runs, inspector or ablation."),
        QStringLiteral("PAGE")};
    QCommandLineOption showRuns{
        QStringLiteral("show-runs"),
        QStringLiteral("Compare these runs on the Results page (comma-separated ids)."),
        QStringLiteral("IDS")};
    QCommandLineOption start{QStringLiteral("start"),
                             QStringLiteral("Start a run of the current configuration once the "
                                            "data has loaded.")};
    QCommandLineOption fresh{
        QStringLiteral("fresh"),
        QStringLiteral("Start from the bundled demo instead of the last configuration.")};
    QCommandLineOption screenshotAfter{
        QStringLiteral("screenshot-after"),
        QStringLiteral("Take the --screenshot after MS milliseconds (default 400)."),
        QStringLiteral("MS"), QString::number(kScreenshotDelayMs)};
    QCommandLineOption inspect{QStringLiteral("inspect"),
                               QStringLiteral("Open the gate inspector on this completed run."),
                               QStringLiteral("RUN")};
    QCommandLineOption matrix{
        QStringLiteral("matrix"),
        QStringLiteral("Show the results matrix of this sweep in the ablation studio."),
        QStringLiteral("SWEEP")};
    QCommandLineOption user{
        QStringLiteral("inspect-user"),
        QStringLiteral("With --inspect: drill down to this user (original id)."),
        QStringLiteral("ID")};

    void addTo(QCommandLineParser& parser) const
    {
        for (const QCommandLineOption* o :
             {&db, &demo, &screenshot, &quitAfter, &page, &showRuns, &start, &fresh,
              &screenshotAfter, &inspect, &matrix, &user})
            parser.addOption(*o);
    }
};

// What the options resolve to before the window exists; `exitCode` >= 0 means stop now.
struct Startup
{
    QString databasePath;
    QString demoDir;
    int quitAfterMs = -1;
    int exitCode = -1;
};

Startup resolveStartup(const QCommandLineParser& parser, const Options& o)
{
    Startup s;
    s.databasePath = QFileInfo(parser.value(o.db)).absoluteFilePath();
    s.demoDir = QString::fromStdString(sllmr::demoDir());
    if (parser.isSet(o.demo)) {
        const QFileInfo demo(parser.value(o.demo));
        if (!demo.isDir()) {
            fail(QStringLiteral("--demo: not a folder: %1").arg(parser.value(o.demo)));
            s.exitCode = 2;
            return s;
        }
        s.demoDir = demo.absoluteFilePath();
    }
    if (parser.isSet(o.quitAfter)) {
        bool ok = false;
        s.quitAfterMs = parser.value(o.quitAfter).toInt(&ok);
        if (!ok || s.quitAfterMs < 0) {
            fail(QStringLiteral("--quit-after: not a number of milliseconds: %1")
                     .arg(parser.value(o.quitAfter)));
            s.exitCode = 2;
        }
    }
    return s;
}

// --page, --show-runs, --inspect, --matrix: false after a usage error.
bool openRequestedViews(sllmr::ui::MainWindow& window, const QCommandLineParser& parser,
                        const Options& o)
{
    using sllmr::ui::MainWindow;
    if (parser.isSet(o.page)) {
        const QStringList pages{QStringLiteral("data"),      QStringLiteral("scores"),
                                QStringLiteral("model"),     QStringLiteral("run"),
                                QStringLiteral("results"),   QStringLiteral("runs"),
                                QStringLiteral("inspector"), QStringLiteral("ablation")};
        const int page = static_cast<int>(pages.indexOf(parser.value(o.page).toLower()));
        if (page < 0) {
            fail(QStringLiteral("--page: one of %1").arg(pages.join(QStringLiteral(", "))));
            return false;
        }
        window.showPage(static_cast<MainWindow::Page>(page));
    }
    if (parser.isSet(o.showRuns)) {
        QList<qint64> ids;
        for (const QString& id : parser.value(o.showRuns).split(QLatin1Char(',')))
            ids << id.trimmed().toLongLong();
        window.resultsPage()->showRuns(ids);
    }
    if (parser.isSet(o.inspect)) {
        auto* inspector = window.inspectorPage();
        if (parser.isSet(o.user)) {
            const QString user = parser.value(o.user);
            QObject::connect(
                inspector, &sllmr::ui::InspectorPage::opened, inspector,
                [inspector, user] { inspector->showUser(user); }, Qt::SingleShotConnection);
        }
        inspector->openRun(parser.value(o.inspect).toLongLong());
        if (!parser.isSet(o.page))
            window.showPage(MainWindow::Page::Inspector);
    }
    if (parser.isSet(o.matrix)) {
        window.ablationPage()->buildMatrix(parser.value(o.matrix).toLongLong());
        if (!parser.isSet(o.page))
            window.showPage(MainWindow::Page::Ablation);
    }
    return true;
}

// --start, --screenshot, --quit-after: what happens once the window is shown.
void scheduleActions(sllmr::ui::MainWindow& window, const QCommandLineParser& parser,
                     const Options& o, int quitAfterMs)
{
    if (parser.isSet(o.start)) {
        // Start once the workbench has finished loading the configured data.
        auto* workbench = window.workbench();
        QObject::connect(
            workbench, &sllmr::ui::Workbench::busyChanged, &window,
            [&window, workbench](bool busy, const QString&) {
                if (!busy && !workbench->isBusy())
                    window.startRun();
            },
            Qt::SingleShotConnection);
    }
    if (parser.isSet(o.screenshot)) {
        const QString file = parser.value(o.screenshot);
        const int delay = parser.value(o.screenshotAfter).toInt();
        QTimer::singleShot(delay > 0 ? delay : kScreenshotDelayMs, &window, [&window, file] {
            const bool saved = window.grab().save(file, "PNG");
            if (!saved)
                fail(QStringLiteral("--screenshot: cannot write %1").arg(file));
            // exit() rather than quit(): no close event, so a screenshot does not overwrite the
            // saved window geometry.
            QCoreApplication::exit(saved ? 0 : 1);
        });
    }
    if (quitAfterMs >= 0)
        QTimer::singleShot(quitAfterMs, qApp, &QCoreApplication::quit);
}

}  // namespace

int main(int argc, char* argv[])
{
    Q_INIT_RESOURCE(studio);           // the qrc lives in the static sllmr_ui library
    sllmr::installTensorBlockCache();  // before any other thread

    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("SLLMR"));
    QApplication::setApplicationName(QStringLiteral("SLLMR Studio"));
    QApplication::setApplicationVersion(QStringLiteral(SLLMR_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/sllmr.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("SLLMR Studio: train recommenders that learn when to trust an LLM."));
    parser.addHelpOption();
    parser.addVersionOption();
    const Options options;
    options.addTo(parser);
    parser.process(app);

    const Startup startup = resolveStartup(parser, options);
    if (startup.exitCode >= 0)
        return startup.exitCode;
    const sllmr::ui::StoreCheck store = sllmr::ui::checkStore(startup.databasePath);

    sllmr::ui::MainWindow window(startup.databasePath, startup.demoDir,
                                 !parser.isSet(options.fresh));
    if (!openRequestedViews(window, parser, options))
        return 2;
    window.show();
    if (!store.error.isEmpty()) {
        QMessageBox::critical(&window, QStringLiteral("Experiment database"),
                              QStringLiteral("%1\n\nStart the Studio with --db PATH to use "
                                             "another file.")
                                  .arg(store.error));
    } else if (!store.message.isEmpty()) {
        window.statusBar()->showMessage(store.message, 10000);
    }
    scheduleActions(window, parser, options, startup.quitAfterMs);
    return QApplication::exec();
}
