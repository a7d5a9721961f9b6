#pragma once

// Workflow step 4: the run. Start, pause and cancel (the window asks before cancelling); a
// progress bar with rate and ETA (paused time excluded; "Paused" while held); live charts of the
// loss split into base / LLM / gate terms, the validation AUC per segment and the gate's mean
// activation per segment, one point per epoch (redraws are throttled). A resumed run shows its
// stored epochs first.

#include <QElapsedTimer>
#include <QMap>
#include <QWidget>

#include "engine/run_controller.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace sllmr::ui {

class Chart;

class RunPage : public QWidget
{
    Q_OBJECT

public:
    explicit RunPage(RunController* controller, QWidget* parent = nullptr);

    [[nodiscard]] Chart* lossChart() const { return m_loss; }
    [[nodiscard]] Chart* aucChart() const { return m_auc; }
    [[nodiscard]] Chart* gateChart() const { return m_gate; }
    [[nodiscard]] QProgressBar* progressBar() const { return m_progress; }
    [[nodiscard]] QLabel* rateLabel() const { return m_rate; }
    [[nodiscard]] QPlainTextEdit* runLog() const { return m_log; }

Q_SIGNALS:
    void startRequested();
    /// The Cancel button: the window asks, then cancels.
    void cancelRequested();

private:
    void onStarted(qint64 runId);
    void onBatch(const BatchUpdate& update);
    void onEpoch(const EpochUpdate& update);
    void onFinished(qint64 runId, const QString& status);
    void onFailed(qint64 runId, const QString& message);
    void onPaused(bool paused);
    void syncButtons();
    void clearCharts();
    void setEmptyRanges();
    void addPoint(Chart* chart, const QString& series, double x, double y);
    void log(const QString& line);

    RunController* m_controller;
    QPushButton* m_start = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_cancel = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_warnings = nullptr;  // banner: what makes this run's numbers mislead
    QLabel* m_rate = nullptr;
    QProgressBar* m_progress = nullptr;
    Chart* m_loss = nullptr;
    Chart* m_auc = nullptr;
    Chart* m_gate = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QElapsedTimer m_clock;
    QElapsedTimer m_pausedAt;
    qint64 m_pausedMs = 0;
    double m_startFraction = -1;
    int m_epochs = 0;
};

}  // namespace sllmr::ui
