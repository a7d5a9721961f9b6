#pragma once

// Runs training off the GUI thread. RunController owns one worker thread per run: the worker
// opens its own connection to the experiment store, calls the core runner (executeRun or
// resumeRun) and reports through value-type signals. Cancel sets an atomic flag the trainer
// polls between batches; pause holds the worker at its next progress report until resumed or
// cancelled. The controller's destructor cancels a run in progress and waits for the thread, so
// closing the window leaves the run `cancelled` (resumable), never half-written.
// SweepController (sweep_controller.h) runs a queue of runs the same way: both are
// WorkerControllers (worker_controller.h).

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <array>
#include <memory>

#include "engine/worker_controller.h"
#include "train/progress.h"
#include "train/run_config.h"

class QThread;

namespace sllmr::ui {

/// Progress inside an epoch (running means over the epoch so far).
struct BatchUpdate
{
    int epoch = 0;
    int epochs = 0;
    qint64 batch = 0;
    qint64 batches = 0;
    double baseLoss = 0;
    double llmLoss = 0;
    double gateLoss = 0;
    double samplesPerSecond = 0;
};

/// One finished epoch.
struct EpochUpdate
{
    int epoch = 0;
    bool replayed = false;  // read back from the store for a resumed run
    double baseLoss = 0;
    double llmLoss = 0;
    double gateLoss = 0;
    double seconds = 0;                   // training time, without the time spent paused
    QMap<QString, double> validationAuc;  // by segment
    QMap<QString, double> gateMean;       // by segment
    std::array<double, 4> gateParameters{};
};

/// Value-type copies of core's progress reports for queued signals.
[[nodiscard]] BatchUpdate batchUpdate(const BatchProgress& progress);
[[nodiscard]] EpochUpdate epochUpdate(const EpochResult& result);

/// What quitting does to a stopped run: `cancelled` becomes `interrupted` (resumable).
void markInterrupted(const QString& databasePath, qint64 runId);

class RunWorker : public QObject
{
    Q_OBJECT

public:
    RunWorker(QString databasePath, RunConfig config, qint64 resumeRunId,
              std::shared_ptr<RunControlBlock> control);

public Q_SLOTS:
    void run();

Q_SIGNALS:
    void started(qint64 runId);
    void stageChanged(const QString& stage);
    void warning(const QString& text);
    void batchProgress(const sllmr::ui::BatchUpdate& update);
    void epochFinished(const sllmr::ui::EpochUpdate& update);
    /// A resumed run continues after `epoch`; the earlier epochs were sent as epochFinished.
    void resumedFrom(int epoch);
    /// status: "completed", "cancelled"; runId 0 when the run never started.
    void finished(qint64 runId, const QString& status);
    void failed(qint64 runId, const QString& message);

private:
    QString m_databasePath;
    RunConfig m_config;
    qint64 m_resumeRunId = 0;
    std::shared_ptr<RunControlBlock> m_control;
};

class RunController : public WorkerController
{
    Q_OBJECT

public:
    explicit RunController(QString databasePath, QObject* parent = nullptr);
    ~RunController() override;

    RunController(const RunController&) = delete;
    RunController& operator=(const RunController&) = delete;
    RunController(RunController&&) = delete;
    RunController& operator=(RunController&&) = delete;

    [[nodiscard]] qint64 currentRunId() const { return m_runId; }

    /// Starts a new run of `config`; false when a run is already in progress.
    bool start(const RunConfig& config);
    /// Continues an interrupted or cancelled run from its last checkpoint.
    bool resume(qint64 runId);
    /// What quitting does to a run in progress: stops it like cancelAndWait() and marks it
    /// `interrupted`, so it shows as such on the next start and can be resumed. Returns the
    /// store's error when the mark could not be written (the run then stays `cancelled`).
    QString interruptAndWait();

Q_SIGNALS:
    void started(qint64 runId);
    void stageChanged(const QString& stage);
    void warning(const QString& text);
    void batchProgress(const sllmr::ui::BatchUpdate& update);
    void epochFinished(const sllmr::ui::EpochUpdate& update);
    void resumedFrom(int epoch);
    void finished(qint64 runId, const QString& status);
    void failed(qint64 runId, const QString& message);

private:
    bool launch(const RunConfig& config, qint64 resumeRunId);

    qint64 m_runId = 0;
};

}  // namespace sllmr::ui

Q_DECLARE_METATYPE(sllmr::ui::BatchUpdate)
Q_DECLARE_METATYPE(sllmr::ui::EpochUpdate)
