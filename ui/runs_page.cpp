#include "runs_page.h"

#include <QAction>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "engine/runs_model.h"
#include "error_text.h"
#include "table_export.h"
#include "table_util.h"

namespace sllmr::ui {

namespace {

// Filters on free text over every column and on the status.
class RunsFilter : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setNeedle(const QString& needle)
    {
        m_needle = needle;
        invalidateRowsFilter();
    }

    void setStatus(const QString& status)
    {
        m_status = status;
        invalidateRowsFilter();
    }

    // Header tooltips say the order in words: Qt draws a downward arrow for ascending order,
    // which many read the other way round.
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override
    {
        QVariant value = QSortFilterProxyModel::headerData(section, orientation, role);
        if (role != Qt::ToolTipRole || orientation != Qt::Horizontal)
            return value;
        QString text = value.toString();
        if (section == sortColumn())
            text +=
                QLatin1Char('\n') +
                (sortOrder() == Qt::AscendingOrder
                     ? QObject::tr("Sorted by this column: smallest first (A to Z, oldest first).")
                     : QObject::tr("Sorted by this column: largest first (Z to A, newest first)."));
        return text + QLatin1Char('\n') +
               QObject::tr("Click a title to sort by it; right-click to choose the columns.");
    }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& parent) const override
    {
        const auto* model = static_cast<const RunsModel*>(sourceModel());
        const RunRow* r = model->row(sourceRow);
        if (!r)
            return false;
        if (!m_status.isEmpty() && r->status != m_status)
            return false;
        const QString& needle = m_needle;
        if (needle.isEmpty())
            return true;
        for (int c = 0; c < model->columnCount(); ++c)
            if (model->index(sourceRow, c, parent)
                    .data()
                    .toString()
                    .contains(needle, Qt::CaseInsensitive))
                return true;
        return false;
    }

private:
    QString m_status;
    QString m_needle;
};

}  // namespace

RunsPage::RunsPage(RunsModel* model, QWidget* parent) : QWidget(parent), m_model(model)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);
    auto* bar = new QHBoxLayout;
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter runs (name, backbone, method, gate, tags, notes...)"));
    m_filter->setClearButtonEnabled(true);
    bar->addWidget(m_filter, 1);
    m_status = new QComboBox(this);
    m_status->addItem(tr("any status"), QString());
    for (const char* s : {"completed", "running", "cancelled", "interrupted", "failed", "pending"})
        m_status->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    bar->addWidget(m_status);
    auto* refresh = new QPushButton(tr("Refresh"), this);
    refresh->setShortcut(QKeySequence::Refresh);
    bar->addWidget(refresh);
    auto* exportButton = new QPushButton(tr("Export..."), this);
    exportButton->setToolTip(
        tr("The table as shown (filtered, sorted, visible columns) as CSV "
           "or a LaTeX table."));
    bar->addWidget(exportButton);
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* filter = new RunsFilter(this);
    m_proxy = filter;
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(Qt::EditRole);
    m_view = new QTableView(split);
    m_view->setObjectName(QStringLiteral("runsTable"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunsModel::Id, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setTextElideMode(Qt::ElideRight);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setAlternatingRowColors(true);
    setupColumns();

    QWidget* side = createSidePanel(split);
    split->addWidget(m_view);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_filter, &QLineEdit::textChanged, this, &RunsPage::setFilterText);
    connect(m_status, &QComboBox::currentIndexChanged, this,
            [this, filter] { filter->setStatus(m_status->currentData().toString()); });
    connect(refresh, &QPushButton::clicked, m_model, &RunsModel::refresh);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        exportTableWithDialog(this, *m_proxy, m_view->horizontalHeader(), QStringLiteral("runs"));
    });
    connect(m_diff, &QPushButton::clicked, this, &RunsPage::showConfigDiff);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &RunsPage::selectionChanged);
    connect(m_model, &RunsModel::refreshed, this, &RunsPage::selectionChanged);
    connect(m_save, &QPushButton::clicked, this, &RunsPage::saveNotes);
    connect(m_delete, &QPushButton::clicked, this, &RunsPage::deleteSelected);
    connect(m_json, &QPushButton::clicked, this, &RunsPage::showConfigJson);
    connect(m_again, &QPushButton::clicked, this, &RunsPage::runAgain);
    connect(m_resume, &QPushButton::clicked, this, [this] {
        const auto ids = selectedRuns();
        if (ids.size() == 1)
            Q_EMIT resumeRequested(ids.front());
    });
    connect(m_inspect, &QPushButton::clicked, this, [this] {
        const auto ids = selectedRuns();
        if (ids.size() == 1)
            Q_EMIT inspectRequested(ids.front());
    });
    connect(m_compare, &QPushButton::clicked, this,
            [this] { Q_EMIT compareRequested(selectedRuns()); });
    connect(m_view, &QTableView::doubleClicked, this,
            [this] { Q_EMIT compareRequested(selectedRuns()); });
    selectionChanged();
}

