#include "model_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <fstream>

#include "common/error.h"
#include "engine/workbench.h"
#include "error_text.h"
#include "settings.h"
#include "table_util.h"

namespace sllmr::ui {

namespace {

const SettingKey<QString> kLastConfigDir{"paths/lastConfigDir", {}};

QDoubleSpinBox* real(QWidget* parent, double lo, double hi, double step, int decimals)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(lo, hi);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    return box;
}

QSpinBox* integer(QWidget* parent, int lo, int hi)
{
    auto* box = new QSpinBox(parent);
    box->setRange(lo, hi);
    return box;
}

QComboBox* choices(QWidget* parent, const QStringList& values)
{
    auto* box = new QComboBox(parent);
    box->addItems(values);
    return box;
}

void select(QComboBox* box, const std::string& value)
{
    const int index = box->findText(QString::fromStdString(value));
    box->setCurrentIndex(index >= 0 ? index : 0);
}

template <NamedChoice E>
void select(QComboBox* box, E value)
{
    select(box, toString(value));
}

// The choice a combo box shows; its items are the choice's names.
template <NamedChoice E>
E chosen(const QComboBox* box)
{
    return parseChoice<E>(box->currentText().toStdString()).value_or(E{});
}

QString range(double lo, double hi)
{
    const QString a = QLocale().toString(lo, 'f', 0);
    if (std::abs(hi - lo) < 0.5)
        return a;
    return QStringLiteral("%1 \u2013 %2").arg(a, QLocale().toString(hi, 'f', 0));
}

QString share(double part, double whole)
{
    return whole > 0 ? QStringLiteral("%1%").arg(100.0 * part / whole, 0, 'f', 1)
                     : QStringLiteral("-");
}

}  // namespace

ModelPage::ModelPage(Workbench* workbench, QWidget* parent)
    : QWidget(parent), m_workbench(workbench)
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(18, 12, 18, 12);
    auto* bar = new QHBoxLayout;
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("Run name"));
    m_name->setToolTip(tr("A name for the next run, shown in the run browser."));
    bar->addWidget(new QLabel(tr("Run name"), this));
    bar->addWidget(m_name, 1);
    auto* json = new QPushButton(tr("Edit as JSON..."), this);
    json->setToolTip(tr("Every setting of the run, including those not on this form."));
    connect(json, &QPushButton::clicked, this, &ModelPage::editAsJson);
    auto* load = new QPushButton(tr("Load config..."), this);
    connect(load, &QPushButton::clicked, this, &ModelPage::loadConfigFile);
    auto* save = new QPushButton(tr("Save config..."), this);
    save->setToolTip(tr("Save the configuration as a JSON file the CLI runs with 'sllmr run'."));
    connect(save, &QPushButton::clicked, this, &ModelPage::saveConfigFile);
    auto* reset = new QPushButton(tr("Reset to defaults"), this);
    reset->setToolTip(
        tr("Every setting on this page back to its default (the data and the LLM scores stay)."));
    connect(reset, &QPushButton::clicked, this, &ModelPage::resetToDefaults);
    bar->addWidget(json);
    bar->addWidget(load);
    bar->addWidget(save);
    bar->addWidget(reset);
    outer->addLayout(bar);

    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* scroll = new QScrollArea(split);
    scroll->setWidgetResizable(true);
    auto* formHost = new QWidget(scroll);
    auto* formLayout = new QVBoxLayout(formHost);

    for (QWidget* group : {createBackboneGroup(formHost), createMethodGroup(formHost),
                           createGateGroup(formHost), createTrainingGroup(formHost)})
        formLayout->addWidget(group);
    formLayout->addStretch(1);
    scroll->setWidget(formHost);
    auto* right = createPreview(split);
    split->addWidget(scroll);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    outer->addWidget(split, 1);
    connectEdits();
    showConfig(m_workbench->config());
}

