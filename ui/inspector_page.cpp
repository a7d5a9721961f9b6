#include "inspector_page.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <memory>

#include "chart.h"
#include "engine/job_runner.h"
#include "engine/runs_model.h"
#include "engine/store_queries.h"
#include "inspect/gate_inspector.h"
#include "table_util.h"

namespace sllmr::ui {

namespace {

constexpr int kMaxPairRows = 3000;  // a user can have ~1,200 candidate pairs; items far more

QString num(double v, int decimals = 3)
{
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', decimals);
}

QString reliabilityText(const std::optional<bool>& label)
{
    if (!label)
        return {};
    return *label ? QObject::tr("LLM right") : QObject::tr("LLM wrong");
}

QString yesNo(bool v)
{
    return v ? QStringLiteral("yes") : QString();
}

QString itemText(const ItemRef& item)
{
    return item.title.empty() ? QString::fromStdString(item.id)
                              : QStringLiteral("%1  %2").arg(QString::fromStdString(item.id),
                                                             QString::fromStdString(item.title));
}

// Bars of binned activation with the bin range and count as tick labels; a second series for
// the other source when given.
void plotBins(Chart* chart, const std::vector<GateBin>& training, const std::vector<GateBin>& final,
              const std::string& dimension, int epoch)
{
    chart->clearPlottables();
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    auto* group = new QCPBarsGroup(chart);
    auto add = [&](const std::vector<GateBin>& bins, const QString& name, int color) {
        auto* bars = new QCPBars(chart->xAxis, chart->yAxis);
        bars->setName(name);
        bars->setBrush(seriesColor(color));
        bars->setPen(Qt::NoPen);
        bars->setWidth(0.38);
        bars->setBarsGroup(group);
        for (const GateBin& b : bins) {
            if (b.dimension != dimension)
                continue;
            bars->addData(b.bin + 1, b.meanActivation);
        }
        return bars;
    };
    add(training, QObject::tr("during training (epoch %1)").arg(epoch), 0);
    add(final, QObject::tr("final model, all LLM entries"), 1);
    for (const GateBin& b : final)
        if (b.dimension == dimension)
            ticker->addTick(b.bin + 1,
                            (b.hi < 0 ? QStringLiteral("\u2265%1").arg(b.lo)
                                      : QStringLiteral("%1\u2013%2").arg(b.lo).arg(b.hi - 1)) +
                                QStringLiteral("\nn=%1").arg(countText(b.count)));
    chart->xAxis->setTicker(ticker);
    chart->xAxis->rescale();
    chart->xAxis->setRange(chart->xAxis->range().lower - 0.6, chart->xAxis->range().upper + 0.6);
    chart->yAxis->setRange(0, 1.02);
    chart->showLegendBelow();
    chart->setPlaceholder({});
    chart->requestReplot();
}

}  // namespace

InspectorPage::InspectorPage(RunsModel* runs, QString databasePath, QWidget* parent)
    : QWidget(parent)
    , m_runs(runs)
    , m_databasePath(std::move(databasePath))
    , m_jobs(new JobRunner(this, JobRunner::Threads::OwnThread))
    , m_session(std::make_shared<InspectorSession>())
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Run"), this));
    m_runPicker = new QComboBox(this);
    m_runPicker->setObjectName(QStringLiteral("inspectorRun"));
    m_runPicker->setMinimumWidth(420);
    bar->addWidget(m_runPicker, 1);
    m_open = new QPushButton(tr("Inspect"), this);
    m_open->setToolTip(
        tr("Reload the run's model and gate and compute what the gate does on "
           "every LLM-scored (user, item)."));
    bar->addWidget(m_open);
    layout->addLayout(bar);
    m_summary = new QLabel(tr("Pick a completed run and press Inspect."), this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);

    m_tabs = new QTabWidget(this);
    m_tabs->addTab(createOverview(m_tabs), tr("Overview"));
    m_tabs->addTab(createDrillDown(m_tabs), tr("Users and items"));
    m_tabs->addTab(createDirections(m_tabs), tr("Directions"));
    layout->addWidget(m_tabs, 1);

