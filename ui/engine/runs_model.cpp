#include "engine/runs_model.h"

#include <QColor>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "error_text.h"
#include "run/runner.h"
#include "store/experiment_store.h"

#include <filesystem>

namespace sllmr::ui {

namespace {

QString jsonString(const nlohmann::json& j, const char* a, const char* b)
{
    if (j.contains(a) && j[a].is_object() && j[a].contains(b) && j[a][b].is_string())
        return QString::fromStdString(j[a][b].get<std::string>());
    return {};
}

QString metricText(double v)
{
    return v < 0 ? QString() : QString::number(v, 'f', 4);
}

}  // namespace

RunsModel::RunsModel(QString databasePath, QObject* parent)
    : QAbstractTableModel(parent)
    , m_databasePath(std::move(databasePath))
    , m_jobs(new JobRunner(this))
{}

int RunsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const RunRow* RunsModel::row(int r) const
{
    return r >= 0 && r < m_rows.size() ? &m_rows[r] : nullptr;
}

const RunRow* RunsModel::runById(qint64 id) const
{
    for (const auto& r : m_rows)
        if (r.id == id)
            return &r;
    return nullptr;
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case Id:
                return tr("Run");
            case Name:
                return tr("Name");
            case Status:
                return tr("Status");
            case Backbone:
                return tr("Backbone");
            case Method:
                return tr("Method");
            case Gate:
                return tr("Gate");
            case Lambda:
                return tr("lambda");
            case Seed:
                return tr("Seed");
            case Created:
                return tr("Started");
            case Auc:
                return tr("AUC");
            case ColdAuc:
                return tr("AUC cold");
            case TailAuc:
                return tr("AUC tail");
            case Tags:
                return tr("Tags");
            case Notes:
                return tr("Notes");
            default:
                return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
            case Auc:
                return tr("Full-ranking test AUC over all test interactions (0.5 = chance).");
            case ColdAuc:
                return tr("Test AUC on cold-start users (|H(u)| < tau_u).");
            case TailAuc:
                return tr(
                    "Test AUC on long-tail items (pop(i) < tau_i); below 0.5 is common "
                    "there: a model leaning on popularity ranks rare items low.");
            case Lambda:
                return tr("method.lambda: the weight of the LLM loss (empty for method none).");
            case Gate:
                return tr("gate.mode of a selective run.");
            default:
                return headerData(section, orientation, Qt::DisplayRole);
        }
    }
    return {};
}

QVariant RunsModel::data(const QModelIndex& index, int role) const
{
    const RunRow* r = row(index.row());
    if (!r)
        return {};
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        const bool sortKey = role == Qt::EditRole;  // numbers sort as numbers
        switch (index.column()) {
            case Id:
                return sortKey ? QVariant(r->id) : QVariant(QString::number(r->id));
            case Name:
                return r->name;
            case Status:
                return r->status;
            case Backbone:
                return r->backbone;
            case Method:
                return r->method;
            case Gate:
                return r->gate;
            case Lambda:
                if (sortKey)
                    return r->lambda;
                return r->lambda < 0 || r->method == QLatin1String("none")
                           ? QVariant(QString())
                           : QVariant(QString::number(r->lambda, 'g', 4));
            case Seed:
                return sortKey ? QVariant(r->seed) : QVariant(QString::number(r->seed));
            case Created:
                return r->created;
            case Auc:
                return sortKey ? QVariant(r->auc) : QVariant(metricText(r->auc));
            case ColdAuc:
                return sortKey ? QVariant(r->coldAuc) : QVariant(metricText(r->coldAuc));
            case TailAuc:
                return sortKey ? QVariant(r->tailAuc) : QVariant(metricText(r->tailAuc));
            case Tags:
                return r->tags;
            case Notes:
                return r->notes.section(QLatin1Char('\n'), 0, 0);
            default:
                return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Status && !r->error.isEmpty())
            return r->error;
        if (index.column() == Notes)
            return r->notes;
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == Status) {
        if (r->status == QLatin1String("failed"))
            return QColor(213, 94, 0);
        if (r->status == QLatin1String("interrupted") || r->status == QLatin1String("cancelled"))
            return QColor(230, 159, 0);
        return {};
    }
    if (role == Qt::TextAlignmentRole &&
        (index.column() == Id || index.column() == Seed || index.column() == Lambda ||
         (index.column() >= Auc && index.column() <= TailAuc)))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

