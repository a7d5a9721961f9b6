#pragma once
// ScoringJob: asks an OpenAI-compatible chat-completions endpoint (llama.cpp server, vLLM,
// Ollama, hosted APIs) to score each user's sampled candidates, and writes a pointwise score file
// that loadScores() reads as is (SPEC 7). Every answer is cached in an SQLite file keyed by the
// request content, so an interrupted job resumes where it stopped and a rerun sends nothing.
// Retries 429/5xx/timeouts/truncated answers with seeded exponential backoff and jitter,
// honouring Retry-After; limits concurrency and requests per minute. The API key is read from an
// environment variable at request time and is never written anywhere.
//
// The job borrows the dataset (it must outlive the job) and owns nothing else. Progress is
// reported through a plain callback (from worker threads, serialized); `cancel` is polled between
// requests and during waits, and cancelling ends with Error(Cancelled) after the answers already
// received are cached. Bad settings are Error(Usage); a rejected key (401/403) or an endpoint
// that answers nothing usable is Error(BadInput) with what to do.
#include "data/dataset.h"
#include "llm/prompts.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

class LlmCache;

struct EndpointSpec
{
    std::string baseUrl = "http://127.0.0.1:8080/v1";  // POST {baseUrl}/chat/completions
    std::string model = "local";
    double temperature = 0.0;
    int maxTokens = 1024;
    double timeoutSeconds = 120;
    // Environment variables tried in order for the API key (sent as "Authorization: Bearer").
    std::vector<std::string> apiKeyEnv = {"SLLMR_API_KEY", "OPENAI_API_KEY"};
};

struct ScoringParams
{
    EndpointSpec endpoint;
    CandidateSpec candidates;
    std::string templatePath;      // empty: PromptTemplate::defaultPath()
    std::string outputPath;        // the score file
    std::string cachePath;         // empty: llm-cache.db next to the output
    int concurrency = 4;           // requests in flight
    double requestsPerMinute = 0;  // 0: no limit
    int maxRetries = 5;
    double backoffSeconds = 1.0;      // first retry delay; doubles each time, with jitter
    double maxBackoffSeconds = 60.0;  // cap, also for Retry-After
    double costPer1kInput = 0;        // in the user's currency
    double costPer1kOutput = 0;
    double missingScore = 0.5;  // offered candidates the answer did not score
    std::uint64_t seed = 42;    // jitter
    // Dry run: write the requests as OpenAI batch-API JSONL to this file and send nothing.
    std::string batchOutputPath;
    bool offline = false;  // use only cached answers (after importing batch results)
};

struct ScoringProgress
{
    std::int64_t total = 0;   // requests (users) in the job
    std::int64_t done = 0;    // answered or given up
    std::int64_t cached = 0;  // answered from the cache
    std::int64_t sent = 0;    // HTTP requests sent, retries included
    std::int64_t retries = 0;
    std::int64_t failed = 0;        // given up after retries (not cached; a rerun tries again)
    std::int64_t malformed = 0;     // answered without a readable score list
    std::int64_t promptTokens = 0;  // of answers received in this job
    std::int64_t completionTokens = 0;
    std::int64_t cachedPromptTokens = 0;  // of answers found in the cache
    std::int64_t cachedCompletionTokens = 0;
    bool tokensEstimated = false;  // some counts are estimates (no `usage` in the answer)
    double cost = 0;               // of this job's new answers
};

struct MalformedAnswer
{
    std::string user;  // original id
    std::string key;   // cache key
    std::string error;
    std::string raw;  // the assistant's text (or the body when no text could be read)
};

struct ScoringResult
{
    ScoringProgress progress;
    std::int64_t rows = 0;        // rows written to the score file
    std::int64_t scored = 0;      // rows with an answer's score
    std::int64_t missing = 0;     // offered but unanswered: written as missingScore
    std::int64_t unknownIds = 0;  // ids in answers that were not offered (ignored)
    std::int64_t clipped = 0;     // scores outside [0,1], clipped
    std::int64_t usersWritten = 0;
    std::vector<MalformedAnswer> malformed;
    std::vector<std::string> failures;  // "user 12: HTTP 500 after 5 retries"
    std::string outputPath;
    std::string malformedPath;  // <output>.malformed.jsonl when there were malformed answers
    std::string cachePath;
    std::string templateHash;
    std::int64_t batchRequests = 0;  // dry run: requests written
};

struct ScoringCallbacks
{
    std::function<void(const ScoringProgress&)> onProgress;
    const std::atomic<bool>* cancel = nullptr;
};

class ScoringJob
{
public:
    ScoringJob(ScoringParams params, const Dataset& dataset);

    // The chat-completions request body of every planned user, in plan order.
    struct Request
    {
        UserPlan plan;
        std::string prompt;
        std::string body;
        std::string key;
    };
    const std::vector<Request>& requests() const noexcept { return m_requests; }
    const ScoringParams& params() const noexcept { return m_params; }

    ScoringResult run(const ScoringCallbacks& callbacks = {});

    // Reads OpenAI batch-API results (JSONL with custom_id and response.body) into the cache.
    // Returns the number of answers imported; lines for requests not in this job are counted
    // in `skipped`. Bad lines are Error(BadInput) naming file and line.
    std::int64_t importBatchResults(const std::string& path, std::int64_t& skipped);

private:
    using Answers = std::vector<std::optional<std::string>>;  // assistant text per request
    ScoringResult writeBatch();
    // Phases of run(): answers already cached (returns the requests still to send), the
    // requests sent by `concurrency` workers, the score file (and the malformed answers).
    std::vector<std::size_t> takeCached(LlmCache& cache, Answers& answers,
                                        ScoringProgress& progress) const;
    void sendRequests(const std::vector<std::size_t>& pending, LlmCache& cache,
                      const ScoringCallbacks& cb, Answers& answers, ScoringResult& result,
                      ScoringProgress& progress) const;
    void writeScoreFile(const Answers& answers, ScoringResult& result,
                        ScoringProgress& progress) const;

    ScoringParams m_params;
    const Dataset& m_dataset;
    PromptTemplate m_template;
    std::vector<Request> m_requests;
};

// The request body for one prompt (endpoint-independent: model, messages, parameters).
std::string chatRequestBody(const EndpointSpec& endpoint, const std::string& prompt);
// The assistant text and usage of a chat-completions response body; false when the body is not
// one.
bool readChatResponse(const std::string& body, std::string& text, std::int64_t& promptTokens,
                      std::int64_t& completionTokens, bool& hasUsage);

}  // namespace sllmr