QWidget* RunsPage::createSidePanel(QWidget* parent)
{
    auto* side = new QWidget(parent);
    auto* sl = new QVBoxLayout(side);
    m_details = new QLabel(tr("Select a run."), side);
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    sl->addWidget(m_details);
    auto* notesBox = new QGroupBox(tr("Notes and tags"), side);
    auto* nf = new QFormLayout(notesBox);
    m_notes = new QPlainTextEdit(notesBox);
    m_notes->setPlaceholderText(tr("What this run was for, what you saw..."));
    m_tags = new QLineEdit(notesBox);
    m_tags->setPlaceholderText(tr("comma-separated, e.g. ablation, demo"));
    m_save = new QPushButton(tr("Save notes"), notesBox);
    nf->addRow(tr("Notes"), m_notes);
    nf->addRow(tr("Tags"), m_tags);
    nf->addRow(QString(), m_save);
    sl->addWidget(notesBox);
    auto* actions = new QGridLayout;
    m_again = new QPushButton(tr("Run again with this config"), side);
    m_resume = new QPushButton(tr("Resume"), side);
    m_resume->setToolTip(
        tr("Continue an interrupted or cancelled run from its last finished "
           "epoch; the result equals an uninterrupted run."));
    m_compare = new QPushButton(tr("Compare in Results"), side);
    m_compare->setToolTip(tr("Show the selected runs side by side on the Results page."));
    m_json = new QPushButton(tr("Open config as JSON"), side);
    m_delete = new QPushButton(tr("Delete..."), side);
    m_delete->setShortcut(QKeySequence::Delete);
    actions->addWidget(m_again, 0, 0);
    actions->addWidget(m_resume, 0, 1);
    actions->addWidget(m_compare, 1, 0);
    actions->addWidget(m_json, 1, 1);
    m_inspect = new QPushButton(tr("Inspect the gate"), side);
    m_inspect->setToolTip(tr("Open the run in the gate inspector."));
    m_diff = new QPushButton(tr("Compare configs"), side);
    m_diff->setToolTip(
        tr("Select two runs: their configurations side by side, differences "
           "only."));
    actions->addWidget(m_inspect, 2, 0);
    actions->addWidget(m_diff, 2, 1);
    actions->addWidget(m_delete, 3, 1);
    sl->addLayout(actions);
    sl->addStretch(1);
    return side;
}

void RunsPage::setupColumns()
{
    QHeaderView* header = m_view->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setMinimumSectionSize(40);
    // Numbers get the width of their digits; text columns a sensible width (elided beyond it).
    for (int c : {RunsModel::Id, RunsModel::Seed, RunsModel::Lambda, RunsModel::Auc,
                  RunsModel::ColdAuc, RunsModel::TailAuc})
        header->resizeSection(
            c, QFontMetrics(font()).horizontalAdvance(QStringLiteral("0.00000")) + 24);
    header->resizeSection(RunsModel::Name, 160);
    header->resizeSection(RunsModel::Created, 150);
    // Right-click the header to choose the columns.
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QHeaderView::customContextMenuRequested, this,
            [this, header](const QPoint& at) {
                QMenu menu(this);
                for (int c = 0; c < m_model->columnCount(); ++c) {
                    QAction* a = menu.addAction(
                        m_model->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
                    a->setCheckable(true);
                    a->setChecked(!header->isSectionHidden(c));
                    connect(a, &QAction::toggled, header,
                            [header, c](bool on) { header->setSectionHidden(c, !on); });
                }
                menu.exec(header->mapToGlobal(at));
            });
    header->setToolTip(tr("Right-click to choose the columns."));
}

