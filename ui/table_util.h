#pragma once

// Small helpers for the read-only QTableWidgets of the Studio pages.

#include <QHeaderView>
#include <QLocale>
#include <QStringList>
#include <QTableWidget>
#include <QTableWidgetItem>

#include <cstdint>

namespace sllmr::ui {

/// A read-only cell; numbers are right-aligned.
[[nodiscard]] inline QTableWidgetItem* readOnlyCell(const QString& text, bool number = false)
{
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    if (number)
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

/// A count with the locale's digit grouping.
[[nodiscard]] inline QString countText(std::int64_t n)
{
    return QLocale().toString(static_cast<qlonglong>(n));
}

/// Replaces the table's content. Columns whose header is in `numeric` are right-aligned.
inline void fillTable(QTableWidget* table, const QStringList& headers,
                      const QList<QStringList>& rows, const QList<int>& numeric = {})
{
    table->clear();
    table->setSortingEnabled(false);
    table->setColumnCount(static_cast<int>(headers.size()));
    table->setHorizontalHeaderLabels(headers);
    table->setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < rows.size(); ++r)
        for (int c = 0; c < rows[r].size() && c < headers.size(); ++c)
            table->setItem(r, c, readOnlyCell(rows[r][c], numeric.contains(c)));
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
}

}  // namespace sllmr::ui
