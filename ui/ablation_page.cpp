#include "ablation_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScopedValueRollback>
#include <QScrollBar>
#include <QSet>
#include <QSplitter>
#include <QTableWidget>
#include <QTextCursor>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>
#include <fstream>

#include "analysis/executors.h"
#include "analysis/grid.h"
#include "common/error.h"
#include "common/paths.h"
#include "engine/job_runner.h"
#include "engine/runs_model.h"
#include "engine/store_queries.h"
#include "engine/sweep_controller.h"
#include "engine/workbench.h"
#include "error_text.h"
#include "executor_box.h"
#include "model/model_spec.h"
#include "table_util.h"
#include "train/reference_scorer.h"
#include "train/run_config.h"

namespace sllmr::ui {

namespace {

struct VariantChoice
{
    const char* label;
    const char* method;
    const char* gate;  // "" for methods without a gate
    const char* tip;
};

constexpr VariantChoice kVariants[] = {
    {"none", "none", "off", "The backbone alone: the baseline without any LLM signal."},
    {"kd", "kd", "off", "Distil every LLM score into the backbone (global distillation)."},
    {"pointwise", "pointwise", "off", "Fit sigmoid(s) to the LLM score on every scored pair."},
    {"global", "global", "off", "The pairwise LLM hinge everywhere (gate off)."},
    {"paper", "selective", "paper", "S-LLMR with the paper's jointly learned gate."},
    {"reliability", "selective", "reliability",
     "S-LLMR with the gate trained to predict where the LLM is right."},
    {"threshold", "selective", "threshold", "S-LLMR with a hand rule on Cold, Tail and q."},
    {"random", "selective", "random",
     "Control: the gate opens at random, as often as the reliability gate did."},
    {"mostpop", "mostpop", "off",
     "Reference row, not trained: items ranked by training popularity."},
    {"itemknn", "itemknn", "off",
     "Reference row, not trained: cosine ItemKNN over the training interactions."},
    {"llm", "llm", "off", "Reference row, not trained: the LLM's scores alone as the ranking."},
};

QString fmt(double v, int decimals = 4)
{
    return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'f', decimals);
}

QString pText(double p)
{
    if (std::isnan(p))
        return QStringLiteral("-");
    return p < 1e-4 ? QStringLiteral("p<1e-4") : QStringLiteral("p=%1").arg(p, 0, 'g', 3);
}

// A matrix cell: mean +- std over seeds, the difference to the reference, bold when best.
QTableWidgetItem* metricCell(const MatrixCell& cell, bool isReference)
{
    QString text = fmt(cell.mean);
    if (!std::isnan(cell.stdDev))
        text += QStringLiteral(" \u00b1 %1").arg(fmt(cell.stdDev));
    if (!isReference && !std::isnan(cell.difference))
        text += QStringLiteral("\n\u0394 %1%2")
                    .arg(cell.difference >= 0 ? QStringLiteral("+") : QString())
                    .arg(fmt(cell.difference));
    if (cell.small())
        text += QStringLiteral(" \u2020");
    auto* item = readOnlyCell(text, true);
    if (cell.small()) {
        item->setForeground(QColor(140, 140, 140));
        item->setToolTip(QObject::tr("Computed on %1 test interactions (fewer than %2): too few "
                                     "to read.")
                             .arg(cell.size)
                             .arg(kSmallSegment));
    }
    if (cell.best) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
        item->setToolTip(QObject::tr("Best of this column"));
    }
    return item;
}

// A test cell: the difference with its interval and the Holm-corrected p, coloured by verdict.
QTableWidgetItem* testCell(const SignificanceTest* t, bool isReference)
{
    if (isReference)
        return readOnlyCell(QStringLiteral("\u2014"));
    if (!t || !t->note.empty())
        return readOnlyCell(t ? QString::fromStdString(t->note) : QObject::tr("no test"));
    const QString mark = t->significant ? QObject::tr("significant") : QObject::tr("n.s.");
    const QString unit = QString::fromLatin1(toString(t->unit));
    QString text =
        QStringLiteral("\u0394 %1 [%2, %3]\n%4 (Holm, %5s) %6")
            .arg(fmt(t->ci.mean), fmt(t->ci.lo), fmt(t->ci.hi), pText(t->tHolm), unit, mark);
    if (!t->disagreement.empty())
        text += QObject::tr("\nmetrics disagree");
    auto* item = readOnlyCell(text);
    item->setToolTip(
        QObject::tr("%1 paired %2s (%11 test interactions). Paired t: t = %3, p = %4, Holm "
                    "p = %5. Wilcoxon signed-rank: W = %6, p = %7, Holm p = %8. %12 %9% CI "
                    "of the mean difference: [%10].")
            .arg(t->pairs)
            .arg(unit)
            .arg(t->t.t, 0, 'f', 3)
            .arg(pText(t->t.p), pText(t->tHolm))
            .arg(t->wilcoxon.w, 0, 'f', 1)
            .arg(pText(t->wilcoxon.p), pText(t->wilcoxonHolm))
            .arg(t->ci.level * 100, 0, 'f', 0)
            .arg(fmt(t->ci.lo) + QStringLiteral(", ") + fmt(t->ci.hi))
            .arg(t->interactions)
            .arg(QString::fromStdString(t->ci.method)) +
        (t->disagreement.empty()
             ? QString()
             : QObject::tr(" The row's metrics move in opposite directions: %1.")
                   .arg(QString::fromStdString(t->disagreement))));
    QFont f = item->font();
    if (t->significant) {
        f.setBold(true);
        item->setForeground(QColor(0, 158, 115));
    } else {
        f.setItalic(true);
        item->setForeground(QColor(140, 140, 140));
    }
    item->setFont(f);
    return item;
}

QList<double> parseNumbers(const QString& text)
{
    QList<double> out;
    for (const QString& part :
         text.split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = part.toDouble(&ok);
        if (ok)
            out << v;
    }
    return out;
}

QString gridsDir()
{
    const QString demo = QString::fromStdString(sllmr::demoDir());
    return demo.isEmpty() ? QString() : QDir(demo).filePath(QStringLiteral("../grids"));
}

// The dotted config keys the form writes as axes, and the values it writes for each.
const char* const kLambdaKey = "method.lambda";
const char* const kBackboneKey = "model.type";
const char* const kGateInputKeys[] = {"gate.inputs.cold", "gate.inputs.tail",
                                      "gate.inputs.uncertainty"};

