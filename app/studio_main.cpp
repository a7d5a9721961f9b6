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
#include "common/error.h"
#include "inspector_page.h"
#include "main_window.h"
#include "results_page.h"
#include "store/experiment_store.h"
#include "workbench.h"

namespace {

constexpr int kScreenshotDelayMs = 400;  // lets the first layout and paint settle

void fail(const QString& message)
{
    std::fprintf(stderr, "sllmr-studio: %s\n", qPrintable(message));
}

// The command line: every option, added to the parser at construction.
struct StudioOptions
{
    const QCommandLineOption db{QStringLiteral("db"),
                                QStringLiteral("Experiment database (default: ./experiments.db)."),
                                QStringLiteral("PATH"), QStringLiteral("experiments.db")};
    const QCommandLineOption demo{
        QStringLiteral("demo"),
        QStringLiteral("Folder with the bundled demo data (default: found)."),
        QStringLiteral("DIR")};
    const QCommandLineOption screenshot{
        QStringLiteral("screenshot"),
        QStringLiteral("Render the main window to a PNG once it is shown, then quit."),
        QStringLiteral("FILE")};
    const QCommandLineOption quitAfter{QStringLiteral("quit-after"),
                                       QStringLiteral("Quit after MS milliseconds."),
                                       QStringLiteral("MS")};
    const QCommandLineOption page{
        QStringLiteral("page"),
        QStringLiteral(
            "Open on this page: data, scores, model, run, results, runs, inspector or ablation."),
        QStringLiteral("PAGE")};
    const QCommandLineOption showRuns{
        QStringLiteral("show-runs"),
        QStringLiteral("Compare these runs on the Results page (comma-separated ids)."),
        QStringLiteral("IDS")};
    const QCommandLineOption start{QStringLiteral("start"),
                                   QStringLiteral("Start a run of the current configuration once "
                                                  "the data has loaded.")};
    const QCommandLineOption fresh{
        QStringLiteral("fresh"),
        QStringLiteral("Start from the bundled demo instead of the last configuration.")};
    const QCommandLineOption screenshotAfter{
        QStringLiteral("screenshot-after"),
        QStringLiteral("Take the --screenshot after MS milliseconds (default 400)."),
        QStringLiteral("MS"), QString::number(kScreenshotDelayMs)};
    const QCommandLineOption inspect{
        QStringLiteral("inspect"), QStringLiteral("Open the gate inspector on this completed run."),
        QStringLiteral("RUN")};
    const QCommandLineOption matrix{
        QStringLiteral("matrix"),
        QStringLiteral("Show the results matrix of this sweep in the ablation studio."),
        QStringLiteral("SWEEP")};
    const QCommandLineOption inspectUser{
        QStringLiteral("inspect-user"),
        QStringLiteral("With --inspect: drill down to this user (original id)."),
        QStringLiteral("ID")};

    explicit StudioOptions(QCommandLineParser& parser)
    {
        for (const auto* o : {&db, &demo, &screenshot, &quitAfter, &page, &showRuns, &start, &fresh,
                              &screenshotAfter, &inspect, &matrix, &inspectUser})
            parser.addOption(*o);
    }
};

// Creates or checks the experiment store first, so a foreign or newer file is reported at once
// (and left untouched), and runs left `running` by a crash show as `interrupted`. Returns the
// status-bar message; `error` is set when the store is unusable.
QString openStore(const QString& databasePath, QString& error)
{
    try {
        sllmr::ExperimentStore store(databasePath.toStdString());
        const int interrupted = store.markStaleRunsInterrupted();
        return QStringLiteral("%1 runs in the store%2")
            .arg(store.runs().size())
            .arg(interrupted > 0
                     ? QStringLiteral(", %1 marked interrupted (resume them on the Runs page)")
                           .arg(interrupted)
                     : QString());
    } catch (const sllmr::Error& e) {
        error = QString::fromStdString(e.what());
        return {};
    }
}

// --page, --show-runs, --inspect (with --inspect-user) and --matrix. False after a usage error.
bool openRequestedViews(sllmr::ui::MainWindow& window, const QCommandLineParser& parser,
                        const StudioOptions& o)
{
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
        window.showPage(static_cast<sllmr::ui::MainWindow::Page>(page));
    }
    if (parser.isSet(o.showRuns)) {
        QList<qint64> ids;
        for (const QString& id : parser.value(o.showRuns).split(QLatin1Char(',')))
            ids << id.trimmed().toLongLong();
        window.resultsPage()->showRuns(ids);
    }
    if (parser.isSet(o.inspect)) {
        auto* inspector = window.inspectorPage();
        if (parser.isSet(o.inspectUser)) {
            const QString user = parser.value(o.inspectUser);
            QObject::connect(
                inspector, &sllmr::ui::InspectorPage::opened, inspector,
                [inspector, user] { inspector->showUser(user); }, Qt::SingleShotConnection);
        }
        inspector->openRun(parser.value(o.inspect).toLongLong());
        if (!parser.isSet(o.page))
            window.showPage(sllmr::ui::MainWindow::Page::Inspector);
    }
    if (parser.isSet(o.matrix)) {
        window.ablationPage()->buildMatrix(parser.value(o.matrix).toLongLong());
        if (!parser.isSet(o.page))
            window.showPage(sllmr::ui::MainWindow::Page::Ablation);
    }
    return true;
}

