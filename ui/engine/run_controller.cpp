#include "engine/run_controller.h"

#include <algorithm>
#include <exception>
#include <map>
#include <utility>

#include "common/error.h"
#include "error_text.h"
#include "run/runner.h"
#include "store/experiment_store.h"

namespace sllmr::ui {

BatchUpdate batchUpdate(const BatchProgress& p)
{
    return BatchUpdate{p.epoch,    p.epochs,  p.batch,    p.batches,
                       p.baseLoss, p.llmLoss, p.gateLoss, p.samplesPerSecond};
}

EpochUpdate epochUpdate(const EpochResult& r)
{
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
    return u;
}

void markInterrupted(const QString& databasePath, qint64 runId)
{
    if (runId <= 0)
        return;
    ExperimentStore store(databasePath.toStdString());
    if (const auto run = store.run(runId); run && run->status == RunStatus::Cancelled)
        store.setRunStatus(runId, RunStatus::Interrupted);
}

namespace {

// The epochs a run has stored, as the updates training sent (for a resumed run's charts).
std::vector<EpochUpdate> storedEpochs(const ExperimentStore& store, qint64 runId)
{
    std::map<int, EpochUpdate> byEpoch;
    const auto value = [](const std::string& key, const char* prefix) {
        return QString::fromStdString(key.substr(std::char_traits<char>::length(prefix)));
    };
    for (const EpochMetric& m : store.epochMetrics(runId)) {
        EpochUpdate& u = byEpoch[m.epoch];
        u.epoch = m.epoch;
        u.replayed = true;
        if (m.key == "base_loss")
            u.baseLoss = m.value;
        else if (m.key == "llm_loss")
            u.llmLoss = m.value;
        else if (m.key == "gate_loss")
            u.gateLoss = m.value;
        else if (m.key == "seconds")
            u.seconds = m.value;
        else if (m.key.rfind("val_auc.", 0) == 0)
            u.validationAuc.insert(value(m.key, "val_auc."), m.value);
        else if (m.key.rfind("gate_mean.", 0) == 0)
            u.gateMean.insert(value(m.key, "gate_mean."), m.value);
    }
    std::vector<EpochUpdate> out;
    for (auto& [epoch, u] : byEpoch)
        out.push_back(std::move(u));
    return out;
}

}  // namespace

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
    try {
        ExperimentStore store(m_databasePath.toStdString());
        RunCallbacks callbacks;
        callbacks.cancel = &m_control->cancel;
        callbacks.onStarted = [&](std::int64_t id) {
            runId = id;
            m_control->runId = id;
            Q_EMIT started(id);
            if (m_resumeRunId > 0) {
                const auto earlier = storedEpochs(store, id);
                for (const EpochUpdate& u : earlier)
                    Q_EMIT epochFinished(u);
                Q_EMIT resumedFrom(earlier.empty() ? 0 : earlier.back().epoch);
            }
        };
        callbacks.onStage = [&](const std::string& stage) {
            Q_EMIT stageChanged(QString::fromStdString(stage));
        };
        callbacks.onWarning = [&](const std::string& w) {
            Q_EMIT warning(QString::fromStdString(w));
        };
        callbacks.onBatch = [&](const BatchProgress& p) {
            Q_EMIT batchProgress(batchUpdate(p));
            m_control->holdWhilePaused();  // between batches
        };
        callbacks.onEpoch = [&](const EpochResult& r) {
            EpochUpdate u = epochUpdate(r);
            u.seconds = std::max(0.0, u.seconds - m_control->pausedSeconds);
            m_control->pausedSeconds = 0;
            Q_EMIT epochFinished(u);
        };
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
    : WorkerController(std::move(databasePath), parent)
{
    qRegisterMetaType<BatchUpdate>();
    qRegisterMetaType<EpochUpdate>();
}

RunController::~RunController()
{
    cancelAndWait();
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
    if (!prepare())
        return false;
    m_control->runId = resumeRunId;
    m_runId = resumeRunId;
    auto* worker = new RunWorker(m_databasePath, config, resumeRunId, m_control);
    adopt(worker, &RunWorker::run, QStringLiteral("training"));
    connect(worker, &RunWorker::started, this, [this, current = isCurrent()](qint64 id) {
        if (!current())
            return;
        m_runId = id;
        Q_EMIT started(id);
    });
    relay(worker, &RunWorker::stageChanged, &RunController::stageChanged);
    relay(worker, &RunWorker::warning, &RunController::warning);
    relay(worker, &RunWorker::batchProgress, &RunController::batchProgress);
    relay(worker, &RunWorker::epochFinished, &RunController::epochFinished);
    relay(worker, &RunWorker::resumedFrom, &RunController::resumedFrom);
    relayLast(worker, &RunWorker::finished, &RunController::finished);
    relayLast(worker, &RunWorker::failed, &RunController::failed);
    startThread();
    return true;
}

QString RunController::interruptAndWait()
{
    if (!isRunning())
        return {};
    const qint64 id = m_control->runId;
    cancelAndWait();
    try {
        markInterrupted(m_databasePath, id);
    } catch (const Error& e) {
        return errorText(e);  // the run stays `cancelled`, which resumes the same way
    }
    return {};
}

}  // namespace sllmr::ui