    connect(m_open, &QPushButton::clicked, this, [this] {
        const qint64 id = m_runPicker->currentData().toLongLong();
        if (id > 0)
            openRun(id);
    });
    // Results follow the typing (a newer search supersedes an older one); Enter searches at once.
    auto* typing = new QTimer(this);
    typing->setSingleShot(true);
    typing->setInterval(250);
    connect(typing, &QTimer::timeout, this, [this] { search(m_search->text()); });
    connect(m_search, &QLineEdit::textEdited, typing, qOverload<>(&QTimer::start));
    connect(m_search, &QLineEdit::returnPressed, this, [this, typing] {
        typing->stop();
        search(m_search->text());
    });
    connect(m_hits, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0)
            return;
        const QListWidgetItem* item = m_hits->item(row);
        const QString kind = item->data(Qt::UserRole).toString();
        const QString id = item->data(Qt::UserRole + 1).toString();
        if (kind == QLatin1String("user"))
            showUser(id);
        else
            showItem(id);
    });
    connect(this, &InspectorPage::failed, this, [this](const QString& message) {
        m_open->setEnabled(true);
        m_summary->setText(tr("<font color='#d55e00'>%1</font>").arg(message.toHtmlEscaped()));
    });
    connect(m_runs, &RunsModel::refreshed, this, &InspectorPage::rebuildRunList);
    rebuildRunList();
}

QWidget* InspectorPage::createOverview(QWidget* parent)
{
    // Overview
    auto* overview = new QWidget(parent);
    auto* grid = new QGridLayout(overview);
    m_historyChart = new Chart(tr("Gate activation by user history length"), overview);
    m_historyChart->yAxis->setLabel(tr("mean a(u,i)"));
    m_historyChart->setToolTip(
        tr("Mean gate activation per history-length bucket (n = LLM "
           "entries in the bucket). Right-click to export."));
    m_popularityChart = new Chart(tr("Gate activation by item popularity"), overview);
    m_popularityChart->yAxis->setLabel(tr("mean a(u,i)"));
    m_histogramChart = new Chart(tr("Distribution of a over all LLM entries"), overview);
    m_histogramChart->xAxis->setLabel(tr("a(u,i)"));
    m_histogramChart->yAxis->setLabel(tr("entries"));
    m_grid = new QTableWidget(2, 2, overview);
    m_grid->setObjectName(QStringLiteral("coldTailGrid"));
    m_grid->setHorizontalHeaderLabels({tr("head items"), tr("tail items")});
    m_grid->setVerticalHeaderLabels({tr("warm users"), tr("cold users")});
    m_grid->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_grid->verticalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_grid->setToolTip(
        tr("Cold(u) x Tail(i): mean activation, share of active entries "
           "(a > tau_a) and counts, over every LLM-scored entry."));
    m_epochChart = new Chart(tr("Gate mean activation per epoch"), overview);
    m_epochChart->xAxis->setLabel(tr("epoch"));
    m_epochChart->yAxis->setLabel(tr("mean a"));
    m_epochChart->setToolTip(
        tr("The paper gate falls towards 0 over the epochs (closing is "
           "the only way it can lower its loss); the reliability gate "
           "stays where the LLM agrees with observed data."));
    m_parameterChart = new Chart(tr("Gate parameters per epoch"), overview);
    m_parameterChart->xAxis->setLabel(tr("epoch"));
    QStringList meanings;
    for (const auto& info : gateParameterInfo())
        meanings << QStringLiteral("%1: %2").arg(QString::fromStdString(info.name),
                                                 QString::fromStdString(info.meaning));
    m_parameterChart->setToolTip(meanings.join(QLatin1Char('\n')));
    for (Chart* c :
         {m_historyChart, m_popularityChart, m_histogramChart, m_epochChart, m_parameterChart})
        c->setPlaceholder(
            tr("Pick a completed run above and press Inspect: this chart shows "
               "what its gate did."));
    m_epochChart->showLegendBelow();
    m_parameterChart->showLegendBelow();
    m_epochChart->setIntegerKeys(true);
    m_parameterChart->setIntegerKeys(true);
    grid->addWidget(m_historyChart, 0, 0);
    grid->addWidget(m_popularityChart, 0, 1);
    grid->addWidget(m_grid, 0, 2);
    grid->addWidget(m_epochChart, 1, 0);
    grid->addWidget(m_parameterChart, 1, 1);
    grid->addWidget(m_histogramChart, 1, 2);
    grid->setColumnStretch(0, 3);
    grid->setColumnStretch(1, 3);
    grid->setColumnStretch(2, 2);
    return overview;
}

