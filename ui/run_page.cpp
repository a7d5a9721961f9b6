#include "run_page.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>

#include "chart.h"

namespace sllmr::ui {

namespace {

QString duration(double seconds)
{
    const auto s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    if (s >= 60)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 s").arg(s);
}

// Segments drawn on the per-segment charts; the buckets would crowd them.
bool shownSegment(const QString& segment)
{
    return !segment.startsWith(QLatin1String("hist_")) &&
           !segment.startsWith(QLatin1String("pop_"));
}

}  // namespace

RunPage::RunPage(RunController* controller, QWidget* parent)
    : QWidget(parent), m_controller(controller)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* bar = new QHBoxLayout;
    m_start = new QPushButton(tr("Start run"), this);
    m_start->setToolTip(tr("Train with the configuration of steps 1-3 (Ctrl+R)."));
    m_pause = new QPushButton(tr("Pause"), this);
    m_pause->setToolTip(
        tr("Hold training after the current batch; press again to continue "
           "(Ctrl+P)."));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setToolTip(
        tr("Stop after the current batch (asks first). The run is kept as "
           "'cancelled' and can be resumed from its last finished epoch."));
    bar->addWidget(m_start);
    bar->addWidget(m_pause);
    bar->addWidget(m_cancel);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p%"));
    bar->addWidget(m_progress, 1);
    m_rate = new QLabel(this);
    m_rate->setMinimumWidth(260);
    bar->addWidget(m_rate);
    layout->addLayout(bar);
    m_status = new QLabel(tr("Ready."), this);
    m_status->setObjectName(QStringLiteral("runStatus"));
    m_status->setTextFormat(Qt::PlainText);
    layout->addWidget(m_status);
    m_warnings = new QLabel(this);
    m_warnings->setObjectName(QStringLiteral("runWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(
        QStringLiteral("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #ffe69c; "
                       "padding: 6px; }"));
    m_warnings->hide();
    layout->addWidget(m_warnings);

    auto* split = new QSplitter(Qt::Vertical, this);
    auto* charts = new QWidget(split);
    auto* grid = new QGridLayout(charts);
    grid->setContentsMargins(0, 0, 0, 0);
    m_loss = new Chart(tr("Training loss by term"), charts);
    m_loss->setObjectName(QStringLiteral("lossChart"));
    m_loss->xAxis->setLabel(tr("Epoch"));
    m_loss->yAxis->setLabel(tr("Mean loss"));
    m_loss->setToolTip(
        tr("base: the recommender's own loss; LLM: the (gated) pairwise LLM "
           "hinge before lambda; gate: the reliability gate's BCE."));
    m_auc = new Chart(tr("Validation AUC per segment"), charts);
    m_auc->setObjectName(QStringLiteral("aucChart"));
    m_auc->xAxis->setLabel(tr("Epoch"));
    m_auc->yAxis->setLabel(tr("AUC"));
    m_gate = new Chart(tr("Gate mean activation per segment"), charts);
    m_gate->setObjectName(QStringLiteral("gateChart"));
    m_gate->xAxis->setLabel(tr("Epoch"));
    m_gate->yAxis->setLabel(tr("mean a(u,i)"));
    m_gate->setToolTip(
        tr("How open the gate is on the LLM pairs of each segment. The 'paper' "
           "gate falls towards 0 (it only ever lowers the loss by closing); the "
           "'reliability' gate settles where the LLM agrees with the data."));
    for (Chart* c : {m_loss, m_auc, m_gate}) {
        c->showLegendBelow();
        c->setIntegerKeys(true);  // epochs
        c->setPlaceholder(tr("Start a run (Ctrl+R): one point per finished epoch appears here."));
    }
    m_auc->addReferenceLine(0.5, tr("chance (AUC 0.5)"));
    setEmptyRanges();
    grid->addWidget(m_loss, 0, 0);
    grid->addWidget(m_auc, 0, 1);
    grid->addWidget(m_gate, 1, 0, 1, 2);
    m_log = new QPlainTextEdit(split);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    split->addWidget(charts);
    split->addWidget(m_log);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_start, &QPushButton::clicked, this, &RunPage::startRequested);
    connect(m_pause, &QPushButton::clicked, this,
            [this] { m_controller->setPaused(!m_controller->isPaused()); });
    connect(m_cancel, &QPushButton::clicked, this, &RunPage::cancelRequested);
    connect(m_controller, &RunController::runningChanged, this, &RunPage::syncButtons);
    connect(m_controller, &RunController::pausedChanged, this, &RunPage::onPaused);
    connect(m_controller, &RunController::resumedFrom, this, [this](int epoch) {
        log(tr("Run %1 resumed from epoch %2.").arg(m_controller->currentRunId()).arg(epoch));
    });
    connect(m_controller, &RunController::started, this, &RunPage::onStarted);
    connect(m_controller, &RunController::stageChanged, this, [this](const QString& stage) {
        m_status->setText(tr("Run %1: %2...").arg(m_controller->currentRunId()).arg(stage));
    });
    connect(m_controller, &RunController::warning, this, [this](const QString& text) {
        const QString line = tr("Warning: %1").arg(text);
        m_warnings->setText(!m_warnings->isHidden() ? m_warnings->text() + QLatin1Char('\n') + line
                                                    : line);
        m_warnings->show();
        log(line);
    });
    connect(m_controller, &RunController::batchProgress, this, &RunPage::onBatch);
    connect(m_controller, &RunController::epochFinished, this, &RunPage::onEpoch);
    connect(m_controller, &RunController::finished, this, &RunPage::onFinished);
    connect(m_controller, &RunController::failed, this, &RunPage::onFailed);
    syncButtons();
}

