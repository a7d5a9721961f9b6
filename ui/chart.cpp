#include "chart.h"

#include <QApplication>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMouseEvent>
#include <QTextStream>
#include <QToolTip>

#include <algorithm>
#include <array>

namespace sllmr::ui {

namespace {

constexpr int kReplotDelayMs = 40;

QString keyAxisLabel(QCPAbstractPlottable* plottable)
{
    const QString label = plottable->keyAxis()->label();
    return label.isEmpty() ? QObject::tr("x") : label;
}

QString csvField(const QString& text)
{
    if (text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"')) ||
        text.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + QString(text).replace(QLatin1Char('"'), QStringLiteral("\"\"")) +
               QLatin1Char('"');
    return text;
}

void styleAxis(QCPAxis* axis, const QPalette& palette)
{
    const QColor text = palette.color(QPalette::WindowText);
    QColor grid = palette.color(QPalette::Mid);
    grid.setAlpha(110);
    axis->setBasePen(QPen(text, 1));
    axis->setTickPen(QPen(text, 1));
    axis->setSubTickPen(QPen(text, 1));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(Qt::NoPen);
}

}  // namespace

QColor seriesColor(int index)
{
    // Okabe-Ito, readable for colour-blind viewers and on dark backgrounds.
    static const std::array<QColor, 8> colors{
        QColor(0, 114, 178),  QColor(230, 159, 0), QColor(0, 158, 115),  QColor(204, 121, 167),
        QColor(86, 180, 233), QColor(213, 94, 0),  QColor(240, 228, 66), QColor(150, 150, 150)};
    return colors[static_cast<std::size_t>(index) % colors.size()];
}

Chart::Chart(const QString& title, QWidget* parent) : QCustomPlot(parent)
{
    setMinimumSize(minimumSizeHint());
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_title = new QCPTextElement(this, title, titleFont);
    plotLayout()->addElement(0, 0, m_title);

    // A label over the plot rather than a plot item: it wraps instead of being clipped.
    m_placeholder = new QLabel(this);
    m_placeholder->setObjectName(QStringLiteral("chartPlaceholder"));
    m_placeholder->setTextFormat(Qt::PlainText);
    m_placeholder->setWordWrap(true);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setAttribute(Qt::WA_TransparentForMouseEvents);
    m_placeholder->setStyleSheet(QStringLiteral("color: gray;"));
    m_placeholder->hide();

    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setMouseTracking(true);

    m_replotTimer.setSingleShot(true);
    m_replotTimer.setInterval(kReplotDelayMs);
    connect(&m_replotTimer, &QTimer::timeout, this, [this] { replot(); });

    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, &Chart::showContextMenu);
    setToolTip({});  // the hover read-out uses the tooltip; the menu says how to export
    applyPalette();
}

void Chart::setTitle(const QString& title)
{
    m_title->setText(title);
}

QString Chart::title() const
{
    return m_title->text();
}

void Chart::requestReplot()
{
    // The page set these ranges: they are where "reset view" returns to.
    m_homeX = xAxis->range();
    m_homeY = yAxis->range();
    m_homeSet = true;
    m_replotTimer.start();
}

void Chart::resetView()
{
    if (!m_homeSet)
        return;
    xAxis->setRange(m_homeX);
    yAxis->setRange(m_homeY);
    replot();
}

QSize Chart::sizeHint() const
{
    return {480, 300};
}

QSize Chart::minimumSizeHint() const
{
    return {320, 220};
}

void Chart::setIntegerKeys(bool on)
{
    if (!on) {
        xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        return;
    }
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    xAxis->setTicker(ticker);
    xAxis->setNumberPrecision(0);
    xAxis->setNumberFormat(QStringLiteral("f"));
}

void Chart::addReferenceLine(double y, const QString& label)
{
    auto* line = new QCPItemStraightLine(this);
    line->point1->setCoords(0, y);
    line->point2->setCoords(1, y);
    line->setPen(QPen(QColor(150, 150, 150), 1, Qt::DashLine));
    auto* text = new QCPItemText(this);
    text->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    text->position->setTypeY(QCPItemPosition::ptPlotCoords);
    text->position->setCoords(0.99, y);
    text->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    text->setText(label);
    text->setColor(QColor(150, 150, 150));
}

QString Chart::readoutAt(const QPointF& pos) const
{
    constexpr double kNearPx = 12.0;
    double best = kNearPx;
    QString text;
    auto* self = const_cast<Chart*>(this);
    for (int p = 0; p < plottableCount(); ++p) {
        QCPAbstractPlottable* plottable = self->plottable(p);
        if (!plottable->visible())
            continue;
        QVariant details;
        const double d = plottable->selectTest(pos, false, &details);
        if (d < 0 || d >= best)
            continue;
        const QCPDataSelection selection = details.value<QCPDataSelection>();
        if (selection.isEmpty())
            continue;
        const int index = selection.dataRange().begin();
        auto* series = plottable->interface1D();
        if (!series || index >= series->dataCount())
            continue;
        const double key = series->dataMainKey(index);
        const double value = series->dataMainValue(index);
        QString keyText = QLocale().toString(key, 'g', 6);
        if (auto* ticker = dynamic_cast<QCPAxisTickerText*>(plottable->keyAxis()->ticker().data());
            ticker && ticker->ticks().contains(key))
            keyText = ticker->ticks().value(key);
        best = d;
        text = QStringLiteral("%1\n%2: %3\n%4")
                   .arg(plottable->name(), keyAxisLabel(plottable),
                        keyText.replace(QLatin1Char('\n'), QLatin1Char(' ')),
                        QLocale().toString(value, 'f', 4));
    }
    return text;
}

void Chart::mouseMoveEvent(QMouseEvent* event)
{
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton)
        return;  // dragging
    const QString text = readoutAt(event->position());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void Chart::mouseDoubleClickEvent(QMouseEvent* event)
{
    QCustomPlot::mouseDoubleClickEvent(event);
    resetView();
}

void Chart::resizeEvent(QResizeEvent* event)
{
    QCustomPlot::resizeEvent(event);
    placePlaceholder();
}

void Chart::placePlaceholder()
{
    const QRect area = rect().adjusted(24, 36, -24, -24);
    m_placeholder->setGeometry(area);
}

void Chart::showLegendBelow()
{
    if (m_legendBelow)
        return;
    m_legendBelow = true;
    axisRect()->insetLayout()->take(legend);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(4);
    legend->setMargins(QMargins(4, 2, 4, 2));
    connect(this, &QCustomPlot::beforeReplot, this, &Chart::syncLegendRow);
    syncLegendRow();
}

void Chart::syncLegendRow()
{
    // A layout column is as narrow as its narrowest maximum size, and an empty legend's is a few
    // pixels: the legend row exists only while the legend has entries.
    const bool inLayout = legend->layout() == plotLayout();
    const bool wanted = legend->itemCount() > 0;
    legend->setVisible(wanted);
    if (wanted && !inLayout) {
        plotLayout()->addElement(plotLayout()->rowCount(), 0, legend);
        plotLayout()->setRowStretchFactor(plotLayout()->rowCount() - 1, 0.001);
    } else if (!wanted && inLayout) {
        plotLayout()->take(legend);
        plotLayout()->simplify();
    }
    if (!wanted)
        return;
    // As many entries side by side as the chart's width holds (at most 4): a row wider than the
    // chart would be clipped at its right edge.
    int widest = 1;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (const QCPAbstractLegendItem* entry = legend->item(i))  // a grid cell may be empty
            widest = std::max(widest, entry->minimumOuterSizeHint().width());
    const int available = width() - legend->margins().left() - legend->margins().right() - 8;
    const int columns = std::clamp(available / (widest + legend->columnSpacing()), 1, 4);
    if (columns != legend->wrap()) {
        legend->setWrap(columns);
        legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);  // re-arranges the entries
    }
}