QWidget* InspectorPage::createDirections(QWidget* parent)
{
    auto* directions = new QWidget(parent);
    auto* dl = new QVBoxLayout(directions);
    m_directionsNote = new QLabel(directions);
    m_directionsNote->setWordWrap(true);
    m_directionsNote->setText(tr("No run inspected."));
    dl->addWidget(m_directionsNote);
    m_directions = new QTableWidget(directions);
    m_directions->setObjectName(QStringLiteral("directionsTable"));
    m_directions->setToolTip(
        tr("A pair (higher, lower) raises the model's score of the item the LLM ranks higher "
           "and lowers the other, with the pair's weight. Per item segment, over every candidate "
           "pair with exactly one item in the segment: the weight that pushes the segment's items "
           "up against down."));
    dl->addWidget(m_directions, 1);
    return directions;
}

QWidget* InspectorPage::createDrillDown(QWidget* parent)
{
    // Drill-down
    auto* drill = new QSplitter(Qt::Horizontal, parent);
    auto* left = new QWidget(drill);
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 0, 0);
    m_search = new QLineEdit(left);
    m_search->setObjectName(QStringLiteral("inspectorSearch"));
    m_search->setPlaceholderText(tr("Type a user or item id, or part of a title"));
    m_search->setToolTip(
        tr("Matches appear as you type: original user and item ids, and item "
           "titles when the dataset has them."));
    m_search->setClearButtonEnabled(true);
    ll->addWidget(m_search);
    m_hits = new QListWidget(left);
    m_hits->setObjectName(QStringLiteral("inspectorHits"));
    ll->addWidget(m_hits, 1);
    auto* right = new QWidget(drill);
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    m_detail = new QLabel(tr("Search for a user or an item."), right);
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rl->addWidget(m_detail);
    m_detailTabs = new QTabWidget(right);
    m_history = new QListWidget(m_detailTabs);
    m_scored = new QTableWidget(m_detailTabs);
    m_scored->setObjectName(QStringLiteral("inspectorScored"));
    m_pairs = new QTableWidget(m_detailTabs);
    m_pairs->setObjectName(QStringLiteral("inspectorPairs"));
    m_tests = new QTableWidget(m_detailTabs);
    m_tests->setObjectName(QStringLiteral("inspectorTests"));
    for (QTableWidget* t : {m_scored, m_pairs, m_tests})
        t->verticalHeader()->hide();
    m_detailTabs->addTab(m_scored, tr("LLM-scored items"));
    m_detailTabs->addTab(m_pairs, tr("LLM pairs and the gate"));
    m_detailTabs->addTab(m_tests, tr("Test items"));
    m_detailTabs->addTab(m_history, tr("Training history"));
    rl->addWidget(m_detailTabs, 1);
    drill->addWidget(left);
    drill->addWidget(right);
    drill->setStretchFactor(0, 1);
    drill->setStretchFactor(1, 4);
    return drill;
}

InspectorPage::~InspectorPage()
{
    m_jobs->cancelAll();
    m_jobs->waitForAll();
}

