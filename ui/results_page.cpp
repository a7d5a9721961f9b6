#include "results_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/matrix.h"
#include "chart.h"
#include "engine/job_runner.h"
#include "engine/runs_model.h"
#include "table_export.h"
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

// Two-sided 95% Student t quantiles for 1..30 degrees of freedom; 1.96 beyond.
double tQuantile95(int df)
{
    static constexpr double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                    2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                    2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                    2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    return df >= 1 && df <= 30 ? kT[df - 1] : 1.96;
}

// Test interactions of `segment` in `metrics` (0 when unknown).
std::int64_t segmentSize(const RunMetrics& metrics, const std::string& segment)
{
    const auto it = metrics.sizes.find(segment);
    return it == metrics.sizes.end() ? 0 : it->second;
}

// A run config as dotted key -> value text (objects flattened, arrays kept as JSON).
void flattenConfig(const nlohmann::json& j, const std::string& prefix,
                   std::map<std::string, std::string>& out)
{
    if (j.is_object()) {
        for (const auto& [key, value] : j.items())
            flattenConfig(value, prefix.empty() ? key : prefix + "." + key, out);
        return;
    }
    out[prefix] = j.is_string() ? j.get<std::string>()
                                : j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ResultsPage::SeedSummary ResultsPage::seedSummary(const std::vector<double>& values)
{
    SeedSummary out;
    out.n = static_cast<int>(values.size());
    double sum = 0;
    for (double v : values)
        sum += v;
    out.mean = sum / out.n;
    if (out.n < 2)
        return out;  // one seed: no interval
    double ss = 0;
    for (double v : values)
        ss += (v - out.mean) * (v - out.mean);
    const double sd = std::sqrt(ss / (out.n - 1));
    out.halfWidth = tQuantile95(out.n - 1) * sd / std::sqrt(static_cast<double>(out.n));
    return out;
}

ResultsPage::ResultsPage(RunsModel* model, QString databasePath, QWidget* parent)
    : QWidget(parent)
    , m_model(model)
    , m_databasePath(std::move(databasePath))
    , m_jobs(new JobRunner(this))
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
    m_groupSeeds = new QCheckBox(tr("Group seeds"), right);
    m_groupSeeds->setToolTip(
        tr("Merge runs whose configurations differ only in the seed: mean and 95% t-interval "
           "over seeds (the unit of the interval is the seed)."));
    bar->addWidget(m_groupSeeds);
    bar->addStretch(1);
    auto* exportButton = new QPushButton(tr("Export table..."), right);
    exportButton->setToolTip(tr("The table below as CSV or a LaTeX table."));
    bar->addWidget(exportButton);
    rl->addLayout(bar);
    auto* vsplit = new QSplitter(Qt::Vertical, right);
    m_chart = new Chart(tr("Test metric per segment"), vsplit);
    m_chart->setObjectName(QStringLiteral("resultsChart"));
    m_chart->showLegendBelow();
    m_chart->setPlaceholder(
        tr("Tick one or more completed runs on the left to compare their "
           "test metrics per segment here."));
    auto* chance = new QCPItemStraightLine(m_chart);
    chance->point1->setCoords(0, 0.5);
    chance->point2->setCoords(1, 0.5);
    chance->setPen(QPen(QColor(150, 150, 150), 1, Qt::DashLine));
    m_chanceLine = chance;
    auto* chanceLabel = new QCPItemText(m_chart);
    chanceLabel->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    chanceLabel->position->setCoords(0.99, 0.5);
    chanceLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    chanceLabel->setText(tr("chance (AUC 0.5)"));
    chanceLabel->setColor(QColor(150, 150, 150));
    m_chanceLabel = chanceLabel;
    m_note = new QLabel(right);
    m_note->setObjectName(QStringLiteral("lowAucNote"));
    m_note->setTextFormat(Qt::PlainText);
    m_note->setWordWrap(true);
    m_note->hide();
    m_table = new QTableWidget(vsplit);
    m_table->setObjectName(QStringLiteral("resultsTable"));
    m_table->verticalHeader()->hide();
    vsplit->addWidget(m_chart);
    vsplit->addWidget(m_table);
    rl->addWidget(vsplit, 1);
    rl->addWidget(m_note);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    layout->addWidget(split);

    connect(m_model, &RunsModel::refreshed, this, &ResultsPage::rebuildRunList);
    connect(m_groupSeeds, &QCheckBox::toggled, this, [this] { refresh(); });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        exportTableWithDialog(this, *m_table->model(), m_table->horizontalHeader(),
                              QStringLiteral("results"));
    });
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
        const bool checked = m_checked.contains(r.id) || m_pending.contains(r.id);
        item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
        if (checked)
            still << r.id;
        m_pending.removeAll(r.id);
    }
    m_checked = still;
    m_updating = false;
    refresh();
}

