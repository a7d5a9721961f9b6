#include "ablation_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <fstream>

#include "analysis/grid.h"
#include "analysis/shards.h"
#include "analysis/sweep.h"
#include "common/error.h"
#include "error_text.h"
#include "main_window.h"
#include "model/backbone.h"
#include "runs_model.h"
#include "table_util.h"
#include "workbench.h"

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

// The sllmr binary that runs the cells of a processes/Slurm sweep: the one next to the Studio.
std::string cellProgram()
{
    const QString beside =
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("sllmr"));
    return QFileInfo(beside).isExecutable() ? beside.toStdString() : std::string("sllmr");
}

QString gridsDir()
{
    const QString demo = findDemoDir();
    return demo.isEmpty() ? QString() : QDir(demo).filePath(QStringLiteral("../grids"));
}

}  // namespace

AblationPage::AblationPage(Workbench* workbench, RunsModel* runs, QString databasePath,
                           QWidget* parent)
    : QWidget(parent), m_workbench(workbench), m_runs(runs), m_databasePath(std::move(databasePath))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* split = new QSplitter(Qt::Vertical, this);
    auto* top = new QSplitter(Qt::Horizontal, split);

    // Grid definition
    auto* form = new QGroupBox(tr("Grid over the current configuration"), top);
    auto* fl = new QFormLayout(form);
    m_variants = new QListWidget(form);
    for (const VariantChoice& v : kVariants) {
        auto* item = new QListWidgetItem(QString::fromLatin1(v.label), m_variants);
        item->setToolTip(tr(v.tip));
        const bool on = QLatin1String(v.label) == QLatin1String("none") ||
                        QLatin1String(v.label) == QLatin1String("global") ||
                        QLatin1String(v.label) == QLatin1String("reliability");
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    }
    m_variants->setMaximumHeight(170);
    fl->addRow(tr("Variants"), m_variants);
    m_lambdas = new QLineEdit(form);
    m_lambdas->setPlaceholderText(tr("e.g. 0.05, 0.1, 0.2 (empty: the current lambda)"));
    m_lambdas->setToolTip(tr("lambda values: each variant with an LLM loss runs once per value."));
    fl->addRow(tr("lambda values"), m_lambdas);
    m_backbones = new QListWidget(form);
    for (const auto& type : backboneTypes()) {
        auto* item = new QListWidgetItem(QString::fromStdString(type), m_backbones);
        item->setCheckState(Qt::Unchecked);
    }
    m_backbones->setMaximumHeight(110);
    m_backbones->setToolTip(
        tr("Backbones to cross with the variants (none ticked: the current "
           "one)."));
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
    m_seeds->setToolTip(tr("Every row runs once per seed; the matrix shows mean +- std."));
    fl->addRow(tr("Seeds"), m_seeds);
    auto* formButtons = new QHBoxLayout;
    auto* build = new QPushButton(tr("Write grid"), form);
    build->setToolTip(tr("Write these choices as a grid file in the editor."));
    m_preset = new QComboBox(form);
    m_preset->addItem(tr("Presets..."));
    const QDir grids(gridsDir());
    for (const QString& f : grids.entryList({QStringLiteral("*.json")}, QDir::Files))
        m_preset->addItem(QFileInfo(f).completeBaseName());
    formButtons->addWidget(build);
    formButtons->addWidget(m_preset, 1);
    fl->addRow(formButtons);

    auto* editorBox = new QGroupBox(tr("Grid file (runs as is with 'sllmr sweep GRID.json')"), top);
    auto* el = new QVBoxLayout(editorBox);
    m_editor = new QPlainTextEdit(editorBox);
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    el->addWidget(m_editor, 1);
    m_expansion = new QLabel(editorBox);
    m_expansion->setWordWrap(true);
    el->addWidget(m_expansion);
    el->addWidget(createExecutorBox(editorBox));
    auto* eb = new QHBoxLayout;
    auto* check = new QPushButton(tr("Expand"), editorBox);
    auto* save = new QPushButton(tr("Save grid..."), editorBox);
    m_run = new QPushButton(tr("Run grid"), editorBox);
    eb->addWidget(check);
    eb->addWidget(save);
    eb->addStretch(1);
    eb->addWidget(m_run);
    el->addLayout(eb);
    top->addWidget(form);
    top->addWidget(editorBox);
    top->setStretchFactor(1, 2);

    // Queue
    auto* middle = new QWidget(split);
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
    m_collect->setObjectName(QStringLiteral("collectButton"));
    m_collect->setToolTip(
        tr("Merge the completed shards of a processes or Slurm sweep into the database "
           "(collecting twice adds nothing)."));
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
    ml->addWidget(m_status);
    m_queue = new QTableWidget(middle);
    m_queue->setObjectName(QStringLiteral("sweepQueue"));
    m_queue->verticalHeader()->hide();
    ml->addWidget(m_queue, 1);

    // Matrix
    auto* bottom = new QWidget(split);
    auto* bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    auto* mb = new QHBoxLayout;
    mb->addWidget(new QLabel(tr("<b>Results matrix</b> reference row"), bottom));
    m_reference = new QComboBox(bottom);
    m_reference->setToolTip(tr("Differences and paired tests are against this row."));
    mb->addWidget(m_reference);
    mb->addStretch(1);
    auto* exportButton = new QPushButton(tr("Export (CSV, JSON, LaTeX)..."), bottom);
    mb->addWidget(exportButton);
    bl->addLayout(mb);
    m_matrixTable = new QTableWidget(bottom);
    m_matrixTable->setObjectName(QStringLiteral("matrixTable"));
    m_matrixTable->setWordWrap(true);
    bl->addWidget(m_matrixTable, 1);
    m_matrixNote = new QLabel(bottom);
    m_matrixNote->setWordWrap(true);
    bl->addWidget(m_matrixNote);
    split->addWidget(top);
    split->addWidget(middle);
    split->addWidget(bottom);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 3);
    layout->addWidget(split, 1);

    connect(build, &QPushButton::clicked, this, &AblationPage::buildGridFromForm);
    connect(m_preset, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index > 0)
            loadPreset(m_preset->itemText(index));
        m_preset->setCurrentIndex(0);
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
            QMessageBox::critical(this, tr("Save grid"), tr("Could not write %1.").arg(path));
    });
    connect(m_run, &QPushButton::clicked, this, [this] { runGrid(); });
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
    connect(m_sweepPicker, &QComboBox::currentIndexChanged, this,
            [this] { refreshQueue(m_sweepPicker->currentData().toLongLong()); });
    connect(m_collect, &QPushButton::clicked, this, [this] {
        if (const qint64 id = m_sweepPicker->currentData().toLongLong(); id > 0)
            collectSweep(id);
    });
    m_statusTimer = new QTimer(this);
    m_statusTimer->setInterval(5000);
    connect(m_statusTimer, &QTimer::timeout, this, [this] {
        if (const qint64 id = m_sweepPicker->currentData().toLongLong(); id > 0)
            refreshCellStatus(id);
    });
    connect(m_reference, &QComboBox::activated, this, [this] {
        if (m_matrix && m_sweepId > 0)
            buildMatrix(m_sweepId, m_reference->currentText());
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
    m_cancelOne->setEnabled(false);
    m_cancelEvery->setEnabled(false);
    if (!loadPreset(QStringLiteral("demo-ablation")))
        buildGridFromForm();
    refreshSweeps();
}

AblationPage::~AblationPage()
{
    if (m_thread) {
        m_cancelAll->store(true);
        m_cancelCurrent->store(true);
        m_thread->wait();
    }
}

QString AblationPage::gridText() const
{
    return m_editor->toPlainText();
}

void AblationPage::setGridText(const QString& text)
{
    m_editor->setPlainText(text);
    expand();
    // A grid that names its executor sets the controls (which then override it when it runs).
    try {
        const auto j = nlohmann::json::parse(text.toStdString());
        if (j.is_object() && j.contains("executor"))
            setExecutorSettings(executorFromJson(j["executor"], "grid editor"));
    } catch (const nlohmann::json::exception&) {
    } catch (const Error&) {}
}

void AblationPage::buildGridFromForm()
{
    nlohmann::json grid;
    grid["name"] = "studio grid";
    grid["description"] = "Written by the Studio's ablation page.";
    grid["base"] = toJson(m_workbench->config());
    grid["variants"] = nlohmann::json::array();
    QStringList labels;
    for (int k = 0; k < m_variants->count(); ++k) {
        if (m_variants->item(k)->checkState() != Qt::Checked)
            continue;
        const VariantChoice& v = kVariants[k];
        nlohmann::json set = {{"method.name", v.method}, {"gate.mode", v.gate}};
        if (std::string(v.method) == "global")
            set.erase("gate.mode");
        if (std::string(v.label) == "random") {
            bool haveReliability = false;
            for (int j = 0; j < m_variants->count(); ++j)
                haveReliability |=
                    QLatin1String(kVariants[j].label) == QLatin1String("reliability") &&
                    m_variants->item(j)->checkState() == Qt::Checked;
            if (haveReliability)
                set["gate.reference_run"] = "@reliability";
        }
        grid["variants"].push_back({{"label", v.label}, {"set", set}});
        labels << QString::fromLatin1(v.label);
    }
    nlohmann::json axes = nlohmann::json::object();
    const auto lambdas = parseNumbers(m_lambdas->text());
    if (!lambdas.isEmpty()) {
        axes["method.lambda"] = nlohmann::json::array();
        for (double l : lambdas)
            axes["method.lambda"].push_back(l);
    }
    nlohmann::json backbones = nlohmann::json::array();
    for (int k = 0; k < m_backbones->count(); ++k)
        if (m_backbones->item(k)->checkState() == Qt::Checked)
            backbones.push_back(m_backbones->item(k)->text().toStdString());
    if (!backbones.empty())
        axes["model.type"] = backbones;
    if (m_varyCold->isChecked())
        axes["gate.inputs.cold"] = {true, false};
    if (m_varyTail->isChecked())
        axes["gate.inputs.tail"] = {true, false};
    if (m_varyQ->isChecked())
        axes["gate.inputs.uncertainty"] = {true, false};
    if (!axes.empty())
        grid["axes"] = axes;
    grid["seeds"] = nlohmann::json::array();
    for (double s : parseNumbers(m_seeds->text()))
        grid["seeds"].push_back(static_cast<std::int64_t>(s));
    if (grid["seeds"].empty())
        grid["seeds"].push_back(static_cast<std::int64_t>(m_workbench->config().seed));
    if (labels.contains(QStringLiteral("global")))
        grid["reference"] = "global";
    else if (!labels.isEmpty())
        grid["reference"] = labels.front().toStdString();
    setGridText(QString::fromStdString(grid.dump(2)));
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
        const auto runs = static_cast<int>(e.items.size());
        const int seeds = static_cast<int>(grid.seeds.size());
        m_expansion->setText(tr("%1 rows x %2 seeds = %3 runs (%4 to train, %5 identical "
                                "configurations run once); reference row: %6")
                                 .arg(e.rows.size())
                                 .arg(seeds)
                                 .arg(runs)
                                 .arg(e.uniqueRuns)
                                 .arg(runs - e.uniqueRuns)
                                 .arg(QString::fromStdString(e.reference)));
        if (message)
            *message = m_expansion->text();
        return runs;
    } catch (const nlohmann::json::parse_error& e) {
        m_expansion->setText(tr("Not valid JSON: %1").arg(QString::fromUtf8(e.what())));
    } catch (const Error& e) {
        m_expansion->setText(errorText(e));
    }
    if (message)
        *message = m_expansion->text();
    return -1;
}