void RunPage::syncButtons()
{
    const bool running = m_controller->isRunning();
    m_start->setEnabled(!running);
    m_pause->setEnabled(running);
    m_cancel->setEnabled(running);
    m_pause->setText(m_controller->isPaused() ? tr("Continue") : tr("Pause"));
}

void RunPage::clearCharts()
{
    for (Chart* c : {m_loss, m_auc, m_gate}) {
        c->clearGraphs();
        c->setPlaceholder(tr("Waiting for the first epoch to finish..."));
    }
    setEmptyRanges();
}

void RunPage::setEmptyRanges()
{
    // Before the first epoch the axes show the ranges the values will take, not QCustomPlot's 0-5.
    for (Chart* c : {m_loss, m_auc, m_gate}) {
        c->xAxis->setRange(0.5, 2.0);
        c->yAxis->setRange(0, 1.02);
        c->requestReplot();
    }
}

void RunPage::onPaused(bool paused)
{
    syncButtons();
    const qint64 id = m_controller->currentRunId();
    if (paused) {
        m_pausedAt.start();
        m_rate->setText(tr("Paused"));
        m_progress->setFormat(tr("Paused \u00b7 %p%"));
        m_status->setText(tr("Run %1 paused after the current batch. Press Continue.").arg(id));
        log(tr("Run %1 paused.").arg(id));
    } else {
        // Paused time is not training time: the ETA's clock skips it.
        if (m_pausedAt.isValid())
            m_pausedMs += m_pausedAt.elapsed();
        m_pausedAt.invalidate();
        m_rate->clear();
        m_status->setText(tr("Run %1: training.").arg(id));
        log(tr("Run %1 continued.").arg(id));
    }
}

void RunPage::onStarted(qint64 runId)
{
    clearCharts();
    m_progress->setValue(0);
    m_rate->clear();
    m_clock.start();
    m_pausedMs = 0;
    m_pausedAt.invalidate();
    m_startFraction = -1;
    m_epochs = 0;
    m_warnings->clear();
    m_warnings->hide();
    log(tr("Run %1 started.").arg(runId));
    m_status->setText(tr("Run %1 started.").arg(runId));
}

