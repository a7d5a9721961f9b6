#pragma once
// Sweeps run by several processes or machines: a sweep folder on a (shared) filesystem in which
// every cell (a grid item that is not a duplicate) writes its own shard store, and the merge of
// the shards into experiments.db. No two processes ever write one SQLite file: each cell's task
// writes cells/<position>/shard.db (and its checkpoints beside it), and only `collectSweep`, run
// where experiments.db lives, writes experiments.db.
//
// Folder layout:
//   sweep.json                 the manifest: sweep id, grid, executor settings, every item
//   jobs.json                  Slurm submissions: job id and the cells of each (executors.h)
//   cells/<position>/shard.db  the cell's store: one sweep with the cell's item (and, for a cell
//                              whose gate.reference_run is "@LABEL", the reference cell's run,
//                              imported before it starts), its run and metrics
//   cells/<position>/*.log     the task's output
//
// A cell is identified by its sweep, position, config hash and seed; collecting links the sweep
// item of experiments.db to the imported run in the same transaction, so collecting twice adds
// nothing. Every shard passes PRAGMA integrity_check before it is read; a broken, partial or
// in-use shard is reported and left alone. Errors are sllmr::Error.
#include "analysis/grid.h"
#include "store/experiment_store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct RunCallbacks;  // train/runner.h
struct RunOutcome;

// One item of the manifest (as in the sweep_items table) and, for "@LABEL" references, the
// position of the item whose run it refers to.
struct ManifestItem
{
    int position = 0;
    std::string rowLabel;
    std::int64_t seed = 0;
    std::string configJson;
    std::string configHash;
    std::optional<int> duplicateOf;
    std::optional<int> referencePosition;
};

struct SweepManifest
{
    std::string folder;
    std::int64_t sweepId = 0;  // in the experiments.db it was created from
    std::string database;      // that database's path (absolute)
    std::string name;
    nlohmann::json executor;  // executors.h: ExecutorSettings as JSON
    std::vector<ManifestItem> items;

    // The items that run (not duplicates), in queue order.
    std::vector<int> cells() const;
};

// Paths inside a sweep folder.
std::string cellDir(const std::string& folder, int position);
std::string shardPath(const std::string& folder, int position);

// The default folder of sweep `sweepId` of the store at `dbPath`: <db>.sweeps/sweep-<id>.
std::string defaultSweepFolder(const std::string& dbPath, std::int64_t sweepId);

// Writes the manifest and the cell folders of sweep `sweepId` (already created in `store`) and
// records the folder and executor in the sweep's grid JSON ("executor", "folder").
SweepManifest createSweepFolder(ExperimentStore& store, std::int64_t sweepId,
                                const std::string& folder, const nlohmann::json& executor);
// The manifest a sweep of `expansion` would get, without writing anything (previews, e.g. the
// batch script before the sweep exists).
SweepManifest previewManifest(const std::string& name, const GridExpansion& expansion,
                              std::int64_t sweepId, const std::string& folder);
// Reads a manifest; Error(NotFound) when the folder has none, Error(BadInput) when malformed.
SweepManifest readSweepManifest(const std::string& folder);
// The folder of a sweep of `store` run by another executor; Error(Usage) for a local sweep.
std::string sweepFolderOf(const ExperimentStore& store, std::int64_t sweepId);

// The cells grouped so that a cell comes after the cell its gate.reference_run refers to: wave 0
// has no references, wave k refers only to earlier waves. `cells` restricts to those positions
// (a reference outside them must already be complete).
std::vector<std::vector<int>> cellWaves(const SweepManifest& manifest,
                                        const std::vector<int>& cells);

// What a shard says about its cell.
enum class ShardState {
    Missing,     // no shard: the cell has not started
    InUse,       // a -wal beside it: running, or its writer was killed (resume the cell)
    Broken,      // fails the integrity check, or is not a store of this version
    NoRun,       // sound, but the cell's run was not created yet
    Incomplete,  // the run exists and is not completed (running, cancelled, failed, ...)
    Completed,
};
const char* toString(ShardState state);

struct ShardInfo
{
    ShardState state = ShardState::Missing;
    std::optional<std::int64_t> runId;  // in the shard
    RunStatus runStatus = RunStatus::Pending;
    std::string problem;  // integrity check, or the run's error
};

// Reads cell `position`'s shard without writing to it.
ShardInfo inspectShard(const SweepManifest& manifest, int position);

// The outcome of collecting one item.
struct CollectedItem
{
    int position = 0;
    std::string rowLabel;
    std::int64_t seed = 0;
    enum class Outcome { Imported, AlreadyCollected, Skipped } outcome = Outcome::Skipped;
    std::optional<std::int64_t> runId;  // in experiments.db
    std::string note;                   // why it was skipped
};

struct CollectReport
{
    std::int64_t sweepId = 0;
    std::vector<CollectedItem> items;  // cells only (duplicates follow their cell)
    int imported = 0;
    int alreadyCollected = 0;
    int skipped = 0;
    RunStatus sweepStatus = RunStatus::Running;  // completed once every item is
};

// Merges the completed shards of sweep `sweepId` of `store` (whose folder is in its grid JSON)
// into `store`: runs with their metrics, datasets and score sets (new ids), gate.reference_run
// rewritten to the reference's id in `store`, and best.pt copied to the run's checkpoint folder.
// Idempotent. Cells are visited in queue order, so a reference is collected before the cells
// that refer to it.
CollectReport collectSweep(ExperimentStore& store, std::int64_t sweepId);

// Runs cell `position` of the sweep in `folder` into its shard (what `sllmr run --sweep-dir DIR
// --cell N` does, in a Slurm task or a worker process): nothing when the shard's run completed,
// the shard's run resumed from its checkpoint when it exists, else a new run. A cell whose
// gate.reference_run is "@LABEL" first imports the reference cell's completed run from that
// cell's shard into its own (Error(Usage) when it has not completed). `threads` > 0 replaces
// train.threads 0 ("LibTorch's default") so that parallel cells do not oversubscribe the cores.
// (Include train/runner.h to call it.)
RunOutcome runCell(const std::string& folder, int position, int threads,
                   const RunCallbacks& callbacks);

}  // namespace sllmr
