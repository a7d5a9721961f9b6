#pragma once
// Who runs the cells of a sweep. `local` is runSweep (sweep.h) in this process. The others run
// each cell as its own `sllmr run --sweep-dir DIR --cell N` process writing its own shard
// (shards.h), and `collectSweep` brings the results home:
//   processes  N worker processes on this machine (a small pool; no scheduler of our own beyond
//              starting the next cell when one ends and its reference has finished);
//   slurm      one `sbatch` array job per wave of cells (one array task per cell; a cell whose
//              gate.reference_run is "@LABEL" goes in a later wave submitted with
//              --dependency=afterany on the earlier one), executed by Slurm.
//
// Threads: runProcesses blocks until its cells end and polls `cancel`; callbacks run on the
// calling thread. Failures: Error(Usage) for bad settings (naming the key), Error(NotFound) when
// sbatch/squeue cannot be run, Error(BadInput) when sbatch refuses the job (with its message).
#include "analysis/shards.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

enum class ExecutorKind { Local, Processes, Slurm };
const char* toString(ExecutorKind kind);

struct SlurmOptions
{
    std::string partition;
    std::string time;  // e.g. "00:30:00"
    int cpusPerTask = 0;
    std::string mem;  // e.g. "4G"
    std::string account;
    int throttle = 0;                // at most N tasks at once (the array's %N); 0: no limit
    std::vector<std::string> extra;  // more #SBATCH lines, e.g. "--qos=short"
    std::string program;             // the sllmr every node runs; "": this binary
};

struct ExecutorSettings
{
    ExecutorKind kind = ExecutorKind::Local;
    int jobs = 0;        // processes: workers (0: 2)
    std::string folder;  // sweep folder ("": next to experiments.db, see defaultSweepFolder)
    SlurmOptions slurm;
};

// The grid key "executor": "local" | "processes" | "slurm", or an object {"name": ..., "jobs",
// "folder", "partition", "time", "cpus_per_task", "mem", "account", "throttle", "sbatch": [...],
// "program"}. Strict: unknown keys and bad values are Error(Usage) naming `where` and the key.
ExecutorSettings executorFromJson(const nlohmann::json& j, const std::string& where);
nlohmann::json toJson(const ExecutorSettings& settings);

// The executor sweep `sweepId` of `store` was started with, as its grid JSON records it
// ("executor" and "folder", written by prepareSweepLaunch); nullopt for a sweep that runs in one
// process (local). Error(NotFound) when the sweep does not exist.
std::optional<ExecutorSettings> recordedExecutor(const ExperimentStore& store,
                                                 std::int64_t sweepId);
// The same from a sweep record already read (no query).
std::optional<ExecutorSettings> recordedExecutor(const SweepRecord& sweep);

// What to run now for sweep `sweepId` of `store`: on a fresh start the sweep folder is created
// (settings.folder, or defaultSweepFolder) with its manifest, the executor is recorded in the
// sweep, and every cell runs; on a resume the existing folder is read and the cells without a
// completed shard run (for Slurm also not those pending or running).
struct SweepLaunch
{
    SweepManifest manifest;
    std::vector<int> cells;
};
SweepLaunch prepareSweepLaunch(ExperimentStore& store, std::int64_t sweepId,
                               const ExecutorSettings& settings, bool resuming);

// --- processes ----------------------------------------------------------------------------------

struct ProcessCallbacks
{
    std::function<void(int position, int pid)> onCellStarted;
    std::function<void(int position, int exitCode)> onCellFinished;  // 130: cancelled
    const std::atomic<bool>* cancel = nullptr;  // SIGTERM to the workers (their runs: cancelled)
};

// Runs `cells` of the sweep with `jobs` concurrent `program run --sweep-dir ... --cell N`
// processes, each with train.threads = cores / jobs (at least 1) where the cell leaves it 0; the
// output of each goes to cells/N/worker.log. Returns the exit code per cell.
std::map<int, int> runProcesses(const SweepManifest& manifest, const std::vector<int>& cells,
                                int jobs, const std::string& program,
                                const ProcessCallbacks& callbacks = {});

// --- slurm --------------------------------------------------------------------------------------

// The batch script of one array job over `cells` (positions = array indices).
std::string slurmScript(const SweepManifest& manifest, const SlurmOptions& options,
                        const std::vector<int>& cells, const std::string& program);

struct SlurmSubmission
{
    std::string jobId;
    std::vector<int> cells;
    std::string dependsOn;  // job id of the earlier wave, or ""
    std::string script;     // path of the script submitted
    std::string submittedAt;
};

// Writes the scripts and submits one array job per wave of `cells`; records the submissions in
// the folder's jobs.json. Returns the new submissions.
std::vector<SlurmSubmission> submitSlurm(const SweepManifest& manifest, const SlurmOptions& options,
                                         const std::vector<int>& cells, const std::string& program);
// Every submission recorded in the folder, oldest first.
std::vector<SlurmSubmission> readSubmissions(const std::string& folder);

// --- status -------------------------------------------------------------------------------------

enum class CellState { Pending, Running, Completed, Failed };
const char* toString(CellState state);

struct CellStatus
{
    int position = 0;
    std::string rowLabel;
    std::int64_t seed = 0;
    CellState state = CellState::Pending;
    std::string jobId;       // Slurm: JOB_TASK of the latest submission, else ""
    std::string slurmState;  // e.g. PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT; "" unknown
    std::string shard;       // ShardState as text
    std::string detail;      // run status or error
    std::string logTail;     // the last lines of the task's log, for failed cells
};

// Per cell: the shard (what it says is final), the Slurm state of its latest task (squeue, and
// sacct where accounting is enabled) and, for failed cells, the tail of its log.
std::vector<CellStatus> sweepCellStatus(const SweepManifest& manifest);

// The cells without a completed shard that are neither pending nor running (what a resume
// resubmits).
std::vector<int> cellsToResume(const std::vector<CellStatus>& status);

// Runs a program (searched in PATH) with arguments; returns its exit code and, in `output`, its
// standard output and error. Error(NotFound) when it cannot be started.
int runProgram(const std::vector<std::string>& argv, std::string* output);

}  // namespace sllmr