void ResultsPage::showRuns(const QList<qint64>& runIds)
{
    // Runs the list does not hold yet (the runs model still loading) are ticked when they come.
    m_checked = runIds;
    m_pending = runIds;
    rebuildRunList();
}

QList<qint64> ResultsPage::shownRuns() const
{
    return m_checked;
}

void ResultsPage::setGroupSeeds(bool on)
{
    m_groupSeeds->setChecked(on);
}

void ResultsPage::setMetric(const QString& metric)
{
    m_metric->setCurrentText(metric);
}

void ResultsPage::refresh()
{
    const QList<qint64> ids = m_checked;
    m_jobs->start(
        QStringLiteral("metrics"),
        [path = m_databasePath, ids](JobContext&) { return readRunMetrics(path, ids); },
        [this, ids](const RunMetrics& metrics) {
            if (ids == m_checked)
                render(metrics);
        },
        [this](const QString& message) {
            m_chart->setPlaceholder(tr("Could not read the runs' metrics: %1").arg(message));
            m_chart->requestReplot();
        });
}

void ResultsPage::explainLowAuc(
    const std::string& metric,
    const std::map<std::string, std::map<std::string, std::map<qint64, double>>>& values)
{
    QStringList below;
    if (metric.find("auc") != std::string::npos && values.count(metric))
        for (const auto& [segment, byRun] : values.at(metric))
            for (const auto& [run, value] : byRun)
                if (value < 0.5)
                    below << tr("%1 of run %2 (%3)")
                                 .arg(QString::fromStdString(segment))
                                 .arg(run)
                                 .arg(QLocale().toString(value, 'f', 4));
    m_note->setVisible(!below.isEmpty());
    m_note->setText(
        tr("Below chance (0.5): %1. An AUC under 0.5 means the model ranks these held-out "
           "items below most items the user never rated. It is common on long-tail items: "
           "with few ratings a model leans on popularity, and tail items are unpopular by "
           "definition. It is a real result, not an error.")
            .arg(below.join(QStringLiteral(", "))));
}

void ResultsPage::warnDifferentSegments(const RunMetrics& metrics)
{
    // Runs whose segments hold different test interactions (other thresholds, another split) are
    // not compared on the same users or items: say so rather than draw them side by side.
    QStringList differing;
    for (const auto& [segment, byRun] : metrics.sizesByRun) {
        std::set<std::int64_t> sizes;
        for (const auto& [run, size] : byRun)
            sizes.insert(size);
        if (sizes.size() > 1) {
            QStringList parts;
            for (const auto& [run, size] : byRun)
                parts << tr("run %1: n = %2").arg(run).arg(countText(size));
            differing << QStringLiteral("%1 (%2)").arg(QString::fromStdString(segment),
                                                       parts.join(QStringLiteral(", ")));
        }
    }
    if (differing.isEmpty())
        return;
    const QString text =
        tr("Not the same segments: %1. These runs define the segments differently (thresholds, "
           "split or data), so their values per segment are not comparable; the axis shows the "
           "fewest test interactions.")
            .arg(differing.join(QStringLiteral("; ")));
    m_note->setText(m_note->isVisible() ? m_note->text() + QStringLiteral("\n\n") + text : text);
    m_note->setVisible(true);
}

std::vector<ResultsPage::Series> ResultsPage::buildSeries(const RunMetrics& metrics) const
{
    // Runs with the same configuration except the seed form one group when grouping is on.
    std::vector<Series> series;
    std::map<std::string, std::size_t> byConfig;
    for (qint64 id : m_checked) {
        const RunRow* row = m_model->runById(id);
        std::string key = std::to_string(id);
        QString name = QStringLiteral("run %1").arg(id);
        if (row) {
            name =
                QStringLiteral("run %1 %2%3")
                    .arg(id)
                    .arg(row->method,
                         row->gate.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(row->gate));
            if (m_groupSeeds->isChecked()) {
                try {
                    auto config = nlohmann::json::parse(row->configJson.toStdString());
                    config.erase("seed");
                    config.erase("name");
                    key = config.dump();
                    name = QStringLiteral("%1 %2%3").arg(
                        row->backbone, row->method,
                        row->gate.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(row->gate));
                } catch (const nlohmann::json::exception&) {
                    // an unreadable config stays a group of its own
                }
            }
        }
        auto [it, added] = byConfig.emplace(key, series.size());
        if (added)
            series.push_back(Series{name, {}, {}});
        series[it->second].runs << id;
    }
    for (Series& s : series) {
        for (const auto& [metric, bySegment] : metrics.values)
            for (const auto& [segment, byRun] : bySegment) {
                std::vector<double> v;
                for (qint64 id : s.runs)
                    if (auto it = byRun.find(id); it != byRun.end())
                        v.push_back(it->second);
                if (!v.empty())
                    s.values[metric][segment] = seedSummary(v);
            }
        if (s.runs.size() > 1)
            s.name += tr(" \u00b7 %n seed(s)", nullptr, static_cast<int>(s.runs.size()));
    }
    nameDifferences(series);
    return series;
}

