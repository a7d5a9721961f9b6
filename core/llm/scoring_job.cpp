#include "llm/scoring_job.h"

#include "common/error.h"
#include "common/hash.h"
#include "io/line_reader.h"
#include "llm/http_client.h"
#include "llm/llm_cache.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

bool cancelled(const std::atomic<bool>* cancel)
{
    return cancel && cancel->load(std::memory_order_relaxed);
}

// Sleeps up to `seconds`, waking early on cancel.
void sleepFor(double seconds, const std::atomic<bool>* cancel)
{
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(seconds));
    while (Clock::now() < until && !cancelled(cancel))
        std::this_thread::sleep_for(
            std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
}

class RateLimiter
{
public:
    explicit RateLimiter(double perMinute)
        : m_interval(perMinute > 0 ? 60.0 / perMinute : 0.0), m_next(Clock::now())
    {}
    void wait(const std::atomic<bool>* cancel)
    {
        if (m_interval <= 0)
            return;
        Clock::time_point slot;
        {
            std::lock_guard lock(m_mutex);
            slot = std::max(Clock::now(), m_next);
            m_next = slot + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(m_interval));
        }
        sleepFor(std::chrono::duration<double>(slot - Clock::now()).count(), cancel);
    }

private:
    double m_interval;
    Clock::time_point m_next;
    std::mutex m_mutex;
};

std::string utcNow()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string excerptOf(const std::string& s, std::size_t n = 200)
{
    return s.size() <= n ? s : s.substr(0, n) + "...";
}

void validate(const ScoringParams& p)
{
    auto bad = [](const std::string& what, const std::string& hint) {
        throw Error(ErrorKind::Usage, what, {}, 0, hint);
    };
    if (p.outputPath.empty() && p.batchOutputPath.empty())
        bad("no output file", "name the score file to write (-o scores.tsv)");
    if (p.endpoint.model.empty())
        bad("no model name", "name the model the endpoint serves (--model)");
    if (p.endpoint.temperature < 0 || p.endpoint.temperature > 2)
        bad("temperature must be in [0, 2]", "0 gives the most repeatable answers");
    if (p.endpoint.maxTokens < 1)
        bad("max tokens must be at least 1", "about 25 tokens per candidate are enough");
    if (p.endpoint.timeoutSeconds <= 0)
        bad("the timeout must be positive", "give seconds, e.g. 120");
    if (p.concurrency < 1 || p.concurrency > 256)
        bad("concurrency must be in [1, 256]", "local servers usually want 1 to 4");
    if (p.requestsPerMinute < 0 || p.maxRetries < 0 || p.backoffSeconds < 0 ||
        p.maxBackoffSeconds < 0 || p.costPer1kInput < 0 || p.costPer1kOutput < 0)
        bad("rate limit, retries, backoff and costs cannot be negative", "use 0 to switch off");
    if (p.missingScore < 0 || p.missingScore > 1)
        bad("the missing-answer score must be in [0, 1]", "the paper uses 0.5");
}

}  // namespace

std::string chatRequestBody(const EndpointSpec& e, const std::string& prompt)
{
    json body = {{"model", e.model},
                 {"messages", json::array({{{"role", "user"}, {"content", prompt}}})},
                 {"temperature", e.temperature},
                 {"max_tokens", e.maxTokens}};
    return body.dump();
}

bool readChatResponse(const std::string& body, std::string& text, std::int64_t& promptTokens,
                      std::int64_t& completionTokens, bool& hasUsage)
{
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return false;
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty())
        return false;
    const auto& c0 = (*choices)[0];
    if (c0.contains("message") && c0["message"].is_object() && c0["message"].contains("content") &&
        c0["message"]["content"].is_string())
        text = c0["message"]["content"].get<std::string>();
    else if (c0.contains("text") && c0["text"].is_string())
        text = c0["text"].get<std::string>();
    else if (c0.contains("message") && c0["message"].is_object() &&
             c0["message"].value("content", json()).is_null())
        text.clear();
    else
        return false;
    hasUsage = false;
    if (const auto u = j.find("usage"); u != j.end() && u->is_object()) {
        const auto pt = u->find("prompt_tokens");
        const auto ct = u->find("completion_tokens");
        if (pt != u->end() && pt->is_number_integer() && ct != u->end() &&
            ct->is_number_integer()) {
            promptTokens = pt->get<std::int64_t>();
            completionTokens = ct->get<std::int64_t>();
            hasUsage = true;
        }
    }
    return true;
}

