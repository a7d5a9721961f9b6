#include "scoring_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/error.h"
#include "engine/job_runner.h"
#include "engine/workbench.h"
#include "error_text.h"
#include "llm/http_client.h"
#include "settings.h"
#include "wheel_guard.h"

namespace sllmr::ui {

namespace {

constexpr double kProbeTimeoutSeconds = 10.0;

// One request without credentials before the job: an endpoint that cannot be reached at all stops
// here, after the first connection failure, instead of after every user's retries. Any HTTP
// answer (even 400 or 401) means the server is there.
void probeEndpoint(const std::string& baseUrl, const std::atomic<bool>* cancel)
{
    std::string url = baseUrl;
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    url += "/chat/completions";
    const HttpResponse r =
        httpPostJson(url, {"Content-Type: application/json"}, "{}", kProbeTimeoutSeconds, cancel);
    if (r.cancelled)
        throw Error(ErrorKind::Cancelled, "cancelled");
    if (r.status == 0 && !r.transportError.empty())
        throw Error(ErrorKind::Usage,
                    "cannot reach the LLM endpoint " + baseUrl + " (" +
                        (r.timedOut ? std::string("no answer within 10 s") : r.transportError) +
                        "); nothing was sent to it",
                    {}, 0,
                    "check the base URL (scheme, host, port and the /v1 part), that the server "
                    "is running and listening on that address, and any proxy or firewall "
                    "between; or tick 'dry run' to write the prompts without sending them");
}

}  // namespace

namespace {

const SettingKey<QString> kBaseUrl{"scoring/baseUrl", QStringLiteral("http://127.0.0.1:8080/v1")};
const SettingKey<QString> kModel{"scoring/model", QStringLiteral("local")};
const SettingKey<QString> kKeyEnv{"scoring/apiKeyEnv", QStringLiteral("SLLMR_API_KEY")};

QSpinBox* integer(QWidget* parent, int lo, int hi, int value, const QString& tip)
{
    auto* box = new QSpinBox(parent);
    box->setRange(lo, hi);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
}

QDoubleSpinBox* real(QWidget* parent, double lo, double hi, double value, int decimals,
                     const QString& tip)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(lo, hi);
    box->setDecimals(decimals);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
}

}  // namespace

