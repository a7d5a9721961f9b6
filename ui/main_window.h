#pragma once

// The Studio main window: a left-to-right workflow (Data -> LLM scores -> Model and gate -> Run ->
// Results -> Runs) as a navigation list beside a stack of pages, the menus with their shortcuts,
// and a status bar naming the experiment store and showing background loads and training. It
// owns the engine objects (ui/engine: the Workbench with the data and configuration, the
// RunController and the SweepController that train off the GUI thread, the runs table model) and
// connects them to the pages; pages never reach back into it. A run and a sweep are treated
// alike: one at a time (Ctrl+R is refused while either trains), the same pause and cancel (with
// a confirmation, never a global Esc), and quitting asks first and leaves them `interrupted`.

#include <QMainWindow>
#include <QString>

#include <functional>

#include "studio_page.h"
#include "teaching_demo.h"

class QAction;
class QCloseEvent;
class QDockWidget;
class QLabel;
class QListWidget;
class QProgressBar;
class QStackedWidget;
class QToolButton;

namespace sllmr {
struct RunConfig;
}

namespace sllmr::ui {

class AblationPage;
class DataPage;
class InspectorPage;
class ScoringDialog;
class TeachingDemo;
class ModelPage;
class ResultsPage;
class RunController;
class SweepController;
class RunPage;
class RunsModel;
class RunsPage;
class ScoresPage;
class Workbench;

/// Applies the light (system) or a dark Fusion palette to the application.
void applyTheme(bool dark);

class MainWindow : public QMainWindow, public DemoHost
{
    Q_OBJECT

public:
    /// The workflow pages, in navigation order.
    using Page = StudioPage;
    /// Asks a yes/no question; true for yes. The default shows a QMessageBox.
    using Confirm = std::function<bool(const QString& title, const QString& question)>;

    /// `restoreLastConfig`: start from the configuration saved at the last quit (else the demo).
    MainWindow(QString databasePath, QString demoDir, bool restoreLastConfig = true,
               QWidget* parent = nullptr);
    ~MainWindow() override;

    MainWindow(const MainWindow&) = delete;
    MainWindow& operator=(const MainWindow&) = delete;
    MainWindow(MainWindow&&) = delete;
    MainWindow& operator=(MainWindow&&) = delete;

    [[nodiscard]] const QString& databasePath() const { return m_databasePath; }
    [[nodiscard]] const QString& demoDir() const { return m_demoDir; }

    [[nodiscard]] Page currentPage() const;
    void showPage(Page page);

    [[nodiscard]] Workbench* workbench() const { return m_workbench; }
    [[nodiscard]] RunController* runController() const { return m_runs; }
    [[nodiscard]] SweepController* sweepController() const { return m_sweeps; }
    [[nodiscard]] RunsModel* runsModel() const { return m_runsModel; }
    [[nodiscard]] DataPage* dataPage() const { return m_dataPage; }
    [[nodiscard]] ScoresPage* scoresPage() const { return m_scoresPage; }
    [[nodiscard]] ModelPage* modelPage() const { return m_modelPage; }
    [[nodiscard]] RunPage* runPage() const { return m_runPage; }
    [[nodiscard]] ResultsPage* resultsPage() const { return m_resultsPage; }
    [[nodiscard]] RunsPage* runsPage() const { return m_runsPage; }
    [[nodiscard]] InspectorPage* inspectorPage() const { return m_inspectorPage; }
    [[nodiscard]] AblationPage* ablationPage() const { return m_ablationPage; }
    /// The LLM scoring dialog and the guided demo (created on first use).
    ScoringDialog* scoringDialog();
    TeachingDemo* teachingDemo();

    /// Starts a run of the current configuration (what Run > Start does); refused (with a message
    /// in the status bar) while a run or a sweep trains.
    bool startRun();
    /// Asks, then cancels the run or the sweep in training (what Run > Cancel does).
    void confirmCancel();
    [[nodiscard]] bool isTraining() const;
    /// Loads the bundled demo (ml-latest-small split + ChatGPT EXP_3).
    void loadDemo();
    /// The first-run banner (shown when the Studio starts without saved settings).
    [[nodiscard]] QWidget* firstRunBanner() const { return m_banner; }

    // DemoHost
    void showDemoPage(StudioPage page) override { showPage(page); }
    [[nodiscard]] const LoadedState& demoState() const override;
    bool runDemoGrid() override;
    [[nodiscard]] qint64 demoMatrixRun(const std::string& row) const override;
    void inspectRun(qint64 runId) override;
    [[nodiscard]] qint64 demoInspectedRun() const override;
    [[nodiscard]] QString demoDirectionsSummary() const override;

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void createEngine();
    void createPages();
    QWidget* createBanner(QWidget* parent);
    void createMenus();
    void createRunMenu();
    void createHelpMenu();
    void createStatusBar();
    void connectTraining();
    void connectPages();
    void syncTrainingState();
    bool ask(const QString& title, const QString& question);
    void showDocument(const QString& title, const QString& resource);
    void showShortcuts();
    void restoreSettings(bool restoreLastConfig);
    void saveSettings() const;
    void showError(const QString& title, const QString& message);
    void runAgain(const RunConfig& config);
    void about();

    QString m_databasePath;
    QString m_demoDir;
    Workbench* m_workbench = nullptr;
    RunController* m_runs = nullptr;
    SweepController* m_sweeps = nullptr;
    RunsModel* m_runsModel = nullptr;
    bool m_firstRun = false;

    QListWidget* m_navigation = nullptr;
    QStackedWidget* m_pages = nullptr;
    DataPage* m_dataPage = nullptr;
    ScoresPage* m_scoresPage = nullptr;
    ModelPage* m_modelPage = nullptr;
    RunPage* m_runPage = nullptr;
    ResultsPage* m_resultsPage = nullptr;
    RunsPage* m_runsPage = nullptr;
    InspectorPage* m_inspectorPage = nullptr;
    AblationPage* m_ablationPage = nullptr;
    ScoringDialog* m_scoringDialog = nullptr;
    TeachingDemo* m_teachingDemo = nullptr;
    QDockWidget* m_demoDock = nullptr;

    QWidget* m_banner = nullptr;
    QLabel* m_storeLabel = nullptr;
    QLabel* m_trainingLabel = nullptr;
    QLabel* m_busyLabel = nullptr;
    QProgressBar* m_busyBar = nullptr;
    QToolButton* m_busyCancel = nullptr;
    QAction* m_startAction = nullptr;
    QAction* m_pauseAction = nullptr;
    QAction* m_cancelAction = nullptr;
};

}  // namespace sllmr::ui