ScoringJob::ScoringJob(ScoringParams params, const Dataset& dataset)
    : m_params(std::move(params)), m_dataset(dataset)
{
    validate(m_params);
    if (m_params.templatePath.empty())
        m_params.templatePath = PromptTemplate::defaultPath();
    if (m_params.cachePath.empty()) {
        const fs::path out(m_params.outputPath.empty() ? m_params.batchOutputPath
                                                       : m_params.outputPath);
        m_params.cachePath = (out.parent_path() / "llm-cache.db").string();
    }
    m_template = PromptTemplate::load(m_params.templatePath);
    for (auto& plan : planCandidates(dataset, m_params.candidates)) {
        Request r;
        r.prompt = renderPrompt(m_template, dataset, plan);
        r.body = chatRequestBody(m_params.endpoint, r.prompt);
        r.key = LlmCache::keyOf(r.body);
        r.plan = std::move(plan);
        m_requests.push_back(std::move(r));
    }
}

ScoringResult ScoringJob::writeBatch()
{
    ScoringResult res;
    res.templateHash = m_template.hash;
    res.outputPath = m_params.batchOutputPath;
    const std::string tmp = m_params.batchOutputPath + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error(ErrorKind::NotFound, "cannot write the batch file", tmp, 0,
                        "check that the folder exists and is writable");
        for (const auto& r : m_requests) {
            json line = {{"custom_id", "sllmr-" + r.key},
                         {"method", "POST"},
                         {"url", "/v1/chat/completions"},
                         {"body", json::parse(r.body)}};
            out << line.dump() << '\n';
            res.progress.promptTokens += estimateTokens(r.prompt);
            // About 12 tokens per candidate in the asked-for JSON.
            res.progress.completionTokens +=
                12 * static_cast<std::int64_t>(r.plan.candidates.size()) + 8;
        }
        if (!out.flush())
            throw Error(ErrorKind::NotFound, "cannot write the batch file", tmp, 0,
                        "check free disk space");
    }
    fs::rename(tmp, m_params.batchOutputPath);
    res.batchRequests = static_cast<std::int64_t>(m_requests.size());
    res.progress.total = res.batchRequests;
    res.progress.tokensEstimated = true;
    res.progress.cost = res.progress.promptTokens / 1000.0 * m_params.costPer1kInput +
                        res.progress.completionTokens / 1000.0 * m_params.costPer1kOutput;
    return res;
}

std::int64_t ScoringJob::importBatchResults(const std::string& path, std::int64_t& skipped)
{
    std::unordered_map<std::string, const Request*> byKey;
    for (const auto& r : m_requests)
        byKey.emplace(r.key, &r);
    LlmCache cache(m_params.cachePath);
    LineReader reader(path);
    std::string_view line;
    std::int64_t imported = 0;
    skipped = 0;
    while (reader.nextNonBlank(line)) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("custom_id"))
            throwBadInput(path, reader.lineNumber(), "not a batch result line",
                          "expected the JSONL the batch API returns (custom_id, response)");
        const std::string id = j["custom_id"].is_string() ? j["custom_id"].get<std::string>() : "";
        const auto it = byKey.find(id.rfind("sllmr-", 0) == 0 ? id.substr(6) : id);
        const json* resp =
            j.contains("response") && j["response"].is_object() ? &j["response"] : nullptr;
        if (it == byKey.end() || !resp || resp->value("status_code", 200) != 200 ||
            !resp->contains("body")) {
            ++skipped;
            continue;
        }
        const std::string body = (*resp)["body"].dump();
        std::string text;
        std::int64_t pt = 0, ct = 0;
        bool usage = false;
        if (!readChatResponse(body, text, pt, ct, usage))
            throwBadInput(path, reader.lineNumber(), "the response body is not a chat completion",
                          "import the results of a chat-completions batch");
        CachedAnswer a;
        a.request = it->second->body;
        a.response = body;
        a.promptTokens = usage ? pt : estimateTokens(it->second->prompt);
        a.completionTokens = usage ? ct : estimateTokens(text);
        a.tokensEstimated = !usage;
        a.source = "batch";
        cache.put(it->first, a);
        ++imported;
    }
    return imported;
}