namespace {

// Every run of the store as table rows (on a job thread).
QVector<RunRow> readRuns(const QString& databasePath)
{
    QVector<RunRow> rows;
    ExperimentStore store(databasePath.toStdString());
    for (const RunRecord& rec : store.runs()) {
        RunRow r;
        r.id = rec.id;
        r.name = QString::fromStdString(rec.name);
        r.status = QString::fromLatin1(toString(rec.status));
        r.seed = static_cast<qint64>(rec.seed);
        r.created = QString::fromStdString(rec.startedAt.empty() ? rec.createdAt : rec.startedAt);
        r.finished = QString::fromStdString(rec.finishedAt);
        r.tags = QString::fromStdString(rec.tags);
        r.notes = QString::fromStdString(rec.notes);
        r.error = QString::fromStdString(rec.error);
        r.configJson = QString::fromStdString(rec.configJson);
        try {
            const auto j = nlohmann::json::parse(rec.configJson);
            r.backbone = jsonString(j, "model", "type");
            r.method = jsonString(j, "method", "name");
            r.gate =
                r.method == QLatin1String("selective") ? jsonString(j, "gate", "mode") : QString();
            if (j.contains("method") && j["method"].contains("lambda") &&
                j["method"]["lambda"].is_number())
                r.lambda = j["method"]["lambda"].get<double>();
        } catch (const nlohmann::json::exception&) {
            r.backbone = RunsModel::tr("(unreadable config)");
        }
        for (const auto& m : store.segmentMetrics(rec.id)) {
            if (m.metric != "auc")
                continue;
            if (m.segment == "overall")
                r.auc = m.value;
            else if (m.segment == "cold")
                r.coldAuc = m.value;
            else if (m.segment == "tail")
                r.tailAuc = m.value;
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace

void RunsModel::refresh()
{
    refreshThen({});
}

void RunsModel::refreshThen(std::function<void()> then)
{
    if (then)
        m_pendingThen.push_back(std::move(then));
    const QString path = m_databasePath;
    m_jobs->start(
        QStringLiteral("read"), [path](JobContext&) { return readRuns(path); },
        [this](const QVector<RunRow>& rows) {
            m_lastError.clear();
            beginResetModel();
            m_rows = rows;
            endResetModel();
            deliverRefresh();
        },
        [this](const QString& message) {
            m_lastError = message;
            Q_EMIT failed(message);
            deliverRefresh();
        });
}

void RunsModel::deliverRefresh()
{
    Q_EMIT refreshed();
    const auto pending = std::exchange(m_pendingThen, {});
    for (const auto& fn : pending)
        fn();
}

void RunsModel::write(std::function<void(ExperimentStore&)> fn, std::function<void(QString)> done)
{
    const QString path = m_databasePath;
    auto finished = [this, done](const QString& error) {
        refresh();
        if (done)
            done(error);
        else if (!error.isEmpty())
            Q_EMIT failed(error);
    };
    // Writes do not supersede each other: no channel.
    m_jobs->start(
        QString(),
        [path, fn](JobContext&) {
            ExperimentStore store(path.toStdString());
            fn(store);
            return true;
        },
        [finished](bool) { finished({}); }, finished);
}
void RunsModel::setNotes(qint64 id, const QString& notes, const QString& tags,
                         std::function<void(QString)> done)
{
    const std::string n = notes.toStdString(), t = tags.toStdString();
    write([id, n, t](ExperimentStore& store) { store.setRunNotes(id, n, t); }, std::move(done));
}

void RunsModel::deleteRun(qint64 id, std::function<void(QString)> done)
{
    write(
        [id](ExperimentStore& store) {
            store.deleteRun(id);
            std::error_code ec;  // a missing folder is fine
            std::filesystem::remove_all(checkpointDir(store, id), ec);
        },
        std::move(done));
}

}  // namespace sllmr::ui
