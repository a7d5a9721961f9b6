#include "executor_box.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "wheel_guard.h"

namespace sllmr::ui {

namespace {

QString noteFor(ExecutorKind kind)
{
    switch (kind) {
        case ExecutorKind::Local:
            return QObject::tr(
                "The Studio trains one run after another; pause, cancel one or all.");
        case ExecutorKind::Processes:
            return QObject::tr(
                "Each cell is an 'sllmr run' process writing its own shard (threads: cores / "
                "workers); the shards are collected when the cells end.");
        case ExecutorKind::Slurm:
            return QObject::tr(
                "One array job, one task per cell, on a folder the nodes share; the queue "
                "follows the cells, Collect brings them home.");
    }
    return {};
}

}  // namespace

ExecutorBox::ExecutorBox(QWidget* parent) : QGroupBox(tr("Who runs the cells"), parent)
{
    setObjectName(QStringLiteral("executorBox"));
    auto* layout = new QVBoxLayout(this);
    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("executorKind"));
    m_kind->addItem(tr("This Studio (local)"), static_cast<int>(ExecutorKind::Local));
    m_kind->addItem(tr("Worker processes on this machine"),
                    static_cast<int>(ExecutorKind::Processes));
    m_kind->addItem(tr("Slurm cluster (array job)"), static_cast<int>(ExecutorKind::Slurm));
    m_kind->setToolTip(
        tr("The grid file's \"executor\" key; 'sllmr sweep --executor' does the "
           "same from a shell."));
    layout->addWidget(m_kind);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setTextFormat(Qt::PlainText);
    layout->addWidget(m_note);

    m_processes = new QWidget(this);
    auto* pf = new QFormLayout(m_processes);
    pf->setContentsMargins(0, 0, 0, 0);
    m_jobs = new QSpinBox(m_processes);
    m_jobs->setObjectName(QStringLiteral("executorJobs"));
    m_jobs->setRange(1, 256);
    m_jobs->setValue(2);
    m_jobs->setToolTip(tr("How many cells run at once (this machine has %1 cores).")
                           .arg(QThread::idealThreadCount()));
    pf->addRow(tr("Workers"), m_jobs);
    layout->addWidget(m_processes);

    m_slurm = new QWidget(this);
    auto* sg = new QGridLayout(m_slurm);
    sg->setContentsMargins(0, 0, 0, 0);
    const auto addField = [&](int row, int column, const QString& label, QWidget* field) {
        sg->addWidget(new QLabel(label, m_slurm), row, column * 2);
        sg->addWidget(field, row, column * 2 + 1);
    };
    m_partition = new QLineEdit(m_slurm);
    m_partition->setObjectName(QStringLiteral("slurmPartition"));
    m_partition->setPlaceholderText(tr("default"));
    m_partition->setToolTip(tr("--partition (empty: the cluster's default)"));
    addField(0, 0, tr("Partition"), m_partition);
    m_time = new QLineEdit(m_slurm);
    m_time->setObjectName(QStringLiteral("slurmTime"));
    m_time->setPlaceholderText(tr("e.g. 00:30:00"));
    m_time->setToolTip(tr("--time: the limit of one cell, e.g. 00:30:00"));
    addField(0, 1, tr("Time"), m_time);
    m_cpus = new QSpinBox(m_slurm);
    m_cpus->setObjectName(QStringLiteral("slurmCpus"));
    m_cpus->setRange(0, 4096);
    m_cpus->setSpecialValueText(tr("default"));
    m_cpus->setToolTip(tr("--cpus-per-task; each cell trains with that many threads."));
    addField(1, 0, tr("CPUs"), m_cpus);
    m_mem = new QLineEdit(m_slurm);
    m_mem->setObjectName(QStringLiteral("slurmMem"));
    m_mem->setPlaceholderText(tr("e.g. 4G"));
    m_mem->setToolTip(tr("--mem of one cell"));
    addField(1, 1, tr("Memory"), m_mem);
    m_account = new QLineEdit(m_slurm);
    m_account->setPlaceholderText(tr("none"));
    m_account->setToolTip(tr("--account, where the cluster wants one"));
    addField(2, 0, tr("Account"), m_account);
    m_throttle = new QSpinBox(m_slurm);
    m_throttle->setObjectName(QStringLiteral("slurmThrottle"));
    m_throttle->setRange(0, 100000);
    m_throttle->setSpecialValueText(tr("no limit"));
    m_throttle->setToolTip(tr("At most this many cells at once (the array's %N)."));
    addField(2, 1, tr("At once"), m_throttle);
    m_extra = new QLineEdit(m_slurm);
    m_extra->setObjectName(QStringLiteral("slurmExtra"));
    m_extra->setPlaceholderText(tr("more options, e.g. --qos=short"));
    m_extra->setToolTip(
        tr("More #SBATCH options, separated by spaces; each becomes a line of "
           "the batch script."));
    sg->addWidget(new QLabel(tr("More"), m_slurm), 3, 0);
    sg->addWidget(m_extra, 3, 1, 1, 3);
    sg->setColumnStretch(1, 1);
    sg->setColumnStretch(3, 1);
    m_script = new QPlainTextEdit(m_slurm);
    m_script->setObjectName(QStringLiteral("slurmScript"));
    m_script->setReadOnly(true);
    m_script->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_script->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_script->setMinimumHeight(90);
    m_script->setToolTip(
        tr("The batch script 'Run grid' submits with sbatch (the sweep folder "
           "is created next to the database when the sweep starts)."));
    sg->addWidget(new QLabel(tr("The batch script sbatch gets:"), m_slurm), 4, 0, 1, 4);
    sg->addWidget(m_script, 5, 0, 1, 4);
    sg->setRowStretch(5, 1);
    layout->addWidget(m_slurm, 1);
    layout->addStretch(0);
    guardWheel(this);