void ModelPage::connectEdits()
{
    // Any edit updates the configuration and the preview.
    for (auto* box : findChildren<QComboBox*>())
        connect(box, &QComboBox::currentIndexChanged, this, &ModelPage::edited);
    for (auto* box : findChildren<QSpinBox*>())
        connect(box, &QSpinBox::valueChanged, this, &ModelPage::edited);
    for (auto* box : findChildren<QDoubleSpinBox*>())
        connect(box, &QDoubleSpinBox::valueChanged, this, &ModelPage::edited);
    for (auto* box : findChildren<QCheckBox*>())
        connect(box, &QCheckBox::toggled, this, &ModelPage::edited);
    for (auto* edit : {m_hidden, m_name})
        connect(edit, &QLineEdit::editingFinished, this, &ModelPage::edited);

    connect(m_workbench, &Workbench::configChanged, this, [this] {
        if (!m_updating)
            showConfig(m_workbench->config());
    });
    connect(m_workbench, &Workbench::derivedChanged, this, &ModelPage::refreshPreview);
}

QWidget* ModelPage::createBackboneGroup(QWidget* host)
{
    // Backbone
    auto* model = new QGroupBox(tr("Recommender (backbone)"), host);
    auto* mf = new QFormLayout(model);
    m_backbone = new QComboBox(model);
    for (const auto& type : backboneTypes())
        m_backbone->addItem(QString::fromStdString(type));
    m_backbone->setToolTip(
        tr("The recommender S-LLMR regularizes; all share one interface "
           "(a logit per user-item pair), so the method is model-agnostic."));
    mf->addRow(tr("Backbone"), m_backbone);
    m_dim = integer(model, 1, 1024);
    m_dim->setToolTip(tr("Embedding dimension of users, items and item fields (paper: 64)."));
    mf->addRow(tr("Embedding size"), m_dim);
    m_hidden = new QLineEdit(model);
    m_hidden->setToolTip(tr("Sizes of the DNN layers, comma-separated (CTR backbones)."));
    mf->addRow(tr("Hidden layers"), m_hidden);
    m_crossLayers = integer(model, 1, 16);
    m_crossLayers->setToolTip(tr("Number of cross layers (DCN backbones)."));
    mf->addRow(tr("Cross layers"), m_crossLayers);
    m_dropout = real(model, 0, 0.95, 0.05, 2);
    m_dropout->setToolTip(tr("Dropout rate; it also drives the 'dropout' uncertainty q."));
    mf->addRow(tr("Dropout"), m_dropout);
    m_itemFeatures = new QCheckBox(tr("use item fields (e.g. genres)"), model);
    m_itemFeatures->setToolTip(
        tr("Feed the dataset's item-side categorical fields to the "
           "backbone when it has them."));
    mf->addRow(QString(), m_itemFeatures);
    return model;
}

QWidget* ModelPage::createMethodGroup(QWidget* host)
{
    // Method
    auto* method = new QGroupBox(tr("LLM regularization"), host);
    auto* mm = new QFormLayout(method);
    m_method =
        choices(method, {QStringLiteral("none"), QStringLiteral("kd"), QStringLiteral("pointwise"),
                         QStringLiteral("global"), QStringLiteral("selective")});
    m_method->setToolTip(
        tr("none: the backbone alone; kd: distil every LLM score; pointwise: fit sigmoid(s) to "
           "the LLM score; global: the pairwise LLM hinge everywhere; selective: the hinge "
           "switched on per (user, item) by the gate (S-LLMR)."));
    mm->addRow(tr("Method"), m_method);
    m_lambda = real(method, 0, 100, 0.05, 3);
    m_lambda->setToolTip(
        tr("lambda: the weight of the LLM loss against the recommender's own "
           "loss."));
    mm->addRow(tr("lambda"), m_lambda);
    m_margin = real(method, 0, 100, 0.1, 2);
    m_margin->setToolTip(
        tr("m: the hinge asks s(u,i) - s(u,j) >= m when the LLM prefers i "
           "over j."));
    mm->addRow(tr("Margin m"), m_margin);
    m_pairs = integer(method, 1, 1000);
    m_pairs->setToolTip(
        tr("K: LLM pairs kept per user and batch (the largest |r_i - r_j| "
           "among random candidates), so heavy LLM users do not dominate."));
    mm->addRow(tr("Pair budget K"), m_pairs);
    return method;
}

