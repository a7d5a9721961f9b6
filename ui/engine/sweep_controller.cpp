#include "engine/sweep_controller.h"

#include <QThread>

#include <algorithm>
#include <exception>
#include <utility>

#include "analysis/sweep.h"
#include "common/error.h"
#include "error_text.h"
#include "store/experiment_store.h"

namespace sllmr::ui {

SweepWorker::SweepWorker(QString databasePath, std::optional<std::pair<Grid, GridExpansion>> grid,
                         qint64 sweepId, std::shared_ptr<RunControlBlock> control)
    : m_databasePath(std::move(databasePath))
    , m_grid(std::move(grid))
    , m_sweepId(sweepId)
    , m_control(std::move(control))
{}

void SweepWorker::run()
{
    qint64 sweepId = m_sweepId;
    try {
        ExperimentStore store(m_databasePath.toStdString());
        if (m_grid)
            sweepId = createSweep(store, m_grid->first, m_grid->second);
        m_control->sweepId = sweepId;
        Q_EMIT sweepStarted(sweepId, static_cast<int>(store.sweepItems(sweepId).size()));

        SweepCallbacks cb;
        cb.cancelCurrent = &m_control->cancelCurrent;
        cb.cancelAll = &m_control->cancel;
        cb.onItemStarted = [&](const SweepItemRecord& item, std::int64_t runId, int items) {
            m_control->runId = runId;
            m_control->position = item.position;
            Q_EMIT itemStarted(SweepItemUpdate{sweepId, item.position, items,
                                               QString::fromStdString(item.rowLabel), item.seed,
                                               runId});
        };
        cb.onBatch = [&](const SweepItemRecord&, const BatchProgress& p) {
            Q_EMIT batchProgress(batchUpdate(p));
            m_control->holdWhilePaused();
        };
        cb.onEpoch = [&](const SweepItemRecord&, const EpochResult& r) {
            EpochUpdate u = epochUpdate(r);
            u.seconds = std::max(0.0, u.seconds - m_control->pausedSeconds);
            m_control->pausedSeconds = 0;
            Q_EMIT epochFinished(u);
        };
        cb.onItemFinished = [&](const SweepItemRecord& item, RunStatus status,
                                const std::string& error) {
            Q_EMIT itemFinished(item.position, QString::fromLatin1(toString(status)),
                                QString::fromStdString(error));
        };
        const SweepOutcome outcome = runSweep(store, sweepId, cb);
        Q_EMIT finished(sweepId, QString::fromLatin1(toString(outcome.status)),
                        tr("%1 completed, %2 already done, %3 failed, %4 cancelled")
                            .arg(outcome.completed)
                            .arg(outcome.skipped)
                            .arg(outcome.failed)
                            .arg(outcome.cancelled));
    } catch (const Error& e) {
        Q_EMIT failed(sweepId, errorText(e));
    } catch (const std::exception& e) {
        Q_EMIT failed(sweepId, QString::fromStdString(e.what()));
    }
}

SweepController::SweepController(QString databasePath, QObject* parent)
    : QObject(parent), m_databasePath(std::move(databasePath))
{
    qRegisterMetaType<BatchUpdate>();
    qRegisterMetaType<EpochUpdate>();
    qRegisterMetaType<SweepItemUpdate>();
}

SweepController::~SweepController()
{
    cancelAndWait();
}

bool SweepController::isPaused() const
{
    if (!m_control)
        return false;
    std::lock_guard lock(m_control->mutex);
    return m_control->paused;
}

bool SweepController::start(const Grid& grid, const GridExpansion& expansion)
{
    return launch(std::make_pair(grid, expansion), 0);
}

bool SweepController::resume(qint64 sweepId)
{
    return launch(std::nullopt, sweepId);
}

bool SweepController::launch(std::optional<std::pair<Grid, GridExpansion>> grid, qint64 sweepId)
{
    if (m_thread)
        return false;
    m_control = std::make_shared<RunControlBlock>();
    m_control->sweepId = sweepId;
    m_sweepId = sweepId;
    m_runId = 0;
    m_item = {};
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("sweep"));
    auto* worker = new SweepWorker(m_databasePath, std::move(grid), sweepId, m_control);
    m_worker = worker;
    worker->moveToThread(m_thread);
    connect(m_thread, &QThread::started, worker, &SweepWorker::run);

    // As in RunController: signals of a worker already torn down never reach the next sweep.
    const quint64 generation = ++m_generation;
    auto current = [this, generation] { return m_generation == generation && m_thread; };
    connect(worker, &SweepWorker::sweepStarted, this, [this, current](qint64 id, int items) {
        if (!current())
            return;
        m_sweepId = id;
        Q_EMIT sweepStarted(id, items);
    });
    connect(worker, &SweepWorker::itemStarted, this, [this, current](const SweepItemUpdate& item) {
        if (!current())
            return;
        m_item = item;
        m_runId = item.runId;
        Q_EMIT itemStarted(item);
    });
    connect(worker, &SweepWorker::itemFinished, this,
            [this, current](int position, const QString& status, const QString& error) {
                if (current())
                    Q_EMIT itemFinished(position, status, error);
            });
    connect(worker, &SweepWorker::batchProgress, this, [this, current](const BatchUpdate& u) {
        if (current())
            Q_EMIT batchProgress(u);
    });
    connect(worker, &SweepWorker::epochFinished, this, [this, current](const EpochUpdate& u) {
        if (current())
            Q_EMIT epochFinished(u);
    });
    connect(worker, &SweepWorker::finished, this,
            [this, current](qint64 id, const QString& status, const QString& summary) {
                if (!current())
                    return;
                tearDown();
                Q_EMIT finished(id, status, summary);
            });
    connect(worker, &SweepWorker::failed, this, [this, current](qint64 id, const QString& message) {
        if (!current())
            return;
        tearDown();
        Q_EMIT failed(id, message);
    });
    m_thread->start();
    Q_EMIT runningChanged(true);
    return true;
}

void SweepController::setPaused(bool paused)
{
    if (m_control && m_control->setPaused(paused))
        Q_EMIT pausedChanged(paused);
}

void SweepController::cancel()
{
    if (m_control)
        m_control->raiseCancel();
}

void SweepController::cancelCurrent()
{
    if (!m_control)
        return;
    m_control->cancelCurrent = true;
    m_control->setPaused(false);  // a held run has to reach its next batch to stop
}

void SweepController::cancelAndWait()
{
    if (!m_thread)
        return;
    cancel();
    tearDown();
}

QString SweepController::interruptAndWait()
{
    if (!m_thread)
        return {};
    const auto control = m_control;
    cancelAndWait();
    const qint64 sweepId = control->sweepId;
    const qint64 runId = control->runId;
    const int position = control->position;
    if (sweepId <= 0)
        return {};
    try {
        ExperimentStore store(m_databasePath.toStdString());
        markInterrupted(m_databasePath, runId);
        if (position >= 0 && runId > 0) {
            if (const auto run = store.run(runId); run && run->status != RunStatus::Completed)
                store.setSweepItem(sweepId, position, runId, run->status);
        }
        store.setSweepStatus(sweepId, RunStatus::Interrupted);
    } catch (const Error& e) {
        return errorText(e);  // the sweep stays `cancelled`, which resumes the same way
    }
    return {};
}

void SweepController::tearDown()
{
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
    m_worker = nullptr;
    delete m_thread;
    m_thread = nullptr;
    m_control.reset();
    Q_EMIT runningChanged(false);
}

}  // namespace sllmr::ui
