#include "analysis/sweep.h"

#include "common/error.h"
#include "train/run_config.h"

#include <chrono>
#include <map>
#include <thread>

namespace sllmr {
using nlohmann::json;

std::int64_t createSweep(ExperimentStore& store, const Grid& grid, const GridExpansion& expansion)
{
    json source = grid.source;
    source["file"] = grid.file;
    source["reference"] = expansion.reference;
    source["rows"] = expansion.rows;
    SweepRecord sweep;
    sweep.name = grid.name;
    sweep.gridJson = source.dump();
    std::vector<SweepItemRecord> items;
    for (const auto& i : expansion.items) {
        SweepItemRecord r;
        r.position = i.position;
        r.rowLabel = i.rowLabel;
        r.seed = static_cast<std::int64_t>(i.seed);
        r.configJson = i.config.dump();
        r.configHash = i.configHash;
        r.duplicateOf = i.duplicateOf;
        items.push_back(std::move(r));
    }
    return store.createSweep(sweep, items);
}

namespace {

// One sweep being run: its items as stored, the caller's callbacks and the one cancel flag the
// engine polls. Each phase of runSweep is one member function.
class SweepDriver
{
public:
    SweepDriver(ExperimentStore& store, std::int64_t sweepId, const SweepCallbacks& cb)
        : m_store(store), m_sweepId(sweepId), m_cb(cb), m_items(store.sweepItems(sweepId))
    {}

    SweepOutcome run();

private:
    [[nodiscard]] bool cancelRequested() const
    {
        return (m_cb.cancelCurrent && m_cb.cancelCurrent->load()) ||
               (m_cb.cancelAll && m_cb.cancelAll->load());
    }
    SweepItemRecord& byPosition(int position)
    {
        return m_items[static_cast<std::size_t>(position)];
    }
    // The run of an item: its own, or that of the item it duplicates.
    std::optional<std::int64_t> runOf(const SweepItemRecord& item)
    {
        return item.duplicateOf ? byPosition(*item.duplicateOf).runId : item.runId;
    }
    // The item and the duplicates of it.
    [[nodiscard]] int copies(const SweepItemRecord& item) const
    {
        int n = 1;
        for (const auto& other : m_items)
            n += other.duplicateOf == item.position;
        return n;
    }
    void finish(SweepItemRecord& item, std::optional<std::int64_t> runId, RunStatus status,
                const std::string& error);
    /// True when the item already has a completed run (resuming a sweep).
    bool alreadyCompleted(SweepItemRecord& item);
    /// "@row" in gate.reference_run becomes the run id of that row's run with the same seed.
    void resolveReference(json& config, const SweepItemRecord& item);
    RunOutcome runItem(SweepItemRecord& item, std::string& error);