void ResultsPage::nameDifferences(std::vector<Series>& series) const
{
    // Series whose labels would read the same (e.g. two lambdas of one method) get the config
    // settings that tell them apart, at most three, in their names.
    std::vector<std::map<std::string, std::string>> configs(series.size());
    for (std::size_t k = 0; k < series.size(); ++k)
        if (const RunRow* row = m_model->runById(series[k].runs.front())) {
            try {
                auto config = nlohmann::json::parse(row->configJson.toStdString());
                config.erase("name");
                if (series[k].runs.size() > 1)
                    config.erase("seed");  // a group of seeds
                flattenConfig(config, {}, configs[k]);
            } catch (const nlohmann::json::exception&) {
                // an unreadable config adds nothing
            }
        }
    const auto base = [](const QString& name) {
        return name.section(QStringLiteral(" \u00b7 "), 0, 0)
            .remove(QRegularExpression(QStringLiteral("^run \\d+ ")));
    };
    for (std::size_t a = 0; a < series.size(); ++a) {
        std::set<std::string> differing;
        for (std::size_t b = 0; b < series.size(); ++b) {
            if (a == b || base(series[a].name) != base(series[b].name))
                continue;
            for (const auto& [key, value] : configs[a]) {
                const auto it = configs[b].find(key);
                if (it == configs[b].end() || it->second != value)
                    differing.insert(key);
            }
        }
        QStringList parts;
        for (const auto& key : differing) {
            if (parts.size() == 3)
                break;
            // The last two parts of the key ("cold.value", "method.lambda", "seed").
            auto dot = key.rfind('.');
            if (dot != std::string::npos && dot > 0)
                dot = key.rfind('.', dot - 1);
            parts << QStringLiteral("%1 %2").arg(
                QString::fromStdString(dot == std::string::npos ? key : key.substr(dot + 1)),
                QString::fromStdString(configs[a][key]));
        }
        if (!parts.isEmpty())
            series[a].name += QStringLiteral(" \u00b7 ") + parts.join(QStringLiteral(", "));
    }
}

void ResultsPage::render(const RunMetrics& metrics)
{
    m_updating = true;
    const QString previous = m_metric->currentText();
    m_metric->clear();
    for (const auto& [metric, _] : metrics.values)
        if (metric != "best_epoch")
            m_metric->addItem(QString::fromStdString(metric));
    const int keep = m_metric->findText(previous.isEmpty() ? QStringLiteral("auc") : previous);
    m_metric->setCurrentIndex(keep >= 0 ? keep
                                        : std::max(0, m_metric->findText(QStringLiteral("auc"))));
    m_updating = false;
    const std::string metric = m_metric->currentText().toStdString();
    const std::vector<Series> series = buildSeries(metrics);
    renderChart(metric, metrics, series);
    explainLowAuc(metric, metrics.values);
    warnDifferentSegments(metrics);
    renderTable(metrics, series);
}