QWidget* ModelPage::createGateGroup(QWidget* host)
{
    // Gate
    auto* gate = new QGroupBox(tr("Gate"), host);
    auto* gm = new QFormLayout(gate);
    m_gateMode = choices(
        gate, {QStringLiteral("reliability"), QStringLiteral("paper"), QStringLiteral("threshold"),
               QStringLiteral("random"), QStringLiteral("off")});
    m_gateMode->setToolTip(
        tr("reliability: learns where the LLM's order agrees with observed interactions; paper: "
           "learned on the LLM loss itself (it closes, as the inspector shows); threshold: on "
           "where a hand rule holds; random: on at random with a given rate; off: always on."));
    gm->addRow(tr("Gate mode"), m_gateMode);
    auto* inputs = new QWidget(gate);
    auto* ih = new QHBoxLayout(inputs);
    ih->setContentsMargins(0, 0, 0, 0);
    m_useCold = new QCheckBox(tr("Cold(u)"), inputs);
    m_useCold->setToolTip(tr("Cold(u) = 1 when the user's history is shorter than tau_u."));
    m_useTail = new QCheckBox(tr("Tail(i)"), inputs);
    m_useTail->setToolTip(tr("Tail(i) = 1 when the item's popularity is below tau_i."));
    m_useQ = new QCheckBox(tr("q(u,i)"), inputs);
    m_useQ->setToolTip(
        tr("q(u,i): how unsure the backbone is about (u, i), from its predicted "
           "probability; computed during training."));
    ih->addWidget(m_useCold);
    ih->addWidget(m_useTail);
    ih->addWidget(m_useQ);
    ih->addStretch(1);
    gm->addRow(tr("Inputs"), inputs);
    m_uncertainty = choices(
        gate, {QStringLiteral("entropy"), QStringLiteral("margin"), QStringLiteral("dropout")});
    m_uncertainty->setToolTip(
        tr("entropy: binary entropy of p; margin: 2(1 - max(p, 1-p)); "
           "dropout: variance of p over dropout passes."));
    gm->addRow(tr("Uncertainty q"), m_uncertainty);
    auto tauRow = [gate](QCheckBox*& set, QDoubleSpinBox*& value, const QString& tip) {
        auto* w = new QWidget(gate);
        auto* h = new QHBoxLayout(w);
        h->setContentsMargins(0, 0, 0, 0);
        set = new QCheckBox(QObject::tr("own value"), w);
        set->setToolTip(QObject::tr("Unchecked: the evaluation segment's threshold."));
        value = real(w, 0, 1e9, 1, 1);
        value->setToolTip(tip);
        h->addWidget(set);
        h->addWidget(value, 1);
        return w;
    };
    gm->addRow(tr("tau_u"), tauRow(m_tauUserSet, m_tauUser,
                                   tr("tau_u: users with fewer training interactions are "
                                      "cold-start (Cold(u) = 1).")));
    gm->addRow(tr("tau_i"), tauRow(m_tauItemSet, m_tauItem,
                                   tr("tau_i: items with fewer training interactions are "
                                      "long-tail (Tail(i) = 1).")));
    m_tauQ = real(gate, 0, 1, 0.05, 2);
    m_tauQ->setToolTip(
        tr("tau_q: the threshold gate treats q(u,i) > tau_q as 'the model is "
           "unsure'."));
    gm->addRow(tr("tau_q"), m_tauQ);
    m_rule = choices(gate, {QStringLiteral("any"), QStringLiteral("all")});
    m_rule->setToolTip(tr("Threshold gate: on when any (or all) enabled conditions hold."));
    gm->addRow(tr("Threshold rule"), m_rule);
    auto* hardRow = new QWidget(gate);
    auto* hh = new QHBoxLayout(hardRow);
    hh->setContentsMargins(0, 0, 0, 0);
    m_hard = new QCheckBox(tr("hard switch a > tau_a"), hardRow);
    m_hard->setToolTip(tr("Turn the learned gate into an on/off switch at tau_a."));
    m_tauA = real(hardRow, 0, 1, 0.05, 2);
    m_tauA->setToolTip(
        tr("tau_a: activation above which a pair counts as active (and the hard "
           "switch turns on)."));
    hh->addWidget(m_hard);
    hh->addWidget(m_tauA, 1);
    gm->addRow(tr("tau_a"), hardRow);
    m_randomRate = real(gate, 0, 1, 0.05, 3);
    m_randomRate->setToolTip(tr("Random gate: the probability that a pair is active."));
    gm->addRow(tr("Random rate"), m_randomRate);
    m_supervision = choices(gate, {QStringLiteral("train"), QStringLiteral("validation")});
    m_supervision->setToolTip(
        tr("Reliability gate: which positives label whether the LLM's "
           "order of a pair was right."));
    gm->addRow(tr("Gate supervision"), m_supervision);
    return gate;
}

