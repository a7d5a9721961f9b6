#pragma once

// The Studio's working state over the core engine: the current run configuration and what it
// loads (dataset, segmentation, LLM scores, the gate preview index and the LLM's quality per
// segment). Loading and every recomputation are JobRunner jobs on one channel: results arrive
// through signals on the GUI thread, so nothing here blocks the window; a newer request
// supersedes an older one (its result is dropped), and a load in progress can be cancelled.

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "data/segments.h"
#include "engine/job_runner.h"
#include "eval/llm_quality.h"
#include "llm/scores.h"
#include "train/gate_preview.h"
#include "train/run_config.h"

namespace sllmr::ui {

/// Everything derived from the dataset, its segment thresholds and the score file.
struct LoadedState
{
    std::shared_ptr<const Dataset> dataset;
    std::shared_ptr<const Segmentation> segmentation;
    std::shared_ptr<const ScoreSet> scores;
    std::shared_ptr<const GatePreviewIndex> preview;  // null without scores
    std::vector<LlmSegmentQuality> llmQuality;        // empty without scores
};

class Workbench : public QObject
{
    Q_OBJECT

public:
    explicit Workbench(QString databasePath, QObject* parent = nullptr);
    ~Workbench() override;

    Workbench(const Workbench&) = delete;
    Workbench& operator=(const Workbench&) = delete;
    Workbench(Workbench&&) = delete;
    Workbench& operator=(Workbench&&) = delete;

    [[nodiscard]] const QString& databasePath() const { return m_databasePath; }

    /// The configuration the next run uses (paths resolved).
    [[nodiscard]] const RunConfig& config() const { return m_config; }
    /// Replaces the configuration; reloads what its data or score settings changed.
    void setConfig(const RunConfig& config);
    /// Changes only model/method/gate/train/eval settings (no reload).
    void updateTraining(const RunConfig& config);

    /// Loads config().dataset (and then the scores when config().scores.path is set).
    void loadDataset(const DatasetSpec& spec);
    void loadScores(const ScoreFileSpec& spec);
    /// New segment thresholds: segmentation, preview index and LLM quality are recomputed.
    void setSegments(const SegmentSpec& spec);
    void cancelLoad();

    /// Undo and redo over the configuration's edits (setConfig, updateTraining, setSegments):
    /// each restores the configuration as it was before, reloading or re-segmenting only what
    /// differs. At most 200 steps are kept.
    void undo();
    void redo();
    [[nodiscard]] bool canUndo() const { return !m_undo.empty(); }
    [[nodiscard]] bool canRedo() const { return !m_redo.empty(); }

    [[nodiscard]] bool isBusy() const;
    [[nodiscard]] const LoadedState& state() const { return m_state; }

Q_SIGNALS:
    void busyChanged(bool busy, const QString& what);
    void loadProgress(double fraction, const QString& stage);
    void datasetLoaded();
    void scoresLoaded();
    void derivedChanged();  ///< segmentation, preview index or LLM quality changed
    void configChanged();
    void failed(const QString& title, const QString& message);
    void undoChanged();  ///< canUndo() or canRedo() may have changed

private:
    struct Request;
    void start(Request request);
    void finish(const Request& request, LoadedState output);
    /// Records the configuration before an edit that makes it `next` (nothing when equal).
    void remember(const RunConfig& next);
    void restore(const RunConfig& config);

    QString m_databasePath;
    RunConfig m_config;
    LoadedState m_state;
    JobRunner* m_jobs = nullptr;
    bool m_loadingFiles = false;     // a dataset or scores job is in progress
    bool m_segmentsPending = false;  // thresholds edited meanwhile, applied after it
    std::vector<RunConfig> m_undo;   // configurations before each edit, oldest first
    std::vector<RunConfig> m_redo;
    bool m_restoring = false;  // undo()/redo() are applying a configuration
};

}  // namespace sllmr::ui
