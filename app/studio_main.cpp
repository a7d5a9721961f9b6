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

#include "common/error.h"
#include "main_window.h"
#include "store/experiment_store.h"

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
    parser.addOption(dbOption);
    parser.addOption(demoOption);
    parser.addOption(screenshotOption);
    parser.addOption(quitAfterOption);
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

    sllmr::ui::MainWindow window(databasePath, demoDir);
    window.show();

    // Create or check the experiment store now, so a foreign or newer file is reported at once
    // (and left untouched) rather than on the first run.
    try {
        sllmr::ExperimentStore store(databasePath.toStdString());
        const int interrupted = store.markStaleRunsInterrupted();
        window.statusBar()->showMessage(
            QStringLiteral("%1 runs in the store%2")
                .arg(store.runs().size())
                .arg(interrupted > 0 ? QStringLiteral(", %1 marked interrupted").arg(interrupted)
                                     : QString()),
            10000);
    } catch (const sllmr::Error& e) {
        QMessageBox::critical(&window, QStringLiteral("Experiment database"),
                              QStringLiteral("%1\n\nStart the Studio with --db PATH to use "
                                             "another file.")
                                  .arg(QString::fromStdString(e.what())));
    }

    if (parser.isSet(screenshotOption)) {
        const QString file = parser.value(screenshotOption);
        QTimer::singleShot(kScreenshotDelayMs, &window, [&window, file] {
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
