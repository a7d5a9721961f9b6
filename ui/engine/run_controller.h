#pragma once

// Runs training off the GUI thread. RunController owns one worker thread per run: the worker
// opens its own connection to the experiment store, calls the core runner (executeRun or
// resumeRun) and reports through value-type signals. Cancel sets an atomic flag the trainer
// polls between batches; pause holds the worker at its next progress report until resumed or
// cancelled. The controller's destructor cancels a run in progress and waits for the thread, so
// closing the window leaves the run `cancelled` (resumable), never half-written.
// SweepController (sweep_controller.h) runs a queue of runs the same way, with the same control
// block.

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QString>

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

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

/// Shared between the GUI thread and a training worker (one run or a sweep): the cancel flag,
/// the pause gate and what the worker is running now.
struct RunControlBlock
{
    std::atomic<bool> cancel{false};         // stop (a sweep: the whole sweep)
    std::atomic<bool> cancelCurrent{false};  // a sweep: stop the current run, go on with the next
    std::atomic<qint64> runId{0};            // the run in progress (0 before it starts)
    std::atomic<qint64> sweepId{0};          // a sweep's id once it exists
    std::atomic<int> position{-1};           // a sweep: the queue position in progress
    std::mutex mutex;
    std::condition_variable wake;
    bool paused = false;         // guarded by mutex
    double pausedSeconds = 0.0;  // worker thread only: time held since the last epoch

    /// Called by the worker between batches: holds while paused, until resumed or cancelled.
    void holdWhilePaused();
    /// Sets the pause gate; false when it already was in that state.
    bool setPaused(bool paused);
    /// Raises the cancel flag and wakes a paused worker.
    void raiseCancel();
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

class RunController : public QObject
{
    Q_OBJECT

public:
    explicit RunController(QString databasePath, QObject* parent = nullptr);
    ~RunController() override;

    RunController(const RunController&) = delete;
    RunController& operator=(const RunController&) = delete;
    RunController(RunController&&) = delete;
    RunController& operator=(RunController&&) = delete;

    [[nodiscard]] bool isRunning() const { return m_thread != nullptr; }
    [[nodiscard]] bool isPaused() const;
    [[nodiscard]] qint64 currentRunId() const { return m_runId; }

    /// Starts a new run of `config`; false when a run is already in progress.
    bool start(const RunConfig& config);
    /// Continues an interrupted or cancelled run from its last checkpoint.
    bool resume(qint64 runId);
    void setPaused(bool paused);
    void cancel();
    /// Cancels and blocks until the worker has stopped.
    void cancelAndWait();
    /// What quitting does to a run in progress: stops it like cancelAndWait() and marks it
    /// `interrupted`, so it shows as such on the next start and can be resumed. Returns the
    /// store's error when the mark could not be written (the run then stays `cancelled`).
    QString interruptAndWait();

Q_SIGNALS:
    void runningChanged(bool running);
    void pausedChanged(bool paused);
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
    void tearDown();

    QString m_databasePath;
    QThread* m_thread = nullptr;
    RunWorker* m_worker = nullptr;
    quint64 m_generation = 0;  // of the current worker; see launch()
    std::shared_ptr<RunControlBlock> m_control;
    qint64 m_runId = 0;
};

}  // namespace sllmr::ui

Q_DECLARE_METATYPE(sllmr::ui::BatchUpdate)
Q_DECLARE_METATYPE(sllmr::ui::EpochUpdate)