// What the form writes for variant `v` (`withReliability`: the reliability variant is ticked, so
// the random gate copies its activation rate).
nlohmann::json variantSet(const VariantChoice& v, bool withReliability)
{
    nlohmann::json set = {{"method.name", v.method}, {"gate.mode", v.gate}};
    if (std::string(v.method) == "global")
        set.erase("gate.mode");
    if (std::string(v.label) == "random" && withReliability)
        set["gate.reference_run"] = "@reliability";
    return set;
}

int variantIndex(const std::string& label)
{
    for (int k = 0; k < static_cast<int>(std::size(kVariants)); ++k)
        if (label == kVariants[k].label)
            return k;
    return -1;
}

QString numberList(const nlohmann::json& values)
{
    QStringList parts;
    for (const auto& v : values)
        parts << QString::number(v.get<double>(), 'g', 10);
    return parts.join(QStringLiteral(", "));
}

}  // namespace

AblationPage::AblationPage(Workbench* workbench, RunsModel* runs, SweepController* sweeps,
                           QString databasePath, QWidget* parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_runs(runs)
    , m_sweeps(sweeps)
    , m_databasePath(std::move(databasePath))
    , m_jobs(new JobRunner(this))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* split = new QSplitter(Qt::Vertical, this);
    auto* top = new QSplitter(Qt::Horizontal, split);
    top->addWidget(createGridForm(top));
    top->addWidget(createEditor(top));
    m_executorBox = new ExecutorBox(top);
    top->addWidget(m_executorBox);
    top->setStretchFactor(0, 2);
    top->setStretchFactor(1, 3);
    top->setStretchFactor(2, 2);
    connect(m_executorBox, &ExecutorBox::edited, this, &AblationPage::writeExecutorIntoGrid);
    split->addWidget(top);
    split->addWidget(createQueue(split));
    split->addWidget(createMatrixView(split));
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 3);
    layout->addWidget(split, 1);
    connectSweeps();
    syncButtons();
    if (!loadPreset(QStringLiteral("demo-ablation")))
        buildGridFromForm();
    refreshSweeps();
}

QWidget* AblationPage::createGridForm(QWidget* parent)
{
    auto* box = new QGroupBox(tr("Grid (the form and the file show the same grid)"), parent);
    auto* boxLayout = new QVBoxLayout(box);
    auto* form = new QWidget(box);
    m_form = form;
    auto* fl = new QFormLayout(form);
    fl->setContentsMargins(0, 0, 0, 0);
    boxLayout->addWidget(form);
    m_variants = new QListWidget(form);
    m_variants->setObjectName(QStringLiteral("gridVariants"));
    for (const VariantChoice& v : kVariants) {
        auto* item = new QListWidgetItem(QString::fromLatin1(v.label), m_variants);
        item->setToolTip(tr(v.tip));
        item->setCheckState(Qt::Unchecked);
    }
    m_variants->setMaximumHeight(200);
    fl->addRow(tr("Variants"), m_variants);
    m_lambdas = new QLineEdit(form);
    m_lambdas->setPlaceholderText(tr("e.g. 0.05, 0.1, 0.2 (empty: the base lambda)"));
    m_lambdas->setToolTip(tr("lambda values: each variant with an LLM loss runs once per value."));
    fl->addRow(tr("lambda values"), m_lambdas);
    m_backbones = new QListWidget(form);
    for (const auto& type : backboneTypes()) {
        auto* item = new QListWidgetItem(QString::fromStdString(type), m_backbones);
        item->setCheckState(Qt::Unchecked);
    }
    m_backbones->setMaximumHeight(110);
    m_backbones->setToolTip(
        tr("Backbones to cross with the variants (none ticked: the base one)."));
    fl->addRow(tr("Backbones"), m_backbones);
    auto* inputs = new QWidget(form);
    auto* ih = new QHBoxLayout(inputs);
    ih->setContentsMargins(0, 0, 0, 0);
    m_varyCold = new QCheckBox(tr("Cold"), inputs);
    m_varyTail = new QCheckBox(tr("Tail"), inputs);
    m_varyQ = new QCheckBox(tr("q"), inputs);
    for (QCheckBox* c : {m_varyCold, m_varyTail, m_varyQ}) {
        c->setToolTip(tr("Run the gated variants with this gate input on and off."));
        ih->addWidget(c);
    }
    ih->addStretch(1);
    fl->addRow(tr("Gate inputs on/off"), inputs);
    m_seeds = new QLineEdit(QStringLiteral("1, 2, 3"), form);
    m_seeds->setObjectName(QStringLiteral("gridSeeds"));
    m_seeds->setToolTip(tr("Every row runs once per seed; the matrix shows mean +- std."));
    fl->addRow(tr("Seeds"), m_seeds);
    m_formNote = new QLabel(box);
    m_formNote->setTextFormat(Qt::PlainText);
    m_formNote->setWordWrap(true);
    m_formNote->hide();
    boxLayout->addWidget(m_formNote);
    auto* formButtons = new QHBoxLayout;
    auto* build = new QPushButton(tr("New grid from the form"), box);
    build->setToolTip(
        tr("Replace the grid file by the form's choices over the Studio's current "
           "configuration."));
    m_preset = new QComboBox(box);
    m_preset->addItem(tr("Presets..."));
    const QDir grids(gridsDir());
    for (const QString& f : grids.entryList({QStringLiteral("*.json")}, QDir::Files))
        m_preset->addItem(QFileInfo(f).completeBaseName());
    formButtons->addWidget(build);
    formButtons->addWidget(m_preset, 1);
    boxLayout->addLayout(formButtons);
    boxLayout->addStretch(1);

    connect(build, &QPushButton::clicked, this, &AblationPage::buildGridFromForm);
    connect(m_preset, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index > 0)
            loadPreset(m_preset->itemText(index));
        m_preset->setCurrentIndex(0);
    });
    // Every change of the form rewrites the grid file at once: the file is what runs.
    connect(m_variants, &QListWidget::itemChanged, this, &AblationPage::writeFormIntoGrid);
    connect(m_backbones, &QListWidget::itemChanged, this, &AblationPage::writeFormIntoGrid);
    for (QLineEdit* e : {m_lambdas, m_seeds})
        connect(e, &QLineEdit::textEdited, this, &AblationPage::writeFormIntoGrid);
    for (QCheckBox* c : {m_varyCold, m_varyTail, m_varyQ})
        connect(c, &QCheckBox::toggled, this, &AblationPage::writeFormIntoGrid);
    return box;
}