    const auto changed = [this] {
        if (!m_setting)
            Q_EMIT edited();
    };
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this, changed] {
        syncVisibility();
        changed();
    });
    connect(m_jobs, &QSpinBox::valueChanged, this, changed);
    connect(m_cpus, &QSpinBox::valueChanged, this, changed);
    connect(m_throttle, &QSpinBox::valueChanged, this, changed);
    for (QLineEdit* e : {m_partition, m_time, m_mem, m_account, m_extra})
        connect(e, &QLineEdit::textEdited, this, changed);
    syncVisibility();
}

ExecutorSettings ExecutorBox::settings() const
{
    ExecutorSettings s = m_hidden;
    s.kind = static_cast<ExecutorKind>(m_kind->currentData().toInt());
    s.jobs = s.kind == ExecutorKind::Processes ? m_jobs->value() : 0;
    SlurmOptions& o = s.slurm;
    o.partition = m_partition->text().trimmed().toStdString();
    o.time = m_time->text().trimmed().toStdString();
    o.cpusPerTask = m_cpus->value();
    o.mem = m_mem->text().trimmed().toStdString();
    o.account = m_account->text().trimmed().toStdString();
    o.throttle = m_throttle->value();
    o.extra.clear();
    for (const QString& option : m_extra->text().split(QLatin1Char(' '), Qt::SkipEmptyParts))
        o.extra.push_back(option.toStdString());
    return s;
}

void ExecutorBox::setSettings(const ExecutorSettings& settings)
{
    m_setting = true;
    m_hidden = {};
    m_hidden.folder = settings.folder;
    m_hidden.slurm.program = settings.slurm.program;
    m_kind->setCurrentIndex(m_kind->findData(static_cast<int>(settings.kind)));
    m_jobs->setValue(settings.jobs > 0 ? settings.jobs : 2);
    const SlurmOptions& o = settings.slurm;
    m_partition->setText(QString::fromStdString(o.partition));
    m_time->setText(QString::fromStdString(o.time));
    m_cpus->setValue(o.cpusPerTask);
    m_mem->setText(QString::fromStdString(o.mem));
    m_account->setText(QString::fromStdString(o.account));
    m_throttle->setValue(o.throttle);
    QStringList extra;
    for (const std::string& line : o.extra)
        extra << QString::fromStdString(line);
    if (m_extra->text().split(QLatin1Char(' '), Qt::SkipEmptyParts) != extra)
        m_extra->setText(extra.join(QLatin1Char(' ')));
    syncVisibility();
    m_setting = false;
}

void ExecutorBox::setScript(const QString& script)
{
    if (m_script->toPlainText() != script)
        m_script->setPlainText(script);
}

QString ExecutorBox::script() const
{
    return m_script->toPlainText();
}

void ExecutorBox::setProblem(const QString& problem)
{
    if (problem == m_problem)
        return;
    m_problem = problem;
    for (QWidget* w : {static_cast<QWidget*>(m_kind), m_processes, m_slurm})
        w->setEnabled(problem.isEmpty());
    if (!problem.isEmpty())
        m_script->clear();
    syncVisibility();
}

void ExecutorBox::syncVisibility()
{
    const auto kind = static_cast<ExecutorKind>(m_kind->currentData().toInt());
    m_processes->setVisible(kind == ExecutorKind::Processes);
    m_slurm->setVisible(kind == ExecutorKind::Slurm);
    m_note->setText(m_problem.isEmpty()
                        ? noteFor(kind)
                        : tr("Not in use while the grid file has an error (below the editor): "
                             "the box shows the file again once it is fixed."));
}

}  // namespace sllmr::ui
