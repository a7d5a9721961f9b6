#include "import_dialogs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

#include "common/error.h"
#include "data/loaders.h"

namespace sllmr::ui {

namespace {

constexpr int kPreviewLines = 12;

QComboBox* choices(QWidget* parent, const QStringList& values, const QString& current)
{
    auto* box = new QComboBox(parent);
    box->addItems(values);
    const int index = box->findText(current);
    box->setCurrentIndex(index >= 0 ? index : 0);
    return box;
}

// Delimiters as shown and as stored ("" = detect).
QComboBox* delimiterBox(QWidget* parent, const std::string& current)
{
    auto* box = new QComboBox(parent);
    box->addItem(QObject::tr("detect"), QString());
    box->addItem(QObject::tr("tab"), QStringLiteral("\t"));
    box->addItem(QObject::tr("comma"), QStringLiteral(","));
    box->addItem(QObject::tr("semicolon"), QStringLiteral(";"));
    box->addItem(QObject::tr(":: (MovieLens .dat)"), QStringLiteral("::"));
    box->addItem(QObject::tr("space"), QStringLiteral(" "));
    const int index = box->findData(QString::fromStdString(current));
    box->setCurrentIndex(index >= 0 ? index : 0);
    return box;
}

QWidget* pathRow(QWidget* parent, QLineEdit* edit, const QString& title)
{
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(QObject::tr("Browse..."), row);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, title, row] {
        const QString path = QFileDialog::getOpenFileName(row, title, edit->text());
        if (!path.isEmpty())
            edit->setText(path);
    });
    layout->addWidget(browse);
    return row;
}

QPlainTextEdit* previewBox(QWidget* parent)
{
    auto* preview = new QPlainTextEdit(parent);
    preview->setReadOnly(true);
    preview->setLineWrapMode(QPlainTextEdit::NoWrap);
    preview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    preview->setMinimumHeight(140);
    return preview;
}

// Text encodings as stored in the specs.
QComboBox* encodingBox(QWidget* parent, const std::string& current)
{
    auto* box = choices(
        parent, {QStringLiteral("utf-8"), QStringLiteral("latin1"), QStringLiteral("cp1252")},
        QString::fromStdString(current));
    box->setToolTip(QObject::tr(
        "The files' text encoding. MovieLens 100K (u.item) and 1M (movies.dat) are latin1; "
        "text is converted to UTF-8 when read."));
    return box;
}

void fillPreview(QPlainTextEdit* preview, const QString& path, const QString& encoding)
{
    if (path.isEmpty()) {
        preview->setPlainText(QObject::tr("(no file)"));
        return;
    }
    try {
        QString text;
        for (const auto& line :
             previewLines(path.toStdString(), kPreviewLines, encoding.toStdString())) {
            QString shown = QString::fromStdString(line);
            shown.replace(QLatin1Char('\t'), QStringLiteral(" \u2192 "));  // make tabs visible
            text += shown + QLatin1Char('\n');
        }
        preview->setPlainText(text);
    } catch (const Error& e) {
        preview->setPlainText(QString::fromStdString(e.what()));
    }
}

}  // namespace