bool AblationPage::runGrid()
{
    if (m_thread) {
        Q_EMIT failed(tr("A sweep is already running; cancel it or wait for it."));
        return false;
    }
    QString message;
    if (expand(&message) < 0) {
        Q_EMIT failed(message);
        return false;
    }
    try {
        const auto j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
        const Grid grid = gridFromJson(j, "grid editor", gridsDir().toStdString());
        const GridExpansion e = expandGrid(grid);
        ExperimentStore store(m_databasePath.toStdString());  // one short write
        const std::int64_t id = createSweep(store, grid, e);
        const ExecutorSettings settings = executorSettings();
        if (settings.kind == ExecutorKind::Local)
            launch(id);
        else
            launchElsewhere(id, settings, false);
        return true;
    } catch (const Error& e) {
        Q_EMIT failed(errorText(e));
    }
    return false;
}

bool AblationPage::resumeSweep(qint64 sweepId)
{
    if (m_thread)
        return false;
    if (sweepFolder(sweepId).isEmpty()) {
        launch(sweepId);
        return true;
    }
    try {
        ExperimentStore store(m_databasePath.toStdString());
        const auto grid = nlohmann::json::parse(store.sweep(sweepId)->gridJson);
        launchElsewhere(
            sweepId, executorFromJson(grid.value("executor", nlohmann::json()), "the sweep's grid"),
            true);
        return true;
    } catch (const Error& e) {
        Q_EMIT failed(errorText(e));
    }
    return false;
}

