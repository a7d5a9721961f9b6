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

/// Text columns wider than this are elided (the cell's tooltip has the full text), so the
/// numbers beside them fit without scrolling.
constexpr int kMaxTextColumnWidth = 260;

/// Replaces the table's content. Columns whose header is in `numeric` are right-aligned; `tips`
/// are header tooltips (by column; the header text itself when missing).
inline void fillTable(QTableWidget* table, const QStringList& headers,
                      const QList<QStringList>& rows, const QList<int>& numeric = {},
                      const QStringList& tips = {})
{
    table->clear();
    table->setSortingEnabled(false);
    table->setColumnCount(static_cast<int>(headers.size()));
    table->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < headers.size(); ++c)
        table->horizontalHeaderItem(c)->setToolTip(c < tips.size() ? tips[c] : headers[c]);
    table->setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < rows.size(); ++r)
        for (int c = 0; c < rows[r].size() && c < headers.size(); ++c) {
            QTableWidgetItem* item = readOnlyCell(rows[r][c], numeric.contains(c));
            if (!numeric.contains(c) && rows[r][c].size() > 30)
                item->setToolTip(rows[r][c]);
            table->setItem(r, c, item);
        }
    table->setTextElideMode(Qt::ElideRight);
    table->horizontalHeader()->setTextElideMode(Qt::ElideRight);
    table->resizeColumnsToContents();
    for (int c = 0; c < headers.size(); ++c)
        if (!numeric.contains(c) && table->columnWidth(c) > kMaxTextColumnWidth)
            table->setColumnWidth(c, kMaxTextColumnWidth);
    table->horizontalHeader()->setStretchLastSection(true);
}

}  // namespace sllmr::ui
