#pragma once

// Preview dialogs for opening files whose loader or column mapping is not detected: the first
// lines of the file as read (decoded), the detected loader, and every mapping setting of the
// core spec (DatasetSpec or ScoreFileSpec), prefilled from the current one.

#include <QDialog>

#include "data/dataset_spec.h"
#include "llm/scores.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QCheckBox;

namespace sllmr::ui {

class DatasetImportDialog : public QDialog
{
    Q_OBJECT

public:
    DatasetImportDialog(const DatasetSpec& spec, QWidget* parent = nullptr);
    [[nodiscard]] DatasetSpec spec() const;

private:
    void refreshPreview();

    DatasetSpec m_base;
    QLineEdit* m_path = nullptr;
    QLineEdit* m_testPath = nullptr;
    QLineEdit* m_itemsPath = nullptr;
    QComboBox* m_format = nullptr;
    QComboBox* m_encoding = nullptr;
    QComboBox* m_delimiter = nullptr;
    QComboBox* m_header = nullptr;
    QLineEdit* m_user = nullptr;
    QLineEdit* m_item = nullptr;
    QLineEdit* m_rating = nullptr;
    QLineEdit* m_timestamp = nullptr;
    QCheckBox* m_implicit = nullptr;
    QDoubleSpinBox* m_implicitThreshold = nullptr;
    QSpinBox* m_kcore = nullptr;
    QComboBox* m_split = nullptr;
    QDoubleSpinBox* m_testRatio = nullptr;
    QComboBox* m_validation = nullptr;
    QPlainTextEdit* m_preview = nullptr;
    QLabel* m_detected = nullptr;
};

class ScoresImportDialog : public QDialog
{
    Q_OBJECT

public:
    ScoresImportDialog(const ScoreFileSpec& spec, QWidget* parent = nullptr);
    [[nodiscard]] ScoreFileSpec spec() const;

private:
    void refreshPreview();

    ScoreFileSpec m_base;
    QLineEdit* m_path = nullptr;
    QLineEdit* m_name = nullptr;
    QComboBox* m_kind = nullptr;
    QComboBox* m_encoding = nullptr;
    QComboBox* m_missing = nullptr;
    QComboBox* m_delimiter = nullptr;
    QComboBox* m_header = nullptr;
    QLineEdit* m_user = nullptr;
    QLineEdit* m_item = nullptr;
    QLineEdit* m_value = nullptr;
    QComboBox* m_rankMapping = nullptr;
    QDoubleSpinBox* m_decay = nullptr;
    QDoubleSpinBox* m_ratingMin = nullptr;
    QDoubleSpinBox* m_ratingMax = nullptr;
    QLineEdit* m_candidates = nullptr;
    QDoubleSpinBox* m_candidateDefault = nullptr;
    QPlainTextEdit* m_preview = nullptr;
};

}  // namespace sllmr::ui