void AblationPage::launch(qint64 sweepId)
{
    m_sweepId = sweepId;
    m_cancelCurrent = std::make_shared<std::atomic<bool>>(false);
    m_cancelAll = std::make_shared<std::atomic<bool>>(false);
    auto cancelCurrent = m_cancelCurrent;
    auto cancelAll = m_cancelAll;
    const QString path = m_databasePath;
    QPointer<AblationPage> self(this);
    m_thread = QThread::create([self, path, sweepId, cancelCurrent, cancelAll] {
        auto post = [self](auto fn) {
            QMetaObject::invokeMethod(self.data(), [self, fn] {
                if (self)
                    fn(*self);
            });
        };
        try {
            ExperimentStore store(path.toStdString());
            SweepCallbacks cb;
            cb.cancelCurrent = cancelCurrent.get();
            cb.cancelAll = cancelAll.get();
            cb.onItemStarted = [post](const SweepItemRecord& item, std::int64_t runId, int items) {
                const QString row = QString::fromStdString(item.rowLabel);
                const int position = item.position;
                post([=](AblationPage& page) {
                    page.m_progress->setRange(0, items);
                    page.m_progress->setValue(position);
                    page.m_status->setText(tr("Run %1 of %2: %3, seed %4 (run %5)")
                                               .arg(position + 1)
                                               .arg(items)
                                               .arg(row)
                                               .arg(item.seed)
                                               .arg(runId));
                    page.refreshQueue(page.m_sweepId);
                    Q_EMIT page.itemStarted(position, row, runId);
                });
            };
            cb.onItemFinished = [post](const SweepItemRecord& item, RunStatus status,
                                       const std::string& error) {
                const int position = item.position;
                const QString text = QString::fromLatin1(toString(status));
                const QString why = QString::fromStdString(error);
                post([=](AblationPage& page) {
                    page.m_progress->setValue(position + 1);
                    page.refreshQueue(page.m_sweepId);
                    if (!why.isEmpty())
                        page.m_status->setText(
                            tr("Item %1 %2: %3").arg(position + 1).arg(text, why));
                    Q_EMIT page.itemFinished(position, text);
                });
            };
            const SweepOutcome outcome = runSweep(store, sweepId, cb);
            const QString status = QString::fromLatin1(toString(outcome.status));
            post([=](AblationPage& page) {
                page.teardown();
                page.m_status->setText(tr("Sweep %1 %2: %3 completed, %4 already done, %5 "
                                          "failed, %6 cancelled.")
                                           .arg(sweepId)
                                           .arg(status)
                                           .arg(outcome.completed)
                                           .arg(outcome.skipped)
                                           .arg(outcome.failed)
                                           .arg(outcome.cancelled));
                Q_EMIT page.sweepFinished(sweepId, status);
                page.buildMatrix(sweepId);
            });
        } catch (const Error& e) {
            const QString message = errorText(e);
            post([=](AblationPage& page) {
                page.teardown();
                Q_EMIT page.failed(message);
            });
        } catch (const std::exception& e) {
            const QString message = QString::fromStdString(e.what());
            post([=](AblationPage& page) {
                page.teardown();
                Q_EMIT page.failed(message);
            });
        }
    });
    m_thread->setObjectName(QStringLiteral("sweep"));
    m_thread->start();
    m_run->setEnabled(false);
    m_resume->setEnabled(false);
    m_cancelOne->setEnabled(true);
    m_cancelEvery->setEnabled(true);
    refreshSweeps();
    try {
        ExperimentStore store(m_databasePath.toStdString());
        Q_EMIT sweepStarted(sweepId, static_cast<int>(store.sweepItems(sweepId).size()));
    } catch (const Error&) {}
}

