#pragma once

// The Studio main window: a left-to-right workflow (Data -> LLM scores -> Model and gate -> Run ->
// Results -> Runs) as a navigation list beside a stack of pages, the menus with their shortcuts,
// and a status bar naming the experiment store and showing background loads. It owns the
// Workbench (data and configuration), the RunController (training off the GUI thread) and the
// runs table model, and connects them to the pages.

#include <QMainWindow>
#include <QString>

class QAction;
class QCloseEvent;
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
class RunPage;
class RunsModel;
class RunsPage;
class ScoresPage;
class Workbench;

/// The bundled demo folder (resources/demo), or an empty string when none exists. Looks, in order,
/// at the SLLMR_DEMO_DIR environment variable, `<applicationDirPath>/../share/sllmr/demo` (an
/// installed Studio) and the source tree's resources/demo (SLLMR_DEMO_DIR_DEV, a build tree).
[[nodiscard]] QString findDemoDir();

/// Applies the light (system) or a dark Fusion palette to the application.
void applyTheme(bool dark);

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// The workflow pages, in navigation order.
    enum class Page { Data, LlmScores, ModelAndGate, Run, Results, Runs, Inspector, Ablation };

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

    /// Starts a run of the current configuration (what Run > Start does).
    bool startRun();
    /// Loads the bundled demo (ml-latest-small split + ChatGPT EXP_3).
    void loadDemo();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createPages();
    void createMenus();
    void createStatusBar();
    void restoreSettings(bool restoreLastConfig);
    void saveSettings() const;
    void showError(const QString& title, const QString& message);
    void runAgain(const RunConfig& config);
    void about();

    QString m_databasePath;
    QString m_demoDir;
    Workbench* m_workbench = nullptr;
    RunController* m_runs = nullptr;
    RunsModel* m_runsModel = nullptr;

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

    QLabel* m_storeLabel = nullptr;
    QLabel* m_busyLabel = nullptr;
    QProgressBar* m_busyBar = nullptr;
    QToolButton* m_busyCancel = nullptr;
    QAction* m_startAction = nullptr;
    QAction* m_pauseAction = nullptr;
    QAction* m_cancelAction = nullptr;
};

}  // namespace sllmr::ui
