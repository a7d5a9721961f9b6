#pragma once

// "Score with an LLM": the Studio's front to the offline scoring pipeline (core ScoringJob). It
// asks an OpenAI-compatible endpoint to score each user's sampled candidates for the loaded
// dataset and writes a pointwise score file, or writes the prompts as batch JSONL (dry run).
// The job runs as a JobRunner job with progress (requests, cache hits, retries, tokens, cost) and a
// cancel button; answers already received stay cached, so running again resumes. The API key is
// read from an environment variable by the core at request time; the dialog only names it.

#include <QDialog>

#include "llm/scoring_job.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace sllmr::ui {

class JobRunner;
class Workbench;

class ScoringDialog : public QDialog
{
    Q_OBJECT

public:
    explicit ScoringDialog(Workbench* workbench, QWidget* parent = nullptr);
    ~ScoringDialog() override;

    ScoringDialog(const ScoringDialog&) = delete;
    ScoringDialog& operator=(const ScoringDialog&) = delete;
    ScoringDialog(ScoringDialog&&) = delete;
    ScoringDialog& operator=(ScoringDialog&&) = delete;

    [[nodiscard]] ScoringParams params() const;
    void setParams(const ScoringParams& params);
    /// Starts the job (what the Run button does); false when one is running or nothing is loaded.
    bool start();
    void cancel();
    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] const ScoringResult& lastResult() const { return m_result; }

Q_SIGNALS:
    void finished(bool ok, const QString& message);

protected:
    void reject() override;

private:
    QWidget* createEndpointGroup(const ScoringParams& defaults);
    QWidget* createCandidateGroup(const ScoringParams& defaults);
    void showProgress(const ScoringProgress& p);
    void onFinished(const ScoringResult& result);
    void onFailed(const QString& error);
    void setIdle();

    Workbench* m_workbench;
    JobRunner* m_jobs;
    ScoringResult m_result;

    QLineEdit* m_baseUrl = nullptr;
    QLineEdit* m_model = nullptr;
    QLineEdit* m_keyEnv = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QSpinBox* m_history = nullptr;
    QSpinBox* m_candidates = nullptr;
    QSpinBox* m_pool = nullptr;
    QSpinBox* m_coldExtra = nullptr;
    QSpinBox* m_tailExtra = nullptr;
    QSpinBox* m_maxUsers = nullptr;
    QSpinBox* m_concurrency = nullptr;
    QDoubleSpinBox* m_rpm = nullptr;
    QDoubleSpinBox* m_costIn = nullptr;
    QDoubleSpinBox* m_costOut = nullptr;
    QLineEdit* m_template = nullptr;
    QLineEdit* m_output = nullptr;
    QCheckBox* m_dryRun = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_counts = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_load = nullptr;
};

}  // namespace sllmr::ui
