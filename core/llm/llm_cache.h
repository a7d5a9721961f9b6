#pragma once
// The LLM answer cache (`llm-cache.db`, SQLite, WAL): every answered request is stored under the
// hash of its endpoint-independent content (model, messages, parameters), with the request
// itself, the raw answer and its token counts. A rerun or a resumed job finds its answers here
// and sends nothing. Never holds credentials: the API key is not part of a request body. Thread
// safe (one connection behind a mutex). Fails with Error(Store) naming the file.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

struct sqlite3;

namespace sllmr {

struct CachedAnswer
{
    std::string request;   // the request body (JSON)
    std::string response;  // the raw response body (JSON)
    std::int64_t promptTokens = 0;
    std::int64_t completionTokens = 0;
    bool tokensEstimated = false;
    std::string source;  // "api" or "batch"
};

class LlmCache
{
public:
    explicit LlmCache(const std::string& path);
    ~LlmCache();
    LlmCache(const LlmCache&) = delete;
    LlmCache& operator=(const LlmCache&) = delete;

    // The key of a request body: hash of its canonical JSON.
    static std::string keyOf(const std::string& requestBody);

    std::optional<CachedAnswer> find(const std::string& key) const;
    // Stores (or replaces) an answer; committed before it returns.
    void put(const std::string& key, const CachedAnswer& answer);
    std::int64_t size() const;
    const std::string& path() const noexcept { return m_path; }

private:
    std::string m_path;
    sqlite3* m_db = nullptr;
    mutable std::mutex m_mutex;
};

}  // namespace sllmr
