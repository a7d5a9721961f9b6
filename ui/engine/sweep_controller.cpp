#include "engine/sweep_controller.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <algorithm>
#include <exception>
#include <utility>

#include "analysis/sweep.h"
#include "common/error.h"
#include "error_text.h"
#include "store/experiment_store.h"

namespace sllmr::ui {

SweepWorker::SweepWorker(QString databasePath, std::optional<std::pair<Grid, GridExpansion>> grid,
                         qint64 sweepId, ExecutorSettings executor, QString cellProgram,
                         std::shared_ptr<RunControlBlock> control)
    : m_databasePath(std::move(databasePath))
    , m_grid(std::move(grid))
    , m_sweepId(sweepId)
    , m_executor(std::move(executor))
    , m_cellProgram(std::move(cellProgram))
    , m_control(std::move(control))
{}

void SweepWorker::run()
{
    qint64 sweepId = m_sweepId;
    try {
        ExperimentStore store(m_databasePath.toStdString());
        const bool resuming = !m_grid;
        ExecutorSettings executor = m_executor;
        if (m_grid) {
            sweepId = createSweep(store, m_grid->first, m_grid->second);
        } else if (const auto recorded = recordedExecutor(store, sweepId)) {
            executor = *recorded;
        } else {
            executor = {};
        }
        m_control->sweepId = sweepId;
        Q_EMIT sweepStarted(sweepId, static_cast<int>(store.sweepItems(sweepId).size()));
        if (executor.kind == ExecutorKind::Local)
            runLocal(store, sweepId);
        else
            runElsewhere(store, sweepId, executor, resuming);
    } catch (const Error& e) {
        Q_EMIT failed(sweepId, errorText(e));
    } catch (const std::exception& e) {
        Q_EMIT failed(sweepId, QString::fromStdString(e.what()));
    }
}

void SweepWorker::runLocal(ExperimentStore& store, qint64 sweepId)
{
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
}

void SweepWorker::runElsewhere(ExperimentStore& store, qint64 sweepId,
                               const ExecutorSettings& executor, bool resuming)
{
    const SweepLaunch launch = prepareSweepLaunch(store, sweepId, executor, resuming);
    const SweepManifest& m = launch.manifest;
    const QString folder = QString::fromStdString(m.folder);
    if (executor.kind == ExecutorKind::Slurm) {
        SlurmOptions options = executor.slurm;
        if (options.program.empty())
            options.program = m_cellProgram.toStdString();
        QStringList jobs;
        if (!launch.cells.empty())
            for (const SlurmSubmission& s : submitSlurm(m, options, launch.cells, options.program))
                jobs << QString::fromStdString(s.jobId);
        Q_EMIT submitted(sweepId, jobs, folder);
        Q_EMIT finished(sweepId, QStringLiteral("submitted"),
                        jobs.isEmpty()
                            ? tr("no cell left to run; collect the results")
                            : tr("%n cell(s) submitted to Slurm as array job(s) %1; their state "
                                 "shows in the queue, and Collect brings the finished ones home",
                                 nullptr, static_cast<int>(launch.cells.size()))
                                  .arg(jobs.join(QStringLiteral(", "))));
        return;
    }
    const int items = static_cast<int>(m.items.size());
    ProcessCallbacks cb;
    cb.cancel = &m_control->cancel;
    cb.onCellStarted = [&](int position, int) {
        m_control->position = position;
        const ManifestItem& item = m.items.at(static_cast<std::size_t>(position));
        Q_EMIT itemStarted(SweepItemUpdate{sweepId, position, items,
                                           QString::fromStdString(item.rowLabel), item.seed, 0});
    };
    cb.onCellFinished = [&](int position, int code) {
        const QString status = code == 0     ? QStringLiteral("completed")
                               : code == 130 ? QStringLiteral("cancelled")
                                             : QStringLiteral("failed");
        Q_EMIT itemFinished(position, status,
                            code == 0 || code == 130
                                ? QString()
                                : tr("worker exit %1, see %2/worker.log")
                                      .arg(code)
                                      .arg(QString::fromStdString(cellDir(m.folder, position))));
    };
    const int jobs = executor.jobs > 0 ? executor.jobs : 2;
    runProcesses(m, launch.cells, jobs, m_cellProgram.toStdString(), cb);
    const CollectReport report = collectSweep(store, sweepId);
    const bool cancelled = m_control->cancel.load();
    if (cancelled)
        store.setSweepStatus(sweepId, RunStatus::Cancelled);
    Q_EMIT finished(
        sweepId,
        cancelled ? QStringLiteral("cancelled") : QString::fromLatin1(toString(report.sweepStatus)),
        tr("%1 worker processes; %2 runs collected, %3 already collected, %4 not "
           "collected")
            .arg(jobs)
            .arg(report.imported)
            .arg(report.alreadyCollected)
            .arg(report.skipped));
}

SweepController::SweepController(QString databasePath, QObject* parent)
    : WorkerController(std::move(databasePath), parent)
{
    const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/sllmr");
    m_cellProgram = QFileInfo(beside).isExecutable() ? beside : QStringLiteral("sllmr");
    qRegisterMetaType<BatchUpdate>();
    qRegisterMetaType<EpochUpdate>();
    qRegisterMetaType<SweepItemUpdate>();
}

SweepController::~SweepController()
{
    cancelAndWait();
}

bool SweepController::start(const Grid& grid, const GridExpansion& expansion,
                            const ExecutorSettings& executor)
{
    return launch(std::make_pair(grid, expansion), 0, executor);
}

bool SweepController::resume(qint64 sweepId)
{
    return launch(std::nullopt, sweepId, {});
}

bool SweepController::launch(std::optional<std::pair<Grid, GridExpansion>> grid, qint64 sweepId,
                             const ExecutorSettings& executor)
{
    if (!prepare())
        return false;
    m_control->sweepId = sweepId;
    m_sweepId = sweepId;
    m_runId = 0;
    m_item = {};
    auto* worker = new SweepWorker(m_databasePath, std::move(grid), sweepId, executor,
                                   m_cellProgram, m_control);
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
    relay(worker, &SweepWorker::submitted, &SweepController::submitted);
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
