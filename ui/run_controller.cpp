#include "run_controller.h"

#include <QThread>

#include <exception>
#include <utility>

#include "common/error.h"
#include "error_text.h"
#include "run/runner.h"
#include "store/experiment_store.h"

namespace sllmr::ui {

RunWorker::RunWorker(QString databasePath, RunConfig config, qint64 resumeRunId,
                     std::shared_ptr<RunControlBlock> control)
    : m_databasePath(std::move(databasePath))
    , m_config(std::move(config))
    , m_resumeRunId(resumeRunId)
    , m_control(std::move(control))
{}

void RunWorker::run()
{
    qint64 runId = m_resumeRunId;
    RunCallbacks callbacks;
    callbacks.cancel = &m_control->cancel;
    callbacks.onStarted = [&](std::int64_t id) {
        runId = id;
        Q_EMIT started(id);
    };
    callbacks.onStage = [&](const std::string& stage) {
        Q_EMIT stageChanged(QString::fromStdString(stage));
    };
    callbacks.onWarning = [&](const std::string& w) { Q_EMIT warning(QString::fromStdString(w)); };
    callbacks.onBatch = [&](const BatchProgress& p) {
        Q_EMIT batchProgress(BatchUpdate{p.epoch, p.epochs, p.batch, p.batches, p.baseLoss,
                                         p.llmLoss, p.gateLoss, p.samplesPerSecond});
        // Pause: hold here (between batches) until resumed or cancelled.
        std::unique_lock lock(m_control->mutex);
        m_control->wake.wait(lock, [&] { return !m_control->paused || m_control->cancel; });
    };
    callbacks.onEpoch = [&](const EpochResult& r) {
        EpochUpdate u;
        u.epoch = r.epoch;
        u.baseLoss = r.baseLoss;
        u.llmLoss = r.llmLoss;
        u.gateLoss = r.gateLoss;
        u.seconds = r.seconds;
        for (const auto& [segment, auc] : r.validationAuc)
            u.validationAuc.insert(QString::fromStdString(segment), auc);
        for (const auto& [segment, activity] : r.gate)
            u.gateMean.insert(QString::fromStdString(segment), activity.mean());
        u.gateParameters = r.gateParameters;
        Q_EMIT epochFinished(u);
    };
    try {
        ExperimentStore store(m_databasePath.toStdString());
        const RunOutcome outcome = m_resumeRunId > 0 ? resumeRun(m_resumeRunId, store, callbacks)
                                                     : executeRun(m_config, store, callbacks);
        Q_EMIT finished(outcome.runId, QString::fromLatin1(toString(outcome.status)));
    } catch (const Error& e) {
        Q_EMIT failed(runId, errorText(e));
    } catch (const std::exception& e) {
        Q_EMIT failed(runId, QString::fromStdString(e.what()));
    }
}

RunController::RunController(QString databasePath, QObject* parent)
    : QObject(parent), m_databasePath(std::move(databasePath))
{
    qRegisterMetaType<BatchUpdate>();
    qRegisterMetaType<EpochUpdate>();
}

RunController::~RunController()
{
    cancelAndWait();
}

bool RunController::isPaused() const
{
    if (!m_control)
        return false;
    std::lock_guard lock(m_control->mutex);
    return m_control->paused;
}

bool RunController::start(const RunConfig& config)
{
    return launch(config, 0);
}

bool RunController::resume(qint64 runId)
{
    return launch(RunConfig{}, runId);
}

bool RunController::launch(const RunConfig& config, qint64 resumeRunId)
{
    if (m_thread)
        return false;
    m_control = std::make_shared<RunControlBlock>();
    m_runId = resumeRunId;
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("training"));
    auto* worker = new RunWorker(m_databasePath, config, resumeRunId, m_control);
    m_worker = worker;
    worker->moveToThread(m_thread);

    connect(m_thread, &QThread::started, worker, &RunWorker::run);
    // Signals still queued from a worker torn down by cancelAndWait() must not reach the next
    // run; a new worker can even reuse the old one's address, so runs are told apart by number.
    const quint64 generation = ++m_generation;
    auto current = [this, generation] { return m_generation == generation && m_thread; };
    connect(worker, &RunWorker::started, this, [this, current](qint64 id) {
        if (!current())
            return;
        m_runId = id;
        Q_EMIT started(id);
    });
    connect(worker, &RunWorker::stageChanged, this, [this, current](const QString& stage) {
        if (current())
            Q_EMIT stageChanged(stage);
    });
    connect(worker, &RunWorker::warning, this, [this, current](const QString& text) {
        if (current())
            Q_EMIT warning(text);
    });
    connect(worker, &RunWorker::batchProgress, this, [this, current](const BatchUpdate& u) {
        if (current())
            Q_EMIT batchProgress(u);
    });
    connect(worker, &RunWorker::epochFinished, this, [this, current](const EpochUpdate& u) {
        if (current())
            Q_EMIT epochFinished(u);
    });
    connect(worker, &RunWorker::finished, this, [this, current](qint64 id, const QString& status) {
        if (!current())
            return;  // already torn down by cancelAndWait()
        tearDown();
        Q_EMIT finished(id, status);
    });
    connect(worker, &RunWorker::failed, this, [this, current](qint64 id, const QString& message) {
        if (!current())
            return;
        tearDown();
        Q_EMIT failed(id, message);
    });
    m_thread->start();
    Q_EMIT runningChanged(true);
    return true;
}

void RunController::setPaused(bool paused)
{
    if (!m_control)
        return;
    {
        std::lock_guard lock(m_control->mutex);
        if (m_control->paused == paused)
            return;
        m_control->paused = paused;
    }
    m_control->wake.notify_all();
    Q_EMIT pausedChanged(paused);
}

void RunController::cancel()
{
    if (!m_control)
        return;
    {
        std::lock_guard lock(m_control->mutex);
        m_control->cancel = true;
    }
    m_control->wake.notify_all();
}

void RunController::cancelAndWait()
{
    if (!m_thread)
        return;
    cancel();
    // The worker's signals are queued to this thread; its run() returns once the trainer sees
    // the flag (between batches), so waiting here is bounded by one batch.
    tearDown();
}

void RunController::interruptAndWait()
{
    if (!m_thread)
        return;
    const qint64 id = m_runId;
    cancelAndWait();
    if (id <= 0)
        return;
    try {
        ExperimentStore store(m_databasePath.toStdString());
        if (const auto run = store.run(id); run && run->status == RunStatus::Cancelled)
            store.setRunStatus(id, RunStatus::Interrupted);
    } catch (const Error&) {
        // The run stays `cancelled`, which resumes the same way.
    }
}

void RunController::tearDown()
{
    m_thread->quit();
    m_thread->wait();
    delete m_worker;  // its thread has finished
    m_worker = nullptr;
    delete m_thread;
    m_thread = nullptr;
    m_control.reset();
    Q_EMIT runningChanged(false);
}

}  // namespace sllmr::ui