void RunsPage::showConfigDiff()
{
    const auto ids = selectedRuns();
    if (ids.size() != 2) {
        QMessageBox::information(this, tr("Compare configs"), tr("Select exactly two runs."));
        return;
    }
    const RunRow* a = m_model->runById(ids[0]);
    const RunRow* b = m_model->runById(ids[1]);
    if (!a || !b)
        return;
    const QList<QStringList> rows = configDifferences(a->configJson, b->configJson);
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(
        tr("Run %1 and run %2: configuration differences").arg(a->id).arg(b->id));
    auto* layout = new QVBoxLayout(dialog);
    auto* table = new QTableWidget(dialog);
    table->setObjectName(QStringLiteral("configDiff"));
    table->verticalHeader()->hide();
    fillTable(table, {tr("Key"), tr("Run %1").arg(a->id), tr("Run %1").arg(b->id)}, rows);
    layout->addWidget(new QLabel(
        rows.isEmpty() ? tr("The configurations are identical.")
                       : tr("%n setting(s) differ.", nullptr, static_cast<int>(rows.size())),
        dialog));
    layout->addWidget(table, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(720, 480);
    dialog->show();
}

QList<QStringList> configDifferences(const QString& left, const QString& right)
{
    // Flattens both configs to dotted keys and lists the keys whose values differ.
    std::map<std::string, std::pair<std::string, std::string>> keys;
    const auto flatten = [&keys](const nlohmann::json& j, bool first) {
        const nlohmann::json flat = j.flatten();
        for (const auto& [key, value] : flat.items()) {
            auto& slot = keys[key];
            (first ? slot.first : slot.second) = value.dump();
        }
    };
    try {
        flatten(nlohmann::json::parse(left.toStdString()), true);
        flatten(nlohmann::json::parse(right.toStdString()), false);
    } catch (const nlohmann::json::exception& e) {
        return {{QObject::tr("(unreadable config)"), QString::fromUtf8(e.what()), QString()}};
    }
    QList<QStringList> rows;
    for (const auto& [key, values] : keys) {
        if (values.first == values.second)
            continue;
        QString dotted =
            QString::fromStdString(key).mid(1).replace(QLatin1Char('/'), QLatin1Char('.'));
        rows << QStringList{dotted, QString::fromStdString(values.first),
                            QString::fromStdString(values.second)};
    }
    return rows;
}

void RunsPage::setFilterText(const QString& text)
{
    if (m_filter->text() != text)
        m_filter->setText(text);
    static_cast<RunsFilter*>(m_proxy)->setNeedle(text);
}

QList<qint64> RunsPage::selectedRuns() const
{
    QList<qint64> ids;
    for (const QModelIndex& index : m_view->selectionModel()->selectedRows())
        if (const RunRow* r = m_model->row(m_proxy->mapToSource(index).row()))
            ids << r->id;
    return ids;
}

void RunsPage::selectRun(qint64 id)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        const QModelIndex index = m_proxy->index(r, 0);
        if (const RunRow* row = m_model->row(m_proxy->mapToSource(index).row());
            row && row->id == id) {
            m_view->selectRow(r);
            m_view->scrollTo(index);
            return;
        }
    }
}

