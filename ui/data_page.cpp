#include "data_page.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QMouseEvent>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "chart.h"
#include "common/error.h"
#include "data/loaders.h"
#include "engine/workbench.h"
#include "import_dialogs.h"
#include "settings.h"
#include "table_util.h"

namespace sllmr::ui {

namespace {

const SettingKey<QStringList> kRecentDatasets{"data/recentFiles", {}};
const SettingKey<QString> kLastDatasetDir{"paths/lastDatasetDir", {}};
// The loader settings each recent file last loaded with (absolute path -> DatasetSpec JSON).
const SettingKey<QVariantMap> kRecentLoaders{"data/recentLoaders", {}};
constexpr int kMaxRecent = 8;

// Reads, edits and writes back the recent files' loader settings.
template <class Edit>
void editRecentLoaders(Edit edit)
{
    QVariantMap loaders = kRecentLoaders.get();
    edit(loaders);
    kRecentLoaders.set(loaders);
}
constexpr int kSegmentRowsInView = 6;
constexpr int kApplyDelayMs = 150;
constexpr int kGrabPixels = 7;

// Share of `counts` strictly below `tau`, and the test interactions they carry.
std::pair<std::int64_t, std::int64_t> below(const std::vector<std::uint32_t>& counts,
                                            const std::vector<std::int64_t>& tests, double tau)
{
    std::int64_t n = 0, t = 0;
    for (std::size_t k = 0; k < counts.size(); ++k)
        if (counts[k] < tau) {
            ++n;
            t += tests[k];
        }
    return {n, t};
}

// The decimals a share needs to be shown exactly (3 to 9).
int shareDecimals(double share)
{
    for (int d = 3; d < 9; ++d) {
        const double scale = std::pow(10.0, d);
        if (std::abs(std::round(share * scale) / scale - share) < 1e-12)
            return d;
    }
    return 9;
}

// A share in a box in share mode, with the decimals it needs (and a minimum that admits it).
void setShare(QDoubleSpinBox* box, double share)
{
    const int decimals = shareDecimals(share);
    box->setDecimals(decimals);
    box->setMinimum(std::min(0.001, std::pow(10.0, -decimals)));
    box->setValue(share);
}

// A threshold box as a share (0.001..1, three decimals) or a count (whole numbers: counts are
// integers, so "count below 2.5" is "count below 3").
void setValueMode(QDoubleSpinBox* box, bool quantile)
{
    if (quantile) {
        box->setDecimals(3);
        box->setRange(0.001, 1.0);
        box->setSingleStep(0.05);
    } else {
        box->setDecimals(0);
        box->setRange(1, 1e9);
        box->setSingleStep(1);
    }
}

QCPItemStraightLine* thresholdLine(Chart* chart, const QColor& color)
{
    auto* line = new QCPItemStraightLine(chart);
    QPen pen(color, 2, Qt::DashLine);
    line->setPen(pen);
    line->setSelectable(false);
    line->setObjectName(QStringLiteral("threshold"));
    line->setVisible(false);  // until a dataset gives it a place
    return line;
}

}  // namespace

DataPage::DataPage(Workbench* workbench, QWidget* parent) : QWidget(parent), m_workbench(workbench)
{
    setAcceptDrops(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 12, 18, 12);

    auto* bar = new QHBoxLayout;
    m_title = new QLabel(this);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    m_title->setFont(titleFont);
    bar->addWidget(m_title, 1);
    auto* open = new QPushButton(tr("Open dataset..."), this);
    open->setToolTip(
        tr("Open a ratings file (MovieLens CSV/.dat/u.data, RecBole .inter, or any "
           "delimited file). You can also drop a file on this page. (Ctrl+O)"));
    connect(open, &QPushButton::clicked, this, [this] { openDataset(); });
    bar->addWidget(open);
    // A push button with a menu: its arrow gets its own room (a tool button's touched the text).
    m_recent = new QPushButton(tr("Recent"), this);
    m_recent->setMenu(new QMenu(tr("Open &recent"), m_recent));
    bar->addWidget(m_recent);
    auto* mapping = new QPushButton(tr("Loader and split..."), this);
    mapping->setToolTip(
        tr("Change the loader, column mapping, filtering and split of the "
           "current dataset and reload it."));
    connect(mapping, &QPushButton::clicked, this,
            [this] { loadWithDialog(m_workbench->config().dataset); });
    bar->addWidget(mapping);
    layout->addLayout(bar);

    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);