QWidget* ModelPage::createTrainingGroup(QWidget* host)
{
    // Training
    auto* train = new QGroupBox(tr("Training"), host);
    auto* tm = new QFormLayout(train);
    m_epochs = integer(train, 1, 10000);
    m_epochs->setToolTip(tr("Maximum number of passes over the training interactions."));
    tm->addRow(tr("Epochs"), m_epochs);
    m_patience = integer(train, 0, 1000);
    m_patience->setSpecialValueText(tr("off"));
    m_patience->setToolTip(tr("Stop after this many epochs without a better validation AUC."));
    tm->addRow(tr("Early-stopping patience"), m_patience);
    m_batch = integer(train, 1, 1 << 20);
    tm->addRow(tr("Batch size"), m_batch);
    m_lr = real(train, 1e-6, 10, 1e-4, 5);
    tm->addRow(tr("Learning rate"), m_lr);
    m_seed = integer(train, 0, 2147483647);
    m_seed->setToolTip(tr("The same configuration and seed give the same numbers."));
    tm->addRow(tr("Seed"), m_seed);
    return train;
}

QWidget* ModelPage::createPreview(QWidget* parent)
{
    auto* right = new QWidget(parent);
    auto* rl = new QVBoxLayout(right);
    auto* previewTitle =
        new QLabel(tr("<b>What the thresholds switch on, before training</b>"), right);
    rl->addWidget(previewTitle);
    m_preview = new QTableWidget(right);
    m_preview->setObjectName(QStringLiteral("gatePreview"));
    m_preview->setColumnCount(6);
    m_preview->setHorizontalHeaderLabels({tr("Segment"), tr("Cold users"), tr("Tail items"),
                                          tr("LLM entries on"), tr("LLM pairs on"),
                                          tr("Pairs on, share")});
    m_preview->horizontalHeaderItem(3)->setToolTip(
        tr("Scored (user, item) entries whose gate input rule holds (threshold rule), out of "
           "all scored entries in the segment."));
    m_preview->horizontalHeaderItem(4)->setToolTip(
        tr("Candidate LLM pairs (i, j with different scores) weighted by the mean of their two "
           "sides' activation, as the trainer weights them."));
    m_preview->verticalHeader()->hide();
    m_preview->horizontalHeader()->setStretchLastSection(true);
    rl->addWidget(m_preview, 1);
    m_previewNote = new QLabel(right);
    m_previewNote->setWordWrap(true);
    rl->addWidget(m_previewNote);
    return right;
}

