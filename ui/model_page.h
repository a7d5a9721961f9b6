#pragma once

// Workflow step 3: model, method and gate. Every S-LLMR setting of the run configuration, each
// with a one-sentence tooltip, plus a live preview of what the gate thresholds switch on (users,
// items, LLM entries and candidate pairs per segment) before any training. Settings not on the
// form (every backbone size, evaluation details) are reachable through "Edit as JSON". Fields the
// chosen backbone or method does not use are disabled; "Reset to defaults" restores the rest.

#include <QWidget>

#include "train/run_config.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace sllmr::ui {

class Workbench;

class ModelPage : public QWidget
{
    Q_OBJECT

public:
    explicit ModelPage(Workbench* workbench, QWidget* parent = nullptr);

    /// The configuration the form shows (dataset and scores from the workbench).
    [[nodiscard]] RunConfig formConfig() const;
    /// Shows `config` in the form without emitting edits.
    void showConfig(const RunConfig& config);

    // Direct access for keyboard-free tests and teaching scripts.
    void setGateThresholds(std::optional<double> tauUser, std::optional<double> tauItem);
    void setGateMode(const QString& mode);
    void setMethod(const QString& method);
    [[nodiscard]] QTableWidget* previewTable() const { return m_preview; }
    [[nodiscard]] QSpinBox* seedBox() const { return m_seed; }

    /// Every setting of the page back to its default; the data and the scores stay.
    void resetToDefaults();

public Q_SLOTS:
    void editAsJson();
    void loadConfigFile();
    void saveConfigFile();

private:
    QWidget* createBackboneGroup(QWidget* host);
    QWidget* createMethodGroup(QWidget* host);
    QWidget* createGateGroup(QWidget* host);
    QWidget* createTrainingGroup(QWidget* host);
    QWidget* createPreview(QWidget* parent);
    void connectEdits();
    void edited();
    void refreshPreview();
    void syncEnabled();

    Workbench* m_workbench;
    bool m_updating = false;
    QComboBox* m_backbone = nullptr;
    QSpinBox* m_dim = nullptr;
    QLineEdit* m_hidden = nullptr;
    QDoubleSpinBox* m_dropout = nullptr;
    QSpinBox* m_crossLayers = nullptr;
    QCheckBox* m_itemFeatures = nullptr;
    QComboBox* m_method = nullptr;
    QDoubleSpinBox* m_lambda = nullptr;
    QDoubleSpinBox* m_margin = nullptr;
    QSpinBox* m_pairs = nullptr;
    QComboBox* m_gateMode = nullptr;
    QCheckBox* m_useCold = nullptr;
    QCheckBox* m_useTail = nullptr;
    QCheckBox* m_useQ = nullptr;
    QComboBox* m_uncertainty = nullptr;
    QCheckBox* m_tauUserSet = nullptr;
    QDoubleSpinBox* m_tauUser = nullptr;
    QCheckBox* m_tauItemSet = nullptr;
    QDoubleSpinBox* m_tauItem = nullptr;
    QDoubleSpinBox* m_tauQ = nullptr;
    QComboBox* m_rule = nullptr;
    QCheckBox* m_hard = nullptr;
    QDoubleSpinBox* m_tauA = nullptr;
    QDoubleSpinBox* m_randomRate = nullptr;
    QComboBox* m_supervision = nullptr;
    QSpinBox* m_epochs = nullptr;
    QSpinBox* m_batch = nullptr;
    QDoubleSpinBox* m_lr = nullptr;
    QSpinBox* m_patience = nullptr;
    QSpinBox* m_seed = nullptr;
    QLineEdit* m_name = nullptr;
    QTableWidget* m_preview = nullptr;
    QLabel* m_previewNote = nullptr;
};

}  // namespace sllmr::ui