DatasetImportDialog::DatasetImportDialog(const DatasetSpec& spec, QWidget* parent)
    : QDialog(parent), m_base(spec)
{
    setWindowTitle(tr("Open dataset: loader and split"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_path = new QLineEdit(QString::fromStdString(spec.path), this);
    m_testPath = new QLineEdit(QString::fromStdString(spec.testPath), this);
    m_testPath->setPlaceholderText(tr("optional: a test file makes the split 'given'"));
    m_itemsPath = new QLineEdit(QString::fromStdString(spec.itemsPath), this);
    m_itemsPath->setPlaceholderText(
        tr("optional: movies.csv, u.item, movies.dat or a .item file (titles, genres)"));
    form->addRow(tr("Interactions / train file"), pathRow(this, m_path, tr("Interactions")));
    form->addRow(tr("Test file"), pathRow(this, m_testPath, tr("Test file")));
    form->addRow(tr("Item titles"), pathRow(this, m_itemsPath, tr("Item file")));
    m_format = choices(
        this,
        {QStringLiteral("auto"), QStringLiteral("movielens-csv"), QStringLiteral("movielens-dat"),
         QStringLiteral("movielens-udata"), QStringLiteral("delimited"), QStringLiteral("recbole"),
         QStringLiteral("sequences")},
        QString::fromStdString(spec.format));
    m_format->setToolTip(tr(
        "The loader. 'auto' decides from the file name and first two lines; 'sequences' reads one "
        "line per user, 'user item item ...' in time order (SASRec, S3-Rec, ICLRec data)."));
    form->addRow(tr("Loader"), m_format);
    m_encoding = encodingBox(this, spec.encoding);
    form->addRow(tr("Text encoding"), m_encoding);
    m_detected = new QLabel(this);
    form->addRow(QString(), m_detected);
    m_delimiter = delimiterBox(this, spec.delimiter);
    form->addRow(tr("Delimiter"), m_delimiter);
    m_header = choices(this, {QStringLiteral("auto"), QStringLiteral("yes"), QStringLiteral("no")},
                       QString::fromStdString(spec.header));
    form->addRow(tr("Header line"), m_header);
    auto column = [this](const std::string& value, const QString& tip) {
        auto* edit = new QLineEdit(QString::fromStdString(value), this);
        edit->setPlaceholderText(tr("default"));
        edit->setToolTip(tip);
        return edit;
    };
    const QString columnTip = tr("A column name (with a header) or a 0-based index.");
    m_user = column(spec.userColumn, columnTip);
    m_item = column(spec.itemColumn, columnTip);
    m_rating = column(spec.ratingColumn, columnTip);
    m_timestamp = column(spec.timestampColumn, columnTip);
    form->addRow(tr("User column"), m_user);
    form->addRow(tr("Item column"), m_item);
    form->addRow(tr("Rating column"), m_rating);
    form->addRow(tr("Timestamp column"), m_timestamp);

    auto* implicitRow = new QWidget(this);
    auto* implicitLayout = new QHBoxLayout(implicitRow);
    implicitLayout->setContentsMargins(0, 0, 0, 0);
    m_implicit = new QCheckBox(tr("keep ratings >="), implicitRow);
    m_implicitThreshold = new QDoubleSpinBox(implicitRow);
    m_implicitThreshold->setRange(-1e6, 1e6);
    m_implicitThreshold->setValue(spec.implicitThreshold.value_or(4.0));
    m_implicit->setChecked(spec.implicitThreshold.has_value());
    implicitLayout->addWidget(m_implicit);
    implicitLayout->addWidget(m_implicitThreshold);
    implicitLayout->addStretch(1);
    form->addRow(tr("Implicit feedback"), implicitRow);
    m_kcore = new QSpinBox(this);
    m_kcore->setRange(0, 1000);
    m_kcore->setValue(spec.kcore);
    m_kcore->setSpecialValueText(tr("off"));
    m_kcore->setToolTip(tr("Iteratively drop users and items with fewer than k interactions."));
    form->addRow(tr("k-core"), m_kcore);
    m_split = choices(this,
                      {QStringLiteral("given"), QStringLiteral("leave-one-out"),
                       QStringLiteral("temporal"), QStringLiteral("random")},
                      QString::fromStdString(spec.split.method));
    m_split->setToolTip(
        tr("given: the train and test files; leave-one-out: each user's last "
           "interaction by time; temporal/random: a share per user."));
    form->addRow(tr("Split"), m_split);
    m_testRatio = new QDoubleSpinBox(this);
    m_testRatio->setRange(0.01, 0.9);
    m_testRatio->setSingleStep(0.05);
    m_testRatio->setValue(spec.split.testRatio);
    form->addRow(tr("Test share"), m_testRatio);
    m_validation = choices(this,
                           {QStringLiteral("auto"), QStringLiteral("none"), QStringLiteral("last"),
                            QStringLiteral("ratio")},
                           QString::fromStdString(spec.split.validation));
    form->addRow(tr("Validation"), m_validation);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("First lines of the file (tabs shown as \u2192):"), this));
    m_preview = previewBox(this);
    layout->addWidget(m_preview, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Load"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    connect(m_path, &QLineEdit::textChanged, this, &DatasetImportDialog::refreshPreview);
    connect(m_encoding, &QComboBox::currentTextChanged, this, &DatasetImportDialog::refreshPreview);
    auto syncSplit = [this] {
        const bool given = m_split->currentText() == QLatin1String("given");
        m_testRatio->setEnabled(m_split->currentText() == QLatin1String("temporal") ||
                                m_split->currentText() == QLatin1String("random"));
        m_testPath->setEnabled(given);
    };
    connect(m_split, &QComboBox::currentTextChanged, this, syncSplit);
    syncSplit();
    // The sequences loader reads 'user item item ...' lines: no delimiter choice, header, columns
    // or ratings apply.
    auto syncLoader = [this] {
        const bool columns = m_format->currentText() != QLatin1String("sequences");
        for (QWidget* w :
             std::initializer_list<QWidget*>{m_delimiter, m_header, m_user, m_item, m_rating,
                                             m_timestamp, m_implicit, m_implicitThreshold})
            w->setEnabled(columns);
    };
    connect(m_format, &QComboBox::currentTextChanged, this, syncLoader);
    syncLoader();
    refreshPreview();
    resize(720, 720);
}

void DatasetImportDialog::refreshPreview()
{
    const QString path = m_path->text();
    fillPreview(m_preview, path, m_encoding->currentText());
    try {
        const auto lines =
            previewLines(path.toStdString(), 2, m_encoding->currentText().toStdString());
        const std::string detected =
            detectFormat(path.toStdString(), lines.empty() ? std::string() : lines.front(),
                         lines.size() < 2 ? std::string() : lines[1]);
        m_detected->setText(tr("Detected loader: %1").arg(QString::fromStdString(detected)));
    } catch (const Error&) {
        m_detected->setText(tr("File cannot be read."));
    }
}

DatasetSpec DatasetImportDialog::spec() const
{
    DatasetSpec s = m_base;
    s.path = m_path->text().toStdString();
    s.testPath = m_testPath->isEnabled() ? m_testPath->text().toStdString() : std::string();
    s.validationPath = s.testPath.empty() ? std::string() : m_base.validationPath;
    s.itemsPath = m_itemsPath->text().toStdString();
    if (s.path != m_base.path) {
        // Another file: the demo's genre files no longer apply, and the name follows the file.
        s.itemFeaturesPath.clear();
        s.itemFeatureNamesPath.clear();
        s.name = QFileInfo(m_path->text()).fileName().toStdString();
    }
    s.format = m_format->currentText().toStdString();
    s.encoding = m_encoding->currentText().toStdString();
    s.delimiter = m_delimiter->currentData().toString().toStdString();
    s.header = m_header->currentText().toStdString();
    s.userColumn = m_user->text().toStdString();
    s.itemColumn = m_item->text().toStdString();
    s.ratingColumn = m_rating->text().toStdString();
    s.timestampColumn = m_timestamp->text().toStdString();
    s.implicitThreshold = m_implicit->isChecked()
                              ? std::optional<double>(m_implicitThreshold->value())
                              : std::nullopt;
    s.kcore = m_kcore->value();
    s.split.method = m_split->currentText().toStdString();
    s.split.testRatio = m_testRatio->value();
    s.split.validation = m_validation->currentText().toStdString();
    return s;
}

ScoresImportDialog::ScoresImportDialog(const ScoreFileSpec& spec, QWidget* parent)
    : QDialog(parent), m_base(spec)
{
    setWindowTitle(tr("Open LLM scores: mapping"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_path = new QLineEdit(QString::fromStdString(spec.path), this);
    form->addRow(tr("Score file"), pathRow(this, m_path, tr("Score file")));
    m_name = new QLineEdit(QString::fromStdString(spec.name), this);
    form->addRow(tr("Name"), m_name);
    m_kind = choices(this,
                     {QStringLiteral("auto"), QStringLiteral("rank"), QStringLiteral("pointwise"),
                      QStringLiteral("rating")},
                     QString::fromStdString(spec.kind));
    m_kind->setToolTip(
        tr("rank: ranked lists (rank 1 best); pointwise: scores in [0,1]; "
           "rating: a known scale mapped linearly to [0,1]."));
    form->addRow(tr("Kind"), m_kind);
    m_encoding = encodingBox(this, spec.encoding);
    form->addRow(tr("Text encoding"), m_encoding);
    m_delimiter = delimiterBox(this, spec.delimiter);
    form->addRow(tr("Delimiter"), m_delimiter);
    m_header = choices(this, {QStringLiteral("auto"), QStringLiteral("yes"), QStringLiteral("no")},
                       QString::fromStdString(spec.header));
    form->addRow(tr("Header line"), m_header);
    auto column = [this](const std::string& value) {
        auto* edit = new QLineEdit(QString::fromStdString(value), this);
        edit->setPlaceholderText(tr("detect"));
        edit->setToolTip(tr("A column name (with a header) or a 0-based index."));
        return edit;
    };
    m_user = column(spec.userColumn);
    m_item = column(spec.itemColumn);
    m_value = column(spec.valueColumn);
    form->addRow(tr("User column"), m_user);
    form->addRow(tr("Item column"), m_item);
    form->addRow(tr("Rank / score / rating column"), m_value);
    m_rankMapping = choices(this, {QStringLiteral("linear"), QStringLiteral("exponential")},
                            QString::fromStdString(spec.rankMapping));
    m_rankMapping->setToolTip(
        tr("linear: 1 - (rank-1)/N_u with N_u the user's list length; "
           "exponential: exp(-decay (rank-1))."));
    form->addRow(tr("Rank mapping"), m_rankMapping);
    m_decay = new QDoubleSpinBox(this);
    m_decay->setRange(0.0001, 10);
    m_decay->setDecimals(4);
    m_decay->setValue(spec.decay);
    form->addRow(tr("Decay"), m_decay);
    m_ratingMin = new QDoubleSpinBox(this);
    m_ratingMin->setRange(-1e6, 1e6);
    m_ratingMin->setValue(spec.ratingMin);
    m_ratingMax = new QDoubleSpinBox(this);
    m_ratingMax->setRange(-1e6, 1e6);
    m_ratingMax->setValue(spec.ratingMax);
    form->addRow(tr("Rating scale minimum"), m_ratingMin);
    form->addRow(tr("Rating scale maximum"), m_ratingMax);
    m_candidates = new QLineEdit(QString::fromStdString(spec.candidatesPath), this);
    m_candidates->setPlaceholderText(tr("optional: items offered to the LLM"));
    form->addRow(tr("Candidate file"), pathRow(this, m_candidates, tr("Candidate file")));
    m_candidateDefault = new QDoubleSpinBox(this);
    m_candidateDefault->setRange(0, 1);
    m_candidateDefault->setSingleStep(0.05);
    m_candidateDefault->setValue(spec.candidateDefault);
    m_candidateDefault->setToolTip(
        tr("Score of a candidate the LLM did not return (the paper uses 0.5)."));
    form->addRow(tr("Unanswered candidates score"), m_candidateDefault);
    m_missing = new QComboBox(this);
    m_missing->addItem(tr("skip the row (counted in the report)"), QStringLiteral("skip"));
    m_missing->addItem(tr("score it like an unanswered candidate"), QStringLiteral("default"));
    m_missing->addItem(tr("stop with an error"), QStringLiteral("error"));
    m_missing->setCurrentIndex(
        std::max(0, m_missing->findData(QString::fromStdString(spec.missing))));
    m_missing->setToolTip(tr("What a row with an empty score cell (no LLM answer) means."));
    form->addRow(tr("Empty score cells"), m_missing);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("First lines of the file (tabs shown as \u2192):"), this));
    m_preview = previewBox(this);
    layout->addWidget(m_preview, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Load"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    connect(m_path, &QLineEdit::textChanged, this, &ScoresImportDialog::refreshPreview);
    connect(m_encoding, &QComboBox::currentTextChanged, this, &ScoresImportDialog::refreshPreview);
    refreshPreview();
    resize(680, 660);
}

void ScoresImportDialog::refreshPreview()
{
    fillPreview(m_preview, m_path->text(), m_encoding->currentText());
}

ScoreFileSpec ScoresImportDialog::spec() const
{
    ScoreFileSpec s = m_base;
    s.simulate.reset();  // a file chosen here replaces a simulated LLM of the config
    s.path = m_path->text().toStdString();
    s.name = m_name->text().isEmpty() ? QFileInfo(m_path->text()).fileName().toStdString()
                                      : m_name->text().toStdString();
    s.kind = m_kind->currentText().toStdString();
    s.delimiter = m_delimiter->currentData().toString().toStdString();
    s.header = m_header->currentText().toStdString();
    s.userColumn = m_user->text().toStdString();
    s.itemColumn = m_item->text().toStdString();
    s.valueColumn = m_value->text().toStdString();
    s.rankMapping = m_rankMapping->currentText().toStdString();
    s.decay = m_decay->value();
    s.ratingMin = m_ratingMin->value();
    s.ratingMax = m_ratingMax->value();
    s.candidatesPath = m_candidates->text().toStdString();
    s.candidateDefault = m_candidateDefault->value();
    s.encoding = m_encoding->currentText().toStdString();
    s.missing = m_missing->currentData().toString().toStdString();
    return s;
}

}  // namespace sllmr::ui
