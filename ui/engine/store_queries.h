#pragma once

// The Studio's reads of the experiment store and of a run's gate, as plain functions that return
// value types. They open their own store connection and are meant to run inside JobRunner jobs
// (never on the GUI thread); they throw sllmr::Error, which the job hands to the page's failure
// handler. Widgets include this header, never the store's.

#include <QList>
#include <QString>
#include <QStringList>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/matrix.h"
#include "analysis/shards.h"
#include "inspect/gate_inspector.h"

namespace sllmr::ui {

/// Creates or checks the experiment store at startup, so a foreign or newer file is reported at
/// once (and left untouched), and marks runs left `running` by a crash `interrupted`. Quick; runs
/// before the window exists.
struct StoreCheck
{
    QString message;  // runs found left running and marked interrupted, if any
    QString error;    // why the store is unusable, else empty
};
[[nodiscard]] StoreCheck checkStore(const QString& databasePath);

/// The per-segment test metrics of some runs (evaluation segments; the buckets left out).
struct RunMetrics
{
    // metric -> segment -> run -> value
    std::map<std::string, std::map<std::string, std::map<qint64, double>>> values;
    std::map<std::string, std::int64_t>
        sizes;  // test interactions per segment (fewest of the runs)
    // segment -> run -> test interactions: runs with other segment thresholds differ here
    std::map<std::string, std::map<qint64, std::int64_t>> sizesByRun;
};
[[nodiscard]] RunMetrics readRunMetrics(const QString& databasePath, const QList<qint64>& runIds);

/// One stored sweep for a picker.
struct SweepEntry
{
    qint64 id = 0;
    QString label;     // "id · name · status · created", and the executor unless local
    QString executor;  // "local", "processes" or "slurm"
};
[[nodiscard]] std::vector<SweepEntry> readSweeps(const QString& databasePath);

/// The queue of a sweep as table rows. A local sweep: #, row, seed, status, run, note. A sweep
/// run by worker processes or Slurm also has each cell's state from its shard and its Slurm task
/// (squeue/sacct; executors.h): #, row, seed, cell, Slurm task, status in this database, run,
/// note (the reason or the last line of a failed cell's log).
struct SweepQueue
{
    QString executor;  // "local", "processes" or "slurm"
    QString folder;    // the sweep folder (processes, Slurm)
    QStringList header;
    QList<QStringList> rows;
    QStringList tooltips;      // per row: a failed cell's log tail
    bool outstanding = false;  // some cell is pending or running (worth polling again)
    int collectable = 0;       // cells completed in their shard, not yet in this database
};
[[nodiscard]] SweepQueue readSweepQueue(const QString& databasePath, qint64 sweepId);
/// Brings the completed shards of a processes or Slurm sweep into the store (core's
/// collectSweep: idempotent, broken shards reported and left alone).
[[nodiscard]] CollectReport collectSweepShards(const QString& databasePath, qint64 sweepId);
/// The results matrix of a sweep, against `reference` (empty: the sweep's own reference row),
/// with the paired tests on `unit`.
[[nodiscard]] ResultsMatrix buildSweepMatrix(const QString& databasePath, qint64 sweepId,
                                             const std::string& reference, TestUnit unit);

/// What the inspector shows of a run before any drill-down.
struct InspectorOverview
{
    InspectedRun run;
    std::vector<GateBin> training;
    std::vector<GateBin> final;
    std::array<GateCell, 4> grid{};
    ActivationHistogram histogram;
    std::vector<EpochGate> epochs;
    std::vector<SegmentDirections> directions;
};

/// A run opened for inspection. The core RunInspector holds a LibTorch model: use one session
/// on one thread only (a JobRunner with its own thread).
class InspectorSession
{
public:
    /// Opens run `runId` (the long call); polls `cancel`.
    InspectorOverview open(const QString& databasePath, qint64 runId,
                           const std::atomic<bool>* cancel);
    /// The opened inspector; Error(Usage) when none is open.
    [[nodiscard]] const RunInspector& inspector() const;

private:
    std::unique_ptr<RunInspector> m_inspector;
};

}  // namespace sllmr::ui