QWidget* AblationPage::createEditor(QWidget* parent)
{
    auto* editorBox = new QGroupBox(
        tr("Grid file (what 'Run grid' runs; 'sllmr sweep GRID.json' runs it too)"), parent);
    auto* el = new QVBoxLayout(editorBox);
    m_editor = new QPlainTextEdit(editorBox);
    m_editor->setObjectName(QStringLiteral("gridEditor"));
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    el->addWidget(m_editor, 1);
    m_expansion = new QLabel(editorBox);
    m_expansion->setTextFormat(Qt::PlainText);  // errors quote the file
    m_expansion->setWordWrap(true);
    el->addWidget(m_expansion);
    auto* eb = new QHBoxLayout;
    auto* check = new QPushButton(tr("Expand"), editorBox);
    auto* save = new QPushButton(tr("Save grid..."), editorBox);
    m_run = new QPushButton(tr("Run grid"), editorBox);
    eb->addWidget(check);
    eb->addWidget(save);
    eb->addStretch(1);
    eb->addWidget(m_run);
    el->addLayout(eb);

    // Typing in the file updates the form once the text rests for a moment.
    m_editorIdle = new QTimer(this);
    m_editorIdle->setSingleShot(true);
    m_editorIdle->setInterval(300);
    connect(m_editorIdle, &QTimer::timeout, this, [this] {
        readFormFromGrid();
        expand();
    });
    connect(m_editor, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_syncing)
            m_editorIdle->start();
    });
    connect(check, &QPushButton::clicked, this, [this] { expand(); });
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save grid"), QStringLiteral("grid.json"), tr("JSON (*.json)"));
        if (path.isEmpty())
            return;
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            f.write(m_editor->toPlainText().toUtf8()) < 0)
            QMessageBox::critical(this, tr("Save grid"),
                                  tr("Could not write %1: %2").arg(path, f.errorString()));
    });
    connect(m_run, &QPushButton::clicked, this, [this] { runGrid(); });
    return editorBox;
}

QWidget* AblationPage::createQueue(QWidget* parent)
{
    auto* middle = new QWidget(parent);
    auto* ml = new QVBoxLayout(middle);
    ml->setContentsMargins(0, 0, 0, 0);
    auto* qb = new QHBoxLayout;
    qb->addWidget(new QLabel(tr("Sweep"), middle));
    m_sweepPicker = new QComboBox(middle);
    m_sweepPicker->setMinimumWidth(300);
    qb->addWidget(m_sweepPicker, 1);
    m_resume = new QPushButton(tr("Resume"), middle);
    m_resume->setToolTip(
        tr("Continue the sweep: completed runs are kept, interrupted ones "
           "resume from their checkpoints."));
    m_cancelOne = new QPushButton(tr("Cancel current run"), middle);
    m_cancelEvery = new QPushButton(tr("Cancel all"), middle);
    auto* matrixButton = new QPushButton(tr("Matrix"), middle);
    matrixButton->setToolTip(tr("Build the results matrix of the selected sweep."));
    m_collect = new QPushButton(tr("Collect"), middle);
    m_collect->setObjectName(QStringLiteral("collectSweep"));
    m_collect->setToolTip(
        tr("Bring the finished cells of a sweep run by worker processes or Slurm into this "
           "database (each shard is checked first; collecting again adds nothing)."));
    qb->addWidget(m_resume);
    qb->addWidget(m_cancelOne);
    qb->addWidget(m_cancelEvery);
    qb->addWidget(m_collect);
    qb->addWidget(matrixButton);
    ml->addLayout(qb);
    m_progress = new QProgressBar(middle);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    ml->addWidget(m_progress);
    m_status = new QLabel(middle);
    m_status->setTextFormat(Qt::PlainText);
    ml->addWidget(m_status);
    m_queue = new QTableWidget(middle);
    m_queue->setObjectName(QStringLiteral("sweepQueue"));
    m_queue->verticalHeader()->hide();
    ml->addWidget(m_queue, 1);

    connect(m_resume, &QPushButton::clicked, this, [this] {
        if (const qint64 id = m_sweepPicker->currentData().toLongLong(); id > 0)
            resumeSweep(id);
    });
    connect(m_cancelOne, &QPushButton::clicked, this, &AblationPage::cancelCurrent);
    connect(m_cancelEvery, &QPushButton::clicked, this, &AblationPage::cancelAll);
    connect(matrixButton, &QPushButton::clicked, this, [this] {
        if (const qint64 id = m_sweepPicker->currentData().toLongLong(); id > 0)
            buildMatrix(id);
    });
    connect(m_collect, &QPushButton::clicked, this, [this] {
        if (const qint64 id = m_sweepPicker->currentData().toLongLong(); id > 0)
            collectSweep(id);
    });
    // A sweep whose cells run elsewhere is read again every few seconds while some cell is
    // pending or running, and only while the page is shown (squeue is not asked for nothing).
    m_poll = new QTimer(this);
    m_poll->setSingleShot(true);
    m_poll->setInterval(3000);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (isVisible())
            refreshQueue(m_sweepPicker->currentData().toLongLong());
        else
            m_poll->start();
    });
    connect(m_sweepPicker, &QComboBox::currentIndexChanged, this,
            [this] { refreshQueue(m_sweepPicker->currentData().toLongLong()); });
    return middle;
}

