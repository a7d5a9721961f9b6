#pragma once

// The gate inspector: what the gate did in one completed run. Run-level views (activation by
// history length and by popularity with counts, the Cold x Tail grid, the distribution of a, the
// gate's activation and its four parameters per epoch) and drill-downs to one user or one item,
// searchable by original id and by title. The run is held by an InspectorSession on the page's
// own job thread (it holds a LibTorch model); the page sends it jobs and receives value-type
// results, so the window never waits on it. Opening a run supersedes the previous one.

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QTabWidget;
class QTableWidget;

#include "inspect/gate_inspector.h"

namespace sllmr::ui {

class Chart;
class RunsModel;
class JobRunner;
class InspectorSession;

class InspectorPage : public QWidget
{
    Q_OBJECT

public:
    InspectorPage(RunsModel* runs, QString databasePath, QWidget* parent = nullptr);
    ~InspectorPage() override;

    InspectorPage(const InspectorPage&) = delete;
    InspectorPage& operator=(const InspectorPage&) = delete;
    InspectorPage(InspectorPage&&) = delete;
    InspectorPage& operator=(InspectorPage&&) = delete;

    /// Opens run `runId` in the background; `opened` or `failed` follows.
    void openRun(qint64 runId);
    [[nodiscard]] qint64 openedRun() const { return m_openedRun; }
    /// One sentence on which way the opened run's pair weight pushes tail items.
    [[nodiscard]] QString directionsSummary() const;
    void search(const QString& text);
    void showUser(const QString& id);
    void showItem(const QString& id);

    [[nodiscard]] Chart* historyChart() const { return m_historyChart; }
    [[nodiscard]] Chart* popularityChart() const { return m_popularityChart; }
    [[nodiscard]] Chart* epochChart() const { return m_epochChart; }
    [[nodiscard]] Chart* parameterChart() const { return m_parameterChart; }
    [[nodiscard]] Chart* histogramChart() const { return m_histogramChart; }
    [[nodiscard]] QTableWidget* gridTable() const { return m_grid; }
    [[nodiscard]] QTableWidget* scoredTable() const { return m_scored; }
    [[nodiscard]] QTableWidget* pairsTable() const { return m_pairs; }
    [[nodiscard]] QTableWidget* testsTable() const { return m_tests; }
    [[nodiscard]] QListWidget* hitsList() const { return m_hits; }

Q_SIGNALS:
    void opened(qint64 runId);
    void detailShown(const QString& kind, const QString& id);
    void failed(const QString& message);

private:
    QWidget* createOverview(QWidget* parent);
    QWidget* createDirections(QWidget* parent);
    QWidget* createDrillDown(QWidget* parent);
    void rebuildRunList();
    void setBusy(const QString& what);
    // Which way the pair weight pushes each item segment (RunInspector::directions).
    void showDirections(const std::vector<SegmentDirections>& directions);
    void showOverview(const InspectedRun& run, const std::vector<GateBin>& training,
                      const std::vector<GateBin>& final, const std::array<GateCell, 4>& grid,
                      const ActivationHistogram& histogram, const std::vector<EpochGate>& epochs);
    void showUserDetail(const UserDrillDown& d);
    void showItemDetail(const ItemDrillDown& d);
    // The pairs tab says how many pairs there are, and when the table shows only the first ones.
    void notePairRows(std::size_t pairs, const QString& inspectArgs);

    RunsModel* m_runs;
    QString m_databasePath;
    JobRunner* m_jobs;
    std::shared_ptr<InspectorSession> m_session;
    qint64 m_openedRun = 0;
    qint64 m_pickWhenListed = 0;  // a run to select in the list once it holds it

    QComboBox* m_runPicker = nullptr;
    QPushButton* m_open = nullptr;
    QLabel* m_summary = nullptr;
    QTabWidget* m_tabs = nullptr;
    Chart* m_historyChart = nullptr;
    Chart* m_popularityChart = nullptr;
    Chart* m_histogramChart = nullptr;
    Chart* m_epochChart = nullptr;
    Chart* m_parameterChart = nullptr;
    QTableWidget* m_grid = nullptr;
    QTableWidget* m_directions = nullptr;
    QLabel* m_directionsNote = nullptr;
    QLineEdit* m_search = nullptr;
    QListWidget* m_hits = nullptr;
    QLabel* m_detail = nullptr;
    QTabWidget* m_detailTabs = nullptr;
    QListWidget* m_history = nullptr;
    QTableWidget* m_scored = nullptr;
    QTableWidget* m_pairs = nullptr;
    QTableWidget* m_tests = nullptr;
};

}  // namespace sllmr::ui
