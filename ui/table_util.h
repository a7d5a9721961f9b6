#pragma once

// Small helpers for the read-only QTableWidgets of the Studio pages.

#include <QHeaderView>
#include <QLocale>
#include <QStringList>
#include <QTableWidget>
#include <QTableWidgetItem>

#include <cstdint>

namespace sllmr::ui {

/// A cell of a numeric column: sorts by the number it shows (a trailing '%' ignored; "n/a", "-"
/// and empty cells after every number), else by its text. The pages write decimals in the C
/// format (QString::number) and counts with the locale's digit grouping (countText), so the C
/// reading comes first; in locales whose group separator is '.', a count of 1,000 or more reads
/// as a decimal, which only matters in a column that mixes both.
class NumberCell : public QTableWidgetItem
{
public:
    explicit NumberCell(const QString& text) : QTableWidgetItem(text)
    {
        QString t = text.trimmed();
        if (t.endsWith(QLatin1Char('%')))
            t.chop(1);
        bool ok = false;
        const double v = t.toDouble(&ok);
        m_value = ok ? v : QLocale().toDouble(t, &ok);
        m_isNumber = ok;
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        const auto* o = dynamic_cast<const NumberCell*>(&other);
        if (!o)
            return QTableWidgetItem::operator<(other);
        if (m_isNumber != o->m_isNumber)
            return m_isNumber;
        return m_isNumber ? m_value < o->m_value : text() < o->text();
    }

private:
    double m_value = 0;
    bool m_isNumber = false;
};

/// A read-only cell; numbers are right-aligned and sort as numbers.
[[nodiscard]] inline QTableWidgetItem* readOnlyCell(const QString& text, bool number = false)
{
    auto* item = number ? new NumberCell(text) : new QTableWidgetItem(text);
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

/// Lets the user sort `table` by clicking a header (numeric columns by value); the rows keep
/// the order they were filled in until then. Call after fillTable().
inline void allowSorting(QTableWidget* table)
{
    table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    table->horizontalHeader()->setSortIndicatorShown(true);
    table->setSortingEnabled(true);
}

}  // namespace sllmr::ui