QWidget* AblationPage::createMatrixView(QWidget* parent)
{
    auto* bottom = new QWidget(parent);
    auto* bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    auto* mb = new QHBoxLayout;
    mb->addWidget(new QLabel(tr("<b>Results matrix</b> reference row"), bottom));
    m_reference = new QComboBox(bottom);
    m_reference->setToolTip(tr("Differences and paired tests are against this row."));
    mb->addWidget(m_reference);
    mb->addWidget(new QLabel(tr("unit"), bottom));
    m_unit = new QComboBox(bottom);
    m_unit->setObjectName(QStringLiteral("matrixUnit"));
    m_unit->addItem(tr("user"), QStringLiteral("user"));
    m_unit->addItem(tr("seed"), QStringLiteral("seed"));
    m_unit->addItem(tr("interaction"), QStringLiteral("interaction"));
    m_unit->setToolTip(
        tr("Replication unit of the paired tests. user: per-user mean AUC, paired over users "
           "(seeds averaged first). seed: per-seed segment AUC, paired by seed (needs 3 or more "
           "seeds). interaction: every test interaction as if independent (one user's are not; "
           "p-values are optimistic)."));
    mb->addWidget(m_unit);
    mb->addWidget(new QLabel(tr("segments"), bottom));
    m_segmentFilter = new QComboBox(bottom);
    m_segmentFilter->setObjectName(QStringLiteral("matrixSegments"));
    m_segmentFilter->setToolTip(
        tr("Show every segment, or one (its metrics and its test against the reference) so the "
           "numbers fit without scrolling."));
    mb->addWidget(m_segmentFilter);
    mb->addStretch(1);
    auto* exportButton = new QPushButton(tr("Export (CSV, JSON, LaTeX)..."), bottom);
    mb->addWidget(exportButton);
    bl->addLayout(mb);
    m_matrixTable = new QTableWidget(bottom);
    m_matrixTable->setObjectName(QStringLiteral("matrixTable"));
    m_matrixTable->setWordWrap(true);
    bl->addWidget(m_matrixTable, 1);
    m_matrixNote = new QLabel(bottom);
    m_matrixNote->setTextFormat(Qt::PlainText);
    m_matrixNote->setWordWrap(true);
    bl->addWidget(m_matrixNote);

    connect(m_reference, &QComboBox::activated, this, [this] {
        if (m_matrix && m_sweepId > 0)
            buildMatrix(m_sweepId, m_reference->currentText());
    });
    connect(m_unit, &QComboBox::activated, this, [this] {
        if (m_matrix && m_sweepId > 0)
            buildMatrix(m_sweepId, m_reference->currentText());
    });
    connect(m_segmentFilter, &QComboBox::activated, this, [this] {
        if (m_matrix)
            showMatrix();
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        if (!m_matrix)
            return;
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export matrix"), QStringLiteral("matrix.tex"),
                                         tr("LaTeX table (*.tex);;CSV (*.csv);;JSON (*.json)"));
        if (!path.isEmpty() && !exportMatrix(path))
            QMessageBox::critical(this, tr("Export matrix"), tr("Could not write %1.").arg(path));
    });
    connect(m_matrixTable, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (m_matrix && row < static_cast<int>(m_matrix->runIds.size()) &&
            !m_matrix->runIds[static_cast<std::size_t>(row)].empty())
            Q_EMIT inspectRequested(m_matrix->runIds[static_cast<std::size_t>(row)].front());
    });
    return bottom;
}

void AblationPage::connectSweeps()
{
    connect(m_sweeps, &SweepController::runningChanged, this, &AblationPage::syncButtons);
    connect(m_sweeps, &SweepController::sweepStarted, this, [this](qint64 id, int items) {
        m_sweepId = id;
        m_progress->setRange(0, std::max(1, items));
        m_progress->setValue(0);
        refreshSweeps();
        Q_EMIT sweepStarted(id, items);
    });
    connect(m_sweeps, &SweepController::itemStarted, this, [this](const SweepItemUpdate& item) {
        m_progress->setRange(0, item.items);
        m_progress->setValue(item.position);
        m_status->setText(tr("Run %1 of %2: %3, seed %4 (run %5)")
                              .arg(item.position + 1)
                              .arg(item.items)
                              .arg(item.row)
                              .arg(item.seed)
                              .arg(item.runId));
        refreshQueue(item.sweepId);
        Q_EMIT itemStarted(item.position, item.row, item.runId);
    });
    connect(m_sweeps, &SweepController::itemFinished, this,
            [this](int position, const QString& status, const QString& error) {
                m_progress->setValue(position + 1);
                refreshQueue(m_sweepId);
                if (!error.isEmpty())
                    m_status->setText(tr("Item %1 %2: %3").arg(position + 1).arg(status, error));
                Q_EMIT itemFinished(position, status);
            });
    connect(m_sweeps, &SweepController::finished, this,
            [this](qint64 id, const QString& status, const QString& summary) {
                m_status->setText(tr("Sweep %1 %2: %3.").arg(id).arg(status, summary));
                m_runs->refresh();
                refreshSweeps();
                Q_EMIT sweepFinished(id, status);
                if (status != QLatin1String("submitted"))
                    buildMatrix(id);
            });
    connect(m_sweeps, &SweepController::submitted, this,
            [this](qint64 id, const QStringList& jobs, const QString& folder) {
                m_status->setText(
                    jobs.isEmpty() ? tr("Sweep %1: no cell left to run.").arg(id)
                                   : tr("Sweep %1 submitted to Slurm: array job(s) %2, folder %3.")
                                         .arg(id)
                                         .arg(jobs.join(QStringLiteral(", ")), folder));
                Q_EMIT submitted(id, jobs);
            });
    connect(m_sweeps, &SweepController::failed, this, [this](qint64 id, const QString& message) {
        m_status->setText(tr("Sweep %1 stopped: %2").arg(id).arg(message));
        m_runs->refresh();
        refreshSweeps();
        Q_EMIT failed(message);
    });
}

AblationPage::~AblationPage()
{
    m_jobs->cancelAll();
    m_jobs->waitForAll();
}

QString AblationPage::gridText() const
{
    return m_editor->toPlainText();
}

void AblationPage::setGridText(const QString& text)
{
    {
        const QScopedValueRollback<bool> syncing(m_syncing, true);
        m_editor->setPlainText(text);
    }
    m_editorIdle->stop();
    readFormFromGrid();
    expand();
}

bool AblationPage::formShowsGrid() const
{
    return m_form->isEnabled();
}

bool AblationPage::isRunning() const
{
    return m_sweeps->isRunning();
}

qint64 AblationPage::currentSweep() const
{
    return m_sweeps->isRunning() ? m_sweeps->currentSweepId() : m_sweepId;
}

void AblationPage::setTrainingElsewhere(bool running)
{
    m_trainingElsewhere = running;
    syncButtons();
}

