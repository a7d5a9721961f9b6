#pragma once

// The runs of experiments.db as a table: id, name, status, backbone, method, gate, seed, start
// time, the key test metrics per segment, tags and notes. Reads and writes (notes, tags, delete)
// are JobRunner jobs with their own connection, so the GUI never waits on a database lock
// (SQLite in WAL mode lets them read while a run writes). A newer refresh supersedes an older
// one; the model refreshes after each write. Store errors are reported by `failed`.

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

#include <functional>
#include <vector>

#include "engine/job_runner.h"

namespace sllmr {
class ExperimentStore;
}

namespace sllmr::ui {

struct RunRow
{
    qint64 id = 0;
    QString name;
    QString status;
    QString backbone;
    QString method;
    QString gate;
    qint64 seed = 0;
    QString created;
    QString finished;
    double auc = -1;  // test AUC overall / cold / tail; -1 when not stored
    double coldAuc = -1;
    double tailAuc = -1;
    double lambda = -1;  // method.lambda; -1 when not set
    QString tags;
    QString notes;
    QString error;
    QString configJson;
};

class RunsModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Id,
        Name,
        Status,
        Backbone,
        Method,
        Gate,
        Lambda,
        Seed,
        Created,
        Auc,
        ColdAuc,
        TailAuc,
        Tags,
        Notes,
        ColumnCount
    };

    explicit RunsModel(QString databasePath, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role) const override;

    [[nodiscard]] const RunRow* row(int r) const;
    [[nodiscard]] const RunRow* runById(qint64 id) const;
    [[nodiscard]] const QVector<RunRow>& rows() const { return m_rows; }
    [[nodiscard]] QString lastError() const { return m_lastError; }

    /// Asynchronous writes; `done(error)` runs on the GUI thread (empty error on success).
    void setNotes(qint64 id, const QString& notes, const QString& tags,
                  std::function<void(QString)> done = {});
    void deleteRun(qint64 id, std::function<void(QString)> done = {});

    /// Re-reads every run, then runs `then` on the GUI thread (after `refreshed`).
    void refreshThen(std::function<void()> then);
    [[nodiscard]] bool isRefreshing() const { return m_jobs->isBusy(QStringLiteral("read")); }

public Q_SLOTS:
    /// Re-reads every run in the background; `refreshed` follows.
    void refresh();

Q_SIGNALS:
    void refreshed();
    void failed(const QString& message);

private:
    void write(std::function<void(ExperimentStore&)> fn, std::function<void(QString)> done);
    void deliverRefresh();

    QString m_databasePath;
    QVector<RunRow> m_rows;
    QString m_lastError;
    JobRunner* m_jobs;
    std::vector<std::function<void()>> m_pendingThen;
};

}  // namespace sllmr::ui
