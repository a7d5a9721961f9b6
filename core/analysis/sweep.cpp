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

SweepOutcome runSweep(ExperimentStore& store, std::int64_t sweepId, const SweepCallbacks& cb)
{
    if (!store.sweep(sweepId))
        throw Error(ErrorKind::NotFound, "sweep " + std::to_string(sweepId) + " does not exist",
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    auto items = store.sweepItems(sweepId);
    SweepOutcome outcome;
    outcome.sweepId = sweepId;
    store.setSweepStatus(sweepId, RunStatus::Running);

    // One flag for the engine, raised when either of the caller's flags is: the trainer polls a
    // single atomic between batches, and loading and evaluation poll it too.
    std::atomic<bool> cancelRun{false};
    std::jthread watcher([&](std::stop_token stop) {
        while (!stop.stop_requested()) {
            if ((cb.cancelCurrent && cb.cancelCurrent->load()) ||
                (cb.cancelAll && cb.cancelAll->load()))
                cancelRun.store(true);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });

    auto byPosition = [&](int position) -> SweepItemRecord& {
        return items[static_cast<std::size_t>(position)];
    };
    // The run of an item: its own, or that of the item it duplicates.
    auto runOf = [&](const SweepItemRecord& item) {
        return item.duplicateOf ? byPosition(*item.duplicateOf).runId : item.runId;
    };
    auto finish = [&](SweepItemRecord& item, std::optional<std::int64_t> runId, RunStatus status,
                      const std::string& error) {
        item.runId = runId;
        item.status = status;
        store.setSweepItem(sweepId, item.position, runId, status);
        if (cb.onItemFinished)
            cb.onItemFinished(item, status, error);
        // Duplicates share the outcome.
        for (auto& other : items)
            if (other.duplicateOf == item.position) {
                other.runId = runId;
                other.status = status;
                store.setSweepItem(sweepId, other.position, runId, status);
                if (cb.onItemFinished)
                    cb.onItemFinished(other, status, error);
            }
    };

    bool stopped = false;
    const int count = static_cast<int>(items.size());
    for (auto& item : items) {
        if (item.duplicateOf)
            continue;  // settled with the item it duplicates
        if (cb.cancelAll && cb.cancelAll->load()) {
            stopped = true;
            break;
        }
        if (item.runId) {
            const auto run = store.run(*item.runId);
            if (run && run->status == RunStatus::Completed) {
                ++outcome.skipped;
                for (const auto& other : items)
                    outcome.skipped += other.duplicateOf == item.position;
                if (item.status != RunStatus::Completed)
                    finish(item, item.runId, RunStatus::Completed, {});
                continue;
            }
            if (!run)
                item.runId.reset();  // deleted meanwhile: start again
        }
        if (cb.cancelCurrent)
            cb.cancelCurrent->store(false);
        cancelRun.store(false);

        RunOutcome result;
        std::string error;
        try {
            json config = json::parse(item.configJson);
            if (config["gate"]["reference_run"].is_string()) {
                const auto label = config["gate"]["reference_run"].get<std::string>().substr(1);
                std::optional<std::int64_t> ref;
                for (const auto& other : items)
                    if (other.rowLabel == label && other.seed == item.seed &&
                        other.position < item.position)
                        ref = runOf(other);
                const auto refRun = ref ? store.run(*ref) : std::nullopt;
                if (!refRun || refRun->status != RunStatus::Completed)
                    throw Error(ErrorKind::Usage,
                                "'gate.reference_run' \"@" + label +
                                    "\": the reference row's run with seed " +
                                    std::to_string(item.seed) + " did not complete",
                                {}, 0, "resume the sweep after the reference run completes");
                config["gate"]["reference_run"] = *ref;
            }
            const RunConfig runConfig = runConfigFromJson(config);
            RunCallbacks rc;
            rc.cancel = &cancelRun;
            rc.onStarted = [&](std::int64_t runId) {
                item.runId = runId;
                item.status = RunStatus::Running;
                store.setSweepItem(sweepId, item.position, runId, RunStatus::Running);
                if (cb.onItemStarted)
                    cb.onItemStarted(item, runId, count);
            };
            rc.onBatch = [&](const BatchProgress& p) {
                if (cb.onBatch)
                    cb.onBatch(item, p);
                // Also checked here so a flag raised by a callback stops the very next batch.
                if ((cb.cancelCurrent && cb.cancelCurrent->load()) ||
                    (cb.cancelAll && cb.cancelAll->load()))
                    cancelRun.store(true);
            };
            if (cb.onEpoch)
                rc.onEpoch = [&](const EpochResult& r) { cb.onEpoch(item, r); };
            if (cb.onWarning)
                rc.onWarning = [&](const std::string& w) { cb.onWarning(item, w); };
            result =
                item.runId ? resumeRun(*item.runId, store, rc) : executeRun(runConfig, store, rc);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::Store)
                throw;
            error = e.what();
            result.status = RunStatus::Failed;
            result.runId = item.runId.value_or(0);
        }
        const std::optional<std::int64_t> runId =
            result.runId > 0 ? std::optional<std::int64_t>(result.runId) : std::nullopt;
        finish(item, runId, result.status, error);
        int n = 1;
        for (const auto& other : items)
            n += other.duplicateOf == item.position;
        if (result.status == RunStatus::Completed)
            outcome.completed += n;
        else if (result.status == RunStatus::Failed)
            outcome.failed += n;
        else
            outcome.cancelled += n;
        if (result.status == RunStatus::Cancelled && cb.cancelAll && cb.cancelAll->load()) {
            stopped = true;
            break;
        }
    }
    watcher.request_stop();
    if (cb.cancelCurrent)
        cb.cancelCurrent->store(false);

    outcome.status = stopped                 ? RunStatus::Cancelled
                     : outcome.failed > 0    ? RunStatus::Failed
                     : outcome.cancelled > 0 ? RunStatus::Cancelled
                                             : RunStatus::Completed;
    store.setSweepStatus(sweepId, outcome.status);
    return outcome;
}

}  // namespace sllmr