void AblationPage::syncButtons()
{
    const bool running = m_sweeps->isRunning();
    m_run->setEnabled(!running && !m_trainingElsewhere);
    m_resume->setEnabled(!running && !m_trainingElsewhere);
    m_run->setToolTip(m_trainingElsewhere ? tr("A run is in progress on the Run page; start the "
                                               "grid when it has finished.")
                                          : QString());
    // Worker processes are stopped together (Cancel all); a run of its own cannot be picked.
    m_cancelOne->setEnabled(running && !m_runningElsewhere);
    m_cancelEvery->setEnabled(running);
    const bool shards = !m_shownExecutor.isEmpty() && m_shownExecutor != QLatin1String("local");
    m_collect->setEnabled(shards && !(running && m_sweepId == shownSweep()));
}

nlohmann::json AblationPage::formGridParts() const
{
    nlohmann::json parts;
    parts["variants"] = nlohmann::json::array();
    bool withReliability = false;
    for (int k = 0; k < m_variants->count(); ++k)
        withReliability |= QLatin1String(kVariants[k].label) == QLatin1String("reliability") &&
                           m_variants->item(k)->checkState() == Qt::Checked;
    QStringList labels;
    for (int k = 0; k < m_variants->count(); ++k) {
        if (m_variants->item(k)->checkState() != Qt::Checked)
            continue;
        parts["variants"].push_back(
            {{"label", kVariants[k].label}, {"set", variantSet(kVariants[k], withReliability)}});
        labels << QString::fromLatin1(kVariants[k].label);
    }
    nlohmann::json axes = nlohmann::json::object();
    const auto lambdas = parseNumbers(m_lambdas->text());
    for (double l : lambdas)
        axes[kLambdaKey].push_back(l);
    for (int k = 0; k < m_backbones->count(); ++k)
        if (m_backbones->item(k)->checkState() == Qt::Checked)
            axes[kBackboneKey].push_back(m_backbones->item(k)->text().toStdString());
    const QCheckBox* vary[] = {m_varyCold, m_varyTail, m_varyQ};
    for (int k = 0; k < 3; ++k)
        if (vary[k]->isChecked())
            axes[kGateInputKeys[k]] = {true, false};
    parts["axes"] = axes;
    parts["seeds"] = nlohmann::json::array();
    for (double s : parseNumbers(m_seeds->text()))
        parts["seeds"].push_back(static_cast<std::int64_t>(s));
    if (parts["seeds"].empty())
        parts["seeds"].push_back(static_cast<std::int64_t>(m_workbench->config().seed));
    parts["reference"] = labels.contains(QStringLiteral("global")) ? std::string("global")
                         : labels.isEmpty()                        ? std::string()
                                                                   : labels.front().toStdString();
    return parts;
}

void AblationPage::buildGridFromForm()
{
    nlohmann::json grid;
    grid["name"] = "studio grid";
    grid["description"] = "Written by the Studio's ablation page.";
    grid["base"] = toJson(m_workbench->config());
    m_form->setEnabled(true);
    m_formNote->hide();
    applyForm(grid);
}

std::optional<nlohmann::json> AblationPage::editorGrid() const
{
    try {
        auto grid = nlohmann::json::parse(m_editor->toPlainText().toStdString());
        if (grid.is_object())
            return grid;
    } catch (const nlohmann::json::parse_error&) {}
    return std::nullopt;
}

void AblationPage::showGrid(const nlohmann::json& grid)
{
    {
        // The file is rewritten in place: the view stays where the user was reading.
        const QScopedValueRollback<bool> syncing(m_syncing, true);
        const int scroll = m_editor->verticalScrollBar()->value();
        const int cursor = m_editor->textCursor().position();
        m_editor->setPlainText(QString::fromStdString(grid.dump(2)));
        QTextCursor c = m_editor->textCursor();
        c.setPosition(
            std::min(cursor, static_cast<int>(m_editor->document()->characterCount()) - 1));
        m_editor->setTextCursor(c);
        m_editor->verticalScrollBar()->setValue(scroll);
    }
    m_editorIdle->stop();
    expand();
}

void AblationPage::writeFormIntoGrid()
{
    if (m_syncing)
        return;
    if (auto grid = editorGrid())
        applyForm(std::move(*grid));
    else
        buildGridFromForm();  // nothing readable to keep: a new grid over the current config
}

void AblationPage::applyForm(nlohmann::json grid)
{
    const nlohmann::json parts = formGridParts();
    grid["variants"] = parts["variants"];
    if (parts["axes"].empty())
        grid.erase("axes");
    else
        grid["axes"] = parts["axes"];
    grid["seeds"] = parts["seeds"];
    if (parts["reference"].get<std::string>().empty())
        grid.erase("reference");
    else
        grid["reference"] = parts["reference"];
    applyExecutor(grid);
    showGrid(grid);
}

void AblationPage::applyExecutor(nlohmann::json& grid) const
{
    const ExecutorSettings settings = m_executorBox->settings();
    if (settings.kind == ExecutorKind::Local && settings.folder.empty())
        grid.erase("executor");
    else
        grid["executor"] = toJson(settings);
}

void AblationPage::writeExecutorIntoGrid()
{
    if (m_syncing)
        return;
    auto grid = editorGrid();
    if (!grid)
        return;  // the file is being edited into shape: it decides once it parses
    applyExecutor(*grid);
    const QScopedValueRollback<bool> fromBox(m_editFromBox, true);
    showGrid(*grid);
}

void AblationPage::updateScript(const Grid& grid, const GridExpansion& expansion)
{
    ExecutorSettings settings;
    try {
        settings = executorFromJson(grid.executor, "grid editor");
    } catch (const Error&) {
        return;
    }
    if (settings.kind != ExecutorKind::Slurm) {
        m_executorBox->setScript({});
        return;
    }
    const SweepManifest m =
        previewManifest(grid.name, expansion, 0,
                        settings.folder.empty()
                            ? QStringLiteral("%1.sweeps/sweep-ID").arg(m_databasePath).toStdString()
                            : settings.folder);
    const std::string program = settings.slurm.program.empty()
                                    ? m_sweeps->cellProgram().toStdString()
                                    : settings.slurm.program;
    const auto waves = cellWaves(m, m.cells());
    QString text;
    // The first script as sbatch gets it; a later wave (cells that refer to another cell's run)
    // after a separator line.
    for (std::size_t w = 0; w < waves.size(); ++w) {
        if (w > 0)
            text += tr("\n--- array job %1 of %2, submitted with --dependency=afterany on job "
                       "%3 ---\n")
                        .arg(w + 1)
                        .arg(waves.size())
                        .arg(w);
        text += QString::fromStdString(slurmScript(m, settings.slurm, waves[w], program));
    }
    m_executorBox->setScript(text);
}

