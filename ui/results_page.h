#pragma once

// Workflow step 5: results. The per-segment test metrics of one or more runs as a grouped bar
// chart (segments x runs, one metric at a time) and a table of every stored metric with the
// segment sizes; runs are picked from the store and compared side by side.

#include <QList>
#include <QWidget>

class QComboBox;
class QListWidget;
class QTableWidget;

namespace sllmr::ui {

class Chart;
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

private:
    void rebuildRunList();
    void refresh();

    RunsModel* m_model;
    QString m_databasePath;
    QListWidget* m_runs = nullptr;
    QComboBox* m_metric = nullptr;
    Chart* m_chart = nullptr;
    QTableWidget* m_table = nullptr;
    QList<qint64> m_checked;
    bool m_updating = false;
};

}  // namespace sllmr::ui
