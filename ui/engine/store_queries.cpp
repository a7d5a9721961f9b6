#include "engine/store_queries.h"

#include <QObject>

#include <algorithm>

#include "analysis/executors.h"
#include "analysis/sweep.h"
#include "common/error.h"
#include "store/experiment_store.h"

namespace sllmr::ui {

namespace {

bool isBucket(const std::string& s)
{
    return s.rfind("hist_", 0) == 0 || s.rfind("pop_", 0) == 0;
}

}  // namespace

StoreCheck checkStore(const QString& databasePath)
{
    StoreCheck check;
    try {
        ExperimentStore store(databasePath.toStdString());
        const int interrupted = store.markStaleRunsInterrupted();
        // The run count itself is in the status bar's store label.
        if (interrupted > 0)
            check.message = QStringLiteral(
                                "%1 run(s) no longer training were marked interrupted: "
                                "resume them on the Runs page.")
                                .arg(interrupted);
    } catch (const Error& e) {
        check.error = QString::fromStdString(e.what());
    }
    return check;
}

RunMetrics readRunMetrics(const QString& databasePath, const QList<qint64>& runIds)
{
    RunMetrics out;
    if (runIds.isEmpty())
        return out;
    ExperimentStore store(databasePath.toStdString());
    for (qint64 id : runIds)
        for (const auto& m : store.segmentMetrics(id)) {
            if (isBucket(m.segment))
                continue;
            out.values[m.metric][m.segment][id] = m.value;
            out.sizesByRun[m.segment][id] = m.size;
            const auto it = out.sizes.find(m.segment);
            out.sizes[m.segment] = it == out.sizes.end() ? m.size : std::min(it->second, m.size);
        }
    return out;
}

std::vector<SweepEntry> readSweeps(const QString& databasePath)
{
    std::vector<SweepEntry> out;
    ExperimentStore store(databasePath.toStdString());
    for (const SweepRecord& s : store.sweeps()) {
        const auto executor = recordedExecutor(s);
        const QString kind =
            QString::fromLatin1(toString(executor ? executor->kind : ExecutorKind::Local));
        out.push_back(
            {s.id,
             QStringLiteral("%1 \u00b7 %2 \u00b7 %3 \u00b7 %4%5")
                 .arg(s.id)
                 .arg(QString::fromStdString(s.name), QString::fromLatin1(toString(s.status)),
                      QString::fromStdString(s.createdAt),
                      executor ? QStringLiteral(" \u00b7 ") + kind : QString()),
             kind});
    }
    return out;
}

namespace {

QString lastLine(const std::string& text)
{
    const QStringList lines =
        QString::fromStdString(text).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    return lines.isEmpty() ? QString() : lines.last().trimmed();
}

// The rows of a sweep run by worker processes or Slurm: its items in this database joined with
// the state of their cells.
void fillCells(const ExperimentStore& store, qint64 sweepId, SweepQueue& queue)
{
    const SweepManifest m = readSweepManifest(queue.folder.toStdString());
    std::map<int, CellStatus> cells;
    for (CellStatus& c : sweepCellStatus(m))
        cells[c.position] = std::move(c);
    queue.header = {QObject::tr("#"),    QObject::tr("Row"),   QObject::tr("Seed"),
                    QObject::tr("Cell"), QObject::tr("Slurm"), QObject::tr("In this database"),
                    QObject::tr("Run"),  QObject::tr("Note")};
    for (const SweepItemRecord& item : store.sweepItems(sweepId)) {
        const auto cell = cells.find(item.duplicateOf.value_or(item.position));
        QString state, slurm, note, tip;
        if (cell != cells.end()) {
            const CellStatus& c = cell->second;
            state = QString::fromLatin1(toString(c.state));
            slurm = c.jobId.empty() ? QString()
                                    : QString::fromStdString(c.jobId) + QStringLiteral(" ") +
                                          QString::fromStdString(c.slurmState);
            note = QString::fromStdString(c.detail);
            if (c.state == CellState::Failed) {
                tip = QString::fromStdString(c.logTail);
                if (const QString line = lastLine(c.logTail); !line.isEmpty())
                    note = note.isEmpty() ? line : note + QStringLiteral("; ") + line;
            }
            queue.outstanding |= c.state == CellState::Pending || c.state == CellState::Running;
            if (!item.duplicateOf && c.state == CellState::Completed &&
                item.status != RunStatus::Completed)
                ++queue.collectable;
        }
        if (item.duplicateOf)
            note = QObject::tr("same as item %1").arg(*item.duplicateOf + 1);
        queue.rows << QStringList{QString::number(item.position + 1),
                                  QString::fromStdString(item.rowLabel),
                                  QString::number(item.seed),
                                  state,
                                  slurm.trimmed(),
                                  QString::fromLatin1(toString(item.status)),
                                  item.runId ? QString::number(*item.runId) : QString(),
                                  note};
        queue.tooltips << tip;
    }
}

}  // namespace

SweepQueue readSweepQueue(const QString& databasePath, qint64 sweepId)
{
    SweepQueue queue;
    queue.executor = QStringLiteral("local");
    queue.header = {QObject::tr("#"),      QObject::tr("Row"), QObject::tr("Seed"),
                    QObject::tr("Status"), QObject::tr("Run"), QObject::tr("Note")};
    if (sweepId <= 0)
        return queue;
    ExperimentStore store(databasePath.toStdString());
    if (const auto executor = recordedExecutor(store, sweepId)) {
        queue.executor = QString::fromLatin1(toString(executor->kind));
        queue.folder = QString::fromStdString(executor->folder);
        fillCells(store, sweepId, queue);
        return queue;
    }
    for (const SweepItemRecord& item : store.sweepItems(sweepId)) {
        queue.rows << QStringList{QString::number(item.position + 1),
                                  QString::fromStdString(item.rowLabel),
                                  QString::number(item.seed),
                                  QString::fromLatin1(toString(item.status)),
                                  item.runId ? QString::number(*item.runId) : QString(),
                                  item.duplicateOf
                                      ? QStringLiteral("same as item %1").arg(*item.duplicateOf + 1)
                                      : QString()};
        queue.tooltips << QString();
    }
    return queue;
}

CollectReport collectSweepShards(const QString& databasePath, qint64 sweepId)
{
    ExperimentStore store(databasePath.toStdString());
    return collectSweep(store, sweepId);
}

ResultsMatrix buildSweepMatrix(const QString& databasePath, qint64 sweepId,
                               const std::string& reference, TestUnit unit)
{
    ExperimentStore store(databasePath.toStdString());
    std::string sweepReference, title;
    const auto groups = sweepGroups(store, sweepId, &sweepReference, &title);
    MatrixSettings settings;
    settings.reference = reference.empty() ? sweepReference : reference;
    settings.unit = unit;
    ResultsMatrix m = buildMatrix(store, groups, settings);
    if (m.title.empty())
        m.title = title;
    return m;
}

InspectorOverview InspectorSession::open(const QString& databasePath, qint64 runId,
                                         const std::atomic<bool>* cancel)
{
    m_inspector.reset();
    const ExperimentStore store(databasePath.toStdString());
    InspectOptions options;
    options.cancel = cancel;
    m_inspector = std::make_unique<RunInspector>(store, runId, options);
    InspectorOverview o;
    o.run = m_inspector->run();
    o.training = m_inspector->trainingBins();
    o.final = m_inspector->finalBins();
    o.grid = m_inspector->coldTailGrid();
    o.histogram = m_inspector->histogram(20);
    o.epochs = m_inspector->epochs();
    o.directions = m_inspector->directions();
    return o;
}

const RunInspector& InspectorSession::inspector() const
{
    if (!m_inspector)
        throw Error(ErrorKind::Usage, "no run is open in the inspector", {}, 0,
                    "pick a completed run and press Inspect");
    return *m_inspector;
}

}  // namespace sllmr::ui
