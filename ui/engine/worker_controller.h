#pragma once

// What RunController and SweepController share: one worker object on a thread of its own, the
// control block the worker polls (cancel, pause, the run in progress), pause and cancel from the
// GUI thread, and a tear-down that waits for the thread. A controller starts one worker at a
// time; signals still queued from a worker already torn down never reach the next one (a new
// worker can even reuse the old one's address, so workers are told apart by a generation
// number). Each controller's destructor cancels and waits, so closing the window never leaves
// the store half-written.

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace sllmr::ui {

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

class WorkerController : public QObject
{
    Q_OBJECT

public:
    explicit WorkerController(QString databasePath, QObject* parent = nullptr);

    [[nodiscard]] bool isRunning() const { return m_thread != nullptr; }
    [[nodiscard]] bool isPaused() const;
    void setPaused(bool paused);
    /// Stops after the current batch (a sweep: the whole sweep); resumable.
    void cancel();
    /// Cancels and blocks until the worker has stopped: its run() returns once training sees the
    /// flag (between batches), so the wait is bounded by one batch.
    void cancelAndWait();

Q_SIGNALS:
    void runningChanged(bool running);
    void pausedChanged(bool paused);

protected:
    /// A new control block for the next worker; false while a worker runs.
    bool prepare();
    /// Moves `worker` (owned from now on) to a new thread named `threadName`, whose start calls
    /// `run`. Connect the worker's signals (relay(), relayLast(), isCurrent()), then call
    /// startThread().
    template <class Worker>
    void adopt(Worker* worker, void (Worker::*run)(), const QString& threadName);
    void startThread();
    /// True while the worker adopted last is the current one (for handlers with side effects).
    [[nodiscard]] std::function<bool()> isCurrent() const;
    /// Re-emits a worker's signal as this controller's `own` while that worker is current.
    template <class Worker, class Owner, class... Args>
    void relay(Worker* worker, void (Worker::*signal)(Args...), void (Owner::*own)(Args...));
    /// The same for a worker's last signal (finished, failed): tears the worker down first.
    template <class Worker, class Owner, class... Args>
    void relayLast(Worker* worker, void (Worker::*signal)(Args...), void (Owner::*own)(Args...));
    void tearDown();

    QString m_databasePath;
    std::shared_ptr<RunControlBlock> m_control;

private:
    QThread* m_thread = nullptr;
    QObject* m_worker = nullptr;
    quint64 m_generation = 0;
};

template <class Worker>
void WorkerController::adopt(Worker* worker, void (Worker::*run)(), const QString& threadName)
{
    m_thread = new QThread(this);
    m_thread->setObjectName(threadName);
    m_worker = worker;
    worker->moveToThread(m_thread);
    connect(m_thread, &QThread::started, worker, run);
    ++m_generation;
}

template <class Worker, class Owner, class... Args>
void WorkerController::relay(Worker* worker, void (Worker::*signal)(Args...),
                             void (Owner::*own)(Args...))
{
    connect(worker, signal, this, [this, own, current = isCurrent()](Args... args) {
        if (current())
            (static_cast<Owner*>(this)->*own)(args...);
    });
}

template <class Worker, class Owner, class... Args>
void WorkerController::relayLast(Worker* worker, void (Worker::*signal)(Args...),
                                 void (Owner::*own)(Args...))
{
    connect(worker, signal, this, [this, own, current = isCurrent()](Args... args) {
        if (!current())
            return;  // already torn down by cancelAndWait()
        tearDown();
        (static_cast<Owner*>(this)->*own)(args...);
    });
}

}  // namespace sllmr::ui
