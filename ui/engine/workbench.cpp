#include "engine/workbench.h"

#include <QPointer>

#include <exception>
#include <utility>

#include "common/error.h"
#include "data/loaders.h"
#include "error_text.h"

namespace sllmr::ui {

// What one load computes: the kind, the specs and the state it builds on.
struct Workbench::Request
{
    enum class Kind { Dataset, Scores, Segments };
    Kind kind = Kind::Dataset;
    DatasetSpec datasetSpec;
    ScoreFileSpec scoreSpec;
    bool withScores = false;  // a dataset job also loads the configured scores
    LoadedState input;        // what the job builds on
};

namespace {

void derive(LoadedState& s)
{
    s.preview.reset();
    s.llmQuality.clear();
    if (s.dataset && s.segmentation && s.scores) {
        s.preview =
            std::make_shared<const GatePreviewIndex>(*s.dataset, *s.segmentation, *s.scores);
        s.llmQuality = llmQualityBySegment(*s.dataset, *s.segmentation, *s.scores);
    }
}

constexpr auto kLoadChannel = "load";

}  // namespace

Workbench::Workbench(QString databasePath, QObject* parent)
    : QObject(parent)
    , m_databasePath(std::move(databasePath))
    , m_config(defaultRunConfig())
    , m_jobs(new JobRunner(this))
{
    connect(m_jobs, &JobRunner::busyChanged, this, [this](const QString&, bool busy) {
        if (busy)
            return;
        m_loadingFiles = false;
        // Thresholds edited while files were loading apply to what loaded (finish() runs first).
        if (m_segmentsPending)
            QMetaObject::invokeMethod(
                this,
                [this] {
                    if (std::exchange(m_segmentsPending, false))
                        setSegments(m_config.dataset.segments);
                },
                Qt::QueuedConnection);
        Q_EMIT busyChanged(false, {});
    });
    try {
        m_config = runConfigFromJson(toJson(defaultRunConfig()), {});
    } catch (const Error&) {
        // The demo is not installed: keep the unresolved default; loading it reports why.
    }
}

Workbench::~Workbench()
{
    m_jobs->cancelAll();
    m_jobs->waitForAll();
}

void Workbench::setConfig(const RunConfig& config)
{
    remember(config);
    const bool dataChanged = toJson(config)["dataset"] != toJson(m_config)["dataset"];
    const bool scoresChanged = toJson(config)["scores"] != toJson(m_config)["scores"];
    m_config = config;
    Q_EMIT configChanged();
    if (dataChanged || !m_state.dataset) {
        loadDataset(m_config.dataset);
    } else if (scoresChanged && m_config.scores.given()) {
        loadScores(m_config.scores);
    }
}

void Workbench::updateTraining(const RunConfig& config)
{
    {
        RunConfig next = config;
        next.dataset = m_config.dataset;
        next.scores = m_config.scores;
        remember(next);
    }
    const auto dataset = m_config.dataset;
    const auto scores = m_config.scores;
    m_config = config;
    m_config.dataset = dataset;
    m_config.scores = scores;
    Q_EMIT configChanged();
}

void Workbench::loadDataset(const DatasetSpec& spec)
{
    Request request;
    request.kind = Request::Kind::Dataset;
    request.datasetSpec = spec;
    request.scoreSpec = m_config.scores;
    request.withScores = m_config.scores.given();
    start(std::move(request));
}

void Workbench::loadScores(const ScoreFileSpec& spec)
{
    if (!m_state.dataset) {
        Q_EMIT failed(tr("LLM scores"), tr("Load a dataset first: scores are matched to its "
                                           "user and item ids."));
        return;
    }
    Request request;
    request.kind = Request::Kind::Scores;
    request.scoreSpec = spec;
    request.input = m_state;
    start(std::move(request));
}

void Workbench::setSegments(const SegmentSpec& spec)
{
    {
        RunConfig next = m_config;
        next.dataset.segments = spec;
        remember(next);
    }
    m_config.dataset.segments = spec;
    if (!m_state.dataset)
        return;
    if (m_loadingFiles) {
        // A segmentation of the old dataset must not supersede the dataset or scores loading
        // now: the new thresholds are applied once they have loaded.
        m_segmentsPending = true;
        return;
    }
    Request request;
    request.kind = Request::Kind::Segments;
    request.datasetSpec = m_config.dataset;
    request.input = m_state;
    request.scoreSpec = m_config.scores;
    request.withScores = m_state.scores && m_config.scores.simulate.has_value();
    start(std::move(request));
}

void Workbench::remember(const RunConfig& next)
{
    if (m_restoring || toJson(next) == toJson(m_config))
        return;
    m_undo.push_back(m_config);
    if (m_undo.size() > 200)
        m_undo.erase(m_undo.begin());
    m_redo.clear();
    Q_EMIT undoChanged();
}

void Workbench::restore(const RunConfig& config)
{
    m_restoring = true;
    auto files = [](const RunConfig& c) {
        auto j = toJson(c);
        j["dataset"].erase("segments");
        return std::make_pair(j["dataset"], j["scores"]);
    };
    if (files(config) != files(m_config)) {
        setConfig(config);  // other files: reload
    } else {
        const bool segments =
            toJson(config)["dataset"]["segments"] != toJson(m_config)["dataset"]["segments"];
        if (segments)
            setSegments(config.dataset.segments);
        updateTraining(config);  // last: its configChanged shows the restored thresholds too
    }
    m_restoring = false;
    Q_EMIT undoChanged();
}

void Workbench::undo()
{
    if (m_undo.empty())
        return;
    const RunConfig previous = m_undo.back();
    m_undo.pop_back();
    m_redo.push_back(m_config);
    restore(previous);
}

void Workbench::redo()
{
    if (m_redo.empty())
        return;
    const RunConfig next = m_redo.back();
    m_redo.pop_back();
    m_undo.push_back(m_config);
    restore(next);
}

void Workbench::cancelLoad()
{
    m_jobs->cancel(QLatin1String(kLoadChannel));
}

bool Workbench::isBusy() const
{
    return m_jobs->isBusy(QLatin1String(kLoadChannel));
}

void Workbench::start(Request request)
{
    m_loadingFiles = request.kind != Request::Kind::Segments;
    const QString what = request.kind == Request::Kind::Dataset  ? tr("Loading the dataset")
                         : request.kind == Request::Kind::Scores ? tr("Loading the LLM scores")
                                                                 : tr("Updating the segments");
    const QString title = request.kind == Request::Kind::Scores ? tr("LLM scores") : tr("Dataset");
    auto work = [request, self = QPointer<Workbench>(this)](JobContext& job) {
        LoadControl control;
        control.cancel = job.cancelToken();
        control.progress = [&job, self](double fraction, const std::string& stage) {
            const QString text = QString::fromStdString(stage);
            job.post([self, fraction, text] {
                if (self)
                    Q_EMIT self->loadProgress(fraction, text);
            });
        };
        LoadedState s = request.input;
        if (request.kind == Request::Kind::Dataset) {
            s = LoadedState{};
            s.dataset =
                std::make_shared<const Dataset>(sllmr::loadDataset(request.datasetSpec, control));
            s.segmentation = std::make_shared<const Segmentation>(
                computeSegments(*s.dataset, request.datasetSpec.segments));
            if (request.withScores)
                s.scores = std::make_shared<const ScoreSet>(
                    sllmr::loadRunScores(request.scoreSpec, *s.dataset, s.segmentation->tauUser,
                                         s.segmentation->tauItem, control));
        } else if (request.kind == Request::Kind::Scores) {
            s.scores = std::make_shared<const ScoreSet>(
                sllmr::loadRunScores(request.scoreSpec, *s.dataset, s.segmentation->tauUser,
                                     s.segmentation->tauItem, control));
        } else {
            s.segmentation = std::make_shared<const Segmentation>(
                computeSegments(*s.dataset, request.datasetSpec.segments));
            // A simulated LLM's scores depend on the cold and tail thresholds.
            if (request.withScores)
                s.scores = std::make_shared<const ScoreSet>(
                    sllmr::loadRunScores(request.scoreSpec, *s.dataset, s.segmentation->tauUser,
                                         s.segmentation->tauItem, control));
        }
        job.checkCancelled();
        derive(s);
        return s;
    };
    m_jobs->start(
        QLatin1String(kLoadChannel), std::move(work),
        [this, request](const LoadedState& output) { finish(request, output); },
        [this, title](const QString& message) { Q_EMIT failed(title, message); });
    Q_EMIT busyChanged(true, what);
}

void Workbench::finish(const Request& request, LoadedState output)
{
    const bool datasetChanged = output.dataset != m_state.dataset;
    const bool scoresChanged = output.scores != m_state.scores;
    m_state = std::move(output);
    if (request.kind == Request::Kind::Dataset) {
        const SegmentSpec edited = m_config.dataset.segments;
        m_config.dataset = request.datasetSpec;
        if (m_segmentsPending)
            m_config.dataset.segments = edited;
    }
    if (request.kind == Request::Kind::Scores)
        m_config.scores = request.scoreSpec;
    if (request.kind != Request::Kind::Segments)
        Q_EMIT configChanged();
    if (datasetChanged)
        Q_EMIT datasetLoaded();
    if (scoresChanged && m_state.scores)
        Q_EMIT scoresLoaded();
    Q_EMIT derivedChanged();
}

}  // namespace sllmr::ui