void AblationPage::launchElsewhere(qint64 sweepId, const ExecutorSettings& settings, bool resuming)
{
    m_sweepId = sweepId;
    m_cancelCurrent = std::make_shared<std::atomic<bool>>(false);
    m_cancelAll = std::make_shared<std::atomic<bool>>(false);
    auto cancelAll = m_cancelAll;
    const QString path = m_databasePath;
    const std::string program =
        settings.slurm.program.empty() ? cellProgram() : settings.slurm.program;
    QPointer<AblationPage> self(this);
    m_thread = QThread::create([self, path, sweepId, settings, resuming, program, cancelAll] {
        auto post = [self](auto fn) {
            QMetaObject::invokeMethod(self.data(), [self, fn] {
                if (self)
                    fn(*self);
            });
        };
        try {
            ExperimentStore store(path.toStdString());
            const SweepLaunch launch = prepareSweepLaunch(store, sweepId, settings, resuming);
            const int cells = static_cast<int>(launch.cells.size());
            if (settings.kind == ExecutorKind::Slurm) {
                QStringList jobs;
                if (cells > 0)
                    for (const auto& sub :
                         submitSlurm(launch.manifest, settings.slurm, launch.cells, program))
                        jobs << QString::fromStdString(sub.jobId);
                post([=](AblationPage& page) {
                    page.teardown();
                    page.m_status->setText(
                        jobs.isEmpty() ? tr("Sweep %1: no cell to submit.").arg(sweepId)
                                       : tr("Sweep %1: %2 cells submitted as Slurm array job %3; "
                                            "their state is polled below.")
                                             .arg(sweepId)
                                             .arg(cells)
                                             .arg(jobs.join(QStringLiteral(", "))));
                    Q_EMIT page.submitted(sweepId, jobs);
                    page.refreshCellStatus(sweepId);
                });
                return;
            }
            ProcessCallbacks cb;
            cb.cancel = cancelAll.get();
            auto finished = std::make_shared<int>(0);
            cb.onCellFinished = [post, finished, cells](int position, int code) {
                const int done = ++*finished;
                post([=](AblationPage& page) {
                    page.m_progress->setRange(0, cells);
                    page.m_progress->setValue(done);
                    Q_EMIT page.itemFinished(position, code == 0     ? QStringLiteral("completed")
                                                       : code == 130 ? QStringLiteral("cancelled")
                                                                     : QStringLiteral("failed"));
                    page.refreshCellStatus(page.m_sweepId);
                });
            };
            runProcesses(launch.manifest, launch.cells, settings.jobs > 0 ? settings.jobs : 2,
                         program, cb);
            const CollectReport report = sllmr::collectSweep(store, sweepId);
            RunStatus status = report.sweepStatus;
            if (cancelAll->load()) {
                status = RunStatus::Cancelled;
                store.setSweepStatus(sweepId, status);
            }
            const QString text = QString::fromLatin1(toString(status));
            post([=](AblationPage& page) {
                page.teardown();
                page.m_status->setText(tr("Sweep %1 %2: %3 runs collected, %4 not collected.")
                                           .arg(sweepId)
                                           .arg(text)
                                           .arg(report.imported + report.alreadyCollected)
                                           .arg(report.skipped));
                Q_EMIT page.sweepFinished(sweepId, text);
                page.buildMatrix(sweepId);
            });
        } catch (const Error& e) {
            const QString message = errorText(e);
            post([=](AblationPage& page) {
                page.teardown();
                Q_EMIT page.failed(message);
            });
        }
    });
    m_thread->setObjectName(QStringLiteral("sweep executor"));
    m_thread->start();
    m_run->setEnabled(false);
    m_resume->setEnabled(false);
    m_cancelOne->setEnabled(false);
    m_cancelEvery->setEnabled(settings.kind == ExecutorKind::Processes);
    m_progress->setRange(0, 0);
    m_status->setText(settings.kind == ExecutorKind::Slurm
                          ? tr("Submitting sweep %1 to Slurm...").arg(sweepId)
                          : tr("Sweep %1 runs in %2 worker processes...")
                                .arg(sweepId)
                                .arg(settings.jobs > 0 ? settings.jobs : 2));
    refreshSweeps();
}

