#include "llm/llm_cache.h"

#include "common/error.h"
#include "common/hash.h"

#include <sqlite3.h>

#include <chrono>

namespace sllmr {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kApplicationId = 0x534c4c43;  // "SLLC"

struct Stmt
{
    sqlite3_stmt* s = nullptr;
    ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

LlmCache::LlmCache(const std::string& path) : m_path(path)
{
    auto fail = [&](const std::string& what) {
        std::string msg = what;
        if (m_db)
            msg += ": " + std::string(sqlite3_errmsg(m_db));
        sqlite3_close(m_db);
        m_db = nullptr;
        throw Error(ErrorKind::Store, msg, path, 0,
                    "choose another cache file with --cache, or delete a damaged one");
    };
    if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK)
        fail("cannot open the LLM cache");
    sqlite3_busy_timeout(m_db, 10000);
    auto exec = [&](const char* sql) {
        if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            fail("cannot prepare the LLM cache");
    };
    auto pragmaInt = [&](const char* sql) {
        Stmt st;
        if (sqlite3_prepare_v2(m_db, sql, -1, &st.s, nullptr) != SQLITE_OK)
            fail("the file is not an SQLite database");
        return sqlite3_step(st.s) == SQLITE_ROW ? sqlite3_column_int(st.s, 0) : 0;
    };
    const int app = pragmaInt("PRAGMA application_id");
    const int version = pragmaInt("PRAGMA user_version");
    if (app != 0 && app != kApplicationId)
        fail("the file is not an sllmr LLM cache");
    if (version > kSchemaVersion)
        fail("the LLM cache was written by a newer version of sllmr");
    exec("PRAGMA journal_mode=WAL");
    if (version == 0) {
        exec("BEGIN");
        exec(
            "CREATE TABLE IF NOT EXISTS answers ("
            " key TEXT PRIMARY KEY,"
            " request TEXT NOT NULL,"
            " response TEXT NOT NULL,"
            " prompt_tokens INTEGER NOT NULL,"
            " completion_tokens INTEGER NOT NULL,"
            " tokens_estimated INTEGER NOT NULL,"
            " source TEXT NOT NULL,"
            " created INTEGER NOT NULL)");
        exec("PRAGMA application_id=1397509187");
        exec("PRAGMA user_version=1");
        exec("COMMIT");
    }
}

LlmCache::~LlmCache()
{
    sqlite3_close(m_db);
}

std::string LlmCache::keyOf(const std::string& requestBody)
{
    // Two independent 64-bit hashes: 128 bits keep collisions out of reach for any cache size.
    Hasher a;
    a.add(requestBody);
    Hasher b;
    b.add(std::uint64_t{0x9e3779b97f4a7c15ULL});
    b.add(requestBody);
    b.add(static_cast<std::uint64_t>(requestBody.size()));
    return a.hex() + b.hex();
}

std::optional<CachedAnswer> LlmCache::find(const std::string& key) const
{
    std::lock_guard lock(m_mutex);
    Stmt st;
    if (sqlite3_prepare_v2(m_db,
                           "SELECT request, response, prompt_tokens, completion_tokens, "
                           "tokens_estimated, source FROM answers WHERE key = ?",
                           -1, &st.s, nullptr) != SQLITE_OK)
        throw Error(ErrorKind::Store, sqlite3_errmsg(m_db), m_path);
    sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.s);
    if (rc == SQLITE_DONE)
        return std::nullopt;
    if (rc != SQLITE_ROW)
        throw Error(ErrorKind::Store, sqlite3_errmsg(m_db), m_path);
    CachedAnswer a;
    a.request = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    a.response = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1));
    a.promptTokens = sqlite3_column_int64(st.s, 2);
    a.completionTokens = sqlite3_column_int64(st.s, 3);
    a.tokensEstimated = sqlite3_column_int(st.s, 4) != 0;
    a.source = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 5));
    return a;
}

void LlmCache::put(const std::string& key, const CachedAnswer& a)
{
    std::lock_guard lock(m_mutex);
    Stmt st;
    if (sqlite3_prepare_v2(m_db,
                           "INSERT OR REPLACE INTO answers (key, request, response, prompt_tokens,"
                           " completion_tokens, tokens_estimated, source, created)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st.s, nullptr) != SQLITE_OK)
        throw Error(ErrorKind::Store, sqlite3_errmsg(m_db), m_path);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.s, 2, a.request.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.s, 3, a.response.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 4, a.promptTokens);
    sqlite3_bind_int64(st.s, 5, a.completionTokens);
    sqlite3_bind_int(st.s, 6, a.tokensEstimated ? 1 : 0);
    sqlite3_bind_text(st.s, 7, a.source.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 8, now);
    if (sqlite3_step(st.s) != SQLITE_DONE)
        throw Error(ErrorKind::Store,
                    std::string("cannot store an answer: ") + sqlite3_errmsg(m_db), m_path, 0,
                    "check free disk space and that the cache file is writable");
}

std::int64_t LlmCache::size() const
{
    std::lock_guard lock(m_mutex);
    Stmt st;
    sqlite3_prepare_v2(m_db, "SELECT COUNT(*) FROM answers", -1, &st.s, nullptr);
    return sqlite3_step(st.s) == SQLITE_ROW ? sqlite3_column_int64(st.s, 0) : 0;
}

}  // namespace sllmr