ScoringResult ScoringJob::run(const ScoringCallbacks& cb)
{
    if (!m_params.batchOutputPath.empty())
        return writeBatch();

    ScoringResult res;
    res.outputPath = m_params.outputPath;
    res.cachePath = m_params.cachePath;
    res.templateHash = m_template.hash;
    LlmCache cache(m_params.cachePath);
    Answers answers(m_requests.size());
    ScoringProgress prog;
    prog.total = static_cast<std::int64_t>(m_requests.size());
    auto pending = takeCached(cache, answers, prog);
    if (cb.onProgress)
        cb.onProgress(prog);
    if (m_params.offline) {
        for (auto k : pending)
            res.failures.push_back("user " + m_dataset.users.label(m_requests[k].plan.user) +
                                   ": no cached answer");
        prog.failed = static_cast<std::int64_t>(pending.size());
        prog.done += prog.failed;
        pending.clear();
        if (cb.onProgress)
            cb.onProgress(prog);
    }
    sendRequests(pending, cache, cb, answers, res, prog);
    res.progress = prog;
    if (cancelled(cb.cancel))
        throw Error(ErrorKind::Cancelled,
                    fmt::format("scoring cancelled after {} of {} requests; the answers are cached "
                                "in {} and a rerun continues from there",
                                prog.done, prog.total, m_params.cachePath));
    writeScoreFile(answers, res, prog);
    return res;
}

// Answers already in the cache cost nothing.
std::vector<std::size_t> ScoringJob::takeCached(LlmCache& cache, Answers& answers,
                                                ScoringProgress& prog) const
{
    std::vector<std::size_t> pending;
    for (std::size_t k = 0; k < m_requests.size(); ++k) {
        if (auto hit = cache.find(m_requests[k].key); hit && hit->request == m_requests[k].body) {
            std::string text;
            std::int64_t pt = 0, ct = 0;
            bool usage = false;
            if (readChatResponse(hit->response, text, pt, ct, usage)) {
                answers[k] = std::move(text);
                ++prog.cached;
                ++prog.done;
                prog.cachedPromptTokens += hit->promptTokens;
                prog.cachedCompletionTokens += hit->completionTokens;
                continue;
            }
        }
        pending.push_back(k);
    }
    return pending;
}

namespace {

// The request workers of one run: each takes the next pending request and sends it, with
// retries and backoff, until it is answered, refused, out of retries, or the run stops. Answers,
// progress and failures are shared under one mutex; an authentication or not-found answer stops
// every worker (`fatal`).
class Dispatch
{
public:
    Dispatch(const ScoringParams& params, const std::vector<ScoringJob::Request>& requests,
             const Dataset& dataset, LlmCache& cache, const ScoringCallbacks& cb,
             std::vector<std::optional<std::string>>& answers, ScoringProgress& prog,
             std::vector<std::string>& failures)
        : m_params(params)
        , m_requests(requests)
        , m_dataset(dataset)
        , m_cache(cache)
        , m_cb(cb)
        , m_answers(answers)
        , m_prog(prog)
        , m_failures(failures)
        , m_limiter(params.requestsPerMinute)
    {
        std::string apiKey;
        for (const auto& var : params.endpoint.apiKeyEnv)
            if (const char* v = std::getenv(var.c_str()); v && *v) {
                apiKey = v;
                break;
            }
        if (!apiKey.empty())
            m_headers.push_back("Authorization: Bearer " + apiKey);
        m_url = params.endpoint.baseUrl;
        while (!m_url.empty() && m_url.back() == '/')
            m_url.pop_back();
        m_url += "/chat/completions";
    }

    void run(const std::vector<std::size_t>& pending)
    {
        const int threads =
            static_cast<int>(std::min<std::size_t>(m_params.concurrency, pending.size()));
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([this, &pending] { work(pending); });
        for (auto& t : pool)
            t.join();
    }

    const std::string& fatal() const { return m_fatal; }

private:
    enum class Outcome { Answered, Retry, Refused, Fatal };

    bool shouldStop() const { return m_stop.load() || cancelled(m_cb.cancel); }

    void work(const std::vector<std::size_t>& pending)
    {
        for (;;) {
            if (shouldStop())
                return;
            const std::size_t slot = m_next.fetch_add(1);
            if (slot >= pending.size())
                return;
            send(pending[slot]);
        }
    }