QWidget* AblationPage::createExecutorBox(QWidget* parent)
{
    auto* box = new QGroupBox(tr("Executor"), parent);
    auto* layout = new QVBoxLayout(box);
    auto* row = new QHBoxLayout;
    m_executor = new QComboBox(box);
    m_executor->setObjectName(QStringLiteral("executor"));
    m_executor->addItem(tr("local: this process, one run at a time"), QStringLiteral("local"));
    m_executor->addItem(tr("processes: worker processes on this machine"),
                        QStringLiteral("processes"));
    m_executor->addItem(tr("Slurm: one array job, one task per cell"), QStringLiteral("slurm"));
    m_jobs = new QSpinBox(box);
    m_jobs->setObjectName(QStringLiteral("jobs"));
    m_jobs->setRange(1, 256);
    m_jobs->setValue(2);
    m_jobs->setToolTip(tr("Worker processes; each trains with cores / workers threads."));
    row->addWidget(m_executor, 1);
    row->addWidget(new QLabel(tr("workers"), box));
    row->addWidget(m_jobs);
    layout->addLayout(row);

    m_slurmBox = new QWidget(box);
    auto* form = new QFormLayout(m_slurmBox);
    form->setContentsMargins(0, 0, 0, 0);
    auto line = [&](QLineEdit*& edit, const char* name, const QString& placeholder) {
        edit = new QLineEdit(m_slurmBox);
        edit->setObjectName(QLatin1String(name));
        edit->setPlaceholderText(placeholder);
        connect(edit, &QLineEdit::textChanged, this, &AblationPage::updateScriptPreview);
    };
    auto spin = [&](QSpinBox*& edit, const char* name, int hi, const QString& zero) {
        edit = new QSpinBox(m_slurmBox);
        edit->setObjectName(QLatin1String(name));
        edit->setRange(0, hi);
        edit->setSpecialValueText(zero);
        connect(edit, &QSpinBox::valueChanged, this, &AblationPage::updateScriptPreview);
    };
    line(m_partition, "slurmPartition", tr("cluster default"));
    line(m_time, "slurmTime", tr("e.g. 00:30:00 per cell"));
    spin(m_cpus, "slurmCpus", 4096, tr("cluster default"));
    line(m_mem, "slurmMem", tr("e.g. 4G"));
    line(m_account, "slurmAccount", tr("cluster default"));
    spin(m_throttle, "slurmThrottle", 100000, tr("no limit"));
    m_sbatchExtra = new QPlainTextEdit(m_slurmBox);
    m_sbatchExtra->setObjectName(QStringLiteral("slurmExtra"));
    m_sbatchExtra->setPlaceholderText(tr("more #SBATCH options, one per line, e.g. --qos=short"));
    m_sbatchExtra->setMaximumHeight(48);
    connect(m_sbatchExtra, &QPlainTextEdit::textChanged, this, &AblationPage::updateScriptPreview);
    form->addRow(tr("Partition"), m_partition);
    form->addRow(tr("Time"), m_time);
    form->addRow(tr("CPUs per task"), m_cpus);
    form->addRow(tr("Memory"), m_mem);
    form->addRow(tr("Account"), m_account);
    form->addRow(tr("At most at once"), m_throttle);
    form->addRow(tr("Extra lines"), m_sbatchExtra);
    m_scriptPreview = new QPlainTextEdit(m_slurmBox);
    m_scriptPreview->setObjectName(QStringLiteral("scriptPreview"));
    m_scriptPreview->setReadOnly(true);
    m_scriptPreview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_scriptPreview->setToolTip(tr("The batch script 'Run grid' submits with sbatch."));
    form->addRow(tr("Batch script"), m_scriptPreview);
    layout->addWidget(m_slurmBox);
    connect(m_executor, &QComboBox::currentIndexChanged, this,
            &AblationPage::updateExecutorControls);
    connect(m_editor, &QPlainTextEdit::textChanged, this, &AblationPage::updateScriptPreview);
    updateExecutorControls();
    return box;
}

void AblationPage::updateExecutorControls()
{
    const QString kind = m_executor->currentData().toString();
    m_jobs->setEnabled(kind == QLatin1String("processes"));
    m_slurmBox->setVisible(kind == QLatin1String("slurm"));
    m_slurmBox->setEnabled(kind == QLatin1String("slurm"));
    updateScriptPreview();
}

