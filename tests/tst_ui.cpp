// Studio smoke test on the offscreen platform: the main window builds and shows the workflow.
#include "main_window.h"

#include <QListWidget>
#include <QtTest>

class TestUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mainWindowShowsWorkflow();
};

void TestUi::mainWindowShowsWorkflow()
{
    QTemporaryDir dir;
    sllmr::ui::MainWindow window(dir.filePath(QStringLiteral("experiments.db")),
                                 QStringLiteral(SLLMR_DEMO_DIR));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QStringLiteral("SLLMR Studio"));
    auto* nav = window.findChild<QListWidget*>();
    QVERIFY(nav);
    QCOMPARE(nav->count(), 6);
    window.showPage(sllmr::ui::MainWindow::Page::Runs);
    QCOMPARE(window.currentPage(), sllmr::ui::MainWindow::Page::Runs);
}

QTEST_MAIN(TestUi)
#include "tst_ui.moc"
