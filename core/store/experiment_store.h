#pragma once
// ExperimentStore owns `experiments.db` (SQLite, WAL): schema creation, versioned upgrades
// (PRAGMA user_version, application_id), and every read and write of datasets, score sets, runs and
// their metrics. One transaction per logical write; parameterized statements only.
//
// Failure: a database written by a newer version of the software, or a SQLite file that is not
// ours, throws Error(ErrorKind::Store) on open and is left byte-for-byte unmodified. The file is
// untrusted: connections are DEFENSIVE with trusted_schema off and views disabled, and a file whose
// sqlite_schema is not exactly our tables and indexes (a trigger, a view, an extra table, a changed
// definition) is refused the same way before anything is written. Statement steps are bounded in
// time and values in size; text read back is valid UTF-8 (U+FFFD for invalid bytes), and text is
// stored as valid UTF-8. A failed write rolls back and leaves what was stored before intact. Not
// thread-safe: use one store per thread (SQLite in WAL mode lets several connections read while one
// writes).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace sllmr {

// Version of the schema this build writes. Older schemas are upgraded step by step on open.
inline constexpr int kSchemaVersion = 3;
// PRAGMA application_id of our databases ("SLLM" in ASCII).
inline constexpr std::int32_t kApplicationId = 0x534C4C4D;

struct DatasetRecord
{
    std::int64_t id = 0;
    std::string name;
    std::string source;       // main input path as given
    std::string contentHash;  // hash of input bytes + preprocessing spec
    std::string specJson;     // DatasetSpec as JSON
    std::string statsJson;    // counts and segment sizes as JSON
    std::string createdAt;    // ISO 8601 UTC
};

struct ScoreSetRecord
{
    std::int64_t id = 0;
    std::int64_t datasetId = 0;
    std::string name;
    std::string source;
    std::string contentHash;
    std::string specJson;    // ScoreFileSpec as JSON
    std::string reportJson;  // ScoreReport as JSON
    std::string createdAt;
};

enum class RunStatus { Pending, Running, Completed, Failed, Cancelled, Interrupted };
const char* toString(RunStatus status);
RunStatus runStatusFromString(const std::string& text);  // throws Error(Usage) on unknown text

struct RunRecord
{
    std::int64_t id = 0;
    std::optional<std::int64_t> datasetId;
    std::optional<std::int64_t> scoreSetId;
    std::string name;
    std::string configJson;
    std::string configHash;
    RunStatus status = RunStatus::Pending;
    std::int64_t seed = 0;
    std::string softwareVersion;
    std::string createdAt;
    std::string startedAt;   // empty until started
    std::string finishedAt;  // empty until finished
    std::string error;       // message for Failed runs
    std::string notes;
    std::string tags;  // comma-separated
};

// One scalar per (run, epoch, key): losses, validation AUC, gate means, rates.
struct EpochMetric
{
    int epoch = 0;
    std::string key;
    double value = 0.0;
};

// One scalar per (run, segment, metric), with the segment's size.
struct SegmentMetric
{
    std::string segment;
    std::string metric;
    double value = 0.0;
    std::int64_t size = 0;
};

// Per-test-interaction values (e.g. AUC) for paired tests.
struct InteractionMetric
{
    std::int64_t user = 0;  // dense index in the run's dataset
    std::int64_t item = 0;
    std::string metric;
    double value = 0.0;
};

// Binned gate statistics: dimension is e.g. "history" or "popularity".
struct GateBin
{
    int epoch = 0;
    std::string dimension;
    int bin = 0;
    double lo = 0.0;
    double hi = 0.0;
    std::int64_t count = 0;
    double meanActivation = 0.0;
    double activeShare = 0.0;
};

// A sweep: an expanded grid of runs (analysis/grid.h) and its queue. The status uses the run
// statuses: pending, running, completed, failed (some item failed), cancelled, interrupted.
struct SweepRecord
{
    std::int64_t id = 0;
    std::string name;
    std::string gridJson;  // the grid as read, with the grid file's path under "file"
    std::string createdAt;
    RunStatus status = RunStatus::Pending;
};

// One queued run of a sweep, in queue order (position 0, 1, ...).
struct SweepItemRecord
{
    std::int64_t sweepId = 0;
    int position = 0;
    std::string rowLabel;  // variant label and axis values, e.g. "selective | model.type=mf"
    std::int64_t seed = 0;
    std::string configJson;  // may hold "@LABEL" in gate.reference_run until it runs
    std::string configHash;
    std::optional<int> duplicateOf;     // position of the identical item that runs instead
    std::optional<std::int64_t> runId;  // set as soon as the run is created
    RunStatus status = RunStatus::Pending;
};

// How a store file is opened. A snapshot reads a file that no process writes any more (e.g. a
// finished sweep shard on a shared filesystem): no lock, no -wal/-shm file, nothing written, no
// upgrade; it is refused when a -wal file shows that a writer is (or was, until killed) active.
enum class StoreAccess { ReadWrite, ReadOnlySnapshot };

// What importRun does besides copying a run: the config it is stored with (a shard's run may refer
// to runs by shard-local ids) and the sweep items of this store it completes.
struct RunImport
{
    std::string configJson;  // replaces the run's config JSON when not empty...
    std::string configHash;  // ...with this hash
    std::vector<std::pair<std::int64_t, int>> sweepItems;  // (sweep id, position) to link
};

