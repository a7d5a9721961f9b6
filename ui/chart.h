#pragma once

// A QCustomPlot with what every Studio chart needs: a title, a right-click menu that exports the
// picture (PNG, PDF) and the plotted data (CSV), throttled redrawing (requestReplot() restarts a
// short single-shot timer, so a burst of updates costs one replot), a hover read-out of the exact
// value under the mouse, zoom (wheel) and pan (drag) with a reset (double-click or the menu), and
// a placeholder sentence centred over an empty chart, which keeps its size.

#include <QString>
#include <QTimer>

#include "plot.h"

class QLabel;

namespace sllmr::ui {

class Chart : public QCustomPlot
{
    Q_OBJECT

public:
    explicit Chart(const QString& title, QWidget* parent = nullptr);

    void setTitle(const QString& title);
    [[nodiscard]] QString title() const;

    /// Replots at most once per ~40 ms however often it is called.
    void requestReplot();

    /// Every plottable's data as CSV: series,x,y (bars use their tick label as x when set).
    [[nodiscard]] QString toCsv() const;
    bool exportCsv(const QString& path) const;
    /// PNG or PDF by the file's suffix.
    bool exportImage(const QString& path);

    /// Shows the legend in a row under the plot, entries side by side, so it never covers data.
    /// The row exists only while the legend has entries (an empty legend would narrow the plot).
    void showLegendBelow();

    /// A centred, word-wrapped sentence over the plot saying what fills it; empty text hides it.
    void setPlaceholder(const QString& text);
    [[nodiscard]] QString placeholder() const;
    [[nodiscard]] QLabel* placeholderLabel() const { return m_placeholder; }

    /// Keys are whole numbers (epochs): ticks at integers only.
    void setIntegerKeys(bool on);
    /// A dashed horizontal line at `y` with a label (kept when graphs are cleared).
    void addReferenceLine(double y, const QString& label);
    /// Fits both axes to the data, the value axis with a margin of 8% of its span (at least
    /// 0.01) on each side, so that no point sits on the plot's edge.
    void rescaleWithMargin();
    /// Back to the ranges the page last set (undoes zoom and pan).
    void resetView();
    /// The read-out for the point nearest to `pos` (widget coordinates); empty when none is near.
    [[nodiscard]] QString readoutAt(const QPointF& pos) const;

    [[nodiscard]] QSize sizeHint() const override;
    [[nodiscard]] QSize minimumSizeHint() const override;

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void syncLegendRow();
    void showContextMenu(const QPoint& pos);
    void applyPalette();
    void placePlaceholder();

    QCPTextElement* m_title = nullptr;
    QLabel* m_placeholder = nullptr;
    QTimer m_replotTimer;
    QCPRange m_homeX, m_homeY;
    bool m_homeSet = false;
    bool m_legendBelow = false;
};

/// Distinct colours that read on light and dark palettes.
[[nodiscard]] QColor seriesColor(int index);

}  // namespace sllmr::ui