QString AblationPage::formCannotShow(const nlohmann::json& grid) const
{
    if (!grid.is_object())
        return tr("the file is not a JSON object");
    bool withReliability = false;
    for (const auto& v : grid.value("variants", nlohmann::json::array()))
        withReliability |= v.value("label", std::string()) == "reliability";
    for (const auto& v : grid.value("variants", nlohmann::json::array())) {
        const std::string label = v.value("label", std::string());
        const int k = variantIndex(label);
        if (k < 0)
            return tr("variant '%1' is not one of the form's").arg(QString::fromStdString(label));
        if (v.value("set", nlohmann::json::object()) != variantSet(kVariants[k], withReliability))
            return tr("variant '%1' sets other keys than the form's")
                .arg(QString::fromStdString(label));
    }
    // items() refers to its json: keep it alive for the loop (a temporary would dangle).
    const nlohmann::json axes = grid.value("axes", nlohmann::json::object());
    for (const auto& [key, values] : axes.items()) {
        const bool input = std::find(std::begin(kGateInputKeys), std::end(kGateInputKeys), key) !=
                           std::end(kGateInputKeys);
        if (input && values != nlohmann::json{true, false})
            return tr("axis '%1' is not on/off").arg(QString::fromStdString(key));
        if (!input && key != kLambdaKey && key != kBackboneKey)
            return tr("axis '%1' is not one of the form's").arg(QString::fromStdString(key));
    }
    return {};
}

void AblationPage::readFormFromGrid()
{
    nlohmann::json grid;
    try {
        grid = nlohmann::json::parse(m_editor->toPlainText().toStdString());
    } catch (const nlohmann::json::parse_error&) {
        return;  // expand() says what is wrong; the form keeps its last state meanwhile
    }
    if (grid.is_object()) {
        try {
            m_executorBox->setSettings(
                executorFromJson(grid.value("executor", nlohmann::json()), "grid editor"));
        } catch (const Error&) {
            // expand() says what is wrong; the box keeps its last state meanwhile
        }
    }
    const QString why = formCannotShow(grid);
    m_form->setEnabled(why.isEmpty());
    m_formNote->setVisible(!why.isEmpty());
    if (!why.isEmpty()) {
        m_formNote->setText(tr("The form cannot show this grid (%1); it runs as written in the "
                               "file. 'New grid from the form' replaces it.")
                                .arg(why));
        return;
    }
    const QScopedValueRollback<bool> syncing(m_syncing, true);
    QSet<QString> labels;
    for (const auto& v : grid.value("variants", nlohmann::json::array()))
        labels.insert(QString::fromStdString(v.value("label", std::string())));
    for (int k = 0; k < m_variants->count(); ++k)
        m_variants->item(k)->setCheckState(
            labels.contains(m_variants->item(k)->text()) ? Qt::Checked : Qt::Unchecked);
    const nlohmann::json axes = grid.value("axes", nlohmann::json::object());
    m_lambdas->setText(axes.contains(kLambdaKey) ? numberList(axes[kLambdaKey]) : QString());
    QSet<QString> backbones;
    for (const auto& b : axes.value(kBackboneKey, nlohmann::json::array()))
        backbones.insert(QString::fromStdString(b.get<std::string>()));
    for (int k = 0; k < m_backbones->count(); ++k)
        m_backbones->item(k)->setCheckState(
            backbones.contains(m_backbones->item(k)->text()) ? Qt::Checked : Qt::Unchecked);
    QCheckBox* vary[] = {m_varyCold, m_varyTail, m_varyQ};
    for (int k = 0; k < 3; ++k)
        vary[k]->setChecked(axes.contains(kGateInputKeys[k]));
    m_seeds->setText(grid.contains("seeds") ? numberList(grid["seeds"]) : QString());
}

bool AblationPage::loadPreset(const QString& name)
{
    QFile f(QDir(gridsDir()).filePath(name + QStringLiteral(".json")));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    setGridText(QString::fromUtf8(f.readAll()));
    return true;
}

int AblationPage::expand(QString* message)
{
    try {
        const auto j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
        const Grid grid = gridFromJson(j, "grid editor", gridsDir().toStdString());
        const GridExpansion e = expandGrid(grid);
        updateScript(grid, e);
        const auto runs = static_cast<int>(e.items.size());
        const int seeds = static_cast<int>(grid.seeds.size());
        // Reference rows (mostpop, itemknn, llm) are evaluated, not trained.
        int evaluated = 0;
        for (const GridItem& item : e.items)
            if (!item.duplicateOf &&
                isReferenceMethod(item.config.value("method", nlohmann::json::object())
                                      .value("name", std::string())))
                ++evaluated;
        m_expansion->setText(tr("%1 rows x %2 seeds = %3 runs (%4 to train, %5 reference rows "
                                "evaluated without training, %6 identical configurations run "
                                "once); reference row: %7")
                                 .arg(e.rows.size())
                                 .arg(seeds)
                                 .arg(runs)
                                 .arg(e.uniqueRuns - evaluated)
                                 .arg(evaluated)
                                 .arg(runs - e.uniqueRuns)
                                 .arg(QString::fromStdString(e.reference)));
        m_expansion->setStyleSheet({});
        m_executorBox->setProblem({});
        if (message)
            *message = m_expansion->text();
        return runs;
    } catch (const nlohmann::json::parse_error& e) {
        // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." without the
        // library's tag.
        QString what = QString::fromUtf8(e.what());
        if (what.startsWith(QLatin1Char('[')) && what.contains(QLatin1String("] ")))
            what = what.mid(what.indexOf(QLatin1String("] ")) + 2);
        m_expansion->setText(tr("Not valid JSON: %1").arg(what));
    } catch (const Error& e) {
        m_expansion->setText(errorText(e));
    }
    m_expansion->setStyleSheet(QStringLiteral("color: #d32f2f"));
    // A half-typed value in the box itself (a time limit being typed) keeps the box in use.
    if (!m_editFromBox)
        m_executorBox->setProblem(m_expansion->text());
    if (message)
        *message = m_expansion->text();
    return -1;
}