void Chart::rescaleWithMargin()
{
    rescaleAxes();
    const QCPRange r = yAxis->range();
    const double pad = std::max(r.size() * 0.08, 0.01);
    yAxis->setRange(r.lower - pad, r.upper + pad);
}

void Chart::setPlaceholder(const QString& text)
{
    m_placeholder->setText(text);
    m_placeholder->setVisible(!text.isEmpty());
    placePlaceholder();
}

QString Chart::placeholder() const
{
    return m_placeholder->text();
}

QString Chart::toCsv() const
{
    QString out;
    QTextStream s(&out);
    s << "series,x,y\n";
    for (int p = 0; p < plottableCount(); ++p) {
        QCPAbstractPlottable* plottable = const_cast<Chart*>(this)->plottable(p);
        const QString name = csvField(plottable->name());
        if (auto* graph = qobject_cast<QCPGraph*>(plottable)) {
            for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
                s << name << ',' << it->key << ',' << it->value << '\n';
        } else if (auto* bars = qobject_cast<QCPBars*>(plottable)) {
            auto* ticker = dynamic_cast<QCPAxisTickerText*>(bars->keyAxis()->ticker().data());
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
                QString key = QString::number(it->key);
                if (ticker && ticker->ticks().contains(it->key))
                    key = csvField(ticker->ticks().value(it->key));
                s << name << ',' << key << ',' << it->value << '\n';
            }
        }
    }
    return out;
}

bool Chart::exportCsv(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        return false;
    return file.write(toCsv().toUtf8()) >= 0;
}

bool Chart::exportImage(const QString& path)
{
    replot();
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("pdf"))
        return savePdf(path);
    return savePng(path, 0, 0, 2.0);  // twice the on-screen resolution
}

void Chart::showContextMenu(const QPoint& pos)
{
    QMenu menu(this);
    menu.addAction(tr("Reset zoom and pan"), this, &Chart::resetView);
    menu.addSeparator();
    const QString base = title().isEmpty() ? QStringLiteral("chart") : title();
    QString stem = base;
    stem.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9]+")), QStringLiteral("-"));
    menu.addAction(tr("Export image (PNG or PDF)..."), this, [this, stem] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export chart"), stem + QStringLiteral(".png"),
                                         tr("PNG image (*.png);;PDF document (*.pdf)"));
        if (!path.isEmpty() && !exportImage(path))
            QMessageBox::warning(this, tr("Export chart"),
                                 tr("Could not write %1. Check that the folder exists and is "
                                    "writable.")
                                     .arg(path));
    });
    menu.addAction(tr("Export data (CSV)..."), this, [this, stem] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export chart data"), stem + QStringLiteral(".csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty() && !exportCsv(path))
            QMessageBox::warning(this, tr("Export chart data"),
                                 tr("Could not write %1. Check that the folder exists and is "
                                    "writable.")
                                     .arg(path));
    });
    menu.exec(mapToGlobal(pos));
}

void Chart::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QCustomPlot::changeEvent(event);
}

void Chart::applyPalette()
{
    const QPalette pal = palette();
    setBackground(pal.brush(QPalette::Base));
    for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2})
        styleAxis(axis, pal);
    if (m_title)
        m_title->setTextColor(pal.color(QPalette::WindowText));
    legend->setBrush(pal.brush(QPalette::Base));
    legend->setTextColor(pal.color(QPalette::WindowText));
    legend->setBorderPen(QPen(pal.color(QPalette::Mid)));
    requestReplot();
}

}  // namespace sllmr::ui