void ModelPage::showConfig(const RunConfig& c)
{
    m_updating = true;
    m_name->setText(QString::fromStdString(c.name));
    select(m_backbone, c.model.type);
    m_dim->setValue(c.model.dim);
    QStringList hidden;
    for (int h : c.model.hidden)
        hidden << QString::number(h);
    m_hidden->setText(hidden.join(QStringLiteral(", ")));
    m_crossLayers->setValue(c.model.crossLayers);
    m_dropout->setValue(c.model.dropout);
    m_itemFeatures->setChecked(c.model.itemFeatures);
    select(m_method, c.method.name);
    m_lambda->setValue(c.method.lambda);
    m_margin->setValue(c.method.margin);
    m_pairs->setValue(c.method.pairsPerUser);
    select(m_gateMode, c.gate.mode);
    m_useCold->setChecked(c.gate.useCold);
    m_useTail->setChecked(c.gate.useTail);
    m_useQ->setChecked(c.gate.useUncertainty);
    select(m_uncertainty, c.gate.uncertainty);
    const auto& seg = m_workbench->state().segmentation;
    m_tauUserSet->setChecked(c.gate.tauUser.has_value());
    m_tauUser->setValue(c.gate.tauUser.value_or(seg ? seg->tauUser : 0.0));
    m_tauItemSet->setChecked(c.gate.tauItem.has_value());
    m_tauItem->setValue(c.gate.tauItem.value_or(seg ? seg->tauItem : 0.0));
    m_tauQ->setValue(c.gate.tauQ);
    select(m_rule, c.gate.rule);
    m_hard->setChecked(c.gate.hard);
    m_tauA->setValue(c.gate.tauA);
    m_randomRate->setValue(c.gate.randomRate);
    select(m_supervision, c.gate.supervision);
    m_epochs->setValue(c.train.epochs);
    m_patience->setValue(c.train.patience);
    m_batch->setValue(c.train.batchSize);
    m_lr->setValue(c.train.learningRate);
    m_seed->setValue(static_cast<int>(c.seed));
    m_updating = false;
    syncEnabled();
    refreshPreview();
}

RunConfig ModelPage::formConfig() const
{
    RunConfig c = m_workbench->config();
    c.name = m_name->text().toStdString();
    c.model.type = m_backbone->currentText().toStdString();
    c.model.dim = m_dim->value();
    std::vector<int> hidden;
    for (const QString& part : m_hidden->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int h = part.trimmed().toInt(&ok);
        if (ok && h > 0)
            hidden.push_back(h);
    }
    if (!hidden.empty())
        c.model.hidden = hidden;
    c.model.crossLayers = m_crossLayers->value();
    c.model.dropout = m_dropout->value();
    c.model.itemFeatures = m_itemFeatures->isChecked();
    c.method.name = chosen<MethodName>(m_method);
    c.method.lambda = m_lambda->value();
    c.method.margin = m_margin->value();
    c.method.pairsPerUser = m_pairs->value();
    c.gate.mode = chosen<GateMode>(m_gateMode);
    if (c.method.name == MethodName::Global)
        c.gate.mode = GateMode::Off;
    c.gate.useCold = m_useCold->isChecked();
    c.gate.useTail = m_useTail->isChecked();
    c.gate.useUncertainty = m_useQ->isChecked();
    c.gate.uncertainty = chosen<GateUncertainty>(m_uncertainty);
    c.gate.tauUser =
        m_tauUserSet->isChecked() ? std::optional<double>(m_tauUser->value()) : std::nullopt;
    c.gate.tauItem =
        m_tauItemSet->isChecked() ? std::optional<double>(m_tauItem->value()) : std::nullopt;
    c.gate.tauQ = m_tauQ->value();
    c.gate.rule = chosen<GateRule>(m_rule);
    c.gate.hard = m_hard->isChecked();
    c.gate.tauA = m_tauA->value();
    c.gate.randomRate = m_randomRate->value();
    c.gate.supervision = chosen<GateSupervision>(m_supervision);
    c.train.epochs = m_epochs->value();
    c.train.patience = m_patience->value();
    c.train.batchSize = m_batch->value();
    c.train.learningRate = m_lr->value();
    c.seed = static_cast<std::uint64_t>(m_seed->value());
    return c;
}

void ModelPage::edited()
{
    if (m_updating)
        return;
    syncEnabled();
    m_updating = true;  // updateTraining() re-emits configChanged: do not rebuild the form
    m_workbench->updateTraining(formConfig());
    m_updating = false;
    refreshPreview();
}