bool AblationPage::runGrid()
{
    if (m_sweeps->isRunning()) {
        Q_EMIT failed(tr("A sweep is already running; cancel it or wait for it."));
        return false;
    }
    if (m_trainingElsewhere) {
        Q_EMIT failed(
            tr("A run is in progress on the Run page; start the grid when it has "
               "finished (or cancel it)."));
        return false;
    }
    // What runs is exactly the grid file as shown (the form has already written into it).
    m_editorIdle->stop();
    readFormFromGrid();
    QString message;
    if (expand(&message) < 0) {
        Q_EMIT failed(message);
        return false;
    }
    try {
        const auto j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
        const Grid grid = gridFromJson(j, "grid editor", gridsDir().toStdString());
        const ExecutorSettings executor = executorFromJson(grid.executor, "grid editor");
        m_runningElsewhere = executor.kind != ExecutorKind::Local;
        return m_sweeps->start(grid, expandGrid(grid), executor);
    } catch (const Error& e) {
        Q_EMIT failed(errorText(e));
    }
    return false;
}

bool AblationPage::resumeSweep(qint64 sweepId)
{
    if (m_trainingElsewhere)
        return false;
    m_sweepId = sweepId;
    const int index = m_sweepPicker->findData(sweepId);
    m_runningElsewhere =
        index >= 0 &&
        m_sweepPicker->itemData(index, Qt::UserRole + 1).toString() != QLatin1String("local");
    return m_sweeps->resume(sweepId);
}

void AblationPage::cancelCurrent()
{
    m_sweeps->cancelCurrent();
}

void AblationPage::cancelAll()
{
    m_sweeps->cancel();
}

void AblationPage::refreshSweeps()
{
    m_jobs->start(
        QStringLiteral("sweeps"), [path = m_databasePath](JobContext&) { return readSweeps(path); },
        [this](const std::vector<SweepEntry>& sweeps) {
            const qint64 keep =
                m_sweepId > 0 ? m_sweepId : m_sweepPicker->currentData().toLongLong();
            {
                const QSignalBlocker block(m_sweepPicker);
                m_sweepPicker->clear();
                for (const SweepEntry& s : sweeps) {
                    m_sweepPicker->addItem(s.label, s.id);
                    m_sweepPicker->setItemData(m_sweepPicker->count() - 1, s.executor,
                                               Qt::UserRole + 1);
                }
                const int index = m_sweepPicker->findData(keep);
                m_sweepPicker->setCurrentIndex(index >= 0 ? index : 0);
            }
            refreshQueue(m_sweepPicker->currentData().toLongLong());
        },
        [this](const QString& message) { m_status->setText(message); });
}

void AblationPage::refreshQueue(qint64 sweepId)
{
    m_poll->stop();
    m_jobs->start(
        QStringLiteral("queue"),
        [path = m_databasePath, sweepId](JobContext&) { return readSweepQueue(path, sweepId); },
        [this, sweepId](const SweepQueue& queue) {
            const bool local = queue.executor == QLatin1String("local");
            fillTable(m_queue, queue.header, queue.rows,
                      local ? QList<int>{0, 2, 4} : QList<int>{0, 2, 6});
            for (int r = 0; r < queue.tooltips.size() && r < m_queue->rowCount(); ++r)
                if (!queue.tooltips[r].isEmpty())
                    for (int c = 0; c < m_queue->columnCount(); ++c)
                        if (QTableWidgetItem* item = m_queue->item(r, c))
                            item->setToolTip(queue.tooltips[r]);
            m_shownExecutor = queue.executor;
            m_collect->setText(queue.collectable > 0
                                   ? tr("Collect (%1 ready)").arg(queue.collectable)
                                   : tr("Collect"));
            syncButtons();
            if (!local && queue.outstanding && sweepId == shownSweep())
                m_poll->start();
            Q_EMIT queueShown();
        },
        [this](const QString& message) { m_status->setText(message); });
}

qint64 AblationPage::shownSweep() const
{
    return m_sweepPicker->currentData().toLongLong();
}

void AblationPage::showSweep(qint64 sweepId)
{
    const int index = m_sweepPicker->findData(sweepId);
    if (index >= 0 && index != m_sweepPicker->currentIndex())
        m_sweepPicker->setCurrentIndex(index);  // reads its queue
    else
        refreshQueue(sweepId);
}

void AblationPage::collectSweep(qint64 sweepId)
{
    m_status->setText(tr("Collecting the shards of sweep %1...").arg(sweepId));
    m_collect->setEnabled(false);
    m_jobs->start(
        QStringLiteral("collect"),
        [path = m_databasePath, sweepId](JobContext&) { return collectSweepShards(path, sweepId); },
        [this, sweepId](const CollectReport& report) {
            QString why;
            for (const CollectedItem& item : report.items)
                if (item.outcome == CollectedItem::Outcome::Skipped && !item.note.empty()) {
                    why = tr(" (cell %1, %2 seed %3: %4)")
                              .arg(item.position + 1)
                              .arg(QString::fromStdString(item.rowLabel))
                              .arg(item.seed)
                              .arg(QString::fromStdString(item.note));
                    break;
                }
            m_status->setText(tr("Sweep %1: %2 runs collected, %3 already collected, %4 not "
                                 "collected%5; the sweep is %6.")
                                  .arg(sweepId)
                                  .arg(report.imported)
                                  .arg(report.alreadyCollected)
                                  .arg(report.skipped)
                                  .arg(why, QString::fromLatin1(toString(report.sweepStatus))));
            m_runs->refresh();
            refreshSweeps();
            Q_EMIT collected(sweepId, report.imported, report.skipped);
            if (report.imported + report.alreadyCollected > 0)
                buildMatrix(sweepId);
        },
        [this](const QString& message) {
            m_status->setText(message);
            syncButtons();
            Q_EMIT failed(message);
        });
}

void AblationPage::buildMatrix(qint64 sweepId, const QString& reference)
{
    m_sweepId = sweepId;
    const TestUnit unit = testUnitFromString(m_unit->currentData().toString().toStdString());
    m_matrixNote->setText(tr("Building the matrix of sweep %1 (paired tests, unit %2)...")
                              .arg(sweepId)
                              .arg(QString::fromLatin1(toString(unit))));
    m_jobs->start(
        QStringLiteral("matrix"),
        [path = m_databasePath, sweepId, ref = reference.toStdString(), unit](JobContext&) {
            return std::make_shared<ResultsMatrix>(buildSweepMatrix(path, sweepId, ref, unit));
        },
        [this](const std::shared_ptr<ResultsMatrix>& m) {
            m_matrix = std::make_unique<ResultsMatrix>(*m);
            showMatrix();
            Q_EMIT matrixReady();
        },
        [this](const QString& message) { m_matrixNote->setText(message); });
}

