#pragma once

// Workflow step 1: the dataset. Opens files (button, drag and drop, recent files), shows what a
// researcher looks at first (counts, density, the popularity long tail on a log scale, the
// history-length histogram) and sets the cold-user and long-tail thresholds: by spin box or by
// dragging the threshold line on either chart. Segment sizes update live.

#include <QWidget>

#include "data/dataset_spec.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QTableWidget;
class QTimer;
class QPushButton;

namespace sllmr::ui {

class Chart;
class Workbench;

class DataPage : public QWidget
{
    Q_OBJECT

public:
    explicit DataPage(Workbench* workbench, QWidget* parent = nullptr);

    /// Asks for a file (or uses `path`) and loads it, through the mapping dialog when the loader
    /// is not recognised.
    void openDataset(const QString& path = {});
    /// Applies thresholds as the spin boxes and the dragged lines do.
    void setThresholds(const Threshold& cold, const Threshold& tail);

    [[nodiscard]] Chart* popularityChart() const { return m_popularity; }
    [[nodiscard]] Chart* historyChart() const { return m_history; }
    [[nodiscard]] QString liveSummary() const;
    /// The datasets opened lately (newest first, only files that loaded): the page's Recent
    /// button and File > Open recent show this one menu.
    [[nodiscard]] QMenu* recentMenu() const;

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QWidget* createThresholds();
    QWidget* createCharts(QWidget* parent);
    void connectThresholds();
    void connectWorkbench();
    void showDataset();
    void showSegments();
    void updateLive();
    void thresholdsEdited();
    void showThresholds(const Threshold& cold, const Threshold& tail);
    void rememberRecent(const QString& path);
    /// Reloads a recent file with the loader settings it last loaded with (detects them when
    /// none are stored).
    void openRecent(const QString& path);
    void rebuildRecentMenu();
    void loadWithDialog(const DatasetSpec& spec);
    [[nodiscard]] Threshold coldThreshold() const;
    [[nodiscard]] Threshold tailThreshold() const;
    [[nodiscard]] double resolvedTau(bool users) const;

    Workbench* m_workbench;
    QString m_pendingRecent;                 // opened, not loaded yet
    bool m_pendingWithStoredLoader = false;  // ... from Recent, with its stored loader
    QLabel* m_title = nullptr;
    QLabel* m_summary = nullptr;
    QPushButton* m_recent = nullptr;
    QComboBox* m_coldMode = nullptr;
    QDoubleSpinBox* m_coldValue = nullptr;
    QComboBox* m_tailMode = nullptr;
    QDoubleSpinBox* m_tailValue = nullptr;
    QLabel* m_coldLive = nullptr;
    QLabel* m_tailLive = nullptr;
    QTableWidget* m_segments = nullptr;
    Chart* m_popularity = nullptr;
    Chart* m_history = nullptr;
    QTimer* m_applyTimer = nullptr;
    int m_dragging = 0;  // 0 none, 1 tail line (popularity chart), 2 cold line (history chart)
    bool m_updating = false;
};

}  // namespace sllmr::ui