void ModelPage::resetToDefaults()
{
    RunConfig defaults = defaultRunConfig();
    defaults.dataset = m_workbench->config().dataset;
    defaults.scores = m_workbench->config().scores;
    defaults.gate.tauUser.reset();
    defaults.gate.tauItem.reset();
    showConfig(defaults);
    m_updating = true;
    m_workbench->updateTraining(formConfig());
    m_updating = false;
    refreshPreview();
}

void ModelPage::syncEnabled()
{
    // Backbone sizes the chosen backbone does not use are disabled.
    const QString backbone = m_backbone->currentText();
    const bool ctr = backbone != QLatin1String("mf");
    m_hidden->setEnabled(ctr);
    m_crossLayers->setEnabled(backbone == QLatin1String("dcnv2") ||
                              backbone == QLatin1String("dcnv1"));
    m_itemFeatures->setEnabled(ctr);
    const auto method = chosen<MethodName>(m_method);
    const bool selective = method == MethodName::Selective;
    const auto mode = chosen<GateMode>(m_gateMode);
    const bool llm = method != MethodName::None;
    m_lambda->setEnabled(llm);
    m_margin->setEnabled(usesPairs(method));
    m_pairs->setEnabled(llm);
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_gateMode, m_useCold, m_useTail, m_useQ, m_uncertainty,
                                         m_tauUserSet, m_tauItemSet, m_tauUser, m_tauItem})
        w->setEnabled(selective);
    m_tauUser->setEnabled(selective && m_tauUserSet->isChecked());
    m_tauItem->setEnabled(selective && m_tauItemSet->isChecked());
    m_tauQ->setEnabled(selective && mode == GateMode::Threshold);
    m_rule->setEnabled(selective && mode == GateMode::Threshold);
    m_hard->setEnabled(selective && gateLearns(mode));
    m_randomRate->setEnabled(selective && mode == GateMode::Random);
    m_supervision->setEnabled(selective && mode == GateMode::Reliability);
}

void ModelPage::setGateThresholds(std::optional<double> tauUser, std::optional<double> tauItem)
{
    m_tauUserSet->setChecked(tauUser.has_value());
    if (tauUser)
        m_tauUser->setValue(*tauUser);
    m_tauItemSet->setChecked(tauItem.has_value());
    if (tauItem)
        m_tauItem->setValue(*tauItem);
}

void ModelPage::setGateMode(const QString& mode)
{
    m_gateMode->setCurrentText(mode);
}

void ModelPage::setMethod(const QString& method)
{
    m_method->setCurrentText(method);
}

