#include "results_page.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/matrix.h"
#include "chart.h"
#include "common/error.h"
#include "runs_model.h"
#include "store/experiment_store.h"
#include "table_util.h"
#include "train/reference_scorer.h"

namespace sllmr::ui {

namespace {

constexpr int kRunIdRole = Qt::UserRole + 1;

// Evaluation segments first in their usual order, buckets left out of the chart.
int segmentOrder(const std::string& s)
{
    static const std::vector<std::string> order{"overall", "cold", "warm", "tail", "head"};
    for (std::size_t k = 0; k < order.size(); ++k)
        if (order[k] == s)
            return static_cast<int>(k);
    return 100;
}

bool isBucket(const std::string& s)
{
    return s.rfind("hist_", 0) == 0 || s.rfind("pop_", 0) == 0;
}

}  // namespace

ResultsPage::ResultsPage(RunsModel* model, QString databasePath, QWidget* parent)
    : QWidget(parent), m_model(model), m_databasePath(std::move(databasePath))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* left = new QWidget(split);
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 0, 0);
    ll->addWidget(new QLabel(tr("<b>Completed runs</b> (tick to compare)"), left));
    m_runs = new QListWidget(left);
    m_runs->setObjectName(QStringLiteral("resultRuns"));
    ll->addWidget(m_runs, 1);
    auto* right = new QWidget(split);
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Metric"), right));
    m_metric = new QComboBox(right);
    m_metric->setToolTip(
        tr("auc: full-ranking AUC (the paper's metric); gauc: per user first; "
           "ndcg@K, recall@K, hr@K, mrr: top-K ranking; llm_auc: the LLM alone; "
           "gate_mean / gate_active: how open the gate was."));
    bar->addWidget(m_metric);
    bar->addStretch(1);
    rl->addLayout(bar);
    auto* vsplit = new QSplitter(Qt::Vertical, right);
    m_chart = new Chart(tr("Test metric per segment"), vsplit);
    m_chart->setObjectName(QStringLiteral("resultsChart"));
    m_chart->showLegendBelow();
    m_chart->setPlaceholder(tr("Tick one or more completed runs"));
    m_table = new QTableWidget(vsplit);
    m_table->setObjectName(QStringLiteral("resultsTable"));
    m_table->verticalHeader()->hide();
    vsplit->addWidget(m_chart);
    vsplit->addWidget(m_table);
    rl->addWidget(vsplit, 1);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    layout->addWidget(split);

    connect(m_model, &RunsModel::refreshed, this, &ResultsPage::rebuildRunList);
    connect(m_runs, &QListWidget::itemChanged, this, [this] {
        if (m_updating)
            return;
        m_checked.clear();
        for (int k = 0; k < m_runs->count(); ++k)
            if (m_runs->item(k)->checkState() == Qt::Checked)
                m_checked << m_runs->item(k)->data(kRunIdRole).toLongLong();
        refresh();
    });
    connect(m_metric, &QComboBox::currentTextChanged, this, [this] {
        if (!m_updating)
            refresh();
    });
    rebuildRunList();
}

void ResultsPage::rebuildRunList()
{
    m_updating = true;
    m_runs->clear();
    QList<qint64> still;
    for (const RunRow& r : m_model->rows()) {
        if (r.status != QLatin1String("completed"))
            continue;
        // Non-learned reference rows (mostpop, itemknn, llm) have no backbone.
        const bool reference = isReferenceMethod(r.method.toStdString());
        auto* item = new QListWidgetItem(
            reference ? QStringLiteral("%1 \u00b7 %2 (reference, not trained) \u00b7 seed %3\n%4")
                            .arg(r.id)
                            .arg(r.method)
                            .arg(r.seed)
                            .arg(r.name)
                      : QStringLiteral("%1 \u00b7 %2 %3%4 \u00b7 seed %5\n%6")
                            .arg(r.id)
                            .arg(r.backbone, r.method,
                                 r.gate.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.gate))
                            .arg(r.seed)
                            .arg(r.name),
            m_runs);
        item->setData(kRunIdRole, r.id);
        const bool checked = m_checked.contains(r.id);
        item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
        if (checked)
            still << r.id;
    }
    m_checked = still;
    m_updating = false;
    refresh();
}

void ResultsPage::showRuns(const QList<qint64>& runIds)
{
    m_checked = runIds;
    rebuildRunList();
}

QList<qint64> ResultsPage::shownRuns() const
{
    return m_checked;
}

void ResultsPage::setMetric(const QString& metric)
{
    m_metric->setCurrentText(metric);
}