    layout->addWidget(createThresholds());

    auto* split = new QSplitter(Qt::Vertical, this);
    QWidget* charts = createCharts(split);
    m_segments = new QTableWidget(split);
    m_segments->setObjectName(QStringLiteral("segmentTable"));
    m_segments->setColumnCount(5);
    m_segments->setHorizontalHeaderLabels(
        {tr("Segment"), tr("Members"), tr("Test interactions"), tr("Validation"), tr("Rule")});
    m_segments->horizontalHeader()->setStretchLastSection(true);
    m_segments->verticalHeader()->hide();
    split->addWidget(charts);
    split->addWidget(m_segments);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connectThresholds();
    connectWorkbench();
    rebuildRecentMenu();
    // Shown, not applied: they are the configuration's already (applying them here once raced
    // the first load and overrode thresholds set meanwhile).
    showThresholds(m_workbench->config().dataset.segments.cold,
                   m_workbench->config().dataset.segments.tail);
    m_title->setText(tr("No dataset loaded"));
}

QWidget* DataPage::createThresholds()
{
    auto* thresholds = new QGroupBox(tr("Segment thresholds"), this);
    auto* form = new QFormLayout(thresholds);
    auto modeBox = [this] {
        auto* box = new QComboBox(this);
        box->addItem(tr("bottom share (quantile)"), QStringLiteral("quantile"));
        box->addItem(tr("count below (absolute)"), QStringLiteral("absolute"));
        return box;
    };
    auto valueBox = [this] {
        auto* box = new QDoubleSpinBox(this);
        // One width for both modes and every share's decimals (it jumped when the mode changed).
        setValueMode(box, false);
        int width = box->sizeHint().width();
        setValueMode(box, true);
        box->setDecimals(9);
        width = std::max(width, box->sizeHint().width());
        setValueMode(box, true);
        box->setFixedWidth(width);
        return box;
    };
    m_coldMode = modeBox();
    m_coldValue = valueBox();
    m_coldLive = new QLabel(this);
    m_tailMode = modeBox();
    m_tailValue = valueBox();
    m_tailLive = new QLabel(this);
    for (QLabel* live : {m_coldLive, m_tailLive}) {
        // Wrapped, not clipped, in a narrow window (the tie note makes them long).
        live->setWordWrap(true);
        live->setMinimumWidth(120);
        // Two lines' height from the start: the charts below do not jump as a label wraps.
        live->setMinimumHeight(2 * live->fontMetrics().lineSpacing());
    }
    m_coldMode->setObjectName(QStringLiteral("coldMode"));
    m_coldValue->setObjectName(QStringLiteral("coldValue"));
    m_tailMode->setObjectName(QStringLiteral("tailMode"));
    m_tailValue->setObjectName(QStringLiteral("tailValue"));
    const QString coldTip =
        tr("Cold-start users: |H(u)| < tau_u, the users with the shortest "
           "training histories. The paper's tau_u is 3; quantiles suit data "
           "where nobody has fewer than a handful of ratings.");
    const QString tailTip =
        tr("Long-tail items: pop(i) < tau_i, the least-rated items in "
           "training (the paper: the bottom 20%).");
    for (QWidget* w : {static_cast<QWidget*>(m_coldMode), static_cast<QWidget*>(m_coldValue),
                       static_cast<QWidget*>(m_coldLive)})
        w->setToolTip(coldTip);
    for (QWidget* w : {static_cast<QWidget*>(m_tailMode), static_cast<QWidget*>(m_tailValue),
                       static_cast<QWidget*>(m_tailLive)})
        w->setToolTip(tailTip);
    auto row = [this](QComboBox* mode, QDoubleSpinBox* value, QLabel* live) {
        auto* w = new QWidget(this);
        auto* h = new QHBoxLayout(w);
        h->setContentsMargins(0, 0, 0, 0);
        // Aligned with the row's title when the label wraps onto more lines.
        h->addWidget(mode, 0, Qt::AlignTop);
        h->addWidget(value, 0, Qt::AlignTop);
        h->addWidget(live, 1, Qt::AlignTop);
        return w;
    };
    form->addRow(tr("Cold users (tau_u)"), row(m_coldMode, m_coldValue, m_coldLive));
    form->addRow(tr("Long-tail items (tau_i)"), row(m_tailMode, m_tailValue, m_tailLive));
    return thresholds;
}

