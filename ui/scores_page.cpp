#include "scores_page.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

#include "chart.h"
#include "engine/workbench.h"
#include "import_dialogs.h"
#include "settings.h"
#include "table_util.h"

namespace sllmr::ui {

namespace {

const SettingKey<QString> kLastScoresDir{"paths/lastLlmScoresDir", {}};

}  // namespace

ScoresPage::ScoresPage(Workbench* workbench, QWidget* parent)
    : QWidget(parent), m_workbench(workbench)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* bar = new QHBoxLayout;
    m_title = new QLabel(tr("No LLM scores loaded"), this);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    m_title->setFont(titleFont);
    bar->addWidget(m_title, 1);
    auto* open = new QPushButton(tr("Open LLM scores..."), this);
    open->setToolTip(
        tr("Open a file of LLM scores computed offline: ranked lists (user, item, "
           "rank), pointwise scores in [0,1] or ratings. (Ctrl+Shift+O)"));
    connect(open, &QPushButton::clicked, this, [this] { openScores(); });
    bar->addWidget(open);
    auto* mapping = new QPushButton(tr("Mapping..."), this);
    mapping->setToolTip(tr("Change how the current score file is read and reload it."));
    connect(mapping, &QPushButton::clicked, this, [this] {
        ScoresImportDialog dialog(m_workbench->config().scores, this);
        if (dialog.exec() == QDialog::Accepted)
            m_workbench->loadScores(dialog.spec());
    });
    bar->addWidget(mapping);
    layout->addLayout(bar);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);

    auto* split = new QSplitter(Qt::Horizontal, this);
    m_report = new QTableWidget(split);
    m_report->setObjectName(QStringLiteral("scoreReport"));
    m_report->setColumnCount(2);
    // Counts first: at any width of the table they stay in sight, the labels take the rest.
    m_report->setHorizontalHeaderLabels({tr("Rows"), tr("Load report")});
    m_report->horizontalHeader()->setStretchLastSection(true);
    m_report->verticalHeader()->hide();
    auto* right = new QSplitter(Qt::Vertical, split);
    m_segments = new QTableWidget(right);
    m_segments->setObjectName(QStringLiteral("llmQuality"));
    m_segments->setColumnCount(6);
    m_segments->setHorizontalHeaderLabels({tr("Segment"), tr("Test interactions"), tr("LLM-scored"),
                                           tr("LLM alone AUC"), tr("Scored (u,i)"),
                                           tr("Users with scores")});
    m_segments->horizontalHeaderItem(3)->setToolTip(
        tr("The LLM's score of each test item against its scores of the user's unobserved "
           "items (0.5 = chance). Only test interactions the LLM scored count."));
    m_segments->horizontalHeader()->setStretchLastSection(true);
    m_segments->verticalHeader()->hide();
    m_chart = new Chart(tr("How good is the LLM alone? (AUC per segment)"), right);
    m_chart->setObjectName(QStringLiteral("llmQualityChart"));
    m_chart->yAxis->setLabel(tr("LLM-alone AUC"));
    m_chart->yAxis->setRange(0, 1);
    m_chart->setPlaceholder(
        tr("Open an LLM score file (Ctrl+Shift+O): the LLM's quality per "
           "segment is drawn here."));
    auto* chance = new QCPItemStraightLine(m_chart);  // AUC 0.5: no better than chance
    chance->point1->setCoords(0, 0.5);
    chance->point2->setCoords(1, 0.5);
    chance->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    connect(m_workbench, &Workbench::scoresLoaded, this, &ScoresPage::showReport);
    connect(m_workbench, &Workbench::derivedChanged, this, &ScoresPage::showQuality);
}

void ScoresPage::openScores(const QString& given)
{
    QString path = given;
    if (path.isEmpty()) {
        QString dir = kLastScoresDir.get();
        if (dir.isEmpty())
            dir = QFileInfo(QString::fromStdString(m_workbench->config().scores.path)).path();
        path = QFileDialog::getOpenFileName(this, tr("Open LLM scores"), dir,
                                            tr("Score files (*.tsv *.csv *.txt *.gz);;All files "
                                               "(*)"));
        if (path.isEmpty())
            return;
    }
    kLastScoresDir.set(QFileInfo(path).absolutePath());
    ScoreFileSpec spec;
    spec.path = QFileInfo(path).absoluteFilePath().toStdString();
    spec.name = QFileInfo(path).fileName().toStdString();
    ScoresImportDialog dialog(spec, this);
    if (dialog.exec() == QDialog::Accepted)
        m_workbench->loadScores(dialog.spec());
}