void RunsPage::selectionChanged()
{
    const auto ids = selectedRuns();
    const RunRow* r = ids.size() == 1 ? m_model->runById(ids.front()) : nullptr;
    m_save->setEnabled(r != nullptr);
    m_notes->setEnabled(r != nullptr);
    m_tags->setEnabled(r != nullptr);
    m_again->setEnabled(r != nullptr);
    m_json->setEnabled(r != nullptr);
    m_inspect->setEnabled(r && r->status == QLatin1String("completed"));
    m_resume->setEnabled(r && (r->status == QLatin1String("interrupted") ||
                               r->status == QLatin1String("cancelled")));
    m_compare->setEnabled(!ids.isEmpty());
    m_delete->setEnabled(!ids.isEmpty());
    if (!r) {
        m_details->setText(ids.isEmpty() ? tr("Select a run.")
                                         : tr("%1 runs selected.").arg(ids.size()));
        m_notes->clear();
        m_tags->clear();
        return;
    }
    m_details->setText(
        tr("<b>Run %1</b> %2<br/>%3 &middot; %4%5 &middot; seed %6<br/>started %7%8%9")
            .arg(r->id)
            .arg(r->name.toHtmlEscaped(), r->backbone.toHtmlEscaped(), r->method.toHtmlEscaped(),
                 r->gate.isEmpty() ? QString()
                                   : QStringLiteral(" (%1 gate)").arg(r->gate.toHtmlEscaped()))
            .arg(r->seed)
            .arg(r->created.toHtmlEscaped(),
                 r->finished.isEmpty() ? QString()
                                       : tr(", finished %1").arg(r->finished.toHtmlEscaped()),
                 r->error.isEmpty() ? QString()
                                    : QStringLiteral("<br/><font color='#d55e00'>%1</font>")
                                          .arg(r->error.toHtmlEscaped())));
    m_notes->setPlainText(r->notes);
    m_tags->setText(r->tags);
}

void RunsPage::saveNotes()
{
    const auto ids = selectedRuns();
    if (ids.size() != 1)
        return;
    const qint64 id = ids.front();
    m_model->setNotes(id, m_notes->toPlainText(), m_tags->text(), [this, id](const QString& e) {
        if (!e.isEmpty())
            QMessageBox::critical(this, tr("Save notes"), e);
        selectRun(id);
    });
}

void RunsPage::deleteSelected()
{
    const auto ids = selectedRuns();
    if (ids.isEmpty())
        return;
    QStringList names;
    for (qint64 id : ids)
        names << QString::number(id);
    const auto answer = QMessageBox::question(
        this, tr("Delete runs"),
        tr("Delete run(s) %1 with all their metrics and checkpoints? This cannot be undone.")
            .arg(names.join(QStringLiteral(", "))),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes)
        return;
    for (qint64 id : ids)
        m_model->deleteRun(id, [this](const QString& e) {
            if (!e.isEmpty())
                QMessageBox::critical(this, tr("Delete runs"), e);
        });
}

void RunsPage::showConfigJson()
{
    const auto ids = selectedRuns();
    const RunRow* r = ids.size() == 1 ? m_model->runById(ids.front()) : nullptr;
    if (!r)
        return;
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Run %1: configuration").arg(r->id));
    auto* layout = new QVBoxLayout(&dialog);
    auto* text = new QPlainTextEdit(&dialog);
    text->setReadOnly(true);
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    QString pretty = r->configJson;
    try {
        pretty = QString::fromStdString(nlohmann::json::parse(r->configJson.toStdString()).dump(2));
    } catch (const nlohmann::json::exception&) {}
    text->setPlainText(pretty);
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog.resize(620, 700);
    dialog.exec();
}

void RunsPage::runAgain()
{
    const auto ids = selectedRuns();
    const RunRow* r = ids.size() == 1 ? m_model->runById(ids.front()) : nullptr;
    if (!r)
        return;
    try {
        RunConfig config = runConfigFromJson(nlohmann::json::parse(r->configJson.toStdString()));
        Q_EMIT runAgainRequested(config);
    } catch (const Error& e) {
        QMessageBox::critical(this, tr("Run again"), errorText(e));
    } catch (const nlohmann::json::exception& e) {
        QMessageBox::critical(
            this, tr("Run again"),
            tr("The stored configuration is not valid JSON: %1").arg(QString::fromUtf8(e.what())));
    }
}

}  // namespace sllmr::ui