ExecutorSettings AblationPage::executorSettings() const
{
    nlohmann::json j{{"name", m_executor->currentData().toString().toStdString()}};
    ExecutorSettings s = executorFromJson(j, "executor controls");
    if (s.kind == ExecutorKind::Processes)
        s.jobs = m_jobs->value();
    auto& o = s.slurm;
    o.partition = m_partition->text().trimmed().toStdString();
    o.time = m_time->text().trimmed().toStdString();
    o.cpusPerTask = m_cpus->value();
    o.mem = m_mem->text().trimmed().toStdString();
    o.account = m_account->text().trimmed().toStdString();
    o.throttle = m_throttle->value();
    for (const QString& l :
         m_sbatchExtra->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        if (!l.trimmed().isEmpty())
            o.extra.push_back(l.trimmed().toStdString());
    return s;
}

void AblationPage::setExecutorSettings(const ExecutorSettings& s)
{
    const QSignalBlocker block(m_executor);
    m_executor->setCurrentIndex(m_executor->findData(QString::fromLatin1(toString(s.kind))));
    if (s.jobs > 0)
        m_jobs->setValue(s.jobs);
    const auto& o = s.slurm;
    m_partition->setText(QString::fromStdString(o.partition));
    m_time->setText(QString::fromStdString(o.time));
    m_cpus->setValue(o.cpusPerTask);
    m_mem->setText(QString::fromStdString(o.mem));
    m_account->setText(QString::fromStdString(o.account));
    m_throttle->setValue(o.throttle);
    QStringList extra;
    for (const auto& l : o.extra)
        extra << QString::fromStdString(l);
    m_sbatchExtra->setPlainText(extra.join(QLatin1Char('\n')));
    updateExecutorControls();
}

QString AblationPage::scriptPreview() const
{
    const ExecutorSettings settings = executorSettings();
    if (settings.kind != ExecutorKind::Slurm)
        return {};
    try {
        const auto j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
        const Grid grid = gridFromJson(j, "grid editor", gridsDir().toStdString());
        const GridExpansion e = expandGrid(grid);
        const SweepManifest m = previewManifest(
            grid.name, e, 0,
            QFileInfo(m_databasePath).absoluteFilePath().toStdString() + ".sweeps/sweep-ID");
        const auto waves = cellWaves(m, m.cells());
        QString text;
        for (std::size_t w = 0; w < waves.size(); ++w) {
            if (waves.size() > 1)
                text += tr("# --- array job %1 of %2%3\n")
                            .arg(w + 1)
                            .arg(waves.size())
                            .arg(w > 0 ? tr(" (sbatch --dependency=afterany on the previous one: "
                                            "its cells copy a run of it)")
                                       : QString());
            text += QString::fromStdString(slurmScript(m, settings.slurm, waves[w], cellProgram()));
        }
        return text;
    } catch (const nlohmann::json::exception&) {
    } catch (const Error&) {}
    return {};
}

void AblationPage::updateScriptPreview()
{
    if (!m_scriptPreview || m_executor->currentData().toString() != QLatin1String("slurm"))
        return;
    m_scriptPreview->setPlainText(scriptPreview());
}

void AblationPage::teardown()
{
    if (!m_thread)
        return;
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_run->setEnabled(true);
    m_resume->setEnabled(true);
    m_cancelOne->setEnabled(false);
    m_cancelEvery->setEnabled(false);
    m_runs->refresh();
    refreshSweeps();
}

void AblationPage::cancelCurrent()
{
    if (m_cancelCurrent)
        m_cancelCurrent->store(true);
}

void AblationPage::cancelAll()
{
    if (m_cancelAll)
        m_cancelAll->store(true);
    if (m_cancelCurrent)
        m_cancelCurrent->store(true);
}

void AblationPage::refreshSweeps()
{
    const qint64 keep = m_sweepId > 0 ? m_sweepId : m_sweepPicker->currentData().toLongLong();
    const QSignalBlocker block(m_sweepPicker);
    m_sweepPicker->clear();
    try {
        ExperimentStore store(m_databasePath.toStdString());
        for (const SweepRecord& s : store.sweeps())
            m_sweepPicker->addItem(
                QStringLiteral("%1 \u00b7 %2 \u00b7 %3 \u00b7 %4")
                    .arg(s.id)
                    .arg(QString::fromStdString(s.name), QString::fromLatin1(toString(s.status)),
                         QString::fromStdString(s.createdAt)),
                static_cast<qint64>(s.id));
    } catch (const Error&) {}
    const int index = m_sweepPicker->findData(keep);
    m_sweepPicker->setCurrentIndex(index >= 0 ? index : 0);
    refreshQueue(m_sweepPicker->currentData().toLongLong());
}

void AblationPage::refreshQueue(qint64 sweepId)
{
    QList<QStringList> rows;
    bool elsewhere = false;
    bool done = true;
    try {
        if (sweepId > 0) {
            ExperimentStore store(m_databasePath.toStdString());
            const auto sweep = store.sweep(sweepId);
            elsewhere = sweep && sweep->gridJson.find("\"folder\"") != std::string::npos;
            done = !sweep || sweep->status == RunStatus::Completed;
            for (const SweepItemRecord& item : store.sweepItems(sweepId)) {
                QStringList row{QString::number(item.position + 1),
                                QString::fromStdString(item.rowLabel),
                                QString::number(item.seed),
                                QString::fromLatin1(toString(item.status)),
                                item.runId ? QString::number(*item.runId) : QString(),
                                item.duplicateOf ? tr("same as item %1").arg(*item.duplicateOf + 1)
                                                 : QString()};
                if (elsewhere) {
                    QString cell, slurm;
                    if (m_cellsSweep == sweepId)
                        for (const CellStatus& c : m_cells)
                            if (c.position == item.position) {
                                cell = QString::fromLatin1(toString(c.state));
                                if (!c.detail.empty())
                                    cell += QStringLiteral(": ") + QString::fromStdString(c.detail);
                                slurm =
                                    QString::fromStdString(c.jobId + " " + c.slurmState).trimmed();
                            }
                    row << cell << slurm;
                }
                rows << row;
            }
        }
    } catch (const Error&) {}
    QStringList headers{tr("#"), tr("Row"), tr("Seed"), tr("Status"), tr("Run"), tr("Note")};
    if (elsewhere)
        headers << tr("Cell (shard)") << tr("Slurm task");
    fillTable(m_queue, headers, rows, {0, 2, 4});
    m_collect->setEnabled(elsewhere);
    // Poll the cells of a sweep that runs elsewhere until it is collected.
    if (elsewhere && !done) {
        if (!m_statusTimer->isActive())
            m_statusTimer->start();
        if (m_cellsSweep != sweepId)
            refreshCellStatus(sweepId);
    } else {
        m_statusTimer->stop();
    }
}

QString AblationPage::sweepFolder(qint64 sweepId) const
{
    try {
        const ExperimentStore store(m_databasePath.toStdString());
        return QString::fromStdString(sllmr::sweepFolderOf(store, sweepId));
    } catch (const Error&) {
        return {};
    }
}

void AblationPage::refreshCellStatus(qint64 sweepId)
{
    const QString folder = sweepFolder(sweepId);
    if (folder.isEmpty() || m_statusInFlight)
        return;  // a poll is out; the timer asks again
    m_statusInFlight = true;
    const int request = ++m_statusRequest;
    using Result = std::shared_ptr<std::vector<CellStatus>>;
    auto* watcher = new QFutureWatcher<Result>(this);
    auto error = std::make_shared<QString>();
    connect(watcher, &QFutureWatcher<Result>::finished, this,
            [this, watcher, request, sweepId, error] {
                watcher->deleteLater();
                m_statusInFlight = false;
                if (request != m_statusRequest)
                    return;  // superseded
                const Result cells = watcher->result();
                if (!cells) {
                    m_status->setText(*error);
                    return;
                }
                m_cells = *cells;
                m_cellsSweep = sweepId;
                int counts[4] = {0, 0, 0, 0};
                for (const CellStatus& c : m_cells)
                    ++counts[static_cast<int>(c.state)];
                if (!m_thread)
                    m_status->setText(tr("Sweep %1 cells: %2 pending, %3 running, %4 completed, "
                                         "%5 failed; Collect brings completed cells home.")
                                          .arg(sweepId)
                                          .arg(counts[0])
                                          .arg(counts[1])
                                          .arg(counts[2])
                                          .arg(counts[3]));
                if (m_sweepPicker->currentData().toLongLong() == sweepId)
                    refreshQueue(sweepId);
                Q_EMIT cellStatusReady(sweepId);
            });
    const std::string dir = folder.toStdString();
    watcher->setFuture(QtConcurrent::run([dir, error]() -> Result {
        try {
            return std::make_shared<std::vector<CellStatus>>(
                sweepCellStatus(readSweepManifest(dir)));
        } catch (const Error& e) {
            *error = errorText(e);
        }
        return nullptr;
    }));
}

void AblationPage::collectSweep(qint64 sweepId)
{
    const QString path = m_databasePath;
    using Result = std::shared_ptr<CollectReport>;
    auto* watcher = new QFutureWatcher<Result>(this);
    auto error = std::make_shared<QString>();
    m_collect->setEnabled(false);
    m_status->setText(tr("Collecting the shards of sweep %1...").arg(sweepId));
    connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, sweepId, error] {
        watcher->deleteLater();
        m_collect->setEnabled(true);
        const Result report = watcher->result();
        if (!report) {
            m_status->setText(*error);
            Q_EMIT failed(*error);
            return;
        }
        QString text = tr("Sweep %1: %2 runs collected, %3 already collected, %4 not collected.")
                           .arg(sweepId)
                           .arg(report->imported)
                           .arg(report->alreadyCollected)
                           .arg(report->skipped);
        for (const CollectedItem& i : report->items)
            if (i.outcome == CollectedItem::Outcome::Skipped) {
                text += tr(" First not collected: cell %1 (%2).")
                            .arg(i.position)
                            .arg(QString::fromStdString(i.note));
                break;
            }
        m_status->setText(text);
        m_runs->refresh();
        refreshSweeps();
        Q_EMIT collected(sweepId, report->imported, report->skipped);
        buildMatrix(sweepId);
    });
    watcher->setFuture(QtConcurrent::run([path, sweepId, error]() -> Result {
        try {
            ExperimentStore store(path.toStdString());
            return std::make_shared<CollectReport>(sllmr::collectSweep(store, sweepId));
        } catch (const Error& e) {
            *error = errorText(e);
        }
        return nullptr;
    }));
}

