#include "workbench.h"

#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>
#include <utility>

#include "common/error.h"
#include "data/loaders.h"
#include "error_text.h"

namespace sllmr::ui {

struct Workbench::Job
{
    enum class Kind { Dataset, Scores, Segments };
    Kind kind = Kind::Dataset;
    std::uint64_t generation = 0;
    DatasetSpec datasetSpec;
    ScoreFileSpec scoreSpec;
    bool withScores = false;  // a dataset job also loads the configured scores
    LoadedState input;        // what the job builds on
    LoadedState output;
    std::atomic<bool> cancel{false};
    bool ok = false;
    bool cancelled = false;
    QString errorTitle;
    QString errorMessage;
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

}  // namespace

Workbench::Workbench(QString databasePath, QObject* parent)
    : QObject(parent), m_databasePath(std::move(databasePath)), m_config(defaultRunConfig())
{
    try {
        m_config = runConfigFromJson(toJson(defaultRunConfig()), {});
    } catch (const Error&) {
        // The demo is not installed: keep the unresolved default; loading it reports why.
    }
}

Workbench::~Workbench()
{
    // Superseded jobs may still be running: cancel and wait for all of them.
    for (auto& [job, future] : m_running) {
        job->cancel = true;
        future.waitForFinished();
    }
}

void Workbench::setConfig(const RunConfig& config)
{
    const bool dataChanged = toJson(config)["dataset"] != toJson(m_config)["dataset"];
    const bool scoresChanged = toJson(config)["scores"] != toJson(m_config)["scores"];
    m_config = config;
    Q_EMIT configChanged();
    if (dataChanged || !m_state.dataset) {
        loadDataset(m_config.dataset);
    } else if (scoresChanged && !m_config.scores.path.empty()) {
        loadScores(m_config.scores);
    }
}

void Workbench::updateTraining(const RunConfig& config)
{
    const auto dataset = m_config.dataset;
    const auto scores = m_config.scores;
    m_config = config;
    m_config.dataset = dataset;
    m_config.scores = scores;
    Q_EMIT configChanged();
}

void Workbench::loadDataset(const DatasetSpec& spec)
{
    auto job = std::make_shared<Job>();
    job->kind = Job::Kind::Dataset;
    job->datasetSpec = spec;
    job->scoreSpec = m_config.scores;
    job->withScores = !m_config.scores.path.empty();
    start(job);
}

void Workbench::loadScores(const ScoreFileSpec& spec)
{
    if (!m_state.dataset) {
        Q_EMIT failed(tr("LLM scores"), tr("Load a dataset first: scores are matched to its "
                                           "user and item ids."));
        return;
    }
    auto job = std::make_shared<Job>();
    job->kind = Job::Kind::Scores;
    job->scoreSpec = spec;
    job->input = m_state;
    start(job);
}

void Workbench::setSegments(const SegmentSpec& spec)
{
    m_config.dataset.segments = spec;
    if (!m_state.dataset)
        return;
    auto job = std::make_shared<Job>();
    job->kind = Job::Kind::Segments;
    job->datasetSpec = m_config.dataset;
    job->input = m_state;
    start(job);
}

void Workbench::cancelLoad()
{
    if (m_current)
        m_current->cancel = true;
}

bool Workbench::isBusy() const
{
    return m_current != nullptr;
}

void Workbench::start(std::shared_ptr<Job> job)
{
    if (m_current)
        m_current->cancel = true;  // superseded: its result is dropped
    job->generation = ++m_generation;
    m_current = job;
    const QString what = job->kind == Job::Kind::Dataset  ? tr("Loading the dataset")
                         : job->kind == Job::Kind::Scores ? tr("Loading the LLM scores")
                                                          : tr("Updating the segments");
    Q_EMIT busyChanged(true, what);

    QPointer<Workbench> self(this);
    Job* raw = job.get();
    auto* watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, job, watcher] {
        watcher->deleteLater();
        std::erase_if(m_running, [&](const auto& r) { return r.first == job; });
        finish(job);
    });
    const QFuture<void> future = QtConcurrent::run([raw, self] {
        LoadControl control;
        control.cancel = &raw->cancel;
        control.progress = [raw, self](double fraction, const std::string& stage) {
            const QString text = QString::fromStdString(stage);
            QMetaObject::invokeMethod(
                self.data(),
                [self, fraction, text] {
                    if (self)
                        Q_EMIT self->loadProgress(fraction, text);
                },
                Qt::QueuedConnection);
        };
        try {
            LoadedState s = raw->input;
            if (raw->kind == Job::Kind::Dataset) {
                s = LoadedState{};
                s.dataset =
                    std::make_shared<const Dataset>(sllmr::loadDataset(raw->datasetSpec, control));
                s.segmentation = std::make_shared<const Segmentation>(
                    computeSegments(*s.dataset, raw->datasetSpec.segments));
                if (raw->withScores)
                    s.scores = std::make_shared<const ScoreSet>(
                        sllmr::loadScores(raw->scoreSpec, *s.dataset, control));
            } else if (raw->kind == Job::Kind::Scores) {
                s.scores = std::make_shared<const ScoreSet>(
                    sllmr::loadScores(raw->scoreSpec, *s.dataset, control));
            } else {
                s.segmentation = std::make_shared<const Segmentation>(
                    computeSegments(*s.dataset, raw->datasetSpec.segments));
            }
            if (raw->cancel)
                throw Error(ErrorKind::Cancelled, "cancelled");
            derive(s);
            raw->output = std::move(s);
            raw->ok = true;
        } catch (const Error& e) {
            raw->cancelled = e.kind() == ErrorKind::Cancelled;
            raw->errorTitle = raw->kind == Job::Kind::Scores ? QStringLiteral("LLM scores")
                                                             : QStringLiteral("Dataset");
            raw->errorMessage = errorText(e);
        } catch (const std::exception& e) {
            raw->errorTitle = QStringLiteral("Internal error");
            raw->errorMessage = QString::fromStdString(e.what());
        }
    });
    m_running.emplace_back(job, future);
    watcher->setFuture(future);
}

void Workbench::finish(const std::shared_ptr<Job>& job)
{
    if (job != m_current)
        return;  // superseded
    m_current.reset();
    Q_EMIT busyChanged(false, {});
    if (!job->ok) {
        if (!job->cancelled)
            Q_EMIT failed(job->errorTitle, job->errorMessage);
        return;
    }
    const bool datasetChanged = job->output.dataset != m_state.dataset;
    const bool scoresChanged = job->output.scores != m_state.scores;
    m_state = std::move(job->output);
    if (job->kind == Job::Kind::Dataset)
        m_config.dataset = job->datasetSpec;
    if (job->kind == Job::Kind::Scores)
        m_config.scores = job->scoreSpec;
    if (job->kind != Job::Kind::Segments)
        Q_EMIT configChanged();
    if (datasetChanged)
        Q_EMIT datasetLoaded();
    if (scoresChanged && m_state.scores)
        Q_EMIT scoresLoaded();
    Q_EMIT derivedChanged();
}

}  // namespace sllmr::ui