void AblationPage::fillSegmentFilter(const ResultsMatrix& m)
{
    // Every segment, or one so its numbers fit without scrolling.
    const QString keep = m_segmentFilter->currentData().toString();
    const QSignalBlocker block(m_segmentFilter);
    m_segmentFilter->clear();
    m_segmentFilter->addItem(tr("all"), QString());
    std::string last;
    for (const auto& column : m.columns)
        if (column.segment != last) {
            last = column.segment;
            m_segmentFilter->addItem(QString::fromStdString(last), QString::fromStdString(last));
        }
    const int index = m_segmentFilter->findData(keep);
    m_segmentFilter->setCurrentIndex(index >= 0 ? index : 0);
}

void AblationPage::showMatrix()
{
    const ResultsMatrix& m = *m_matrix;
    {
        const QSignalBlocker block(m_reference);
        m_reference->clear();
        for (const auto& row : m.rows)
            m_reference->addItem(QString::fromStdString(row));
        m_reference->setCurrentText(QString::fromStdString(m.reference));
    }
    fillSegmentFilter(m);
    const std::string only = m_segmentFilter->currentData().toString().toStdString();
    // Columns: row, n, then per segment: its metrics, then "vs reference".
    QStringList headers{tr("Variant"), tr("n")};
    QStringList tips{tr("The grid row: variant and axis values."),
                     tr("Runs (seeds) averaged in each cell.")};
    std::vector<std::pair<int, std::string>> layout;  // column index or -1 + segment for tests
    std::string lastSegment;
    // The test's difference is a mean over the unit's pairs (per user by default), which is not
    // the difference of the run-level means in the metric columns: the header says which.
    const QString unitName = QString::fromLatin1(toString(m.settings.unit));
    auto addTest = [&](const std::string& segment) {
        headers << tr("%1 vs %2 (per %3)")
                       .arg(QString::fromStdString(segment), QString::fromStdString(m.reference),
                            unitName);
        tips << tr("Segment %1: mean difference to '%2' over paired %3s (not the difference of "
                   "the run-level means beside it), its confidence interval and the "
                   "Holm-corrected p of the paired t test.")
                    .arg(QString::fromStdString(segment), QString::fromStdString(m.reference),
                         unitName);
        layout.emplace_back(-1, segment);
    };
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
        if (!only.empty() && m.columns[c].segment != only)
            continue;
        if (!lastSegment.empty() && m.columns[c].segment != lastSegment)
            addTest(lastSegment);
        lastSegment = m.columns[c].segment;
        headers << QStringLiteral("%1 %2").arg(QString::fromStdString(m.columns[c].segment),
                                               QString::fromStdString(m.columns[c].metric));
        tips << tr("Test %1 on segment %2: mean \u00b1 std over seeds; \u0394 to the reference.")
                    .arg(QString::fromStdString(m.columns[c].metric),
                         QString::fromStdString(m.columns[c].segment));
        layout.emplace_back(static_cast<int>(c), m.columns[c].segment);
    }
    if (!lastSegment.empty())
        addTest(lastSegment);
    m_matrixTable->clear();
    m_matrixTable->setColumnCount(static_cast<int>(headers.size()));
    m_matrixTable->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < headers.size(); ++c)
        m_matrixTable->horizontalHeaderItem(c)->setToolTip(tips[c]);
    m_matrixTable->setRowCount(static_cast<int>(m.rows.size()));
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        const auto row = static_cast<int>(r);
        const bool isReference = m.rows[r] == m.reference;
        auto* label = readOnlyCell(QString::fromStdString(m.rows[r]) +
                                   (isReference ? tr("  (reference)") : QString()));
        m_matrixTable->setItem(row, 0, label);
        m_matrixTable->setItem(row, 1, readOnlyCell(QString::number(m.runIds[r].size()), true));
        int col = 2;
        for (const auto& [c, segment] : layout) {
            m_matrixTable->setItem(
                row, col,
                c >= 0 ? metricCell(m.cells[r][static_cast<std::size_t>(c)], isReference)
                       : testCell(m.test(m.rows[r], segment), isReference));
            ++col;
        }
    }
    m_matrixTable->resizeColumnsToContents();
    constexpr int kMaxColumnWidth = 240;  // long labels elide; the tooltip has them in full
    for (int c = 0; c < m_matrixTable->columnCount(); ++c)
        m_matrixTable->setColumnWidth(c, std::min(m_matrixTable->columnWidth(c), kMaxColumnWidth));
    m_matrixTable->horizontalHeader()->setTextElideMode(Qt::ElideRight);
    m_matrixTable->resizeRowsToContents();
    QString note = tr("Mean \u00b1 std over seeds; bold: best of the column; \u2020 grey: computed "
                      "on fewer than %4 test interactions, too few to read. Tests (%5) paired "
                      "against '%1'; green bold = significant on this unit after Holm's "
                      "correction over %2 tests (alpha %3), grey italic = not significant. "
                      "Double-click a row to inspect its first run.")
                       .arg(QString::fromStdString(m.reference))
                       .arg(m.tests.size())
                       .arg(m.settings.alpha)
                       .arg(kSmallSegment)
                       .arg(QString::fromStdString(
                           testUnitDescription(m.settings.unit, m.settings.testMetric)));
    for (const auto& n : m.notes)
        note += QLatin1Char(' ') + QString::fromStdString(n);
    m_matrixNote->setText(note);
}

bool AblationPage::exportMatrix(const QString& path)
{
    if (!m_matrix)
        return false;
    const QString suffix = QFileInfo(path).suffix().toLower();
    std::string text;
    if (suffix == QLatin1String("csv"))
        text = matrixCsv(*m_matrix);
    else if (suffix == QLatin1String("json"))
        text = matrixJson(*m_matrix).dump(2) + "\n";
    else
        text = matrixLatex(*m_matrix);
    std::ofstream out(path.toStdString());
    out << text;
    return static_cast<bool>(out);
}

}  // namespace sllmr::ui
