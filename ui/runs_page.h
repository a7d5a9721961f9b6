#pragma once

// Workflow step 6: the run browser over experiments.db. A sortable, filterable table of runs
// (status, config summary, key metrics); notes and tags editable; delete with confirmation; run
// again with a run's config; resume interrupted or cancelled runs; open the config as JSON;
// send runs to the Results page for a side-by-side comparison; compare two runs' configurations
// key by key; choose the columns (right-click the header; lambda among them) and export the
// table as shown (CSV, LaTeX).

#include <QList>
#include <QStringList>
#include <QWidget>

#include "train/run_config.h"

class QComboBox;
class QLineEdit;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace sllmr::ui {

class RunsModel;

class RunsPage : public QWidget
{
    Q_OBJECT

public:
    RunsPage(RunsModel* model, QWidget* parent = nullptr);

    [[nodiscard]] QTableView* view() const { return m_view; }
    [[nodiscard]] QSortFilterProxyModel* proxy() const { return m_proxy; }
    void setFilterText(const QString& text);
    /// Run ids of the selected rows.
    [[nodiscard]] QList<qint64> selectedRuns() const;
    void selectRun(qint64 id);

Q_SIGNALS:
    void runAgainRequested(const sllmr::RunConfig& config);
    void resumeRequested(qint64 runId);
    void compareRequested(const QList<qint64>& runIds);
    void inspectRequested(qint64 runId);

private:
    void selectionChanged();
    void saveNotes();
    void deleteSelected();
    void showConfigJson();
    void runAgain();
    void setupColumns();
    QWidget* createSidePanel(QWidget* parent);
    void showConfigDiff();

    RunsModel* m_model;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTableView* m_view = nullptr;
    QLineEdit* m_filter = nullptr;
    QComboBox* m_status = nullptr;
    QLabel* m_details = nullptr;
    QPlainTextEdit* m_notes = nullptr;
    QLineEdit* m_tags = nullptr;
    QPushButton* m_save = nullptr;
    QPushButton* m_again = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_compare = nullptr;
    QPushButton* m_delete = nullptr;
    QPushButton* m_json = nullptr;
    QPushButton* m_inspect = nullptr;
    QPushButton* m_diff = nullptr;
};

/// Rows (dotted key, left value, right value) of the keys whose values differ between two run
/// configs given as JSON text.
[[nodiscard]] QList<QStringList> configDifferences(const QString& left, const QString& right);

}  // namespace sllmr::ui
