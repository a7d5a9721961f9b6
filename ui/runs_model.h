#pragma once

// The runs of experiments.db as a table: id, name, status, backbone, method, gate, seed, start
// time, the key test metrics per segment, tags and notes. Reads go through the model's own
// read-only use of the store (SQLite in WAL mode lets it read while a run writes); writes (notes,
// tags, delete) run on a pool thread with their own connection so the GUI never waits on a
// database lock, and the model refreshes when they are done.

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

#include <functional>

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

public Q_SLOTS:
    /// Re-reads every run (synchronous read).
    void refresh();

Q_SIGNALS:
    void refreshed();

private:
    void write(std::function<void(ExperimentStore&)> fn, std::function<void(QString)> done);

    QString m_databasePath;
    QVector<RunRow> m_rows;
    QString m_lastError;
};

}  // namespace sllmr::ui
