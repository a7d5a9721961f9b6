#pragma once

// Workflow step 2: the LLM's scores. Opens a score file (ranked lists, pointwise scores or
// ratings) through a mapping preview, shows the load report (rows, matches, unknown ids,
// duplicates, out-of-range values, training positives), the coverage per segment, and how good
// the LLM is on its own per segment, before any training.

#include <QWidget>

class QLabel;
class QTableWidget;

namespace sllmr::ui {

class Chart;
class Workbench;

class ScoresPage : public QWidget
{
    Q_OBJECT

public:
    explicit ScoresPage(Workbench* workbench, QWidget* parent = nullptr);
    void openScores(const QString& path = {});

    [[nodiscard]] Chart* qualityChart() const { return m_chart; }
    [[nodiscard]] QTableWidget* segmentTable() const { return m_segments; }

private:
    void showReport();
    void showQuality();

    Workbench* m_workbench;
    QLabel* m_title = nullptr;
    QLabel* m_summary = nullptr;
    QTableWidget* m_report = nullptr;
    QTableWidget* m_segments = nullptr;
    Chart* m_chart = nullptr;
};

}  // namespace sllmr::ui