void ResultsPage::refresh()
{
    // metric -> segment -> run -> value; segment sizes per run.
    std::map<std::string, std::map<std::string, std::map<qint64, double>>> values;
    std::map<std::string, std::int64_t> sizes;
    try {
        if (!m_checked.isEmpty()) {
            ExperimentStore store(m_databasePath.toStdString());
            for (qint64 id : m_checked)
                for (const auto& m : store.segmentMetrics(id)) {
                    if (isBucket(m.segment))
                        continue;
                    values[m.metric][m.segment][id] = m.value;
                    sizes[m.segment] = m.size;
                }
        }
    } catch (const Error&) {
        values.clear();  // the runs table reports store problems
    }

    m_updating = true;
    const QString previous = m_metric->currentText();
    m_metric->clear();
    for (const auto& [metric, _] : values)
        if (metric != "best_epoch")
            m_metric->addItem(QString::fromStdString(metric));
    const int keep = m_metric->findText(previous.isEmpty() ? QStringLiteral("auc") : previous);
    m_metric->setCurrentIndex(keep >= 0 ? keep
                                        : std::max(0, m_metric->findText(QStringLiteral("auc"))));
    m_updating = false;
    const std::string metric = m_metric->currentText().toStdString();

    // Chart: one bar series per run, grouped by segment.
    m_chart->clearPlottables();
    std::vector<std::string> segments;
    if (values.count(metric))
        for (const auto& [segment, _] : values[metric])
            segments.push_back(segment);
    std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
        return std::make_pair(segmentOrder(a), a) < std::make_pair(segmentOrder(b), b);
    });
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (std::size_t s = 0; s < segments.size(); ++s)
        ticker->addTick(
            static_cast<double>(s + 1),
            QStringLiteral("%1\n(n=%2%3)")
                .arg(QString::fromStdString(segments[s]))
                .arg(sizes[segments[s]])
                .arg(sizes[segments[s]] < kSmallSegment ? QStringLiteral(" \u2020") : QString()));
    m_chart->xAxis->setTicker(ticker);
    auto* group = new QCPBarsGroup(m_chart);
    double lo = 1e300, hi = -1e300;
    for (int k = 0; k < m_checked.size(); ++k) {
        const qint64 id = m_checked[k];
        const RunRow* row = m_model->runById(id);
        auto* bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
        bars->setName(row ? QStringLiteral("run %1 %2%3")
                                .arg(id)
                                .arg(row->method, row->gate.isEmpty()
                                                      ? QString()
                                                      : QStringLiteral(" (%1)").arg(row->gate))
                          : QStringLiteral("run %1").arg(id));
        bars->setBrush(seriesColor(k));
        bars->setPen(Qt::NoPen);
        bars->setWidth(0.8 / std::max<qsizetype>(1, m_checked.size()));
        bars->setBarsGroup(group);
        for (std::size_t s = 0; s < segments.size(); ++s) {
            const auto& bySegment = values[metric][segments[s]];
            if (auto it = bySegment.find(id); it != bySegment.end()) {
                bars->addData(static_cast<double>(s + 1), it->second);
                lo = std::min(lo, it->second);
                hi = std::max(hi, it->second);
            }
        }
    }
    const bool anySmall = std::any_of(segments.begin(), segments.end(),
                                      [&](const auto& seg) { return sizes[seg] < kSmallSegment; });
    m_chart->setTitle(
        tr("Test %1 per segment").arg(QString::fromStdString(metric)) +
        (anySmall
             ? tr("  (\u2020 fewer than %1 test interactions: too few to read)").arg(kSmallSegment)
             : QString()));
    m_chart->xAxis->setRange(0.4, static_cast<double>(segments.size()) + 0.6);
    if (hi >= lo) {
        // Start the axis near the smallest value so differences between runs are visible.
        const double pad = std::max((hi - lo) * 0.25, 0.01);
        m_chart->yAxis->setRange(std::max(0.0, lo - pad), hi + pad);
    }
    m_chart->setPlaceholder(m_checked.isEmpty() ? tr("Tick one or more completed runs")
                                                : QString());
    m_chart->requestReplot();

    // Table: every metric and segment, one column per run.
    m_table->clear();
    m_table->setColumnCount(3 + static_cast<int>(m_checked.size()));
    QStringList headers{tr("Segment"), tr("Metric"), tr("Test interactions")};
    for (qint64 id : m_checked)
        headers << tr("Run %1").arg(id);
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setRowCount(0);
    for (const auto& [metricName, bySegment] : values) {
        std::vector<std::string> segs;
        for (const auto& [segment, _] : bySegment)
            segs.push_back(segment);
        std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) {
            return std::make_pair(segmentOrder(a), a) < std::make_pair(segmentOrder(b), b);
        });
        for (const auto& segment : segs) {
            const int r = m_table->rowCount();
            m_table->insertRow(r);
            m_table->setItem(r, 0, readOnlyCell(QString::fromStdString(segment)));
            m_table->setItem(r, 1, readOnlyCell(QString::fromStdString(metricName)));
            const bool small = sizes[segment] < kSmallSegment;
            auto* size = readOnlyCell(
                QString::number(sizes[segment]) + (small ? QStringLiteral(" \u2020") : QString()),
                true);
            if (small)
                size->setToolTip(
                    tr("Fewer than %1 test interactions: too few to read.").arg(kSmallSegment));
            m_table->setItem(r, 2, size);
            for (int k = 0; k < m_checked.size(); ++k) {
                const auto& byRun = bySegment.at(segment);
                const auto it = byRun.find(m_checked[k]);
                m_table->setItem(
                    r, 3 + k,
                    readOnlyCell(it == byRun.end()
                                     ? QString()
                                     : QString::number(it->second, 'f', 4) +
                                           (small ? QStringLiteral(" \u2020") : QString()),
                                 true));
            }
        }
    }
    m_table->resizeColumnsToContents();
}

}  // namespace sllmr::ui