void InspectorPage::rebuildRunList()
{
    // The user's choice in the list, or a run opened (from the command line or another page)
    // before the list held it.
    const qint64 current =
        m_pickWhenListed > 0 ? m_pickWhenListed : m_runPicker->currentData().toLongLong();
    m_runPicker->clear();
    for (const RunRow& r : m_runs->rows()) {
        if (r.status != QLatin1String("completed"))
            continue;
        m_runPicker->addItem(
            QStringLiteral("%1 \u00b7 %2 %3%4 \u00b7 seed %5 \u00b7 %6")
                .arg(r.id)
                .arg(r.backbone, r.method,
                     r.gate.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.gate))
                .arg(r.seed)
                .arg(r.name),
            r.id);
    }
    const int index = m_runPicker->findData(current);
    if (index >= 0) {
        m_runPicker->setCurrentIndex(index);
        if (current == m_pickWhenListed)
            m_pickWhenListed = 0;
    }
}

void InspectorPage::setBusy(const QString& what)
{
    m_summary->setText(what);
}

void InspectorPage::openRun(qint64 runId)
{
    const int index = m_runPicker->findData(runId);
    m_pickWhenListed = index >= 0 ? 0 : runId;  // selected once the runs list holds it
    if (index >= 0)
        m_runPicker->setCurrentIndex(index);
    m_open->setEnabled(false);
    setBusy(tr("Opening run %1: reloading its data, model and gate...").arg(runId));
    // A new run supersedes the drill-downs of the previous one.
    m_jobs->cancel(QStringLiteral("search"));
    m_jobs->cancel(QStringLiteral("detail"));
    m_jobs->start(
        QStringLiteral("open"),
        [session = m_session, path = m_databasePath, runId](JobContext& job) {
            return std::make_shared<InspectorOverview>(
                session->open(path, runId, job.cancelToken()));
        },
        [this](const std::shared_ptr<InspectorOverview>& o) {
            showDirections(o->directions);  // before showOverview emits 'opened'
            showOverview(o->run, o->training, o->final, o->grid, o->histogram, o->epochs);
        },
        [this](const QString& message) { Q_EMIT failed(message); });
}

QString InspectorPage::directionsSummary() const
{
    return m_directionsNote->text();
}

void InspectorPage::showDirections(const std::vector<SegmentDirections>& directions)
{
    const auto f = [](double v) {
        return std::isfinite(v) ? QString::number(v, 'f', 4) : QStringLiteral("-");
    };
    QList<QStringList> rows;
    for (const auto& d : directions)
        rows << QStringList{QString::fromStdString(d.segment),
                            countText(d.pairs),
                            countText(d.up),
                            countText(d.down),
                            f(d.meanWeightUp()),
                            f(d.meanWeightDown()),
                            std::isfinite(d.shareUp())
                                ? QStringLiteral("%1%").arg(100 * d.shareUp(), 0, 'f', 1)
                                : QStringLiteral("-"),
                            countText(d.inside)};
    fillTable(
        m_directions,
        {tr("Item segment"), tr("Mixed pairs"), tr("Push up"), tr("Push down"),
         tr("Mean weight up"), tr("Mean weight down"), tr("Weight share up"), tr("Pairs inside")},
        rows, {1, 2, 3, 4, 5, 6, 7});
    const auto tail = std::find_if(directions.begin(), directions.end(),
                                   [](const SegmentDirections& d) { return d.segment == "tail"; });
    if (directions.empty())
        m_directionsNote->setText(
            tr("This run has no LLM pairs (no hinge), so nothing is pushed."));
    else if (tail != directions.end() && std::isfinite(tail->shareUp()))
        m_directionsNote->setText(
            tr("Of the weight of the %1 pairs with one tail item, %2% pushes the tail item up and "
               "%3% pushes it down (the tail item is the one the LLM ranks lower in %4 of them). "
               "Mean weight: %5 up, %6 down.")
                .arg(countText(tail->pairs))
                .arg(100 * tail->shareUp(), 0, 'f', 1)
                .arg(100 * (1 - tail->shareUp()), 0, 'f', 1)
                .arg(countText(tail->down))
                .arg(f(tail->meanWeightUp()), f(tail->meanWeightDown())));
    else
        m_directionsNote->setText(tr("Which way the pair weight pushes each item segment."));
}

