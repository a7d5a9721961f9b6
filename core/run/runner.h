#pragma once
// Runs an experiment end to end against the experiment store: loads the dataset and the LLM
// scores, trains epoch by epoch (checkpointing after each one), stops early on the validation AUC,
// restores the best epoch, evaluates per segment, and stores config, curves, gate statistics,
// per-segment and per-interaction metrics. The CLI and the Studio both call this.
//
// A run killed at any point can be resumed from its last finished epoch and reaches the same
// final metrics as an uninterrupted run. Cancelling stops between batches and marks the run
// `cancelled`, keeping what it had (it can be resumed as well).
#include "eval/evaluation.h"
#include "store/experiment_store.h"
#include "train/progress.h"
#include "train/run_config.h"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct RunCallbacks
{
    std::function<void(std::int64_t runId)> onStarted;
    std::function<void(const std::string& stage)> onStage;  // "loading data", "evaluating", ...
    std::function<void(const BatchProgress&)> onBatch;
    std::function<void(const EpochResult&)> onEpoch;
    // A finding that makes the run's numbers mislead (train/run_checks.h); it is also stored in
    // the run's notes as a "warning: " line.
    std::function<void(const std::string& warning)> onWarning;
    const std::atomic<bool>* cancel = nullptr;
};

struct RunOutcome
{
    std::int64_t runId = 0;
    RunStatus status = RunStatus::Pending;
    int epochsRun = 0;
    int bestEpoch = 0;
    Evaluation evaluation;  // empty unless completed
    std::vector<std::string> warnings;
};

// Starts a new run of `config`.
RunOutcome executeRun(const RunConfig& config, ExperimentStore& store,
                      const RunCallbacks& callbacks = {});
// Continues run `runId` from its last checkpoint (its config is read from the store).
RunOutcome resumeRun(std::int64_t runId, ExperimentStore& store,
                     const RunCallbacks& callbacks = {});

// Folder of a run's checkpoints: <store path>.checkpoints/run-<id>. (Inline: the LibTorch-free
// `sllmr` front needs it to collect sweep shards, without the rest of this file's definitions.)
inline std::string checkpointDir(const ExperimentStore& store, std::int64_t runId)
{
    return store.path() + ".checkpoints/run-" + std::to_string(runId);
}

}  // namespace sllmr