QWidget* DataPage::createCharts(QWidget* parent)
{
    auto* charts = new QSplitter(Qt::Horizontal, parent);
    m_popularity = new Chart(tr("Item popularity (long tail)"), charts);
    m_popularity->setObjectName(QStringLiteral("popularityChart"));
    m_popularity->xAxis->setLabel(tr("Items, most rated first"));
    m_popularity->yAxis->setLabel(tr("Training interactions per item"));
    m_popularity->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_popularity->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_popularity->addGraph()->setName(tr("pop(i)"));
    m_popularity->graph(0)->setPen(QPen(seriesColor(0), 2));
    thresholdLine(m_popularity, seriesColor(5));
    m_popularity->setToolTip(
        tr("Drag the dashed line to move the long-tail threshold tau_i. "
           "Right-click to export."));
    m_history = new Chart(tr("User history length"), charts);
    m_history->setObjectName(QStringLiteral("historyChart"));
    m_history->xAxis->setLabel(tr("|H(u)|, training interactions (log scale)"));
    m_history->yAxis->setLabel(tr("Users per length (mean over the bin)"));
    m_history->xAxis->setScaleType(QCPAxis::stLogarithmic);
    m_history->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_history->addGraph()->setName(tr("users"));
    m_history->graph(0)->setLineStyle(QCPGraph::lsStepLeft);
    m_history->graph(0)->setPen(QPen(seriesColor(0), 1.5));
    m_history->graph(0)->setBrush(QColor(0, 114, 178, 70));
    thresholdLine(m_history, seriesColor(5));
    m_history->setToolTip(
        tr("Drag the dashed line to move the cold-user threshold tau_u. "
           "Right-click to export."));
    for (Chart* c : {m_popularity, m_history}) {
        c->installEventFilter(this);
        c->setPlaceholder(
            tr("Open a dataset (Ctrl+O) or load the demo (File > Load the demo): its "
               "distribution is drawn here."));
    }
    return charts;
}

void DataPage::connectThresholds()
{
    m_applyTimer = new QTimer(this);
    m_applyTimer->setSingleShot(true);
    m_applyTimer->setInterval(kApplyDelayMs);
    connect(m_applyTimer, &QTimer::timeout, this, [this] {
        m_workbench->setSegments(
            {coldThreshold(), tailThreshold(), m_workbench->config().dataset.segments.buckets});
    });
    for (QComboBox* box : {m_coldMode, m_tailMode})
        connect(box, &QComboBox::currentIndexChanged, this, [this, box] {
            if (m_updating)
                return;
            // Switching mode: keep the same cut, expressed in the new mode (the count the share
            // resolves to, or the share of counts below the count).
            const bool users = box == m_coldMode;
            QDoubleSpinBox* value = users ? m_coldValue : m_tailValue;
            const auto& ds = m_workbench->state().dataset;
            const double before = value->value();
            m_updating = true;
            const bool quantile = box->currentData().toString() == QLatin1String("quantile");
            setValueMode(value, quantile);
            if (ds) {
                const auto base = quantileBase(users ? ds->historyLength : ds->popularity);
                if (quantile) {
                    // A share with the decimals it needs to cut where the count did; with nothing
                    // below the count, the smallest share (a quantile takes at least one entry).
                    setShare(value, shareForCut(base, before).value_or(0.001));
                } else {
                    value->setValue(
                        std::max(1.0, resolveThreshold(Threshold{"quantile", before}, base)));
                }
            } else {
                value->setValue(quantile ? 0.2 : 3.0);
            }
            m_updating = false;
            thresholdsEdited();
        });
    for (QDoubleSpinBox* box : {m_coldValue, m_tailValue})
        connect(box, &QDoubleSpinBox::valueChanged, this, [this] {
            if (!m_updating)
                thresholdsEdited();
        });
}