void AblationPage::buildMatrix(qint64 sweepId, const QString& reference)
{
    m_sweepId = sweepId;
    const int request = ++m_matrixRequest;
    m_matrixNote->setText(tr("Building the matrix of sweep %1 (paired tests over every test "
                             "interaction)...")
                              .arg(sweepId));
    const QString path = m_databasePath;
    const std::string ref = reference.toStdString();
    auto* watcher = new QFutureWatcher<std::shared_ptr<ResultsMatrix>>(this);
    auto error = std::make_shared<QString>();
    connect(watcher, &QFutureWatcher<std::shared_ptr<ResultsMatrix>>::finished, this,
            [this, watcher, request, error] {
                watcher->deleteLater();
                if (request != m_matrixRequest)
                    return;  // superseded
                const auto result = watcher->result();
                if (!result) {
                    m_matrixNote->setText(*error);
                    return;
                }
                m_matrix = std::make_unique<ResultsMatrix>(*result);
                showMatrix();
                Q_EMIT matrixReady();
            });
    watcher->setFuture(QtConcurrent::run([path, sweepId, ref, error]() {
        try {
            ExperimentStore store(path.toStdString());
            std::string sweepReference, title;
            const auto groups = sweepGroups(store, sweepId, &sweepReference, &title);
            MatrixSettings settings;
            settings.reference = ref.empty() ? sweepReference : ref;
            auto m = std::make_shared<ResultsMatrix>(sllmr::buildMatrix(store, groups, settings));
            if (m->title.empty())
                m->title = title;
            return m;
        } catch (const Error& e) {
            *error = errorText(e);
        }
        return std::shared_ptr<ResultsMatrix>();
    }));
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
    // Columns: row, n, then per segment: its metrics, then "vs reference".
    QStringList headers{tr("Variant"), tr("n")};
    std::vector<std::pair<int, std::string>> layout;  // column index or -1 + segment for tests
    std::string lastSegment;
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
        if (!lastSegment.empty() && m.columns[c].segment != lastSegment) {
            headers << tr("%1 vs %2")
                           .arg(QString::fromStdString(lastSegment),
                                QString::fromStdString(m.reference));
            layout.emplace_back(-1, lastSegment);
        }
        lastSegment = m.columns[c].segment;
        headers << QStringLiteral("%1 %2").arg(QString::fromStdString(m.columns[c].segment),
                                               QString::fromStdString(m.columns[c].metric));
        layout.emplace_back(static_cast<int>(c), m.columns[c].segment);
    }
    if (!lastSegment.empty()) {
        headers << tr("%1 vs %2")
                       .arg(QString::fromStdString(lastSegment),
                            QString::fromStdString(m.reference));
        layout.emplace_back(-1, lastSegment);
    }
    m_matrixTable->clear();
    m_matrixTable->setColumnCount(static_cast<int>(headers.size()));
    m_matrixTable->setHorizontalHeaderLabels(headers);
    m_matrixTable->setRowCount(static_cast<int>(m.rows.size()));
    const QColor significant(0, 158, 115);
    for (std::size_t r = 0; r < m.rows.size(); ++r) {
        const auto row = static_cast<int>(r);
        const bool isReference = m.rows[r] == m.reference;
        auto* label = readOnlyCell(QString::fromStdString(m.rows[r]) +
                                   (isReference ? tr("  (reference)") : QString()));
        m_matrixTable->setItem(row, 0, label);
        m_matrixTable->setItem(row, 1, readOnlyCell(QString::number(m.runIds[r].size()), true));
        int col = 2;
        for (const auto& [c, segment] : layout) {
            if (c >= 0) {
                const MatrixCell& cell = m.cells[r][static_cast<std::size_t>(c)];
                QString text = fmt(cell.mean);
                if (!std::isnan(cell.stdDev))
                    text += QStringLiteral(" \u00b1 %1").arg(fmt(cell.stdDev));
                if (!isReference && !std::isnan(cell.difference))
                    text += QStringLiteral("\n\u0394 %1%2")
                                .arg(cell.difference >= 0 ? QStringLiteral("+") : QString())
                                .arg(fmt(cell.difference));
                auto* item = readOnlyCell(text, true);
                if (cell.best) {
                    QFont f = item->font();
                    f.setBold(true);
                    item->setFont(f);
                    item->setToolTip(tr("Best of this column"));
                }
                m_matrixTable->setItem(row, col, item);
            } else {
                const SignificanceTest* t = m.test(m.rows[r], segment);
                QTableWidgetItem* item = nullptr;
                if (isReference) {
                    item = readOnlyCell(QStringLiteral("\u2014"));
                } else if (!t || !t->note.empty()) {
                    item = readOnlyCell(t ? QString::fromStdString(t->note) : tr("no test"));
                } else {
                    const QString mark = t->significant ? tr("significant") : tr("n.s.");
                    item = readOnlyCell(QStringLiteral("\u0394 %1 [%2, %3]\n%4 (Holm) %5")
                                            .arg(fmt(t->ci.mean), fmt(t->ci.lo), fmt(t->ci.hi),
                                                 pText(t->tHolm), mark));
                    item->setToolTip(
                        tr("%1 paired test interactions. Paired t: t = %2, p = %3, Holm p = %4. "
                           "Wilcoxon signed-rank: W = %5, p = %6, Holm p = %7. Bootstrap %8% CI "
                           "of the mean difference: [%9, %10].")
                            .arg(t->pairs)
                            .arg(t->t.t, 0, 'f', 3)
                            .arg(pText(t->t.p), pText(t->tHolm))
                            .arg(t->wilcoxon.w, 0, 'f', 1)
                            .arg(pText(t->wilcoxon.p), pText(t->wilcoxonHolm))
                            .arg(t->ci.level * 100, 0, 'f', 0)
                            .arg(fmt(t->ci.lo), fmt(t->ci.hi)));
                    QFont f = item->font();
                    if (t->significant) {
                        f.setBold(true);
                        item->setForeground(significant);
                    } else {
                        f.setItalic(true);
                        item->setForeground(QColor(140, 140, 140));
                    }
                    item->setFont(f);
                }
                m_matrixTable->setItem(row, col, item);
            }
            ++col;
        }
    }
    m_matrixTable->resizeColumnsToContents();
    m_matrixTable->resizeRowsToContents();
    QString note = tr("Mean \u00b1 std over seeds; bold: best of the column. Tests: AUC per test "
                      "interaction (averaged over seeds), paired against '%1'; green bold = "
                      "significant after Holm's correction over %2 tests (alpha %3), grey "
                      "italic = not significant. Double-click a row to inspect its first run.")
                       .arg(QString::fromStdString(m.reference))
                       .arg(m.tests.size())
                       .arg(m.settings.alpha);
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