void ScoresPage::showReport()
{
    const auto& scores = m_workbench->state().scores;
    if (!scores)
        return;
    const ScoreReport& r = scores->report;
    m_title->setText(QString::fromStdString(scores->spec.name.empty() ? scores->spec.source()
                                                                      : scores->spec.name));
    QString provenance;
    for (const auto& [key, value] : r.provenance)
        provenance += QStringLiteral("<br/><small>%1: %2</small>")
                          .arg(QString::fromStdString(key).toHtmlEscaped(),
                               QString::fromStdString(value).toHtmlEscaped());
    m_summary->setText((r.simulated
                            ? tr("<font color='#d55e00'><b>SIMULATED LLM</b>: these scores were "
                                 "generated from a declared reliability profile, not by a language "
                                 "model.</font><br/>")
                            : QString()) +
                       tr("%1 scores read as <b>%2</b> from <small>%3</small>")
                           .arg(countText(static_cast<std::int64_t>(scores->size())),
                                QString::fromStdString(r.kind),
                                QString::fromStdString(scores->spec.source()).toHtmlEscaped()) +
                       provenance);
    if (r.simulated)
        m_title->setText(m_title->text() + tr("  (simulated)"));
    const std::vector<std::pair<QString, std::int64_t>> rows{
        {tr("rows in the file"), r.rows},
        {tr("matched (the scores)"), r.matched},
        {tr("duplicates (first kept)"), r.duplicates},
        {tr("unknown users"), r.unknownUsers},
        {tr("unknown items"), r.unknownItems},
        {tr("values out of range (clamped)"), r.outOfRange},
        {r.missingPolicy == "default" ? tr("empty values (scored with the default)")
                                      : tr("empty values (rows skipped)"),
         r.missingValues},
        {tr("rows that are training positives"), r.inTrain},
        {tr("rows that are test positives"), r.inTest},
        {tr("users covered"), r.usersCovered},
        {tr("items covered"), r.itemsCovered},
        {tr("candidates added (default score)"), r.candidatesAdded},
        {tr("largest rank"), r.maxRank},
    };
    m_report->setRowCount(0);
    for (const auto& [label, value] : rows) {
        const int row = m_report->rowCount();
        m_report->insertRow(row);
        m_report->setItem(row, 0, readOnlyCell(countText(value), true));
        QTableWidgetItem* text = readOnlyCell(label);
        text->setToolTip(label);
        m_report->setItem(row, 1, text);
    }
    for (const auto& w : r.warnings) {
        const int row = m_report->rowCount();
        m_report->insertRow(row);
        m_report->setItem(row, 0, readOnlyCell(tr("warning")));
        QTableWidgetItem* text = readOnlyCell(QString::fromStdString(w));
        text->setToolTip(text->text());  // elided in the cell
        m_report->setItem(row, 1, text);
    }
    // The counts at their width, labels and warnings (elided, full in the tooltip) in the rest: a
    // column as wide as the longest warning once pushed the counts out of sight.
    m_report->resizeColumnToContents(0);
}

void ScoresPage::showQuality()
{
    const auto& quality = m_workbench->state().llmQuality;
    m_segments->setRowCount(0);
    m_chart->clearPlottables();
    if (quality.empty()) {
        m_chart->setPlaceholder(
            tr("Open an LLM score file (Ctrl+Shift+O): the LLM's quality per "
               "segment is drawn here."));
        m_chart->requestReplot();
        return;
    }
    auto* bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
    bars->setName(tr("LLM alone AUC"));
    bars->setBrush(seriesColor(1));
    bars->setPen(Qt::NoPen);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (std::size_t k = 0; k < quality.size(); ++k) {
        const auto& q = quality[k];
        const int row = m_segments->rowCount();
        m_segments->insertRow(row);
        m_segments->setItem(row, 0, readOnlyCell(QString::fromStdString(q.segment)));
        m_segments->setItem(row, 1, readOnlyCell(countText(q.testInteractions), true));
        const double coverage = q.testInteractions ? 100.0 * static_cast<double>(q.scoredTests) /
                                                         static_cast<double>(q.testInteractions)
                                                   : 0.0;
        m_segments->setItem(
            row, 2,
            readOnlyCell(
                QStringLiteral("%1 (%2%)").arg(countText(q.scoredTests)).arg(coverage, 0, 'f', 1),
                true));
        m_segments->setItem(
            row, 3,
            readOnlyCell(std::isnan(q.auc) ? tr("n/a") : QString::number(q.auc, 'f', 4), true));
        m_segments->setItem(row, 4, readOnlyCell(countText(q.entries), true));
        m_segments->setItem(row, 5, readOnlyCell(countText(q.usersCovered), true));
        const double key = static_cast<double>(k + 1);
        ticker->addTick(key, QString::fromStdString(q.segment));
        if (!std::isnan(q.auc))
            bars->addData(key, q.auc);
    }
    m_segments->resizeColumnsToContents();
    m_chart->xAxis->setTicker(ticker);
    m_chart->xAxis->setRange(0.4, static_cast<double>(quality.size()) + 0.6);
    m_chart->setPlaceholder({});
    m_chart->requestReplot();
}

}  // namespace sllmr::ui