void DataPage::connectWorkbench()
{
    connect(m_workbench, &Workbench::datasetLoaded, this, &DataPage::showDataset);
    connect(m_workbench, &Workbench::datasetLoaded, this, [this] {
        const QString path = QFileInfo(QString::fromStdString(m_workbench->config().dataset.path))
                                 .absoluteFilePath();
        if (!m_pendingRecent.isEmpty() && path == m_pendingRecent)
            rememberRecent(m_pendingRecent);
        m_pendingRecent.clear();
        m_pendingWithStoredLoader = false;
        // A recent file reopens with the loader, mapping and split it last loaded with (also
        // when changed with "Loader and split..."), its other files named absolutely.
        if (kRecentDatasets.get().contains(path)) {
            DatasetSpec spec = m_workbench->config().dataset;
            spec.resolvePaths(QDir::currentPath().toStdString());
            editRecentLoaders([&](QVariantMap& loaders) {
                loaders.insert(path, QString::fromStdString(nlohmann::json(spec).dump()));
            });
        }
    });
    connect(m_workbench, &Workbench::failed, this, [this] {
        // Settings that no longer fit the file (rewritten, or a file beside it moved): the next
        // open from Recent detects the loader again and shows the dialog.
        if (m_pendingWithStoredLoader)
            editRecentLoaders([this](QVariantMap& loaders) { loaders.remove(m_pendingRecent); });
        m_pendingRecent.clear();
        m_pendingWithStoredLoader = false;
    });
    connect(m_workbench, &Workbench::derivedChanged, this, &DataPage::showSegments);
    // Undo and redo change the thresholds from outside: show them (unless an edit here is still
    // waiting to be applied).
    connect(m_workbench, &Workbench::configChanged, this, [this] {
        const auto& segments = m_workbench->config().dataset.segments;
        const auto shown = [](const Threshold& a, const Threshold& b) {
            return a.mode == b.mode && std::abs(a.value - b.value) < 1e-9;
        };
        // Every edit of a training setting emits configChanged: redraw only when they differ.
        if (m_applyTimer->isActive() || !m_workbench->state().dataset ||
            (shown(coldThreshold(), segments.cold) && shown(tailThreshold(), segments.tail)))
            return;
        showThresholds(segments.cold, segments.tail);
    });
}