class ExperimentStore
{
public:
    // Opens (creating if absent) the database at `path`. Throws Error(Store) when the file is not
    // ours, was written by a newer version, or cannot be opened; the file is then not modified.
    explicit ExperimentStore(const std::string& path);
    // The same with an explicit access mode; a snapshot throws Error(Store) for a missing file, a
    // file with a -wal beside it, or one written by another program or a newer version.
    ExperimentStore(const std::string& path, StoreAccess access);
    ~ExperimentStore();
    ExperimentStore(const ExperimentStore&) = delete;
    ExperimentStore& operator=(const ExperimentStore&) = delete;

    const std::string& path() const noexcept { return m_path; }
    int schemaVersion() const;

    // Datasets and score sets are deduplicated by content hash: adding one that exists returns
    // the existing id.
    std::int64_t addDataset(const DatasetRecord& record);
    std::optional<DatasetRecord> dataset(std::int64_t id) const;
    std::optional<DatasetRecord> datasetByHash(const std::string& contentHash) const;
    std::vector<DatasetRecord> datasets() const;

    std::int64_t addScoreSet(const ScoreSetRecord& record);
    std::optional<ScoreSetRecord> scoreSet(std::int64_t id) const;
    std::vector<ScoreSetRecord> scoreSets(std::optional<std::int64_t> datasetId = {}) const;

    std::int64_t createRun(const RunRecord& record);  // returns the new id; createdAt is set
    std::optional<RunRecord> run(std::int64_t id) const;
    std::vector<RunRecord> runs() const;  // newest first
    void setRunStatus(std::int64_t id, RunStatus status, const std::string& error = {});
    void setRunNotes(std::int64_t id, const std::string& notes, const std::string& tags);
    // Links a run to the dataset and score set records it was trained on (their content hashes
    // let a later reader check that the files did not change).
    void setRunInputs(std::int64_t id, std::optional<std::int64_t> datasetId,
                      std::optional<std::int64_t> scoreSetId);
    void deleteRun(std::int64_t id);  // with all its metrics
    // Marks every run still `running` as `interrupted` (a crashed or killed process); returns
    // count.
    int markStaleRunsInterrupted();

    // A sweep and all its items in one transaction; returns the sweep id.
    std::int64_t createSweep(const SweepRecord& sweep, const std::vector<SweepItemRecord>& items);
    std::optional<SweepRecord> sweep(std::int64_t id) const;
    std::vector<SweepRecord> sweeps() const;                              // newest first
    std::vector<SweepItemRecord> sweepItems(std::int64_t sweepId) const;  // by position
    void setSweepStatus(std::int64_t id, RunStatus status);               // throws NotFound
    void setSweepGrid(std::int64_t id, const std::string& gridJson);      // throws NotFound
    void setSweepItem(std::int64_t sweepId, int position, std::optional<std::int64_t> runId,
                      RunStatus status);

    // Each call is one transaction; existing rows with the same key are replaced.
    void addEpochMetrics(std::int64_t runId, const std::vector<EpochMetric>& metrics);
    void addSegmentMetrics(std::int64_t runId, const std::vector<SegmentMetric>& metrics);
    void addInteractionMetrics(std::int64_t runId, const std::vector<InteractionMetric>& metrics);
    void addGateBins(std::int64_t runId, const std::vector<GateBin>& bins);
    // One finished epoch: its metrics and gate bins together, in one transaction (all or none).
    void addEpoch(std::int64_t runId, const std::vector<EpochMetric>& metrics,
                  const std::vector<GateBin>& bins);
    // Deletes the epoch metrics and gate bins of epochs after `epoch` (a resumed run trains them
    // again). Returns the number of rows deleted.
    int discardEpochsAfter(std::int64_t runId, int epoch);

    std::vector<EpochMetric> epochMetrics(std::int64_t runId) const;
    std::vector<SegmentMetric> segmentMetrics(std::int64_t runId) const;
    std::vector<InteractionMetric> interactionMetrics(std::int64_t runId,
                                                      const std::string& metric) const;
    std::vector<GateBin> gateBins(std::int64_t runId) const;

    // Copies run `runId` of `source` (another store file, typically a sweep shard opened as a
    // snapshot) into this store with everything stored about it: the run row, its dataset and
    // score set (matched by content hash, added when absent), and every per-run table (the list
    // is kRunTables in experiment_store.cpp). Runs, datasets and score sets get this store's
    // ids. One transaction, together with the sweep items of `options`; returns the new run id.
    // Checkpoint files are not copied here (see analysis/shards.h).
    std::int64_t importRun(const ExperimentStore& source, std::int64_t runId,
                           const RunImport& options = {});

private:
    void checkAndUpgrade();

    std::string m_path;
    sqlite3* m_db = nullptr;
};

// Runs `PRAGMA integrity_check` on a store file without writing to it (a snapshot, see
// StoreAccess). Returns an empty string when the file is sound, else what is wrong with it (a
// missing or unreadable file, a -wal file left by a writer, corruption, not our file).
std::string storeFileProblem(const std::string& path);

// The per-run tables importRun copies (for the test that they cover the schema).
std::vector<std::string> runTablesForTests();

// The SQL that created schema version `version` from scratch (1..kSchemaVersion); exposed so
// tests can build an old database and check the upgrade path.
std::string schemaSqlForTests(int version);

}  // namespace sllmr