void ModelPage::refreshPreview()
{
    const auto& state = m_workbench->state();
    m_preview->setRowCount(0);
    if (!state.preview || !state.segmentation) {
        m_previewNote->setText(
            tr("Load a dataset and LLM scores to see what the gate's inputs "
               "switch on."));
        return;
    }
    const RunConfig c = formConfig();
    GatePreviewSpec spec;
    const GateThresholds tau = resolveGateThresholds(c.gate, *state.segmentation);
    spec.tauUser = tau.tauUser;
    spec.tauItem = tau.tauItem;
    spec.useCold = c.gate.useCold;
    spec.useTail = c.gate.useTail;
    spec.useUncertainty = c.gate.useUncertainty;
    spec.rule = c.gate.rule;
    for (const auto& row : state.preview->preview(spec)) {
        const int r = m_preview->rowCount();
        m_preview->insertRow(r);
        m_preview->setItem(r, 0, readOnlyCell(QString::fromStdString(row.segment)));
        m_preview->setItem(
            r, 1, readOnlyCell(QStringLiteral("%1 / %2").arg(row.coldUsers).arg(row.users), true));
        m_preview->setItem(
            r, 2, readOnlyCell(QStringLiteral("%1 / %2").arg(row.tailItems).arg(row.items), true));
        m_preview->setItem(r, 3,
                           readOnlyCell(QStringLiteral("%1 / %2")
                                            .arg(range(row.activeEntriesLo, row.activeEntriesHi))
                                            .arg(row.entries),
                                        true));
        m_preview->setItem(
            r, 4,
            readOnlyCell(row.pairs > 0
                             ? QStringLiteral("%1 / %2")
                                   .arg(range(row.activePairsLo, row.activePairsHi))
                                   .arg(QLocale().toString(static_cast<qlonglong>(row.pairs)))
                             : QStringLiteral("-"),
                         true));
        m_preview->setItem(
            r, 5,
            readOnlyCell(
                row.pairs > 0
                    ? (std::abs(row.activePairsHi - row.activePairsLo) < 0.5
                           ? share(row.activePairsLo, static_cast<double>(row.pairs))
                           : QStringLiteral("%1 \u2013 %2")
                                 .arg(share(row.activePairsLo, static_cast<double>(row.pairs)),
                                      share(row.activePairsHi, static_cast<double>(row.pairs))))
                    : QStringLiteral("-"),
                true));
    }
    m_preview->resizeColumnsToContents();
    QString note = tr("Cold(u) = |H(u)| < %1, Tail(i) = pop(i) < %2, rule: %3 of the enabled "
                      "inputs.")
                       .arg(spec.tauUser)
                       .arg(spec.tauItem)
                       .arg(QString::fromStdString(toString(spec.rule)));
    if (spec.useUncertainty)
        note += QLatin1Char(' ') +
                tr("q(u,i) depends on the trained model, so ranges show the counts with the q "
                   "condition false for every entry and true for every entry.");
    if (c.method.name != MethodName::Selective)
        note += QLatin1Char(' ') + tr("(Method '%1' does not use the gate.)")
                                       .arg(QString::fromStdString(toString(c.method.name)));
    else if (c.gate.mode != GateMode::Threshold)
        note += QLatin1Char(' ') +
                tr("The '%1' gate learns its weights on these inputs; the counts show the "
                   "inputs, the inspector shows what it learned.")
                    .arg(QString::fromStdString(toString(c.gate.mode)));
    m_previewNote->setText(note);
}

void ModelPage::editAsJson()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Run configuration (JSON)"));
    auto* layout = new QVBoxLayout(&dialog);
    auto* edit = new QPlainTextEdit(&dialog);
    edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    edit->setPlainText(QString::fromStdString(toJson(formConfig()).dump(2)));
    layout->addWidget(edit);
    auto* buttons =
        new QDialogButtonBox(QDialogButtonBox::Apply | QDialogButtonBox::Cancel, &dialog);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, &dialog, [&] {
        try {
            const auto j = nlohmann::json::parse(edit->toPlainText().toStdString());
            m_workbench->setConfig(runConfigFromJson(j, {}));
            dialog.accept();
        } catch (const nlohmann::json::parse_error& e) {
            QMessageBox::warning(&dialog, tr("Run configuration"),
                                 tr("Not valid JSON: %1\n\nFix the syntax (a missing comma or "
                                    "quote is the usual cause).")
                                     .arg(QString::fromUtf8(e.what())));
        } catch (const Error& e) {
            QMessageBox::warning(&dialog, tr("Run configuration"), errorText(e));
        }
    });
    dialog.resize(640, 720);
    dialog.exec();
}

void ModelPage::loadConfigFile()
{
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Load run configuration"), kLastConfigDir.get(),
                                     tr("Run configs (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    kLastConfigDir.set(QFileInfo(path).absolutePath());
    try {
        m_workbench->setConfig(loadRunConfig(path.toStdString()));
    } catch (const Error& e) {
        QMessageBox::critical(this, tr("Load run configuration"), errorText(e));
    }
}

void ModelPage::saveConfigFile()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save run configuration"),
        QDir(kLastConfigDir.get()).filePath(QStringLiteral("run.json")), tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    kLastConfigDir.set(QFileInfo(path).absolutePath());
    std::ofstream out(path.toStdString());
    out << toJson(formConfig()).dump(2) << '\n';
    if (!out)
        QMessageBox::critical(this, tr("Save run configuration"),
                              tr("Could not write %1. Check that the folder exists and is "
                                 "writable.")
                                  .arg(path));
}

}  // namespace sllmr::ui
