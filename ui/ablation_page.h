#pragma once

// The ablation studio: define a grid (methods, gate modes, gate inputs on/off, lambda values,
// backbones, seeds) over the Studio's current configuration or load a preset, see how many runs
// it expands to, and run it as a queue through the SweepController (one run at a time,
// resumable after a restart, cancel one or all). The grid file in the editor is the one source
// of truth: every change of the form rewrites it at once, and the form is read back from it
// (disabled, with the reason, when the file holds settings the form cannot show). "Run grid"
// runs exactly the file as shown. The results matrix (mean +- std over seeds per segment and
// metric, best per column, differences and paired significance tests against a reference row
// with Holm's correction) is built as a job and exported as CSV, JSON or LaTeX.
//
// The same grid file runs headless with `sllmr sweep GRID.json`. Who runs the cells is the grid's
// "executor" key, edited by an ExecutorBox: this Studio (local), worker processes on this
// machine, or a Slurm array job (with a preview of its batch script). A sweep run by processes or
// Slurm shows each cell's state in the queue (read by a job, polled while cells are pending or
// running and the page is shown) and is brought into the database by Collect.

#include <QWidget>

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "analysis/grid.h"
#include "analysis/matrix.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTimer;

namespace sllmr::ui {

class ExecutorBox;
class JobRunner;
class RunsModel;
class SweepController;
class Workbench;

class AblationPage : public QWidget
{
    Q_OBJECT

public:
    AblationPage(Workbench* workbench, RunsModel* runs, SweepController* sweeps,
                 QString databasePath, QWidget* parent = nullptr);
    ~AblationPage() override;

    AblationPage(const AblationPage&) = delete;
    AblationPage& operator=(const AblationPage&) = delete;
    AblationPage(AblationPage&&) = delete;
    AblationPage& operator=(AblationPage&&) = delete;

    /// The grid document in the editor.
    [[nodiscard]] QString gridText() const;
    void setGridText(const QString& text);
    /// Replaces the grid file by the form's choices over the Studio's current configuration.
    void buildGridFromForm();
    /// The form's seeds field and variant list (tests drive the form through them).
    [[nodiscard]] QLineEdit* seedsEdit() const { return m_seeds; }
    [[nodiscard]] QListWidget* variantList() const { return m_variants; }
    /// False while the file holds settings the form cannot show.
    [[nodiscard]] bool formShowsGrid() const;
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
    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] qint64 currentSweep() const;
    /// A single run trains elsewhere: Run grid and Resume wait for it.
    void setTrainingElsewhere(bool running);
    /// Builds the matrix of sweep `sweepId` on a pool thread; `matrixReady` follows.
    void buildMatrix(qint64 sweepId, const QString& reference = {});
    [[nodiscard]] const ResultsMatrix* matrix() const { return m_matrix.get(); }
    [[nodiscard]] QTableWidget* matrixTable() const { return m_matrixTable; }
    [[nodiscard]] QTableWidget* queueTable() const { return m_queue; }
    bool exportMatrix(const QString& path);

    [[nodiscard]] ExecutorBox* executorBox() const { return m_executorBox; }
    /// Merges the completed shards of a processes or Slurm sweep into the database (a job;
    /// `collected` follows).
    void collectSweep(qint64 sweepId);
    /// The sweep the queue shows.
    [[nodiscard]] qint64 shownSweep() const;
    /// Selects sweep `sweepId` in the picker (its queue is read again).
    void showSweep(qint64 sweepId);

Q_SIGNALS:
    void sweepStarted(qint64 sweepId, int items);
    void itemStarted(int position, const QString& row, qint64 runId);
    void itemFinished(int position, const QString& status);
    void sweepFinished(qint64 sweepId, const QString& status);
    void matrixReady();
    /// The queue was read again (for a processes or Slurm sweep: with its cells' state).
    void queueShown();
    /// A Slurm sweep's cells were submitted.
    void submitted(qint64 sweepId, const QStringList& jobIds);
    void collected(qint64 sweepId, int imported, int notCollected);
    void failed(const QString& message);
    /// The user asked to inspect a run of the matrix.
    void inspectRequested(qint64 runId);

private:
    QWidget* createGridForm(QWidget* parent);
    QWidget* createEditor(QWidget* parent);
    QWidget* createQueue(QWidget* parent);
    QWidget* createMatrixView(QWidget* parent);
    void connectSweeps();
    void syncButtons();
    /// The grid parts the form decides: variants, axes, seeds, reference.
    [[nodiscard]] nlohmann::json formGridParts() const;
    /// Writes the form's parts into `grid` and shows it in the editor.
    void applyForm(nlohmann::json grid);
    /// The editor's grid when it parses as a JSON object.
    [[nodiscard]] std::optional<nlohmann::json> editorGrid() const;
    /// Shows `grid` in the editor (without reading it back into the form) and expands it.
    void showGrid(const nlohmann::json& grid);
    void writeFormIntoGrid();
    void readFormFromGrid();
    /// The executor box's settings into the grid file's "executor" key (removed for local).
    void writeExecutorIntoGrid();
    void applyExecutor(nlohmann::json& grid) const;
    /// The batch script preview for the editor's grid.
    void updateScript(const Grid& grid, const GridExpansion& expansion);
    /// Why the form cannot show `grid`; empty when it can.
    [[nodiscard]] QString formCannotShow(const nlohmann::json& grid) const;
    void refreshSweeps();
    void refreshQueue(qint64 sweepId);
    void showMatrix();
    void fillSegmentFilter(const ResultsMatrix& m);

    Workbench* m_workbench;
    RunsModel* m_runs;
    SweepController* m_sweeps;
    QString m_databasePath;
    JobRunner* m_jobs;
    qint64 m_sweepId = 0;
    bool m_trainingElsewhere = false;
    bool m_runningElsewhere = false;  // the sweep in progress runs in processes (or is submitted)
    QString m_shownExecutor;          // the executor of the sweep the queue shows
    bool m_syncing = false;           // the form and the file are being synchronised
    bool m_editFromBox = false;       // the file is being rewritten from the executor box
    std::unique_ptr<ResultsMatrix> m_matrix;

    // Grid form
    QWidget* m_form = nullptr;
    QLabel* m_formNote = nullptr;
    QTimer* m_editorIdle = nullptr;
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
    QPushButton* m_collect = nullptr;
    QTimer* m_poll = nullptr;  // reads a processes/Slurm sweep's cells again
    ExecutorBox* m_executorBox = nullptr;
    // Matrix
    QComboBox* m_reference = nullptr;
    QComboBox* m_unit = nullptr;
    QComboBox* m_segmentFilter = nullptr;
    QTableWidget* m_matrixTable = nullptr;
    QLabel* m_matrixNote = nullptr;
};

}  // namespace sllmr::ui
