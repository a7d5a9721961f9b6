#pragma once

// The Studio main window: a left-to-right workflow (Data -> LLM scores -> Model and gate -> Run ->
// Results -> Runs) as a navigation list beside a stack of pages, plus the menus and a status bar
// naming the experiment store. The pages are placeholders for now; the window only forwards the
// user's requests as signals.

#include <QMainWindow>
#include <QString>

class QAction;
class QCloseEvent;
class QCustomPlot;
class QLabel;
class QListWidget;
class QStackedWidget;

namespace sllmr::ui {

/// The bundled demo folder (resources/demo), or an empty string when none exists. Looks, in order,
/// at the SLLMR_DEMO_DIR environment variable, `<applicationDirPath>/../share/sllmr/demo` (an
/// installed Studio) and the source tree's resources/demo (SLLMR_DEMO_DIR_DEV, a build tree).
[[nodiscard]] QString findDemoDir();

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// The workflow pages, in navigation order.
    enum class Page { Data, LlmScores, ModelAndGate, Run, Results, Runs };

    explicit MainWindow(QString databasePath, QString demoDir, QWidget* parent = nullptr);
    ~MainWindow() override;

    MainWindow(const MainWindow&) = delete;
    MainWindow& operator=(const MainWindow&) = delete;
    MainWindow(MainWindow&&) = delete;
    MainWindow& operator=(MainWindow&&) = delete;

    [[nodiscard]] const QString& databasePath() const { return m_databasePath; }
    [[nodiscard]] const QString& demoDir() const { return m_demoDir; }

    [[nodiscard]] Page currentPage() const;
    void showPage(Page page);

    /// Enables Run > Cancel and disables Run > Start while a run is in progress, and back.
    void setRunning(bool running);

    /// The (still empty) item popularity plot on the Data page.
    [[nodiscard]] QCustomPlot* popularityPlot() const { return m_popularityPlot; }

Q_SIGNALS:
    void datasetChosen(const QString& path);
    void llmScoresChosen(const QString& path);
    void startRequested();
    void cancelRequested();

protected:
    void closeEvent(QCloseEvent* event) override;

private Q_SLOTS:
    void openDataset();
    void openLlmScores();
    void about();

private:
    void createPages();
    void createMenus();
    void createStatusBar();
    void restoreSettings();
    void saveSettings() const;
    [[nodiscard]] QString browseStartDir(const QString& subdir) const;

    QString m_databasePath;
    QString m_demoDir;

    QListWidget* m_navigation = nullptr;
    QStackedWidget* m_pages = nullptr;
    QCustomPlot* m_popularityPlot = nullptr;
    QLabel* m_storeLabel = nullptr;

    QAction* m_startAction = nullptr;
    QAction* m_cancelAction = nullptr;
};

}  // namespace sllmr::ui
