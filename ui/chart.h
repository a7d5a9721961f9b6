#pragma once

// A QCustomPlot with what every Studio chart needs: a title, a right-click menu that exports the
// picture (PNG, PDF) and the plotted data (CSV), and throttled redrawing: requestReplot() restarts
// a short single-shot timer, so a burst of updates costs one replot.

#include <QString>
#include <QTimer>

#include "plot.h"

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
    void showLegendBelow();

    /// A centered grey message over the plot area ("No dataset loaded"); empty text hides it.
    void setPlaceholder(const QString& text);

protected:
    void changeEvent(QEvent* event) override;

private:
    void showContextMenu(const QPoint& pos);
    void applyPalette();

    QCPTextElement* m_title = nullptr;
    QCPItemText* m_placeholder = nullptr;
    QTimer m_replotTimer;
};

/// Distinct colours that read on light and dark palettes.
[[nodiscard]] QColor seriesColor(int index);

}  // namespace sllmr::ui
