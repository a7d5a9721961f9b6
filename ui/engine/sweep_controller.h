#pragma once

// Runs an ablation sweep off the GUI thread, a WorkerController like RunController: one worker
// thread per sweep with its own connection to the experiment store, the same control block
// (cancel, pause, the run in progress), value-type signals, and interrupt-and-wait for quitting.
// The worker creates the sweep from an expanded grid (or continues a stored one) and hands it to
// its executor (core's analysis/executors.h):
//   local      core's runSweep runs the queue one item at a time in this process;
//   processes  `sllmr run --sweep-dir DIR --cell N` worker processes on this machine, each into
//              its own shard; the worker waits for them and collects the shards at the end;
//   slurm      the cells are submitted as Slurm array jobs and the worker ends at once
//              (`submitted`); the page follows the cells and collects them (store_queries.h).
// Cancel stops the whole sweep (resumable; the processes executor stops its workers);
// cancelCurrent() stops only the run in progress of a local sweep and goes on with the next item.
// The destructor cancels and waits, so closing the window never leaves the store half-written.

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

#include "analysis/executors.h"
#include "analysis/grid.h"
#include "engine/run_controller.h"

namespace sllmr::ui {

/// A queue item that starts (a new run or a resumed one).
struct SweepItemUpdate
{
    qint64 sweepId = 0;
    int position = 0;
    int items = 0;
    QString row;
    qint64 seed = 0;
    qint64 runId = 0;
};

class SweepWorker : public QObject
{
    Q_OBJECT

public:
    /// `grid`: create a new sweep from it, run by `executor`; otherwise continue sweep `sweepId`
    /// with the executor it was started with. `cellProgram`: the sllmr CLI that runs a cell.
    SweepWorker(QString databasePath, std::optional<std::pair<Grid, GridExpansion>> grid,
                qint64 sweepId, ExecutorSettings executor, QString cellProgram,
                std::shared_ptr<RunControlBlock> control);

public Q_SLOTS:
    void run();

Q_SIGNALS:
    void sweepStarted(qint64 sweepId, int items);
    void itemStarted(const sllmr::ui::SweepItemUpdate& item);
    void itemFinished(int position, const QString& status, const QString& error);
    void batchProgress(const sllmr::ui::BatchUpdate& update);
    void epochFinished(const sllmr::ui::EpochUpdate& update);
    /// status: the sweep's ("completed", "failed", "cancelled"); summary: counts in words.
    void finished(qint64 sweepId, const QString& status, const QString& summary);
    void failed(qint64 sweepId, const QString& message);
    /// A Slurm sweep's cells were submitted: the array job ids (empty: nothing left to run).
    void submitted(qint64 sweepId, const QStringList& jobIds, const QString& folder);

private:
    void runLocal(ExperimentStore& store, qint64 sweepId);
    void runElsewhere(ExperimentStore& store, qint64 sweepId, const ExecutorSettings& executor,
                      bool resuming);

    QString m_databasePath;
    std::optional<std::pair<Grid, GridExpansion>> m_grid;
    qint64 m_sweepId = 0;
    ExecutorSettings m_executor;
    QString m_cellProgram;
    std::shared_ptr<RunControlBlock> m_control;
};

class SweepController : public WorkerController
{
    Q_OBJECT

public:
    explicit SweepController(QString databasePath, QObject* parent = nullptr);
    ~SweepController() override;

    SweepController(const SweepController&) = delete;
    SweepController& operator=(const SweepController&) = delete;
    SweepController(SweepController&&) = delete;
    SweepController& operator=(SweepController&&) = delete;

    /// The sweep in progress (0 until the worker has created it) and its current run.
    [[nodiscard]] qint64 currentSweepId() const { return m_sweepId; }
    [[nodiscard]] qint64 currentRunId() const { return m_runId; }
    [[nodiscard]] const SweepItemUpdate& currentItem() const { return m_item; }

    /// The sllmr CLI that runs a cell for the processes and Slurm executors (default: the `sllmr`
    /// beside this program, else `sllmr` from PATH). A grid's executor.program overrides it for
    /// Slurm (the path the compute nodes see).
    void setCellProgram(const QString& program) { m_cellProgram = program; }
    [[nodiscard]] const QString& cellProgram() const { return m_cellProgram; }

    /// Creates a sweep from `grid` (already expanded) and runs it with `executor`; false while
    /// one runs.
    bool start(const Grid& grid, const GridExpansion& expansion,
               const ExecutorSettings& executor = {});
    /// Continues a stored sweep with the executor it was started with: completed items are kept,
    /// unfinished runs resume (processes, Slurm: cells without a completed shard run again).
    bool resume(qint64 sweepId);
    /// Stops only the run in progress (local sweeps); the queue goes on with the next item.
    void cancelCurrent();
    /// What quitting does: stops like cancelAndWait() and marks the sweep and its current run
    /// `interrupted` (resumable). Returns the store's error when a mark could not be written.
    QString interruptAndWait();

Q_SIGNALS:
    void sweepStarted(qint64 sweepId, int items);
    void itemStarted(const sllmr::ui::SweepItemUpdate& item);
    void itemFinished(int position, const QString& status, const QString& error);
    void batchProgress(const sllmr::ui::BatchUpdate& update);
    void epochFinished(const sllmr::ui::EpochUpdate& update);
    void finished(qint64 sweepId, const QString& status, const QString& summary);
    void failed(qint64 sweepId, const QString& message);
    void submitted(qint64 sweepId, const QStringList& jobIds, const QString& folder);

private:
    bool launch(std::optional<std::pair<Grid, GridExpansion>> grid, qint64 sweepId,
                const ExecutorSettings& executor);

    QString m_cellProgram;
    qint64 m_sweepId = 0;
    qint64 m_runId = 0;
    SweepItemUpdate m_item;
};

}  // namespace sllmr::ui

Q_DECLARE_METATYPE(sllmr::ui::SweepItemUpdate)
