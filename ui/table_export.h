#pragma once

// Exports what a table shows (visible columns, rows as filtered and sorted) as CSV or as a
// LaTeX tabular, for the Runs and Results pages.

#include <QString>

class QAbstractItemModel;
class QHeaderView;
class QWidget;

namespace sllmr::ui {

/// The model's rows and the columns `header` shows, in display order; `latex`: a LaTeX tabular.
[[nodiscard]] QString exportTable(const QAbstractItemModel& model, const QHeaderView* header,
                                  bool latex);
/// Asks for a file (.csv or .tex) and writes the table; a failure opens a dialog.
void exportTableWithDialog(QWidget* parent, const QAbstractItemModel& model,
                           const QHeaderView* header, const QString& stem);

}  // namespace sllmr::ui
