#pragma once
// Sweeps: the queue of an expanded grid, kept in the experiment store (tables sweeps and
// sweep_items) and run one item at a time through executeRun/resumeRun. A sweep is resumable
// after a crash, a kill or a cancel: completed items are skipped, items whose run exists but did
// not complete (cancelled, interrupted, failed) resume from their checkpoints, and the rest
// start. Duplicate items (same config hash) share the run of the first one.
//
// Threads: call runSweep on a worker thread with its own ExperimentStore; the cancel flags may be
// set from any thread. Callbacks run on the calling thread. Failures of single items are recorded
// (item and sweep status "failed") and the queue goes on; store errors throw.
#include "analysis/grid.h"
#include "run/runner.h"
#include "store/experiment_store.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace sllmr {

struct SweepCallbacks
{
    // position in the queue, its run id (new or resumed), item count.
    std::function<void(const SweepItemRecord& item, std::int64_t runId, int items)> onItemStarted;
    std::function<void(const SweepItemRecord& item, const BatchProgress&)> onBatch;
    std::function<void(const SweepItemRecord& item, const EpochResult&)> onEpoch;
    std::function<void(const SweepItemRecord& item, const std::string& warning)> onWarning;
    // Called for every item that was run or skipped; `error` is set for failed items.
    std::function<void(const SweepItemRecord& item, RunStatus status, const std::string& error)>
        onItemFinished;
    // Set (by any thread) to cancel the running item and go on with the next; runSweep clears it.
    std::atomic<bool>* cancelCurrent = nullptr;
    // Set to cancel the running item and stop the sweep (resumable).
    const std::atomic<bool>* cancelAll = nullptr;
};

struct SweepOutcome
{
    std::int64_t sweepId = 0;
    RunStatus status = RunStatus::Pending;
    int completed = 0;  // items completed in this call, duplicates included
    int skipped = 0;    // already completed before this call
    int failed = 0;
    int cancelled = 0;
};

// Records the grid's expansion as a new pending sweep; returns its id.
std::int64_t createSweep(ExperimentStore& store, const Grid& grid, const GridExpansion& expansion);
// Runs (or continues) sweep `sweepId`. Throws Error(NotFound) for an unknown sweep.
SweepOutcome runSweep(ExperimentStore& store, std::int64_t sweepId,
                      const SweepCallbacks& callbacks = {});

}  // namespace sllmr