void DataPage::openDataset(const QString& given)
{
    QString path = given;
    if (path.isEmpty()) {
        QString dir = kLastDatasetDir.get();
        if (dir.isEmpty())
            dir = QFileInfo(QString::fromStdString(m_workbench->config().dataset.path)).path();
        path = QFileDialog::getOpenFileName(
            this, tr("Open dataset"), dir,
            tr("Ratings (*.csv *.tsv *.dat *.data *.inter *.txt *.gz);;All files (*)"));
        if (path.isEmpty())
            return;
    }
    kLastDatasetDir.set(QFileInfo(path).absolutePath());
    DatasetSpec spec;
    spec.path = QFileInfo(path).absoluteFilePath().toStdString();
    spec.name = QFileInfo(path).fileName().toStdString();
    spec.segments = m_workbench->config().dataset.segments;
    spec.split.method = "leave-one-out";
    // MovieLens ratings next to their item file: titles and genres come along. The 100K and 1M
    // releases (u.data + u.item, ratings.dat + movies.dat) are Latin-1 text.
    const QString name = QFileInfo(path).fileName().toLower();
    const QDir dir = QFileInfo(path).dir();
    const QString movies = name == QLatin1String("u.data") ? dir.filePath(QStringLiteral("u.item"))
                           : name.startsWith(QLatin1String("ratings.dat"))
                               ? dir.filePath(QStringLiteral("movies.dat"))
                               : dir.filePath(QStringLiteral("movies.csv"));
    if (QFileInfo::exists(movies)) {
        spec.itemsPath = movies.toStdString();
        if (!movies.endsWith(QLatin1String(".csv")))
            spec.encoding = "latin1";
    }
    std::string format;
    try {
        const auto lines = previewLines(spec.path, 2, spec.encoding);
        format = detectFormat(spec.path, lines.empty() ? std::string() : lines.front(),
                              lines.size() < 2 ? std::string() : lines[1]);
    } catch (const Error&) {
        format = "delimited";  // the dialog shows why it cannot be read
    }
    // File > Recent lists a file once it has loaded, never one that failed to open.
    m_pendingRecent = QFileInfo(path).absoluteFilePath();
    m_pendingWithStoredLoader = false;
    // One line per user in time order (the Amazon files of SASRec and the paper): the dialog opens
    // on that loader, with the leave-one-out split above.
    if (format == "sequences")
        spec.format = format;
    if (format == "delimited" || format == "sequences")
        loadWithDialog(spec);
    else
        m_workbench->loadDataset(spec);
}

void DataPage::loadWithDialog(const DatasetSpec& spec)
{
    DatasetImportDialog dialog(spec, this);
    if (dialog.exec() == QDialog::Accepted)
        m_workbench->loadDataset(dialog.spec());
}

void DataPage::rememberRecent(const QString& path)
{
    QStringList recent = kRecentDatasets.get();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    kRecentDatasets.set(recent);
    editRecentLoaders([&recent](QVariantMap& loaders) {
        for (const QString& listed : loaders.keys())
            if (!recent.contains(listed))
                loaders.remove(listed);
    });
    rebuildRecentMenu();
}

void DataPage::openRecent(const QString& path)
{
    const QString stored = kRecentLoaders.get().value(path).toString();
    if (stored.isEmpty())
        return openDataset(path);
    DatasetSpec spec;
    try {
        spec = datasetSpecFromJson(nlohmann::json::parse(stored.toStdString()));
    } catch (const std::exception&) {
        return openDataset(path);  // written by another version: detect the loader again
    }
    // The thresholds are the ones set now, as for any file opened.
    spec.segments = m_workbench->config().dataset.segments;
    m_pendingRecent = path;
    m_pendingWithStoredLoader = true;
    m_workbench->loadDataset(spec);
}

void DataPage::rebuildRecentMenu()
{
    QMenu* menu = m_recent->menu();
    menu->clear();
    const QStringList recent = kRecentDatasets.get();
    for (const QString& path : recent)
        menu->addAction(QFileInfo(path).fileName() + QStringLiteral("  \u2014  ") + path, this,
                        [this, path] { openRecent(path); });
    m_recent->setEnabled(!recent.isEmpty());
    menu->menuAction()->setEnabled(!recent.isEmpty());
}

QMenu* DataPage::recentMenu() const
{
    return m_recent->menu();
}

void DataPage::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls() && event->mimeData()->urls().first().isLocalFile())
        event->acceptProposedAction();
}

void DataPage::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        event->acceptProposedAction();
        const QString path = urls.first().toLocalFile();
        QTimer::singleShot(0, this, [this, path] { openDataset(path); });
    }
}