void InspectorPage::showOverview(const InspectedRun& run, const std::vector<GateBin>& training,
                                 const std::vector<GateBin>& final,
                                 const std::array<GateCell, 4>& grid,
                                 const ActivationHistogram& histogram,
                                 const std::vector<EpochGate>& epochs)
{
    m_open->setEnabled(true);
    m_openedRun = run.runId;
    m_summary->setText(
        tr("<b>Run %1</b> %2 &middot; %3, method %4%5 &middot; %6 users, %7 items, %8 LLM entries "
           "(%9) &middot; Cold = |H(u)| &lt; %10, Tail = pop(i) &lt; %11, active = a &gt; %12 "
           "&middot; model of epoch %13 of %14%15")
            .arg(run.runId)
            .arg(QString::fromStdString(run.name).toHtmlEscaped(),
                 QString::fromStdString(run.model), QString::fromStdString(run.method),
                 run.method == "selective"
                     ? tr(", %1 gate").arg(QString::fromStdString(run.gateMode))
                     : QString(),
                 countText(run.users), countText(run.items), countText(run.scoredEntries),
                 QString::fromStdString(run.scoresName).toHtmlEscaped())
            .arg(run.tauUser)
            .arg(run.tauItem)
            .arg(run.tauA)
            .arg(run.modelEpoch)
            .arg(run.epochsRun)
            .arg(run.hasHinge ? QString()
                              : tr(" &middot; <i>this method has no gated LLM hinge: the gate "
                                   "values are shown for reference</i>")));

    plotBins(m_historyChart, training, final, "history", run.evaluatedEpoch);
    m_historyChart->xAxis->setLabel(tr("|H(u)| bucket"));
    plotBins(m_popularityChart, training, final, "popularity", run.evaluatedEpoch);
    m_popularityChart->xAxis->setLabel(tr("pop(i) bucket"));

    // Cold x Tail grid, shaded by mean activation.
    for (const GateCell& cell : grid) {
        const int row = cell.cold ? 1 : 0;
        const int col = cell.tail ? 1 : 0;
        auto* item = readOnlyCell(tr("mean a %1\nactive %2%\n%3 entries\n%4 users, %5 items")
                                      .arg(num(cell.stats.meanActivation))
                                      .arg(cell.stats.activeShare * 100.0, 0, 'f', 1)
                                      .arg(countText(cell.stats.count))
                                      .arg(countText(cell.users), countText(cell.items)));
        item->setTextAlignment(Qt::AlignCenter);
        QColor shade = seriesColor(0);
        shade.setAlphaF(0.15 + 0.75 * std::clamp(cell.stats.meanActivation, 0.0, 1.0));
        item->setBackground(shade);
        m_grid->setItem(row, col, item);
    }

    // Histogram of a.
    m_histogramChart->clearPlottables();
    auto* bars = new QCPBars(m_histogramChart->xAxis, m_histogramChart->yAxis);
    bars->setName(tr("entries"));
    bars->setBrush(seriesColor(2));
    bars->setPen(Qt::NoPen);
    const auto n = static_cast<double>(histogram.counts.size());
    const double width = n > 0 ? (histogram.hi - histogram.lo) / n : 1.0;
    bars->setWidth(width * 0.9);
    double top = 1;
    for (std::size_t k = 0; k < histogram.counts.size(); ++k) {
        bars->addData(histogram.lo + (static_cast<double>(k) + 0.5) * width,
                      static_cast<double>(histogram.counts[k]));
        top = std::max(top, static_cast<double>(histogram.counts[k]));
    }
    m_histogramChart->xAxis->setRange(histogram.lo, histogram.hi);
    m_histogramChart->yAxis->setRange(0, top * 1.1);
    m_histogramChart->setTitle(tr("Distribution of a (mean %1)").arg(num(histogram.mean)));
    m_histogramChart->setPlaceholder({});
    m_histogramChart->requestReplot();

    // Per epoch: activation per segment and the four parameters.
    m_epochChart->clearGraphs();
    m_parameterChart->clearGraphs();
    std::map<std::string, QCPGraph*> lines;
    for (const EpochGate& e : epochs)
        for (const auto& [segment, stats] : e.bySegment) {
            if (segment.rfind("hist_", 0) == 0 || segment.rfind("pop_", 0) == 0)
                continue;
            QCPGraph*& g = lines[segment];
            if (!g) {
                g = m_epochChart->addGraph();
                g->setName(QString::fromStdString(segment));
                g->setPen(QPen(seriesColor(m_epochChart->graphCount() - 1), 2));
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
            }
            g->addData(e.epoch, stats.meanActivation);
        }
    const auto& info = gateParameterInfo();
    for (std::size_t p = 0; p < info.size(); ++p) {
        QCPGraph* g = m_parameterChart->addGraph();
        g->setName(QString::fromStdString(info[p].name));
        g->setPen(QPen(seriesColor(static_cast<int>(p)), 2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
        for (const EpochGate& e : epochs)
            g->addData(e.epoch, e.parameters[p]);
    }
    for (Chart* c : {m_epochChart, m_parameterChart}) {
        c->rescaleWithMargin();
        c->xAxis->setRange(0.5, std::max(2.0, c->xAxis->range().upper + 0.5));
        c->setPlaceholder(epochs.empty() ? tr("No epochs stored") : QString());
        c->requestReplot();
    }
    m_epochChart->yAxis->setRange(0, 1.02);
    Q_EMIT opened(run.runId);
}

void InspectorPage::search(const QString& text)
{
    if (text.trimmed().isEmpty())
        return;
    m_search->setText(text);
    const std::string needle = text.trimmed().toStdString();
    m_jobs->start(
        QStringLiteral("search"),
        [session = m_session, needle](JobContext&) {
            return session->inspector().find(needle, 50);
        },
        [this](const std::vector<SearchHit>& hits) {
            m_hits->clear();
            for (const SearchHit& h : hits) {
                auto* item = new QListWidgetItem(
                    QStringLiteral("%1 %2  %3\n%4")
                        .arg(QString::fromStdString(h.kind), QString::fromStdString(h.id),
                             QString::fromStdString(h.title), QString::fromStdString(h.detail)),
                    m_hits);
                item->setData(Qt::UserRole, QString::fromStdString(h.kind));
                item->setData(Qt::UserRole + 1, QString::fromStdString(h.id));
            }
            if (hits.empty())
                m_detail->setText(
                    tr("Nothing matches. Search by the original user or item id, "
                       "or by part of a title."));
        },
        [this](const QString& message) { Q_EMIT failed(message); });
}

void InspectorPage::showUser(const QString& id)
{
    const std::string key = id.toStdString();
    m_jobs->start(
        QStringLiteral("detail"),
        [session = m_session, key](JobContext&) {
            return std::make_shared<UserDrillDown>(session->inspector().user(key));
        },
        [this](const std::shared_ptr<UserDrillDown>& d) { showUserDetail(*d); },
        [this](const QString& message) { Q_EMIT failed(message); });
}

void InspectorPage::showItem(const QString& id)
{
    const std::string key = id.toStdString();
    m_jobs->start(
        QStringLiteral("detail"),
        [session = m_session, key](JobContext&) {
            return std::make_shared<ItemDrillDown>(session->inspector().item(key));
        },
        [this](const std::shared_ptr<ItemDrillDown>& d) { showItemDetail(*d); },
        [this](const QString& message) { Q_EMIT failed(message); });
}

void InspectorPage::showUserDetail(const UserDrillDown& d)
{
    const PairSummary& s = d.pairSummary;
    m_detail->setText(
        tr("<b>User %1</b>: %2 training interactions (%3) &middot; %4 LLM-scored items &middot; "
           "%5 candidate pairs, %6 active (mean a %7, mean weight %8), %9 with a reliability "
           "label (%10 where the LLM's order was right) &middot; mean test AUC %11")
            .arg(QString::fromStdString(d.user.id).toHtmlEscaped())
            .arg(d.user.historyLength)
            .arg(d.user.cold ? tr("cold") : tr("warm"))
            .arg(d.scored.size())
            .arg(countText(s.pairs), countText(s.active), num(s.meanA), num(s.meanWeight),
                 countText(s.labeled), countText(s.labeledTrue), num(d.meanTestAuc, 4)));
    QList<QStringList> rows;
    for (const ScoredEntry& e : d.scored)
        rows << QStringList{QString::number(e.llmRank),
                            itemText(e.item),
                            QString::number(e.item.popularity),
                            num(e.r),
                            num(e.logit),
                            num(e.p),
                            num(e.z[1], 0),
                            num(e.z[2]),
                            num(e.a),
                            yesNo(e.active),
                            yesNo(e.trainPositive),
                            yesNo(e.testPositive)};
    fillTable(m_scored,
              {tr("LLM rank"), tr("Item"), tr("pop(i)"), tr("r (LLM)"), tr("s (model)"), tr("p"),
               tr("Tail"), tr("q"), tr("a"), tr("active"), tr("train +"), tr("test +")},
              rows, {0, 2, 3, 4, 5, 6, 7, 8});
    rows.clear();
    for (const GatePair& p : d.pairs) {
        if (rows.size() >= kMaxPairRows)
            break;
        rows << QStringList{
            itemText(p.higher), itemText(p.lower),      num(p.rHigher),
            num(p.rLower),      num(p.aHigher),         num(p.aLower),
            num(p.a),           num(p.weight),          yesNo(p.active),
            num(p.hinge),       num(p.contribution, 4), reliabilityText(p.reliabilityLabel)};
    }
    fillTable(
        m_pairs,
        {tr("LLM prefers"), tr("over"), tr("r(i)"), tr("r(j)"), tr("a(i)"), tr("a(j)"),
         tr("pair a"), tr("weight"), tr("active"), tr("hinge"), tr("lambda*w*hinge"),
         tr("reliability label")},
        rows, {2, 3, 4, 5, 6, 7, 9, 10},
        {tr("Item i, which the LLM scored higher."), tr("Item j, scored lower."),
         tr("The LLM's score of i."), tr("The LLM's score of j."), tr("Gate activation a(u,i)."),
         tr("Gate activation a(u,j)."), tr("The pair's activation: (a(u,i) + a(u,j)) / 2."),
         tr("The pair's weight in the LLM hinge (the pair a, or 0/1 with the hard switch)."),
         tr("Whether the pair counts as active (pair a > tau_a)."),
         tr("max(0, m - (s(u,i) - s(u,j))): how far the model is from the LLM's order."),
         tr("The pair's term in the loss: lambda x weight x hinge."),
         tr("Whether the LLM's order agrees with the observed data, where known.")});
    notePairRows(d.pairs.size(),
                 QStringLiteral("--user %1").arg(QString::fromStdString(d.user.id)));
    rows.clear();
    for (const TestRanking& t : d.tests)
        rows << QStringList{itemText(t.item),
                            QString::number(t.item.popularity),
                            num(t.rank, 1),
                            num(t.auc, 4),
                            t.storedAuc ? num(*t.storedAuc, 4) : QString(),
                            countText(t.negatives)};
    fillTable(
        m_tests,
        {tr("Test item"), tr("pop(i)"), tr("rank"), tr("AUC"), tr("stored AUC"), tr("negatives")},
        rows, {1, 2, 3, 4, 5});
    for (QTableWidget* t : {m_scored, m_pairs, m_tests})
        allowSorting(t);
    m_history->clear();
    for (const ItemRef& h : d.history)
        m_history->addItem(itemText(h));
    m_detailTabs->setTabText(3, tr("Training history (%1)").arg(d.history.size()));
    m_tabs->setCurrentIndex(1);
    Q_EMIT detailShown(QStringLiteral("user"), QString::fromStdString(d.user.id));
}

void InspectorPage::showItemDetail(const ItemDrillDown& d)
{
    m_detail->setText(
        tr("<b>Item %1</b> %2: popularity %3 (%4) &middot; in %5 users' test sets &middot; "
           "scored by the LLM for %6 users &middot; in %7 pairs as the preferred item (%8 "
           "active, mean a %9) and %10 as the other (%11 active, mean a %12)")
            .arg(QString::fromStdString(d.item.id).toHtmlEscaped(),
                 QString::fromStdString(d.item.title).toHtmlEscaped())
            .arg(d.item.popularity)
            .arg(d.item.tail ? tr("tail") : tr("head"))
            .arg(d.testUsers)
            .arg(d.scoredBy.size())
            .arg(countText(d.asHigher.pairs), countText(d.asHigher.active), num(d.asHigher.meanA),
                 countText(d.asLower.pairs), countText(d.asLower.active), num(d.asLower.meanA)));
    QList<QStringList> rows;
    for (const ScoredEntry& e : d.scoredBy)
        rows << QStringList{QString::fromStdString(e.user.id),
                            QString::number(e.user.historyLength),
                            num(e.z[0], 0),
                            QString::number(e.llmRank),
                            num(e.r),
                            num(e.logit),
                            num(e.p),
                            num(e.z[2]),
                            num(e.a),
                            yesNo(e.active),
                            yesNo(e.trainPositive),
                            yesNo(e.testPositive)};
    fillTable(m_scored,
              {tr("User"), tr("|H(u)|"), tr("Cold"), tr("LLM rank"), tr("r (LLM)"), tr("s (model)"),
               tr("p"), tr("q"), tr("a"), tr("active"), tr("train +"), tr("test +")},
              rows, {1, 2, 3, 4, 5, 6, 7, 8});
    rows.clear();
    for (const GatePair& p : d.pairs) {
        if (rows.size() >= kMaxPairRows)
            break;
        rows << QStringList{QString::fromStdString(p.user.id),
                            itemText(p.higher),
                            itemText(p.lower),
                            num(p.a),
                            num(p.weight),
                            yesNo(p.active),
                            num(p.hinge),
                            num(p.contribution, 4),
                            reliabilityText(p.reliabilityLabel)};
    }
    fillTable(m_pairs,
              {tr("User"), tr("LLM prefers"), tr("over"), tr("pair a"), tr("weight"), tr("active"),
               tr("hinge"), tr("lambda*w*hinge"), tr("reliability label")},
              rows, {3, 4, 6, 7});
    notePairRows(d.pairs.size(),
                 QStringLiteral("--item %1").arg(QString::fromStdString(d.item.id)));
    fillTable(m_tests, {tr("Test rankings are shown per user")}, {});
    for (QTableWidget* t : {m_scored, m_pairs})
        allowSorting(t);
    m_history->clear();
    m_detailTabs->setTabText(3, tr("Training history"));
    m_tabs->setCurrentIndex(1);
    Q_EMIT detailShown(QStringLiteral("item"), QString::fromStdString(d.item.id));
}

void InspectorPage::notePairRows(std::size_t pairs, const QString& inspectArgs)
{
    const bool cut = pairs > static_cast<std::size_t>(kMaxPairRows);
    m_detailTabs->setTabText(
        1,
        cut ? tr("LLM pairs and the gate (first %1 of %2)")
                  .arg(countText(kMaxPairRows), countText(static_cast<std::int64_t>(pairs)))
            : tr("LLM pairs and the gate (%1)").arg(countText(static_cast<std::int64_t>(pairs))));
    m_detailTabs->setTabToolTip(
        1, cut ? tr("The table shows the first %1 pairs in the inspector's order (sorting "
                    "sorts these); 'sllmr inspect RUN %2 --json' lists all of them.")
                     .arg(countText(kMaxPairRows), inspectArgs)
               : QString());
}

}  // namespace sllmr::ui
