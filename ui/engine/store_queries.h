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
#include "inspect/gate_inspector.h"

namespace sllmr::ui {

/// Creates or checks the experiment store at startup, so a foreign or newer file is reported at
/// once (and left untouched), and marks runs left `running` by a crash `interrupted`. Quick; runs
/// before the window exists.
struct StoreCheck
{
    QString message;  // "N runs in the store, ..." when usable
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
    QString label;  // "id · name · status · created"
};
[[nodiscard]] std::vector<SweepEntry> readSweeps(const QString& databasePath);
/// The queue of a sweep as table rows: #, row, seed, status, run, note.
[[nodiscard]] QList<QStringList> readSweepQueue(const QString& databasePath, qint64 sweepId);
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