Threshold DataPage::coldThreshold() const
{
    return {m_coldMode->currentData().toString().toStdString(), m_coldValue->value()};
}

Threshold DataPage::tailThreshold() const
{
    return {m_tailMode->currentData().toString().toStdString(), m_tailValue->value()};
}

double DataPage::resolvedTau(bool users) const
{
    const auto& ds = m_workbench->state().dataset;
    if (!ds)
        return 0;
    return resolveThreshold(users ? coldThreshold() : tailThreshold(),
                            quantileBase(users ? ds->historyLength : ds->popularity));
}

void DataPage::setThresholds(const Threshold& cold, const Threshold& tail)
{
    showThresholds(cold, tail);
    thresholdsEdited();
}

void DataPage::showThresholds(const Threshold& cold, const Threshold& tail)
{
    m_updating = true;
    auto apply = [](QComboBox* mode, QDoubleSpinBox* value, const Threshold& t) {
        mode->setCurrentIndex(std::max(0, mode->findData(QString::fromStdString(t.mode))));
        const bool quantile = t.mode == "quantile";
        setValueMode(value, quantile);
        if (quantile)
            setShare(value, t.value);
        else
            value->setValue(std::ceil(t.value));
    };
    apply(m_coldMode, m_coldValue, cold);
    apply(m_tailMode, m_tailValue, tail);
    m_updating = false;
    updateLive();
}

void DataPage::thresholdsEdited()
{
    updateLive();
    m_applyTimer->start();
}

void DataPage::updateLive()
{
    const auto& ds = m_workbench->state().dataset;
    if (!ds) {
        m_coldLive->setText(tr("load a dataset to see the segment sizes"));
        m_tailLive->clear();
        return;
    }
    std::vector<std::int64_t> userTests(ds->numUsers(), 0), itemTests(ds->numItems(), 0);
    for (const auto& x : ds->test) {
        ++userTests[x.user];
        ++itemTests[x.item];
    }
    const double tauU = resolvedTau(true);
    const double tauI = resolvedTau(false);
    const auto [coldUsers, coldTests] = below(ds->historyLength, userTests, tauU);
    const auto [tailItems, tailTests] = below(ds->popularity, itemTests, tauI);
    // A share cuts between two counts: when many users (items) share the count at the cut, the
    // segment holds more than the share asked for. Say so, with the share it holds among the
    // entries the quantile is taken over (those with a positive count).
    auto tieNote = [](const Threshold& t, const std::vector<std::uint32_t>& counts, double tau) {
        if (t.mode != "quantile")
            return QString();
        const auto base = quantileBase(counts);
        if (base.empty())
            return QString();
        const auto members =
            std::count_if(base.begin(), base.end(), [tau](std::uint32_t c) { return c < tau; });
        const double share = static_cast<double>(members) / static_cast<double>(base.size());
        if (share <= t.value + 0.005)
            return QString();
        // Entries with no training interaction are not in the quantile's base: say whose share.
        const QString whose = base.size() == counts.size()
                                  ? tr("of them")
                                  : tr("of the %1 with a training interaction")
                                        .arg(countText(static_cast<std::int64_t>(base.size())));
        return tr(" (%1% %2, not %3%: ties at the cut count are all in)")
            .arg(100.0 * share, 0, 'f', 1)
            .arg(whose)
            .arg(100.0 * t.value, 0, 'f', 1);
    };
    m_coldLive->setText(tr("|H(u)| < %1: %2 users, %3 test interactions")
                            .arg(tauU)
                            .arg(countText(coldUsers), countText(coldTests)) +
                        tieNote(coldThreshold(), ds->historyLength, tauU));
    m_tailLive->setText(tr("pop(i) < %1: %2 items, %3 test interactions")
                            .arg(tauI)
                            .arg(countText(tailItems), countText(tailTests)) +
                        tieNote(tailThreshold(), ds->popularity, tauI));
    if (auto* line = m_popularity->findChild<QCPItemStraightLine*>(QStringLiteral("threshold"))) {
        line->point1->setCoords(0, std::max(tauI, 0.5));
        line->point2->setCoords(1, std::max(tauI, 0.5));
        line->setVisible(true);
        m_popularity->requestReplot();
    }
    if (auto* line = m_history->findChild<QCPItemStraightLine*>(QStringLiteral("threshold"))) {
        line->point1->setCoords(std::max(tauU, 0.5), 0);
        line->point2->setCoords(std::max(tauU, 0.5), 1);
        line->setVisible(true);
        m_history->requestReplot();
    }
}