void ResultsPage::renderChart(const std::string& metric, const RunMetrics& metrics,
                              const std::vector<Series>& series)
{
    const auto sizeOf = [&](const std::string& seg) { return segmentSize(metrics, seg); };
    m_chart->clearPlottables();
    std::vector<std::string> segments;
    if (metrics.values.count(metric))
        for (const auto& [segment, _] : metrics.values.at(metric))
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
                .arg(countText(sizeOf(segments[s])))
                .arg(sizeOf(segments[s]) < kSmallSegment ? QStringLiteral(" \u2020") : QString()));
    m_chart->xAxis->setTicker(ticker);
    const bool grouped = m_groupSeeds->isChecked();
    auto* group = new QCPBarsGroup(m_chart);
    const double width = 0.8 / static_cast<double>(std::max<std::size_t>(1, series.size()));
    double hi = 0;
    for (std::size_t k = 0; k < series.size(); ++k) {
        QVector<double> keys, values, errors;
        for (std::size_t s = 0; s < segments.size(); ++s) {
            const auto byMetric = series[k].values.find(metric);
            if (byMetric == series[k].values.end())
                continue;
            const auto it = byMetric->second.find(segments[s]);
            if (it == byMetric->second.end())
                continue;
            // Dots for seed groups sit where their bars would; error bars are the interval.
            keys << static_cast<double>(s + 1) +
                        (grouped ? (static_cast<double>(k) - (series.size() - 1) / 2.0) * width
                                 : 0.0);
            values << it->second.mean;
            errors << (std::isnan(it->second.halfWidth) ? 0.0 : it->second.halfWidth);
            hi = std::max(hi, it->second.mean + errors.back());
        }
        const QColor color = seriesColor(static_cast<int>(k));
        if (grouped) {
            QCPGraph* dots = m_chart->addGraph();
            dots->setName(series[k].name);
            dots->setLineStyle(QCPGraph::lsNone);
            dots->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 8));
            dots->setData(keys, values);
            auto* interval = new QCPErrorBars(m_chart->xAxis, m_chart->yAxis);
            interval->removeFromLegend();
            interval->setDataPlottable(dots);
            interval->setData(errors);
            interval->setPen(QPen(color, 1.5));
            interval->setName(series[k].name + tr(" (95% interval over seeds)"));
        } else {
            auto* bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
            bars->setName(series[k].name);
            bars->setBrush(color);
            bars->setPen(Qt::NoPen);
            bars->setWidth(width);
            bars->setBarsGroup(group);
            bars->setData(keys, values);
        }
    }
    const bool anySmall = std::any_of(segments.begin(), segments.end(),
                                      [&](const auto& seg) { return sizeOf(seg) < kSmallSegment; });
    m_chart->setTitle(
        (grouped ? tr("Test %1 per segment: mean over seeds, 95% t-interval (unit: seed)")
                       .arg(QString::fromStdString(metric))
                 : tr("Test %1 per segment").arg(QString::fromStdString(metric))) +
        (anySmall
             ? tr("  (\u2020 fewer than %1 test interactions: too few to read)").arg(kSmallSegment)
             : QString()));
    m_chart->xAxis->setRange(0.4, static_cast<double>(segments.size()) + 0.6);
    // Bars start at 0: their length is the value. Hover for the exact value; zoom with the wheel
    // to compare close values (double-click resets).
    const bool isAuc = metric.find("auc") != std::string::npos;
    // An empty chart (nothing ticked) keeps the AUC scale rather than a range of 1e-9.
    m_chart->yAxis->setRange(0.0, std::max(isAuc || metric.empty() ? 1.0 : 1e-9, hi * 1.08));
    if (metric.empty())
        m_chart->setTitle(tr("Test metrics per segment"));
    m_chanceLine->setVisible(isAuc);
    m_chanceLabel->setVisible(isAuc);
    m_chart->setPlaceholder(m_checked.isEmpty()
                                ? tr("Tick one or more completed runs on the left to compare their "
                                     "test metrics per segment here.")
                                : QString());
    m_chart->requestReplot();
}

void ResultsPage::renderTable(const RunMetrics& metrics, const std::vector<Series>& series)
{
    const auto sizeOf = [&](const std::string& seg) { return segmentSize(metrics, seg); };
    // Every metric and segment, one column per run or seed group.
    m_table->clear();
    m_table->setColumnCount(3 + static_cast<int>(series.size()));
    QStringList headers{tr("Segment"), tr("Metric"), tr("Test interactions")};
    for (const Series& s : series)
        headers << s.name;
    m_table->setHorizontalHeaderLabels(headers);
    for (int c = 3; c < headers.size(); ++c)
        m_table->horizontalHeaderItem(c)->setToolTip(
            headers[c] + (m_groupSeeds->isChecked()
                              ? tr("\nmean \u00b1 half-width of the 95% t-interval over seeds")
                              : QString()));
    m_table->setRowCount(0);
    for (const auto& [metricName, bySegment] : metrics.values) {
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
            const bool small = sizeOf(segment) < kSmallSegment;
            auto* size = readOnlyCell(
                countText(sizeOf(segment)) + (small ? QStringLiteral(" \u2020") : QString()), true);
            if (small)
                size->setToolTip(
                    tr("Fewer than %1 test interactions: too few to read.").arg(kSmallSegment));
            m_table->setItem(r, 2, size);
            const int decimals = metricName == "best_epoch" ? 0 : 4;  // an epoch number
            for (std::size_t k = 0; k < series.size(); ++k) {
                QString text;
                if (auto m = series[k].values.find(metricName); m != series[k].values.end())
                    if (auto it = m->second.find(segment); it != m->second.end())
                        text = std::isnan(it->second.halfWidth)
                                   ? QLocale().toString(it->second.mean, 'f', decimals)
                                   : QStringLiteral("%1 \u00b1 %2")
                                         .arg(QLocale().toString(it->second.mean, 'f', decimals),
                                              QLocale().toString(it->second.halfWidth, 'f', 4));
                if (small && !text.isEmpty())
                    text += QStringLiteral(" \u2020");
                m_table->setItem(r, 3 + static_cast<int>(k), readOnlyCell(text, true));
            }
        }
    }
    m_table->resizeColumnsToContents();
}

}  // namespace sllmr::ui
