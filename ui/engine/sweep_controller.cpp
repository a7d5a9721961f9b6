#include "engine/sweep_controller.h"

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
    : WorkerController(std::move(databasePath), parent)
{
    qRegisterMetaType<BatchUpdate>();
    qRegisterMetaType<EpochUpdate>();
    qRegisterMetaType<SweepItemUpdate>();
}

SweepController::~SweepController()
{
    cancelAndWait();
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
    if (!prepare())
        return false;
    m_control->sweepId = sweepId;
    m_sweepId = sweepId;
    m_runId = 0;
    m_item = {};
    auto* worker = new SweepWorker(m_databasePath, std::move(grid), sweepId, m_control);
    adopt(worker, &SweepWorker::run, QStringLiteral("sweep"));
    connect(worker, &SweepWorker::sweepStarted, this,
            [this, current = isCurrent()](qint64 id, int items) {
                if (!current())
                    return;
                m_sweepId = id;
                Q_EMIT sweepStarted(id, items);
            });
    connect(worker, &SweepWorker::itemStarted, this,
            [this, current = isCurrent()](const SweepItemUpdate& item) {
                if (!current())
                    return;
                m_item = item;
                m_runId = item.runId;
                Q_EMIT itemStarted(item);
            });
    relay(worker, &SweepWorker::itemFinished, &SweepController::itemFinished);
    relay(worker, &SweepWorker::batchProgress, &SweepController::batchProgress);
    relay(worker, &SweepWorker::epochFinished, &SweepController::epochFinished);
    relayLast(worker, &SweepWorker::finished, &SweepController::finished);
    relayLast(worker, &SweepWorker::failed, &SweepController::failed);
    startThread();
    return true;
}

void SweepController::cancelCurrent()
{
    if (!m_control)
        return;
    m_control->cancelCurrent = true;
    m_control->setPaused(false);  // a held run has to reach its next batch to stop
}

QString SweepController::interruptAndWait()
{
    if (!isRunning())
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

}  // namespace sllmr::ui