QString DataPage::liveSummary() const
{
    return m_coldLive->text() + QLatin1Char('\n') + m_tailLive->text();
}

void DataPage::showDataset()
{
    const auto& ds = m_workbench->state().dataset;
    if (!ds)
        return;
    const auto& spec = m_workbench->config().dataset;
    m_title->setText(QString::fromStdString(spec.name.empty() ? spec.path : spec.name));
    const double users = ds->numUsers(), items = ds->numItems();
    const double density =
        users * items > 0 ? static_cast<double>(ds->numInteractions()) / (users * items) : 0.0;
    std::vector<std::uint32_t> hist = ds->historyLength;
    std::sort(hist.begin(), hist.end());
    const auto median = hist.empty() ? 0u : hist[hist.size() / 2];
    m_summary->setText(
        tr("<b>%1</b> users &middot; <b>%2</b> items &middot; <b>%3</b> interactions (train %4, "
           "validation %5, test %6) &middot; density %7% &middot; median history %8 &middot; "
           "%9 &middot; split: %10<br/><small>%11</small>")
            .arg(countText(ds->numUsers()), countText(ds->numItems()),
                 countText(static_cast<std::int64_t>(ds->numInteractions())),
                 countText(static_cast<std::int64_t>(ds->train.size())),
                 countText(static_cast<std::int64_t>(ds->validation.size())),
                 countText(static_cast<std::int64_t>(ds->test.size())))
            .arg(density * 100.0, 0, 'f', 3)
            .arg(median)
            .arg(ds->hasRatings ? tr("ratings") : tr("implicit"),
                 QString::fromStdString(spec.split.method),
                 QString::fromStdString(spec.path).toHtmlEscaped()));

    // Popularity curve: items sorted by training count, log scale (zero counts cannot be shown).
    std::vector<std::uint32_t> pop = ds->popularity;
    std::sort(pop.begin(), pop.end(), std::greater<>());
    QVector<double> x, y;
    for (std::size_t k = 0; k < pop.size() && pop[k] > 0; ++k) {
        x.push_back(static_cast<double>(k + 1));
        y.push_back(pop[k]);
    }
    m_popularity->graph(0)->setData(x, y, true);
    m_popularity->xAxis->setRange(0, static_cast<double>(pop.size()) + 1);
    m_popularity->yAxis->setRange(0.8, pop.empty() ? 10.0 : pop.front() * 1.3);
    m_popularity->setPlaceholder({});

    // History histogram on log-spaced bins (half powers of two, at integer edges). The bins hold
    // different numbers of integer lengths ([4,5) one, [5,7) two), so a bar is the bin's users
    // per length, the bin's mean: raw counts would draw a rise wherever a bin widens.
    QVector<double> hx, hy;
    if (!hist.empty()) {
        const double maxLen = std::max<double>(hist.back(), 1.0);
        double lo = 1;
        std::size_t k = 0;
        while (lo <= maxLen) {
            const double hi = std::max(lo + 1, std::floor(lo * 1.41421356));
            std::int64_t n = 0;
            while (k < hist.size() && hist[k] < hi) {
                n += hist[k] >= lo;
                ++k;
            }
            hx.push_back(lo);
            hy.push_back(static_cast<double>(n) / (hi - lo));
            lo = hi;
        }
        hx.push_back(lo);
        hy.push_back(0);
        m_history->xAxis->setRange(0.8, lo * 1.1);
        m_history->yAxis->setRange(0, *std::max_element(hy.begin(), hy.end()) * 1.15 + 1);
    }
    m_history->graph(0)->setData(hx, hy, true);
    m_history->setPlaceholder({});
    // The loaded dataset's thresholds: shown, not applied again (the load computed them).
    showThresholds(spec.segments.cold, spec.segments.tail);
}

