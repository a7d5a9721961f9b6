#pragma once

// The ablation page's choice of who runs a sweep's cells (core's analysis/executors.h): this
// process (local), worker processes on this machine, or a Slurm array job with its few options,
// and a read-only preview of the batch script that would be submitted. The box only renders and
// edits ExecutorSettings; the page writes them into the grid file's "executor" key (the file is
// what runs) and reads them back from it.

#include <QGroupBox>

#include "analysis/executors.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace sllmr::ui {

class ExecutorBox : public QGroupBox
{
    Q_OBJECT

public:
    explicit ExecutorBox(QWidget* parent = nullptr);

    /// The settings the controls show (with the grid's folder and program, which they do not).
    [[nodiscard]] ExecutorSettings settings() const;
    /// Shows `settings` without emitting edited().
    void setSettings(const ExecutorSettings& settings);
    /// The batch script(s) a Slurm sweep of the grid would submit (shown for Slurm only).
    void setScript(const QString& script);
    [[nodiscard]] QString script() const;
    [[nodiscard]] QComboBox* kindBox() const { return m_kind; }
    /// Why the box cannot show the grid file now (it does not parse, or its executor key is
    /// wrong): the box is disabled with that note until the file is fixed ("" enables it).
    void setProblem(const QString& problem);

Q_SIGNALS:
    /// The user changed a setting.
    void edited();

private:
    void syncVisibility();

    ExecutorSettings m_hidden;  // folder and program, kept as the grid had them
    QString m_problem;
    bool m_setting = false;
    QComboBox* m_kind = nullptr;
    QLabel* m_note = nullptr;
    QWidget* m_processes = nullptr;
    QSpinBox* m_jobs = nullptr;
    QWidget* m_slurm = nullptr;
    QLineEdit* m_partition = nullptr;
    QLineEdit* m_time = nullptr;
    QSpinBox* m_cpus = nullptr;
    QLineEdit* m_mem = nullptr;
    QLineEdit* m_account = nullptr;
    QSpinBox* m_throttle = nullptr;
    QLineEdit* m_extra = nullptr;
    QPlainTextEdit* m_script = nullptr;
};

}  // namespace sllmr::ui