    ExperimentStore& m_store;
    std::int64_t m_sweepId;
    const SweepCallbacks& m_cb;
    std::vector<SweepItemRecord> m_items;
    // One flag for the engine, raised when either of the caller's flags is: the trainer polls a
    // single atomic between batches, and loading and evaluation poll it too.
    std::atomic<bool> m_cancelRun{false};
};

void SweepDriver::finish(SweepItemRecord& item, std::optional<std::int64_t> runId, RunStatus status,
                         const std::string& error)
{
    item.runId = runId;
    item.status = status;
    m_store.setSweepItem(m_sweepId, item.position, runId, status);
    if (m_cb.onItemFinished)
        m_cb.onItemFinished(item, status, error);
    // Duplicates share the outcome.
    for (auto& other : m_items)
        if (other.duplicateOf == item.position) {
            other.runId = runId;
            other.status = status;
            m_store.setSweepItem(m_sweepId, other.position, runId, status);
            if (m_cb.onItemFinished)
                m_cb.onItemFinished(other, status, error);
        }
}

bool SweepDriver::alreadyCompleted(SweepItemRecord& item)
{
    if (!item.runId)
        return false;
    const auto run = m_store.run(*item.runId);
    if (run && run->status == RunStatus::Completed) {
        if (item.status != RunStatus::Completed)
            finish(item, item.runId, RunStatus::Completed, {});
        return true;
    }
    if (!run)
        item.runId.reset();  // deleted meanwhile: start again
    return false;
}

void SweepDriver::resolveReference(json& config, const SweepItemRecord& item)
{
    if (!config["gate"]["reference_run"].is_string())
        return;
    const auto label = config["gate"]["reference_run"].get<std::string>().substr(1);
    std::optional<std::int64_t> ref;
    for (const auto& other : m_items)
        if (other.rowLabel == label && other.seed == item.seed && other.position < item.position)
            ref = runOf(other);
    const auto refRun = ref ? m_store.run(*ref) : std::nullopt;
    if (!refRun || refRun->status != RunStatus::Completed)
        throw Error(ErrorKind::Usage,
                    "'gate.reference_run' \"@" + label + "\": the reference row's run with seed " +
                        std::to_string(item.seed) + " did not complete",
                    {}, 0, "resume the sweep after the reference run completes");
    config["gate"]["reference_run"] = *ref;
}

RunOutcome SweepDriver::runItem(SweepItemRecord& item, std::string& error)
{
    if (m_cb.cancelCurrent)
        m_cb.cancelCurrent->store(false);
    m_cancelRun.store(false);
    const int count = static_cast<int>(m_items.size());
    RunOutcome result;
    try {
        json config = json::parse(item.configJson);
        resolveReference(config, item);
        const RunConfig runConfig = runConfigFromJson(config);
        RunCallbacks rc;
        rc.cancel = &m_cancelRun;
        rc.onStarted = [&](std::int64_t runId) {
            item.runId = runId;
            item.status = RunStatus::Running;
            m_store.setSweepItem(m_sweepId, item.position, runId, RunStatus::Running);
            if (m_cb.onItemStarted)
                m_cb.onItemStarted(item, runId, count);
        };
        rc.onBatch = [&](const BatchProgress& p) {
            if (m_cb.onBatch)
                m_cb.onBatch(item, p);
            // Also checked here so a flag raised by a callback stops the very next batch.
            if (cancelRequested())
                m_cancelRun.store(true);
        };
        if (m_cb.onEpoch)
            rc.onEpoch = [&](const EpochResult& r) { m_cb.onEpoch(item, r); };
        if (m_cb.onWarning)
            rc.onWarning = [&](const std::string& w) { m_cb.onWarning(item, w); };
        result =
            item.runId ? resumeRun(*item.runId, m_store, rc) : executeRun(runConfig, m_store, rc);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Store)
            throw;
        error = e.what();
        result.status = RunStatus::Failed;
        result.runId = item.runId.value_or(0);
    }
    return result;
}

SweepOutcome SweepDriver::run()
{
    SweepOutcome outcome;
    outcome.sweepId = m_sweepId;
    m_store.setSweepStatus(m_sweepId, RunStatus::Running);
    std::jthread watcher([this](const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            if (cancelRequested())
                m_cancelRun.store(true);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });

    bool stopped = false;
    for (auto& item : m_items) {
        if (item.duplicateOf)
            continue;  // settled with the item it duplicates
        if (m_cb.cancelAll && m_cb.cancelAll->load()) {
            stopped = true;
            break;
        }
        if (alreadyCompleted(item)) {
            outcome.skipped += copies(item);
            continue;
        }
        std::string error;
        const RunOutcome result = runItem(item, error);
        const std::optional<std::int64_t> runId =
            result.runId > 0 ? std::optional<std::int64_t>(result.runId) : std::nullopt;
        finish(item, runId, result.status, error);
        const int n = copies(item);
        if (result.status == RunStatus::Completed)
            outcome.completed += n;
        else if (result.status == RunStatus::Failed)
            outcome.failed += n;
        else
            outcome.cancelled += n;
        if (result.status == RunStatus::Cancelled && m_cb.cancelAll && m_cb.cancelAll->load()) {
            stopped = true;
            break;
        }
    }
    watcher.request_stop();
    if (m_cb.cancelCurrent)
        m_cb.cancelCurrent->store(false);

    outcome.status = stopped                 ? RunStatus::Cancelled
                     : outcome.failed > 0    ? RunStatus::Failed
                     : outcome.cancelled > 0 ? RunStatus::Cancelled
                                             : RunStatus::Completed;
    m_store.setSweepStatus(m_sweepId, outcome.status);
    return outcome;
}

}  // namespace

SweepOutcome runSweep(ExperimentStore& store, std::int64_t sweepId, const SweepCallbacks& cb)
{
    if (!store.sweep(sweepId))
        throw Error(ErrorKind::NotFound, "sweep " + std::to_string(sweepId) + " does not exist",
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    return SweepDriver(store, sweepId, cb).run();
}

}  // namespace sllmr