void RunPage::onBatch(const BatchUpdate& u)
{
    if (u.epochs <= 0 || u.batches <= 0 || m_controller->isPaused())
        return;  // a report sent before the pause took hold shows no stale rate
    m_epochs = u.epochs;
    const double fraction = (static_cast<double>(u.epoch - 1) +
                             static_cast<double>(u.batch) / static_cast<double>(u.batches)) /
                            static_cast<double>(u.epochs);
    m_progress->setValue(static_cast<int>(fraction * 1000.0));
    m_progress->setFormat(tr("epoch %1/%2 \u00b7 batch %3/%4 \u00b7 %p%")
                              .arg(u.epoch)
                              .arg(u.epochs)
                              .arg(u.batch)
                              .arg(u.batches));
    if (m_startFraction < 0) {
        // A resumed run starts part-way: time the remaining work from here.
        m_startFraction = fraction;
        m_clock.restart();
        m_pausedMs = 0;
    }
    const double done = fraction - m_startFraction;
    QString eta;
    if (done > 0.002) {
        const double trained = static_cast<double>(m_clock.elapsed() - m_pausedMs) / 1000.0;
        const double remaining = trained * (1.0 - fraction) / done;
        eta = tr(" \u00b7 ETA \u2264 %1").arg(duration(remaining));
    }
    m_rate->setText(tr("%1 samples/s%2").arg(u.samplesPerSecond, 0, 'f', 0).arg(eta));
    m_status->setText(tr("Run %1: epoch %2 of %3 \u00b7 base %4 \u00b7 LLM %5 \u00b7 gate %6")
                          .arg(m_controller->currentRunId())
                          .arg(u.epoch)
                          .arg(u.epochs)
                          .arg(u.baseLoss, 0, 'f', 4)
                          .arg(u.llmLoss, 0, 'f', 4)
                          .arg(u.gateLoss, 0, 'f', 4));
}

void RunPage::addPoint(Chart* chart, const QString& series, double x, double y)
{
    QCPGraph* graph = nullptr;
    for (int g = 0; g < chart->graphCount(); ++g)
        if (chart->graph(g)->name() == series)
            graph = chart->graph(g);
    if (!graph) {
        graph = chart->addGraph();
        graph->setName(series);
        graph->setPen(QPen(seriesColor(chart->graphCount() - 1), 2));
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    }
    graph->addData(x, y);
    chart->rescaleWithMargin();
    chart->xAxis->setRange(0.5, std::max(chart->xAxis->range().upper + 0.5, 2.0));
    chart->requestReplot();
}

void RunPage::onEpoch(const EpochUpdate& u)
{
    for (Chart* c : {m_loss, m_auc, m_gate})
        c->setPlaceholder({});
    addPoint(m_loss, tr("base"), u.epoch, u.baseLoss);
    addPoint(m_loss, tr("LLM"), u.epoch, u.llmLoss);
    addPoint(m_loss, tr("gate"), u.epoch, u.gateLoss);
    QStringList auc;
    for (auto it = u.validationAuc.cbegin(); it != u.validationAuc.cend(); ++it) {
        if (!shownSegment(it.key()))
            continue;
        addPoint(m_auc, it.key(), u.epoch, it.value());
        auc << QStringLiteral("%1 %2").arg(it.key()).arg(it.value(), 0, 'f', 4);
    }
    for (auto it = u.gateMean.cbegin(); it != u.gateMean.cend(); ++it)
        if (shownSegment(it.key()))
            addPoint(m_gate, it.key(), u.epoch, it.value());
    m_gate->yAxis->setRange(0, 1.02);
    log(tr("%1epoch %2: base %3, LLM %4, gate %5, %6 s; validation AUC %7")
            .arg(u.replayed ? tr("(stored) ") : QString())
            .arg(u.epoch)
            .arg(u.baseLoss, 0, 'f', 4)
            .arg(u.llmLoss, 0, 'f', 4)
            .arg(u.gateLoss, 0, 'f', 4)
            .arg(u.seconds, 0, 'f', 1)
            .arg(auc.join(QStringLiteral(", "))));
}

void RunPage::onFinished(qint64 runId, const QString& status)
{
    if (status == QLatin1String("completed"))
        m_progress->setValue(1000);
    m_rate->clear();
    m_status->setText(tr("Run %1 %2.").arg(runId).arg(status));
    log(tr("Run %1 %2 after %3.").arg(runId).arg(status, duration(m_clock.elapsed() / 1000.0)));
    syncButtons();
}

void RunPage::onFailed(qint64 runId, const QString& message)
{
    m_status->setText(tr("Run %1 failed.").arg(runId));
    log(tr("Run %1 failed: %2").arg(runId).arg(message));
    syncButtons();
}

void RunPage::log(const QString& line)
{
    m_log->appendPlainText(QTime::currentTime().toString(QStringLiteral("HH:mm:ss  ")) + line);
}

}  // namespace sllmr::ui