// --start: start a run once the workbench has finished loading the configured data.
void startWhenLoaded(sllmr::ui::MainWindow& window)
{
    auto* workbench = window.workbench();
    auto tryStart = [&window, workbench] {
        if (!workbench->isBusy())
            window.startRun();
    };
    QObject::connect(
        workbench, &sllmr::ui::Workbench::busyChanged, &window,
        [tryStart](bool busy, const QString&) {
            if (!busy)
                tryStart();
        },
        Qt::SingleShotConnection);
}

// --screenshot FILE after the delay, then exit.
void screenshotThenExit(sllmr::ui::MainWindow& window, const QString& file, int delay)
{
    QTimer::singleShot(delay > 0 ? delay : kScreenshotDelayMs, &window, [&window, file] {
        const bool saved = window.grab().save(file, "PNG");
        if (!saved) {
            fail(QStringLiteral("--screenshot: cannot write %1").arg(file));
        }
        // exit() rather than quit(): no close event, so a screenshot does not overwrite the
        // saved window geometry.
        QCoreApplication::exit(saved ? 0 : 1);
    });
}

}  // namespace

int main(int argc, char* argv[])
{
    Q_INIT_RESOURCE(studio);  // the qrc lives in the static sllmr_ui library

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
    const StudioOptions options(parser);
    parser.process(app);

    const QString databasePath = QFileInfo(parser.value(options.db)).absoluteFilePath();
    QString demoDir = sllmr::ui::findDemoDir();
    if (parser.isSet(options.demo)) {
        const QFileInfo demo(parser.value(options.demo));
        if (!demo.isDir()) {
            fail(QStringLiteral("--demo: not a folder: %1").arg(parser.value(options.demo)));
            return 2;
        }
        demoDir = demo.absoluteFilePath();
    }
    int quitAfterMs = -1;
    if (parser.isSet(options.quitAfter)) {
        bool ok = false;
        quitAfterMs = parser.value(options.quitAfter).toInt(&ok);
        if (!ok || quitAfterMs < 0) {
            fail(QStringLiteral("--quit-after: not a number of milliseconds: %1")
                     .arg(parser.value(options.quitAfter)));
            return 2;
        }
    }
    QString storeError;
    const QString storeMessage = openStore(databasePath, storeError);

    sllmr::ui::MainWindow window(databasePath, demoDir, !parser.isSet(options.fresh));
    if (!openRequestedViews(window, parser, options))
        return 2;
    window.show();
    if (!storeError.isEmpty()) {
        QMessageBox::critical(&window, QStringLiteral("Experiment database"),
                              QStringLiteral("%1\n\nStart the Studio with --db PATH to use "
                                             "another file.")
                                  .arg(storeError));
    } else {
        window.statusBar()->showMessage(storeMessage, 10000);
    }
    if (parser.isSet(options.start))
        startWhenLoaded(window);
    if (parser.isSet(options.screenshot))
        screenshotThenExit(window, parser.value(options.screenshot),
                           parser.value(options.screenshotAfter).toInt());
    if (quitAfterMs >= 0)
        QTimer::singleShot(quitAfterMs, &app, &QCoreApplication::quit);
    return QApplication::exec();
}