    // One request with its retries; counts it as done or failed.
    void send(std::size_t k)
    {
        const ScoringJob::Request& req = m_requests[k];
        Hasher keyHash;
        keyHash.add(req.key);
        std::mt19937_64 jitter(m_params.seed ^ keyHash.value());
        std::string why;
        bool done = false;
        for (int attempt = 0; !shouldStop(); ++attempt) {
            m_limiter.wait(m_cb.cancel);
            if (shouldStop())
                break;
            const HttpResponse r = httpPostJson(m_url, m_headers, req.body,
                                                m_params.endpoint.timeoutSeconds, m_cb.cancel);
            if (r.cancelled)
                break;
            {
                std::lock_guard lock(m_progMutex);
                ++m_prog.sent;
            }
            const Outcome outcome = handle(k, r, why);
            done = outcome == Outcome::Answered;
            if (outcome != Outcome::Retry || attempt >= m_params.maxRetries)
                break;
            {
                std::lock_guard lock(m_progMutex);
                ++m_prog.retries;
            }
            double delay = 0;
            if (r.retryAfterSeconds) {
                delay = std::min(*r.retryAfterSeconds, m_params.maxBackoffSeconds);
            } else {
                std::uniform_real_distribution<double> j(0.5, 1.5);
                delay = std::min(m_params.maxBackoffSeconds,
                                 m_params.backoffSeconds * std::pow(2.0, attempt) * j(jitter));
            }
            sleepFor(delay, m_cb.cancel);
        }
        std::lock_guard lock(m_progMutex);
        if (!done && !shouldStop()) {
            ++m_prog.failed;
            m_failures.push_back("user " + m_dataset.users.label(req.plan.user) + ": " + why);
        }
        if (done || !shouldStop())
            ++m_prog.done;
        if (m_cb.onProgress)
            m_cb.onProgress(m_prog);
    }

    // What one HTTP answer means: an answer (cached and counted), worth a retry, refused for
    // good, or fatal for the whole run. `why` says what went wrong.
    Outcome handle(std::size_t k, const HttpResponse& r, std::string& why)
    {
        const ScoringJob::Request& req = m_requests[k];
        if (r.transportError.empty() && r.status == 200) {
            std::string text;
            std::int64_t pt = 0, ct = 0;
            bool usage = false;
            if (readChatResponse(r.body, text, pt, ct, usage)) {
                CachedAnswer a;
                a.request = req.body;
                a.response = r.body;
                a.promptTokens = usage ? pt : estimateTokens(req.prompt);
                a.completionTokens = usage ? ct : estimateTokens(text);
                a.tokensEstimated = !usage;
                a.source = "api";
                m_cache.put(req.key, a);
                std::lock_guard lock(m_progMutex);
                m_answers[k] = std::move(text);
                m_prog.promptTokens += a.promptTokens;
                m_prog.completionTokens += a.completionTokens;
                m_prog.tokensEstimated = m_prog.tokensEstimated || !usage;
                m_prog.cost = m_prog.promptTokens / 1000.0 * m_params.costPer1kInput +
                              m_prog.completionTokens / 1000.0 * m_params.costPer1kOutput;
                return Outcome::Answered;
            }
            why = "the answer is not a chat-completions response: " + excerptOf(r.body);
            return Outcome::Retry;
        }
        if (!r.transportError.empty() && r.status == 0) {
            why = r.timedOut ? "no answer within the timeout" : r.transportError;
            return Outcome::Retry;
        }
        if (!r.transportError.empty()) {
            why = "HTTP " + std::to_string(r.status) + ": " + r.transportError;
            return Outcome::Retry;
        }
        if (r.status == 429 || r.status >= 500) {
            why = "HTTP " + std::to_string(r.status);
            return Outcome::Retry;
        }
        if (r.status == 401 || r.status == 403 || r.status == 404) {
            std::lock_guard lock(m_failMutex);
            if (m_fatal.empty())
                m_fatal = "the endpoint answered HTTP " + std::to_string(r.status) + " (" +
                          excerptOf(r.body, 300) + ")";
            m_stop = true;
            return Outcome::Fatal;
        }
        why = "HTTP " + std::to_string(r.status) + ": " + excerptOf(r.body);
        return Outcome::Refused;  // the request itself is refused; retrying will not help
    }

    const ScoringParams& m_params;
    const std::vector<ScoringJob::Request>& m_requests;
    const Dataset& m_dataset;
    LlmCache& m_cache;
    const ScoringCallbacks& m_cb;
    std::vector<std::optional<std::string>>& m_answers;
    ScoringProgress& m_prog;
    std::vector<std::string>& m_failures;
    RateLimiter m_limiter;
    std::string m_url;
    std::vector<std::string> m_headers;
    std::mutex m_progMutex;
    std::mutex m_failMutex;
    std::string m_fatal;
    std::atomic<bool> m_stop{false};
    std::atomic<std::size_t> m_next{0};
};

}  // namespace

