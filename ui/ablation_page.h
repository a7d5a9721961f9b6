#pragma once

// The ablation studio: define a grid (methods, gate modes, gate inputs on/off, lambda values,
// backbones, seeds) over the Studio's current configuration or load a preset, see how many runs
// it expands to, and run it as a queue on a worker thread (one run at a time, resumable after a
// restart, cancel one or all). The results matrix (mean +- std over seeds per segment and
// metric, best per column, differences and paired significance tests against a reference row
// with Holm's correction) is built off the GUI thread and exported as CSV, JSON or LaTeX.
//
// The same grid file runs headless with `sllmr sweep GRID.json`. The executor controls choose who
// runs the cells: this process (local), worker processes on this machine, or a Slurm array job
// (with a preview of the batch script); a sweep run elsewhere shows its per-cell state (polled
// off the GUI thread) until its shards are collected into the database.

#include <QWidget>

#include <atomic>
#include <memory>

#include <nlohmann/json.hpp>

#include "analysis/executors.h"
#include "analysis/matrix.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;
class QTableWidget;
class QThread;

namespace sllmr::ui {

class RunsModel;
class Workbench;

class AblationPage : public QWidget
{
    Q_OBJECT

public:
    AblationPage(Workbench* workbench, RunsModel* runs, QString databasePath,
                 QWidget* parent = nullptr);
    ~AblationPage() override;

    AblationPage(const AblationPage&) = delete;
    AblationPage& operator=(const AblationPage&) = delete;
    AblationPage(AblationPage&&) = delete;
    AblationPage& operator=(AblationPage&&) = delete;

    /// The grid document in the editor.
    [[nodiscard]] QString gridText() const;
    void setGridText(const QString& text);
    /// Writes the form's choices into the editor as a grid over the current configuration.
    void buildGridFromForm();
    /// Loads resources/grids/<name>.json from the bundled presets.
    bool loadPreset(const QString& name);
    /// Expands the editor's grid; returns the number of runs (-1 and a message when invalid).
    int expand(QString* message = nullptr);
    /// Creates a sweep from the editor's grid and runs it; false when invalid or one is running.
    bool runGrid();
    /// Continues a stored sweep.
    bool resumeSweep(qint64 sweepId);
    void cancelCurrent();
    void cancelAll();
    [[nodiscard]] bool isRunning() const { return m_thread != nullptr; }
    [[nodiscard]] qint64 currentSweep() const { return m_sweepId; }
    /// Builds the matrix of sweep `sweepId` on a pool thread; `matrixReady` follows.
    void buildMatrix(qint64 sweepId, const QString& reference = {});
    [[nodiscard]] const ResultsMatrix* matrix() const { return m_matrix.get(); }
    [[nodiscard]] QTableWidget* matrixTable() const { return m_matrixTable; }
    [[nodiscard]] QTableWidget* queueTable() const { return m_queue; }
    bool exportMatrix(const QString& path);

    /// The executor controls as settings (these override the grid's "executor" key).
    [[nodiscard]] ExecutorSettings executorSettings() const;
    void setExecutorSettings(const ExecutorSettings& settings);
    /// The batch script(s) a Slurm sweep of the editor's grid would submit; "" for other
    /// executors or an invalid grid.
    [[nodiscard]] QString scriptPreview() const;
    /// Merges the completed shards of a processes/Slurm sweep on a pool thread; `collected`
    /// follows.
    void collectSweep(qint64 sweepId);
    /// Reads the per-cell state of a processes/Slurm sweep on a pool thread (squeue, shards);
    /// `cellStatusReady` follows. The page polls this while such a sweep is selected.
    void refreshCellStatus(qint64 sweepId);
    [[nodiscard]] const std::vector<CellStatus>& cellStatus() const { return m_cells; }

Q_SIGNALS:
    void sweepStarted(qint64 sweepId, int items);
    void itemStarted(int position, const QString& row, qint64 runId);
    void itemFinished(int position, const QString& status);
    void sweepFinished(qint64 sweepId, const QString& status);
    void matrixReady();
    void cellStatusReady(qint64 sweepId);
    void collected(qint64 sweepId, int imported, int notCollected);
    /// A Slurm sweep was submitted: its array job ids.
    void submitted(qint64 sweepId, const QStringList& jobIds);
    void failed(const QString& message);
    /// The user asked to inspect a run of the matrix.
    void inspectRequested(qint64 runId);

private:
    void launch(qint64 sweepId);
    void launchElsewhere(qint64 sweepId, const ExecutorSettings& settings, bool resuming);
    QWidget* createExecutorBox(QWidget* parent);
    void updateExecutorControls();
    void updateScriptPreview();
    [[nodiscard]] QString sweepFolder(qint64 sweepId) const;
    void refreshSweeps();
    void refreshQueue(qint64 sweepId);
    void showMatrix();
    void teardown();

    Workbench* m_workbench;
    RunsModel* m_runs;
    QString m_databasePath;
    QThread* m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancelCurrent;
    std::shared_ptr<std::atomic<bool>> m_cancelAll;
    qint64 m_sweepId = 0;
    std::unique_ptr<ResultsMatrix> m_matrix;
    int m_matrixRequest = 0;

    // Grid form
    QListWidget* m_variants = nullptr;
    QLineEdit* m_lambdas = nullptr;
    QListWidget* m_backbones = nullptr;
    QCheckBox* m_varyCold = nullptr;
    QCheckBox* m_varyTail = nullptr;
    QCheckBox* m_varyQ = nullptr;
    QLineEdit* m_seeds = nullptr;
    QComboBox* m_preset = nullptr;
    QPlainTextEdit* m_editor = nullptr;
    QLabel* m_expansion = nullptr;
    // Queue
    QComboBox* m_sweepPicker = nullptr;
    QTableWidget* m_queue = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_cancelOne = nullptr;
    QPushButton* m_cancelEvery = nullptr;
    // Matrix
    QComboBox* m_reference = nullptr;
    // Executor
    QComboBox* m_executor = nullptr;
    QSpinBox* m_jobs = nullptr;
    QWidget* m_slurmBox = nullptr;
    QLineEdit* m_partition = nullptr;
    QLineEdit* m_time = nullptr;
    QSpinBox* m_cpus = nullptr;
    QLineEdit* m_mem = nullptr;
    QLineEdit* m_account = nullptr;
    QSpinBox* m_throttle = nullptr;
    QPlainTextEdit* m_sbatchExtra = nullptr;
    QPlainTextEdit* m_scriptPreview = nullptr;
    QPushButton* m_collect = nullptr;
    QTimer* m_statusTimer = nullptr;
    int m_statusRequest = 0;
    bool m_statusInFlight = false;
    qint64 m_cellsSweep = 0;  // the sweep m_cells belongs to
    std::vector<CellStatus> m_cells;
    QTableWidget* m_matrixTable = nullptr;
    QLabel* m_matrixNote = nullptr;
};

}  // namespace sllmr::ui