void DataPage::showSegments()
{
    const auto& seg = m_workbench->state().segmentation;
    if (!seg)
        return;
    m_segments->setRowCount(0);
    for (const auto& s : seg->segments) {
        const int r = m_segments->rowCount();
        m_segments->insertRow(r);
        m_segments->setItem(r, 0, readOnlyCell(QString::fromStdString(s.name)));
        m_segments->setItem(r, 1, readOnlyCell(countText(s.memberCount), true));
        m_segments->setItem(r, 2, readOnlyCell(countText(s.testInteractions), true));
        m_segments->setItem(r, 3, readOnlyCell(countText(s.validationInteractions), true));
        m_segments->setItem(r, 4, readOnlyCell(QString::fromStdString(s.description)));
    }
    // The number columns fit their text; the rule (last) keeps the rest of the width. Sizing it
    // too left a blank strip on its right until the window was resized.
    for (int c = 0; c + 1 < m_segments->columnCount(); ++c)
        m_segments->resizeColumnToContents(c);
    m_segments->scrollToTop();
    // At least the named segments in view (the splitter gave it about three rows); the buckets
    // below them scroll.
    const int rows = std::min(m_segments->rowCount(), kSegmentRowsInView);
    int height = m_segments->horizontalHeader()->sizeHint().height() + 2 * m_segments->frameWidth();
    for (int r = 0; r < rows; ++r)
        height += m_segments->rowHeight(r);
    m_segments->setMinimumHeight(height);
    updateLive();
}

bool DataPage::eventFilter(QObject* watched, QEvent* event)
{
    auto* chart = qobject_cast<Chart*>(watched);
    if (!chart || !m_workbench->state().dataset)
        return QWidget::eventFilter(watched, event);
    const bool isTail = chart == m_popularity;
    auto* line = chart->findChild<QCPItemStraightLine*>(QStringLiteral("threshold"));
    if (!line)
        return false;
    if (event->type() == QEvent::MouseButtonPress) {
        const auto* me = static_cast<QMouseEvent*>(event);
        if (me->button() != Qt::LeftButton)
            return false;
        const QPointF p1 = line->point1->pixelPosition();
        const double distance =
            isTail ? std::abs(me->position().y() - p1.y()) : std::abs(me->position().x() - p1.x());
        if (distance <= kGrabPixels) {
            m_dragging = isTail ? 1 : 2;
            return true;
        }
    } else if (event->type() == QEvent::MouseMove) {
        const auto* me = static_cast<QMouseEvent*>(event);
        if (m_dragging == 0) {
            const QPointF p1 = line->point1->pixelPosition();
            const double distance = isTail ? std::abs(me->position().y() - p1.y())
                                           : std::abs(me->position().x() - p1.x());
            chart->setCursor(distance <= kGrabPixels
                                 ? (isTail ? Qt::SplitVCursor : Qt::SplitHCursor)
                                 : Qt::ArrowCursor);
            return false;
        }
        // Dragging sets an absolute threshold (a whole count).
        const double value = isTail ? chart->yAxis->pixelToCoord(me->position().y())
                                    : chart->xAxis->pixelToCoord(me->position().x());
        const Threshold t{"absolute", std::max(1.0, std::round(value))};
        if (isTail)
            setThresholds(coldThreshold(), t);
        else
            setThresholds(t, tailThreshold());
        return true;
    } else if (event->type() == QEvent::MouseButtonRelease && m_dragging != 0) {
        m_dragging = 0;
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

}  // namespace sllmr::ui
