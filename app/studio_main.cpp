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
    const QCommandLineOption dbOption(
        QStringLiteral("db"), QStringLiteral("Experiment database (default: ./experiments.db)."),
        QStringLiteral("PATH"), QStringLiteral("experiments.db"));
    const QCommandLineOption demoOption(
        QStringLiteral("demo"),
        QStringLiteral("Folder with the bundled demo data (default: found)."),
        QStringLiteral("DIR"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Render the main window to a PNG once it is shown, then quit."),
        QStringLiteral("FILE"));
    const QCommandLineOption quitAfterOption(QStringLiteral("quit-after"),
                                             QStringLiteral("Quit after MS milliseconds."),
                                             QStringLiteral("MS"));
    const QCommandLineOption pageOption(
        QStringLiteral("page"),
        QStringLiteral(
            "Open on this page: data, scores, model, run, results, runs, inspector or ablation."),
        QStringLiteral("PAGE"));
    const QCommandLineOption showRunsOption(
        QStringLiteral("show-runs"),
        QStringLiteral("Compare these runs on the Results page (comma-separated ids)."),
        QStringLiteral("IDS"));
    const QCommandLineOption startOption(
        QStringLiteral("start"), QStringLiteral("Start a run of the current configuration once "
                                                "the data has loaded."));
    const QCommandLineOption freshOption(
        QStringLiteral("fresh"),
        QStringLiteral("Start from the bundled demo instead of the last configuration."));
    parser.addOption(dbOption);
    parser.addOption(demoOption);
    parser.addOption(screenshotOption);
    parser.addOption(quitAfterOption);
    parser.addOption(pageOption);
    parser.addOption(showRunsOption);
    parser.addOption(startOption);
    const QCommandLineOption screenshotAfterOption(
        QStringLiteral("screenshot-after"),
        QStringLiteral("Take the --screenshot after MS milliseconds (default 400)."),
        QStringLiteral("MS"), QString::number(kScreenshotDelayMs));
    const QCommandLineOption inspectOption(
        QStringLiteral("inspect"), QStringLiteral("Open the gate inspector on this completed run."),
        QStringLiteral("RUN"));
    const QCommandLineOption matrixOption(
        QStringLiteral("matrix"),
        QStringLiteral("Show the results matrix of this sweep in the ablation studio."),
        QStringLiteral("SWEEP"));
    const QCommandLineOption userOption(
        QStringLiteral("inspect-user"),
        QStringLiteral("With --inspect: drill down to this user (original id)."),
        QStringLiteral("ID"));
    parser.addOption(freshOption);
    parser.addOption(screenshotAfterOption);
    parser.addOption(inspectOption);
    parser.addOption(matrixOption);
    parser.addOption(userOption);
    parser.process(app);

    const QString databasePath = QFileInfo(parser.value(dbOption)).absoluteFilePath();
    QString demoDir = sllmr::ui::findDemoDir();
    if (parser.isSet(demoOption)) {
        const QFileInfo demo(parser.value(demoOption));
        if (!demo.isDir()) {
            fail(QStringLiteral("--demo: not a folder: %1").arg(parser.value(demoOption)));
            return 2;
        }
        demoDir = demo.absoluteFilePath();
    }

    int quitAfterMs = -1;
    if (parser.isSet(quitAfterOption)) {
        bool ok = false;
        quitAfterMs = parser.value(quitAfterOption).toInt(&ok);
        if (!ok || quitAfterMs < 0) {
            fail(QStringLiteral("--quit-after: not a number of milliseconds: %1")
                     .arg(parser.value(quitAfterOption)));
            return 2;
        }
    }

    // Create or check the experiment store first, so a foreign or newer file is reported at
    // once (and left untouched), and runs left `running` by a crash show as `interrupted`.
    QString storeMessage;
    QString storeError;
    try {
        sllmr::ExperimentStore store(databasePath.toStdString());
        const int interrupted = store.markStaleRunsInterrupted();
        storeMessage =
            QStringLiteral("%1 runs in the store%2")
                .arg(store.runs().size())
                .arg(interrupted > 0
                         ? QStringLiteral(", %1 marked interrupted (resume them on the Runs page)")
                               .arg(interrupted)
                         : QString());
    } catch (const sllmr::Error& e) {
        storeError = QString::fromStdString(e.what());
    }

    sllmr::ui::MainWindow window(databasePath, demoDir, !parser.isSet(freshOption));
    if (parser.isSet(pageOption)) {
        const QStringList pages{QStringLiteral("data"),      QStringLiteral("scores"),
                                QStringLiteral("model"),     QStringLiteral("run"),
                                QStringLiteral("results"),   QStringLiteral("runs"),
                                QStringLiteral("inspector"), QStringLiteral("ablation")};
        const int page = static_cast<int>(pages.indexOf(parser.value(pageOption).toLower()));
        if (page < 0) {
            fail(QStringLiteral("--page: one of %1").arg(pages.join(QStringLiteral(", "))));
            return 2;
        }
        window.showPage(static_cast<sllmr::ui::MainWindow::Page>(page));
    }
    if (parser.isSet(showRunsOption)) {
        QList<qint64> ids;
        for (const QString& id : parser.value(showRunsOption).split(QLatin1Char(',')))
            ids << id.trimmed().toLongLong();
        window.resultsPage()->showRuns(ids);
    }
    if (parser.isSet(inspectOption)) {
        auto* inspector = window.inspectorPage();
        if (parser.isSet(userOption)) {
            const QString user = parser.value(userOption);
            QObject::connect(
                inspector, &sllmr::ui::InspectorPage::opened, inspector,
                [inspector, user] { inspector->showUser(user); }, Qt::SingleShotConnection);
        }
        inspector->openRun(parser.value(inspectOption).toLongLong());
        if (!parser.isSet(pageOption))
            window.showPage(sllmr::ui::MainWindow::Page::Inspector);
    }
    if (parser.isSet(matrixOption)) {
        window.ablationPage()->buildMatrix(parser.value(matrixOption).toLongLong());
        if (!parser.isSet(pageOption))
            window.showPage(sllmr::ui::MainWindow::Page::Ablation);
    }
    window.show();
    if (!storeError.isEmpty()) {
        QMessageBox::critical(&window, QStringLiteral("Experiment database"),
                              QStringLiteral("%1\n\nStart the Studio with --db PATH to use "
                                             "another file.")
                                  .arg(storeError));
    } else {
        window.statusBar()->showMessage(storeMessage, 10000);
    }
    if (parser.isSet(startOption)) {
        // Start once the workbench has finished loading the configured data.
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

    if (parser.isSet(screenshotOption)) {
        const QString file = parser.value(screenshotOption);
        const int delay = parser.value(screenshotAfterOption).toInt();
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
    if (quitAfterMs >= 0) {
        QTimer::singleShot(quitAfterMs, &app, &QCoreApplication::quit);
    }

    return QApplication::exec();
}