void ScoringJob::sendRequests(const std::vector<std::size_t>& pending, LlmCache& cache,
                              const ScoringCallbacks& cb, Answers& answers, ScoringResult& res,
                              ScoringProgress& prog) const
{
    Dispatch dispatch(m_params, m_requests, m_dataset, cache, cb, answers, prog, res.failures);
    dispatch.run(pending);
    res.progress = prog;
    if (!dispatch.fatal().empty())
        throw Error(ErrorKind::BadInput, dispatch.fatal(), m_params.endpoint.baseUrl, 0,
                    "check the base URL and model, and that the API key is in $" +
                        (m_params.endpoint.apiKeyEnv.empty() ? std::string("SLLMR_API_KEY")
                                                             : m_params.endpoint.apiKeyEnv[0]) +
                        "; answers received so far are cached");
}

void ScoringJob::writeScoreFile(const Answers& answers, ScoringResult& res,
                                ScoringProgress& prog) const
{
    const std::size_t n = m_requests.size();
    // The score file: every offered candidate of every answered user.
    const std::string tmp = m_params.outputPath + ".part";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(ErrorKind::NotFound, "cannot write the score file", tmp, 0,
                    "check that the folder exists and is writable");
    std::vector<MalformedAnswer>& bad = res.malformed;
    std::string rows;
    for (std::size_t k = 0; k < n; ++k) {
        if (!answers[k])
            continue;
        const Request& req = m_requests[k];
        const ParsedAnswer a = parseAnswer(*answers[k], m_dataset, req.plan);
        if (!a.ok) {
            ++prog.malformed;
            bad.push_back({m_dataset.users.label(req.plan.user), req.key, a.error, *answers[k]});
        }
        res.unknownIds += a.unknownIds;
        res.clipped += a.clipped;
        std::unordered_map<std::uint32_t, double> got(a.scores.begin(), a.scores.end());
        const std::string user = m_dataset.users.label(req.plan.user);
        for (auto item : req.plan.candidates) {
            const auto it = got.find(item);
            const double v = it == got.end() ? m_params.missingScore : it->second;
            (it == got.end() ? res.missing : res.scored) += 1;
            rows += fmt::format("{}\t{}\t{:.4f}\n", user, m_dataset.items.label(item), v);
            ++res.rows;
        }
        ++res.usersWritten;
    }
    res.progress = prog;
    const CandidateSpec& c = m_params.candidates;
    const EndpointSpec& e = m_params.endpoint;
    json parameters = {{"temperature", e.temperature},
                       {"max_tokens", e.maxTokens},
                       {"history", c.history},
                       {"candidates", c.candidates},
                       {"popular_pool", c.popularPool},
                       {"cold_extra", c.coldExtra},
                       {"tail_extra", c.tailExtra},
                       {"tau_user", c.tauUser},
                       {"tau_item", c.tauItem},
                       {"users", c.users},
                       {"seed", c.seed},
                       {"missing_score", m_params.missingScore}};
    out << "# sllmr-scores: pointwise\n"
        << "# source: llm\n"
        << "# model: " << e.model << '\n'
        << "# endpoint: " << endpointHost(e.baseUrl) << '\n'
        << "# template: " << fs::path(m_template.path).filename().string() << '\n'
        << "# template_hash: " << m_template.hash << '\n'
        << "# created: " << utcNow() << '\n'
        << "# dataset: " << m_dataset.contentHash << '\n'
        << "# parameters: " << parameters.dump() << '\n'
        << fmt::format(
               "# answers: {} users, {} scored, {} missing (scored {}), {} malformed, {} "
               "failed\n",
               res.usersWritten, res.scored, res.missing, m_params.missingScore, prog.malformed,
               prog.failed)
        << "user_id\titem_id\tscore\n"
        << rows;
    out.close();
    if (!out)
        throw Error(ErrorKind::NotFound, "cannot write the score file", tmp, 0,
                    "check free disk space");
    fs::rename(tmp, m_params.outputPath);

    if (!bad.empty()) {
        res.malformedPath = m_params.outputPath + ".malformed.jsonl";
        std::ofstream m(res.malformedPath, std::ios::binary | std::ios::trunc);
        for (const auto& b : bad)
            m << json{{"user", b.user}, {"key", b.key}, {"error", b.error}, {"raw", b.raw}}.dump()
              << '\n';
    }
}

}  // namespace sllmr