ScoringDialog::ScoringDialog(Workbench* workbench, QWidget* parent)
    : QDialog(parent), m_workbench(workbench), m_jobs(new JobRunner(this))
{
    setWindowTitle(tr("Score the dataset's users with an LLM"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("For each user: the last L training items as titles, N candidates from the M most "
           "popular unseen items plus extras for cold users and from the long tail, and a "
           "prompt asking for a score in [0,1] per candidate. Answers are cached next to the "
           "output (llm-cache.db), so running again resumes and costs nothing."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    const ScoringParams defaults;
    layout->addWidget(createEndpointGroup(defaults));
    layout->addWidget(createCandidateGroup(defaults));
    auto* job = new QGroupBox(tr("Job"), this);
    auto* jf = new QFormLayout(job);
    m_concurrency = integer(job, 1, 64, defaults.concurrency, tr("Requests in flight."));
    m_rpm = real(job, 0, 100000, 0, 0, tr("Requests per minute (0: no limit)."));
    m_rpm->setSpecialValueText(tr("no limit"));
    m_costIn = real(job, 0, 1000, 0, 4, tr("Cost per 1,000 prompt tokens (for the estimate)."));
    m_costOut =
        real(job, 0, 1000, 0, 4, tr("Cost per 1,000 completion tokens (for the estimate)."));
    m_template = new QLineEdit(QString::fromStdString(PromptTemplate::defaultPath()), job);
    m_template->setToolTip(
        tr("Prompt template with {{history}}, {{candidates}}, "
           "{{output_format}} ... placeholders; edit a copy to change it."));
    m_output = new QLineEdit(QDir::current().filePath(QStringLiteral("llm-scores.tsv")), job);
    auto* browse = new QPushButton(tr("Browse..."), job);
    auto* outRow = new QWidget(job);
    auto* oh = new QHBoxLayout(outRow);
    oh->setContentsMargins(0, 0, 0, 0);
    oh->addWidget(m_output, 1);
    oh->addWidget(browse);
    m_dryRun = new QCheckBox(tr("dry run: write the prompts as batch JSONL, send nothing"), job);
    jf->addRow(tr("Concurrency"), m_concurrency);
    jf->addRow(tr("Rate limit"), m_rpm);
    jf->addRow(tr("Cost / 1k prompt tokens"), m_costIn);
    jf->addRow(tr("Cost / 1k completion tokens"), m_costOut);
    jf->addRow(tr("Prompt template"), m_template);
    jf->addRow(tr("Output score file"), outRow);
    jf->addRow(QString(), m_dryRun);
    layout->addWidget(job);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    layout->addWidget(m_progress);
    m_counts = new QLabel(this);
    m_counts->setWordWrap(true);
    layout->addWidget(m_counts);
    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumHeight(110);
    layout->addWidget(m_log);

    auto* buttons = new QDialogButtonBox(this);
    m_run = buttons->addButton(tr("Run"), QDialogButtonBox::ActionRole);
    m_stop = buttons->addButton(tr("Cancel job"), QDialogButtonBox::ActionRole);
    m_load = buttons->addButton(tr("Load as LLM scores"), QDialogButtonBox::ActionRole);
    buttons->addButton(QDialogButtonBox::Close);
    m_stop->setEnabled(false);
    m_load->setEnabled(false);
    layout->addWidget(buttons);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Score file"), m_output->text(),
                                                          tr("Score files (*.tsv)"));
        if (!path.isEmpty())
            m_output->setText(path);
    });
    connect(m_run, &QPushButton::clicked, this, [this] { start(); });
    connect(m_stop, &QPushButton::clicked, this, &ScoringDialog::cancel);
    connect(m_load, &QPushButton::clicked, this, [this] {
        ScoreFileSpec spec;
        spec.path = m_result.outputPath;
        spec.name = QFileInfo(QString::fromStdString(m_result.outputPath)).fileName().toStdString();
        spec.kind = "pointwise";
        m_workbench->loadScores(spec);
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &ScoringDialog::reject);
    resize(640, 820);
    guardWheel(this);
}

QWidget* ScoringDialog::createEndpointGroup(const ScoringParams& defaults)
{
    auto* endpoint = new QGroupBox(tr("Endpoint (OpenAI-compatible chat completions)"), this);
    auto* ef = new QFormLayout(endpoint);
    m_baseUrl = new QLineEdit(kBaseUrl.get(), endpoint);
    m_baseUrl->setToolTip(
        tr("llama.cpp server: http://127.0.0.1:8080/v1 \u00b7 Ollama: "
           "http://127.0.0.1:11434/v1 \u00b7 hosted: the provider's /v1 URL."));
    m_model = new QLineEdit(kModel.get(), endpoint);
    m_keyEnv = new QLineEdit(kKeyEnv.get(), endpoint);
    m_keyEnv->setToolTip(
        tr("The environment variable that holds the API key (set it before "
           "starting the Studio). The key itself is never stored."));
    m_temperature = real(endpoint, 0, 2, defaults.endpoint.temperature, 2,
                         tr("Sampling temperature; 0 gives the most repeatable answers."));
    m_maxTokens = integer(endpoint, 16, 32768, defaults.endpoint.maxTokens,
                          tr("Upper bound on the answer's length in tokens."));
    ef->addRow(tr("Base URL"), m_baseUrl);
    ef->addRow(tr("Model"), m_model);
    ef->addRow(tr("API key variable"), m_keyEnv);
    ef->addRow(tr("Temperature"), m_temperature);
    ef->addRow(tr("Max tokens"), m_maxTokens);
    return endpoint;
}

QWidget* ScoringDialog::createCandidateGroup(const ScoringParams& defaults)
{
    auto* sampling = new QGroupBox(tr("Candidates (seeded)"), this);
    auto* sf = new QFormLayout(sampling);
    const CandidateSpec& c = defaults.candidates;
    m_history = integer(sampling, 1, 200, c.history, tr("L: recent training items shown."));
    m_candidates = integer(sampling, 1, 500, c.candidates, tr("N: candidates per user."));
    m_pool = integer(sampling, 1, 100000, c.popularPool,
                     tr("M: candidates come from the M most popular items."));
    m_coldExtra = integer(sampling, 0, 500, c.coldExtra, tr("Extra candidates for cold users."));
    m_tailExtra =
        integer(sampling, 0, 500, c.tailExtra, tr("Extra long-tail candidates for every user."));
    m_maxUsers = integer(sampling, 0, 100000000, c.maxUsers,
                         tr("Score at most this many users (0: all), e.g. to try a prompt."));
    m_maxUsers->setSpecialValueText(tr("all"));
    sf->addRow(tr("History L"), m_history);
    sf->addRow(tr("Candidates N"), m_candidates);
    sf->addRow(tr("Popular pool M"), m_pool);
    sf->addRow(tr("Cold-user extras"), m_coldExtra);
    sf->addRow(tr("Long-tail extras"), m_tailExtra);
    sf->addRow(tr("Users"), m_maxUsers);
    return sampling;
}

ScoringDialog::~ScoringDialog()
{
    // The job aborts a request in flight within about a second.
    m_jobs->cancelAll();
    m_jobs->waitForAll();
}

ScoringParams ScoringDialog::params() const
{
    ScoringParams p;
    p.endpoint.baseUrl = m_baseUrl->text().trimmed().toStdString();
    p.endpoint.model = m_model->text().trimmed().toStdString();
    p.endpoint.apiKeyEnv = {m_keyEnv->text().trimmed().toStdString()};
    p.endpoint.temperature = m_temperature->value();
    p.endpoint.maxTokens = m_maxTokens->value();
    p.candidates.history = m_history->value();
    p.candidates.candidates = m_candidates->value();
    p.candidates.popularPool = m_pool->value();
    p.candidates.coldExtra = m_coldExtra->value();
    p.candidates.tailExtra = m_tailExtra->value();
    p.candidates.maxUsers = m_maxUsers->value();
    if (const auto& seg = m_workbench->state().segmentation) {
        p.candidates.tauUser = seg->tauUser;
        p.candidates.tauItem = seg->tauItem;
    }
    p.concurrency = m_concurrency->value();
    p.requestsPerMinute = m_rpm->value();
    p.costPer1kInput = m_costIn->value();
    p.costPer1kOutput = m_costOut->value();
    p.templatePath = m_template->text().trimmed().toStdString();
    p.outputPath = m_output->text().trimmed().toStdString();
    if (m_dryRun->isChecked())
        p.batchOutputPath = p.outputPath + ".batch.jsonl";
    return p;
}

void ScoringDialog::setParams(const ScoringParams& p)
{
    m_baseUrl->setText(QString::fromStdString(p.endpoint.baseUrl));
    m_model->setText(QString::fromStdString(p.endpoint.model));
    if (!p.endpoint.apiKeyEnv.empty())
        m_keyEnv->setText(QString::fromStdString(p.endpoint.apiKeyEnv.front()));
    m_temperature->setValue(p.endpoint.temperature);
    m_maxTokens->setValue(p.endpoint.maxTokens);
    m_history->setValue(p.candidates.history);
    m_candidates->setValue(p.candidates.candidates);
    m_pool->setValue(p.candidates.popularPool);
    m_coldExtra->setValue(p.candidates.coldExtra);
    m_tailExtra->setValue(p.candidates.tailExtra);
    m_maxUsers->setValue(p.candidates.maxUsers);
    m_concurrency->setValue(p.concurrency);
    m_rpm->setValue(p.requestsPerMinute);
    m_template->setText(QString::fromStdString(p.templatePath));
    m_output->setText(QString::fromStdString(p.outputPath));
    m_dryRun->setChecked(!p.batchOutputPath.empty());
}

bool ScoringDialog::start()
{
    const auto dataset = m_workbench->state().dataset;
    if (isRunning() || !dataset) {
        if (isRunning())
            m_log->appendPlainText(
                tr("The previous job is still stopping; try again in a moment."));
        if (!dataset)
            QMessageBox::warning(this, windowTitle(),
                                 tr("Load a dataset first: the LLM scores its users."));
        return false;
    }
    kBaseUrl.set(m_baseUrl->text());
    kModel.set(m_model->text());
    kKeyEnv.set(m_keyEnv->text());
    const ScoringParams p = params();
    m_run->setEnabled(false);
    m_stop->setEnabled(true);
    m_load->setEnabled(false);
    m_log->appendPlainText(
        p.batchOutputPath.empty()
            ? tr("Scoring with %1 at %2...")
                  .arg(QString::fromStdString(p.endpoint.model),
                       QString::fromStdString(p.endpoint.baseUrl))
            : tr("Writing the prompts to %1...").arg(QString::fromStdString(p.batchOutputPath)));
    m_jobs->start(
        QStringLiteral("score"),
        // The dataset is shared with the job so it outlives it even if another one is loaded.
        [this, p, dataset](JobContext& job) {
            if (p.batchOutputPath.empty() && !p.offline)
                probeEndpoint(p.endpoint.baseUrl, job.cancelToken());
            ScoringJob scoring(p, *dataset);
            ScoringCallbacks callbacks;
            callbacks.cancel = job.cancelToken();
            callbacks.onProgress = [this, &job](const ScoringProgress& progress) {
                job.post([this, progress] { showProgress(progress); });
            };
            return scoring.run(callbacks);
        },
        [this](const ScoringResult& result) { onFinished(result); },
        [this](const QString& error) { onFailed(error); });
    return true;
}

void ScoringDialog::onFailed(const QString& error)
{
    setIdle();
    m_log->appendPlainText(error);
    Q_EMIT finished(false, error);
}

void ScoringDialog::setIdle()
{
    m_run->setEnabled(true);
    m_stop->setEnabled(false);
}

void ScoringDialog::onFinished(const ScoringResult& result)
{
    setIdle();
    m_result = result;
    showProgress(result.progress);
    QString summary;
    if (result.batchRequests > 0) {
        summary = tr("Wrote %1 requests to %2.")
                      .arg(result.batchRequests)
                      .arg(QString::fromStdString(params().batchOutputPath));
    } else {
        summary = tr("Wrote %1 rows for %2 users to %3 (%4 scored, %5 unanswered at the default, "
                     "%6 unknown ids ignored, %7 clipped, %8 malformed answers, %9 failed "
                     "requests).")
                      .arg(result.rows)
                      .arg(result.usersWritten)
                      .arg(QString::fromStdString(result.outputPath))
                      .arg(result.scored)
                      .arg(result.missing)
                      .arg(result.unknownIds)
                      .arg(result.clipped)
                      .arg(result.malformed.size())
                      .arg(result.failures.size());
        m_load->setEnabled(result.rows > 0);
    }
    for (const auto& f : result.failures)
        m_log->appendPlainText(QString::fromStdString(f));
    m_log->appendPlainText(summary);
    Q_EMIT finished(true, summary);
}

void ScoringDialog::showProgress(const ScoringProgress& p)
{
    m_progress->setRange(0, static_cast<int>(std::max<std::int64_t>(1, p.total)));
    m_progress->setValue(static_cast<int>(p.done));
    m_counts->setText(tr("%1 of %2 users \u00b7 %3 from the cache \u00b7 %4 requests sent, %5 "
                         "retries, %6 failed, %7 malformed \u00b7 tokens %8 in / %9 out%10 "
                         "\u00b7 cost %11")
                          .arg(p.done)
                          .arg(p.total)
                          .arg(p.cached)
                          .arg(p.sent)
                          .arg(p.retries)
                          .arg(p.failed)
                          .arg(p.malformed)
                          .arg(p.promptTokens + p.cachedPromptTokens)
                          .arg(p.completionTokens + p.cachedCompletionTokens)
                          .arg(p.tokensEstimated ? tr(" (partly estimated)") : QString())
                          .arg(p.cost, 0, 'f', 4));
}

void ScoringDialog::cancel()
{
    if (!isRunning())
        return;
    // The job stops between requests and reports nothing; say so here.
    m_jobs->cancel(QStringLiteral("score"));
    setIdle();
    m_log->appendPlainText(
        tr("Cancelled; the answers received so far are cached and a new run resumes from them."));
    Q_EMIT finished(false, tr("cancelled"));
}

bool ScoringDialog::isRunning() const
{
    return m_jobs->isBusy(QStringLiteral("score"));
}

void ScoringDialog::reject()
{
    if (isRunning()) {
        cancel();  // the job stops between requests; cached answers stay
        return;
    }
    QDialog::reject();
}

}  // namespace sllmr::ui
