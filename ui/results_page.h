#pragma once

// Workflow step 5: results. The per-segment test metrics of one or more runs as a grouped bar
// chart (segments x runs, one metric at a time; bars start at 0, a dashed chance line for AUC)
// and a table of every stored metric with the segment sizes; runs are picked from the store and
// compared side by side. "Group seeds" merges runs that differ only in their seed: a dot at the
// mean with its 95% t-interval over seeds (the unit is the seed). The table exports as CSV or
// LaTeX. The metrics are read by a job; a newer selection supersedes an older one.

#include <QList>
#include <QString>
#include <QWidget>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine/store_queries.h"

class QCheckBox;
class QComboBox;
class QCPAbstractItem;
class QLabel;
class QListWidget;
class QTableWidget;

namespace sllmr::ui {

class Chart;
class JobRunner;
class RunsModel;

class ResultsPage : public QWidget
{
    Q_OBJECT

public:
    ResultsPage(RunsModel* model, QString databasePath, QWidget* parent = nullptr);

    /// Shows exactly these runs (others unchecked).
    void showRuns(const QList<qint64>& runIds);
    [[nodiscard]] QList<qint64> shownRuns() const;
    void setMetric(const QString& metric);

    [[nodiscard]] Chart* chart() const { return m_chart; }
    [[nodiscard]] QTableWidget* table() const { return m_table; }
    [[nodiscard]] QLabel* lowAucNote() const { return m_note; }

    /// Mean and 95% t-interval half-width over seeds (NaN half-width for one seed).
    struct SeedSummary
    {
        double mean = 0;
        double halfWidth = std::nan("");
        int n = 0;
    };
    [[nodiscard]] static SeedSummary seedSummary(const std::vector<double>& values);
    void setGroupSeeds(bool on);

private:
    /// One column of the comparison: a run, or runs that differ only in their seed.
    struct Series
    {
        QString name;
        QList<qint64> runs;
        std::map<std::string, std::map<std::string, SeedSummary>> values;  // metric -> segment
    };
    [[nodiscard]] std::vector<Series> buildSeries(const RunMetrics& metrics) const;
    void nameDifferences(std::vector<Series>& series) const;
    void renderChart(const std::string& metric, const RunMetrics& metrics,
                     const std::vector<Series>& series);
    void renderTable(const RunMetrics& metrics, const std::vector<Series>& series);
    void rebuildRunList();
    /// Reads the checked runs' metrics in the background, then render()s them.
    void refresh();
    void render(const RunMetrics& metrics);
    /// A footnote naming AUC values below chance and what they mean.
    void warnDifferentSegments(const RunMetrics& metrics);
    void explainLowAuc(
        const std::string& metric,
        const std::map<std::string, std::map<std::string, std::map<qint64, double>>>& values);

    RunsModel* m_model;
    QString m_databasePath;
    JobRunner* m_jobs;
    QListWidget* m_runs = nullptr;
    QComboBox* m_metric = nullptr;
    QCheckBox* m_groupSeeds = nullptr;
    Chart* m_chart = nullptr;
    QTableWidget* m_table = nullptr;
    QLabel* m_note = nullptr;
    QCPAbstractItem* m_chanceLine = nullptr;
    QCPAbstractItem* m_chanceLabel = nullptr;
    QList<qint64> m_checked;
    QList<qint64> m_pending;  // asked for by showRuns(), not yet in the runs model
    bool m_updating = false;
};

}  // namespace sllmr::ui
