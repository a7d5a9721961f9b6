#include "store/experiment_store.h"

#include "common/error.h"
#include "common/utf8.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sllmr {
namespace {

// ---------------------------------------------------------------------------------------------
// Schema history. Each version's DDL is frozen once released: a fresh database gets the latest
// one directly, an older one is brought forward by the upgrade steps below. The two paths must
// produce the same tables and indexes (tst_store checks this).

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    spec_json    TEXT NOT NULL,
    stats_json   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE TABLE score_sets (
    id           INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    spec_json    TEXT NOT NULL,
    report_json  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (dataset_id, content_hash)
);
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    dataset_id       INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    score_set_id     INTEGER REFERENCES score_sets(id) ON DELETE SET NULL,
    name             TEXT NOT NULL,
    config_json      TEXT NOT NULL,
    config_hash      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                         ('pending', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    seed             INTEGER NOT NULL,
    software_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    error            TEXT
);
CREATE TABLE epoch_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch  INTEGER NOT NULL,
    key    TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, epoch, key)
) WITHOUT ROWID;
CREATE TABLE segment_metrics (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    segment TEXT NOT NULL,
    metric  TEXT NOT NULL,
    value   REAL,
    size    INTEGER NOT NULL,
    PRIMARY KEY (run_id, segment, metric)
) WITHOUT ROWID;
CREATE TABLE interaction_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    user   INTEGER NOT NULL,
    item   INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, metric, user, item)
) WITHOUT ROWID;
CREATE TABLE gate_bins (
    run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch           INTEGER NOT NULL,
    dimension       TEXT NOT NULL,
    bin             INTEGER NOT NULL,
    lo              REAL,
    hi              REAL,
    count           INTEGER NOT NULL,
    mean_activation REAL,
    active_share    REAL,
    PRIMARY KEY (run_id, epoch, dimension, bin)
) WITHOUT ROWID;
)sql";

// kUpgrades[i] takes a database from version i + 1 to version i + 2. A new database is built the
// same way (version 1, then every step), so a fresh and an upgraded database cannot drift apart.
// Version 2: free-text notes and comma-separated tags on runs; indexes for the run list filters.
// Version 3: sweeps (an expanded grid of runs) and their queue of items.
constexpr std::array<const char*, 2> kUpgrades = {
    R"sql(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_config_hash ON runs(config_hash);
)sql",
    R"sql(
CREATE TABLE sweeps (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    grid_json  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN
                   ('pending', 'running', 'completed', 'failed', 'cancelled', 'interrupted'))
);
CREATE TABLE sweep_items (
    sweep_id     INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    row_label    TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    config_json  TEXT NOT NULL,
    config_hash  TEXT NOT NULL,
    duplicate_of INTEGER,
    run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    status       TEXT NOT NULL CHECK (status IN
                     ('pending', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    PRIMARY KEY (sweep_id, position)
) WITHOUT ROWID;
CREATE INDEX sweep_items_by_run ON sweep_items(run_id);
)sql",
};

static_assert(kUpgrades.size() == static_cast<std::size_t>(kSchemaVersion - 1));

// Our constants, never user values: the only text ever spliced into SQL.
std::string versionPragmas(int version)
{
    return fmt::format("PRAGMA application_id = {};\nPRAGMA user_version = {};\n", kApplicationId,
                       version);
}

// Creates schema `version` (1..kSchemaVersion) in an empty database.
std::string schemaSql(int version)
{
    std::string sql = versionPragmas(version) + kSchemaV1;
    for (int step = 1; step < version; ++step)
        sql += kUpgrades[static_cast<std::size_t>(step - 1)];
    return sql;
}

// ---------------------------------------------------------------------------------------------
// SQLite plumbing

std::string databaseName(sqlite3* db)
{
    const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
    return name ? name : "";
}

// No single step of a statement of ours runs this long on a file we wrote; on a hostile file (a
// recursive view, a huge computed value) the progress handler stops it instead of hanging.
constexpr int kStatementBudgetSeconds = 60;
// Largest text or blob a connection reads or writes; ours are far smaller.
constexpr int kMaxValueBytes = 64 << 20;

thread_local std::chrono::steady_clock::time_point t_statementDeadline =
    std::chrono::steady_clock::time_point::max();

void startStatementClock()
{
    t_statementDeadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(kStatementBudgetSeconds);
}

extern "C" int stopOverlongStatement(void*)
{
    return std::chrono::steady_clock::now() > t_statementDeadline ? 1 : 0;
}

// Turns a failed SQLite call into an Error saying what is wrong with the file and what to do.
[[noreturn]] void throwSqlite(sqlite3* db, int rc)
{
    const std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    std::string problem;
    std::string hint;
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
            problem = "not an SQLite database";
            hint =
                "choose an experiments database written by SLLMR Studio or a new file name; the "
                "file was left unchanged";
            break;
        case SQLITE_CORRUPT:
            problem = "the database is damaged or truncated (" + message + ")";
            hint = "restore it from a backup or choose another file";
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            problem = "the database is locked by another connection (" + message + ")";
            hint = "wait until the other SLLMR Studio process finishes writing, then try again";
            break;
        case SQLITE_FULL:
            problem = "the disk is full (" + message + ")";
            hint = "free some disk space and try again";
            break;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_CANTOPEN:
        case SQLITE_AUTH:
            problem = "the database cannot be opened for writing (" + message + ")";
            hint = "check the permissions of the file and its folder, or choose another location";
            break;
        case SQLITE_INTERRUPT:
            problem = fmt::format("a query ran longer than {} s and was stopped ({})",
                                  kStatementBudgetSeconds, message);
            hint = "the file holds something SLLMR Studio did not write; choose another file";
            break;
        case SQLITE_TOOBIG:
            problem = "a stored value is larger than SLLMR Studio reads (" + message + ")";
            hint = "the file holds something SLLMR Studio did not write; choose another file";
            break;
        case SQLITE_CONSTRAINT:
            problem = "the data was rejected (" + message + ")";
            hint = "a referenced dataset, score set or run does not exist, or a value is invalid";
            break;
        default:
            problem = "database error (" + message + ")";
            hint =
                "check that the file is readable and the disk is healthy, or choose another file";
            break;
    }
    throw Error(ErrorKind::Store, std::move(problem), databaseName(db), 0, std::move(hint));
}

void exec(sqlite3* db, const char* sql)
{
    startStatementClock();
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        throwSqlite(db, rc);
}

struct CloseDb
{
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseDb>;

// Writers wait for each other (the Studio's worker threads and a CLI may share the file); every
// write transaction is short, so a wait this long means something is stuck.
constexpr int kBusyTimeoutMs = 30000;

// Treats the file as untrusted before anything reads its schema: no writes to the schema or
// shadow tables (DEFENSIVE), no functions with side effects called from the schema
// (trusted_schema off), no views (this program creates none), bounded values and statements.
void harden(sqlite3* db, const std::string& path)
{
    int ignored = 0;
    bool ok = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &ignored) == SQLITE_OK;
    ok = ok && sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &ignored) == SQLITE_OK;
#ifdef SQLITE_DBCONFIG_ENABLE_VIEW
    ok = ok && sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, &ignored) == SQLITE_OK;
#endif
    ok = ok &&
         sqlite3_exec(db, "PRAGMA trusted_schema = OFF", nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok) {
        throw Error(
            ErrorKind::Store,
            fmt::format("cannot configure the database connection ({})", sqlite3_errmsg(db)), path,
            0, "SQLite 3.31 or newer is required");
    }
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, kMaxValueBytes);
    sqlite3_progress_handler(db, 10000, stopOverlongStatement, nullptr);
}

Connection openConnection(const std::string& name, int flags, const std::string& path)
{
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
    Connection db(raw);  // a handle is returned even on failure and must be closed
    if (rc != SQLITE_OK) {
        throw Error(ErrorKind::Store,
                    fmt::format("cannot open the database ({})",
                                raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
                    path, 0,
                    "check that the folder exists and is writable, or choose another location");
    }
    sqlite3_extended_result_codes(db.get(), 1);
    harden(db.get(), path);
    // Every connection waits for the others, the read-only inspection too: in WAL mode a reader
    // can meet a lock briefly while another connection checkpoints on close.
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    return db;
}

// A prepared statement; finalized on destruction. bind() indexes are 1-based, column() 0-based.
class Statement
{
public:
    Statement(sqlite3* db, std::string_view sql) : m_db(db)
    {
        const int rc =
            sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &m_stmt, nullptr);
        if (rc != SQLITE_OK)
            throwSqlite(db, rc);
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value)
    {
        return check(sqlite3_bind_int64(m_stmt, index, value));
    }
    Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
    Statement& bind(int index, double value)
    {
        return check(sqlite3_bind_double(m_stmt, index, value));
    }
    // Stored text is valid UTF-8: invalid bytes (an error message cut inside a character, a
    // Latin-1 file name) become U+FFFD.
    Statement& bind(int index, std::string_view value)
    {
        if (!isValidUtf8(value)) {
            const std::string valid = validUtf8(value);
            return check(sqlite3_bind_text64(m_stmt, index, valid.data(), valid.size(),
                                             SQLITE_TRANSIENT, SQLITE_UTF8));
        }
        // An empty view may have no data pointer, which SQLite would take for NULL.
        return check(sqlite3_bind_text64(m_stmt, index, value.empty() ? "" : value.data(),
                                         value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Statement& bind(int index, std::nullptr_t) { return check(sqlite3_bind_null(m_stmt, index)); }
    // A column value of another statement, whatever its type (copies between connections).
    Statement& bindValue(int index, const sqlite3_value* value)
    {
        return check(sqlite3_bind_value(m_stmt, index, value));
    }
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value)
    {
        return value ? bind(index, *value) : bind(index, nullptr);
    }

    // Binds each argument to the next parameter, starting at 1.
    template <typename... Args>
    Statement& bindAll(const Args&... args)
    {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // True when a row is ready, false when the statement is done; throws on failure.
    bool step()
    {
        startStatementClock();
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        throwSqlite(m_db, rc);
    }
    // Runs a statement that returns no rows.
    void run()
    {
        while (step()) {}
    }
    // Makes the statement ready to be bound and stepped again.
    void reset()
    {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }

    std::int64_t int64(int column) const { return sqlite3_column_int64(m_stmt, column); }
    const sqlite3_value* value(int column) const { return sqlite3_column_value(m_stmt, column); }
    int columns() const { return sqlite3_column_count(m_stmt); }
    std::optional<std::int64_t> optionalInt64(int column) const
    {
        if (sqlite3_column_type(m_stmt, column) == SQLITE_NULL)
            return std::nullopt;
        return int64(column);
    }
    // SQLite stores NaN as NULL; it comes back as NaN.
    double real(int column) const
    {
        if (sqlite3_column_type(m_stmt, column) == SQLITE_NULL)
            return std::numeric_limits<double>::quiet_NaN();
        return sqlite3_column_double(m_stmt, column);
    }
    // Untrusted: a file written by another program may hold any bytes; they come back as valid
    // UTF-8.
    std::string text(int column) const
    {
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
        if (!data)
            return {};
        return validUtf8(
            std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))));
    }

private:
    Statement& check(int rc)
    {
        if (rc != SQLITE_OK)
            throwSqlite(m_db, rc);
        return *this;
    }

    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so a transaction never fails
// half way for lack of it); ROLLBACK on destruction unless commit() succeeded.
class Transaction
{
public:
    explicit Transaction(sqlite3* db) : m_db(db) { exec(db, "BEGIN IMMEDIATE"); }
    ~Transaction()
    {
        if (!m_committed && !sqlite3_get_autocommit(m_db))
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit()
    {
        exec(m_db, "COMMIT");
        m_committed = true;
    }

private:
    sqlite3* m_db;
    bool m_committed = false;
};

// Runs `body` as one transaction. Store errors are prefixed with what was being done.
template <typename Body>
std::invoke_result_t<Body&> inTransaction(sqlite3* db, const char* what, Body&& body)
{
    try {
        Transaction transaction(db);
        if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
            body();
            transaction.commit();
        } else {
            auto result = body();
            transaction.commit();
            return result;
        }
    } catch (const Error& error) {
        if (error.kind() != ErrorKind::Store)
            throw;
        throw Error(error.kind(), fmt::format("cannot {}: {}", what, error.problem()), error.file(),
                    error.line(), error.hint());
    }
}

template <typename Record, typename Read>
std::vector<Record> collect(Statement& statement, Read read)
{
    std::vector<Record> records;
    while (statement.step())
        records.push_back(read(statement));
    return records;
}

template <typename Record, typename Read>
std::optional<Record> first(Statement& statement, Read read)
{
    if (!statement.step())
        return std::nullopt;
    return read(statement);
}

std::optional<std::string_view> nullIfEmpty(const std::string& text)
{
    if (text.empty())
        return std::nullopt;
    return std::string_view(text);
}

// ISO 8601 UTC with milliseconds, e.g. 2026-11-27T18:40:00.123Z.
std::string nowUtc()
{
    using namespace std::chrono;
    const auto now = floor<milliseconds>(system_clock::now());
    const auto today = floor<days>(now);
    const year_month_day date{today};
    const hh_mm_ss timeOfDay{now - today};
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(timeOfDay.hours().count()),
                  static_cast<int>(timeOfDay.minutes().count()),
                  static_cast<int>(timeOfDay.seconds().count()),
                  static_cast<int>(timeOfDay.subseconds().count()));
    return text;
}

[[noreturn]] void throwRunNotFound(std::int64_t id, const std::string& path)
{
    throw Error(ErrorKind::NotFound, fmt::format("run {} does not exist", id), path, 0,
                "it may have been deleted; refresh the run list");
}

bool isFinished(RunStatus status)
{
    return status == RunStatus::Completed || status == RunStatus::Failed ||
           status == RunStatus::Cancelled || status == RunStatus::Interrupted;
}

// ---------------------------------------------------------------------------------------------
// Opening: what is in the file, and may we touch it?

// One row of sqlite_schema.
struct SchemaObject
{
    std::string type;  // table, index, view, trigger
    std::string name;
    std::string table;
    std::string sql;  // empty for the indexes SQLite creates for UNIQUE and PRIMARY KEY

    bool operator==(const SchemaObject&) const = default;
};

struct Inspection
{
    std::int32_t applicationId = 0;
    int userVersion = 0;
    std::vector<std::string> objects;  // tables, indexes, views, triggers (not sqlite_*)
    std::vector<SchemaObject> schema;  // every row of sqlite_schema but SQLite's statistics
};

std::vector<SchemaObject> schemaObjects(sqlite3* db)
{
    // sqlite_stat* tables hold ANALYZE statistics: SQLite's own, harmless, and not ours to judge.
    Statement rows(db,
                   "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                   "WHERE NOT (type = 'table' AND name LIKE 'sqlite\\_stat%' ESCAPE '\\') "
                   "ORDER BY type, name");
    return collect<SchemaObject>(rows, [](const Statement& s) {
        return SchemaObject{s.text(0), s.text(1), s.text(2), s.text(3)};
    });
}

Inspection inspect(sqlite3* db)
{
    Inspection result;
    Statement applicationId(db, "PRAGMA application_id");
    if (applicationId.step())
        result.applicationId = static_cast<std::int32_t>(applicationId.int64(0));
    Statement userVersion(db, "PRAGMA user_version");
    if (userVersion.step())
        result.userVersion = static_cast<int>(userVersion.int64(0));
    result.schema = schemaObjects(db);
    for (const auto& object : result.schema)
        if (object.name.rfind("sqlite_", 0) != 0)
            result.objects.push_back(object.name);
    std::sort(result.objects.begin(), result.objects.end());
    return result;
}

// The schema objects a database of `version` holds: built the same way in memory.
std::vector<SchemaObject> expectedSchema(int version)
{
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE, nullptr);
    const Connection db(raw);
    if (rc != SQLITE_OK)
        throwSqlite(raw, rc);
    exec(db.get(), schemaSql(version).c_str());
    return schemaObjects(db.get());
}

// Throws unless `found` holds exactly the tables and indexes of its schema version: a view, a
// trigger or a changed definition could run code or hide data when the store reads or writes.
void requireOwnSchema(const Inspection& found, const std::string& path)
{
    const std::vector<SchemaObject> expected = expectedSchema(found.userVersion);
    if (found.schema == expected)
        return;
    // Objects we never create (views, triggers, other tables) are named first: they are what
    // could run code or hide data.
    std::vector<std::string> problems;
    std::vector<std::string> changed;
    for (const auto& object : found.schema) {
        const auto same = std::find_if(expected.begin(), expected.end(), [&](const auto& e) {
            return e.type == object.type && e.name == object.name;
        });
        if (same == expected.end())
            problems.push_back(fmt::format("unexpected {} '{}'", object.type, object.name));
        else if (!(*same == object))
            changed.push_back(
                fmt::format("{} '{}' is defined differently", object.type, object.name));
    }
    problems.insert(problems.end(), changed.begin(), changed.end());
    for (const auto& object : expected) {
        const bool present = std::any_of(found.schema.begin(), found.schema.end(), [&](auto& f) {
            return f.type == object.type && f.name == object.name;
        });
        if (!present)
            problems.push_back(fmt::format("missing {} '{}'", object.type, object.name));
    }
    std::string list;
    for (std::size_t k = 0; k < problems.size() && k < 6; ++k)
        list += (list.empty() ? "" : "; ") + problems[k];
    if (problems.size() > 6)
        list += fmt::format("; and {} more", problems.size() - 6);
    throw Error(ErrorKind::Store,
                fmt::format("the database holds schema objects SLLMR Studio does not create "
                            "(schema {}: {})",
                            found.userVersion, list),
                path, 0,
                "SLLMR Studio left it unchanged and runs nothing from it; it may have been "
                "tampered with: restore a backup or choose another file");
}

// file: URI of a path, for read-only opens.
std::string fileUri(const std::string& path, bool immutable)
{
    std::string uri = "file:";
    if (!path.empty() && path.front() == '/')
        uri += "//";  // empty authority, so that a path starting with "//" stays a path
    for (const char c : path) {
        switch (c) {
            case '%':
                uri += "%25";
                break;
            case '?':
                uri += "%3f";
                break;
            case '#':
                uri += "%23";
                break;
            default:
                uri += c;
                break;
        }
    }
    return uri + (immutable ? "?mode=ro&immutable=1" : "?mode=ro");
}

bool hasWal(const std::string& path)
{
    std::error_code ignored;
    return std::filesystem::exists(path + "-wal", ignored);
}

// Reads an existing file without writing anything: no lock, no -wal/-shm/-journal file created.
// `immutable` is only safe without a -wal file (then the main file holds every commit); with one,
// a plain read-only open is used, which reads the WAL but may need to add a -shm beside it.
Inspection inspectReadOnly(const std::string& path)
{
    const Connection db =
        openConnection(fileUri(path, !hasWal(path)), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
    return inspect(db.get());
}

// Opens a file no process writes any more: immutable, so nothing is locked or written (safe on a
// network filesystem). A -wal beside it means a writer is active or was killed: refused.
Connection openSnapshot(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw Error(ErrorKind::Store, "no such store file", path, 0,
                    "check the path; a sweep cell writes its shard when its task starts");
    if (hasWal(path))
        throw Error(ErrorKind::Store,
                    "the store is in use or its writer was killed (a -wal file is beside it)", path,
                    0,
                    "wait until its task ends, or resume the task: reopening it for writing "
                    "recovers the file");
    return openConnection(fileUri(path, true), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
}

enum class Layout { Empty, Older, Current };

// Throws unless the file is empty or one of ours that this build can read.
Layout classify(const Inspection& found, const std::string& path)
{
    const bool ours = found.applicationId == kApplicationId;
    if (!ours && (found.applicationId != 0 || found.userVersion != 0 || !found.objects.empty())) {
        std::string tables;
        for (const auto& name : found.objects)
            tables += (tables.empty() ? "" : ", ") + name;
        throw Error(ErrorKind::Store,
                    fmt::format("an SQLite database of another program (application id {:#010x}, "
                                "user version {}, objects: {})",
                                static_cast<std::uint32_t>(found.applicationId), found.userVersion,
                                tables.empty() ? "none" : tables),
                    path, 0,
                    "SLLMR Studio left it unchanged; choose an experiments database of SLLMR "
                    "Studio or a new file name");
    }
    if (found.userVersion > kSchemaVersion) {
        throw Error(ErrorKind::Store,
                    fmt::format("written by a newer SLLMR Studio (schema {}, this build reads up "
                                "to {})",
                                found.userVersion, kSchemaVersion),
                    path, 0,
                    "open it with a newer version of SLLMR Studio or choose another file; it was "
                    "left unchanged");
    }
    if (found.userVersion < 0 || (found.userVersion == 0 && !found.objects.empty())) {
        throw Error(ErrorKind::Store,
                    fmt::format("an SLLMR Studio database without a valid schema version ({})",
                                found.userVersion),
                    path, 0, "it may be damaged: restore it from a backup or choose another file");
    }
    if (found.userVersion == 0)
        return Layout::Empty;
    requireOwnSchema(found, path);
    return found.userVersion < kSchemaVersion ? Layout::Older : Layout::Current;
}

// ---------------------------------------------------------------------------------------------
// Row mapping. Column lists and readers are kept side by side so their order cannot drift.

// A status outside the CHECK list can only come from another program; such a run reads as
// failed, saying why, instead of making the whole list unreadable.
RunStatus storedStatus(const std::string& text, std::string* error)
{
    try {
        return runStatusFromString(text);
    } catch (const Error&) {
        *error = fmt::format("unknown status '{}' in the database", text);
        return RunStatus::Failed;
    }
}

constexpr std::string_view kDatasetColumns =
    "id, name, source, content_hash, spec_json, stats_json, created_at";

DatasetRecord readDataset(const Statement& s)
{
    return DatasetRecord{s.int64(0), s.text(1), s.text(2), s.text(3),
                         s.text(4),  s.text(5), s.text(6)};
}

constexpr std::string_view kScoreSetColumns =
    "id, dataset_id, name, source, content_hash, spec_json, report_json, created_at";

ScoreSetRecord readScoreSet(const Statement& s)
{
    return ScoreSetRecord{s.int64(0), s.int64(1), s.text(2), s.text(3),
                          s.text(4),  s.text(5),  s.text(6), s.text(7)};
}

constexpr std::string_view kRunColumns =
    "id, dataset_id, score_set_id, name, config_json, config_hash, status, seed, "
    "software_version, created_at, started_at, finished_at, error, notes, tags";

constexpr std::string_view kSweepColumns = "id, name, grid_json, created_at, status";

SweepRecord readSweep(const Statement& s)
{
    std::string ignored;
    return SweepRecord{s.int64(0), s.text(1), s.text(2), s.text(3),
                       storedStatus(s.text(4), &ignored)};
}

constexpr std::string_view kSweepItemColumns =
    "sweep_id, position, row_label, seed, config_json, config_hash, duplicate_of, run_id, status";

SweepItemRecord readSweepItem(const Statement& s)
{
    SweepItemRecord item;
    item.sweepId = s.int64(0);
    item.position = static_cast<int>(s.int64(1));
    item.rowLabel = s.text(2);
    item.seed = s.int64(3);
    item.configJson = s.text(4);
    item.configHash = s.text(5);
    if (const auto d = s.optionalInt64(6))
        item.duplicateOf = static_cast<int>(*d);
    item.runId = s.optionalInt64(7);
    std::string ignored;
    item.status = storedStatus(s.text(8), &ignored);
    return item;
}

RunRecord readRun(const Statement& s)
{
    RunRecord run;
    run.id = s.int64(0);
    run.datasetId = s.optionalInt64(1);
    run.scoreSetId = s.optionalInt64(2);
    run.name = s.text(3);
    run.configJson = s.text(4);
    run.configHash = s.text(5);
    std::string statusError;
    run.status = storedStatus(s.text(6), &statusError);
    run.seed = s.int64(7);
    run.softwareVersion = s.text(8);
    run.createdAt = s.text(9);
    run.startedAt = s.text(10);
    run.finishedAt = s.text(11);
    run.error = statusError.empty() ? s.text(12) : statusError;
    run.notes = s.text(13);
    run.tags = s.text(14);
    return run;
}

std::string selectSql(std::string_view columns, std::string_view rest)
{
    std::string sql = "SELECT ";
    sql += columns;
    sql += ' ';
    sql += rest;
    return sql;
}

}  // namespace

// -------------------------------------------------------------------------------------------------

const char* toString(RunStatus status)
{
    switch (status) {
        case RunStatus::Pending:
            return "pending";
        case RunStatus::Running:
            return "running";
        case RunStatus::Completed:
            return "completed";
        case RunStatus::Failed:
            return "failed";
        case RunStatus::Cancelled:
            return "cancelled";
        case RunStatus::Interrupted:
            return "interrupted";
    }
    return "unknown";
}

RunStatus runStatusFromString(const std::string& text)
{
    for (const RunStatus status :
         {RunStatus::Pending, RunStatus::Running, RunStatus::Completed, RunStatus::Failed,
          RunStatus::Cancelled, RunStatus::Interrupted}) {
        if (text == toString(status))
            return status;
    }
    throw Error(ErrorKind::Usage, fmt::format("unknown run status \"{}\"", text), {}, 0,
                "use one of pending, running, completed, failed, cancelled, interrupted");
}

std::string schemaSqlForTests(int version)
{
    if (version < 1 || version > kSchemaVersion) {
        throw Error(ErrorKind::Usage, fmt::format("no schema version {} (this build knows 1 to {})",
                                                  version, kSchemaVersion));
    }
    return schemaSql(version);
}

ExperimentStore::ExperimentStore(const std::string& path) : m_path(path)
{
    checkAndUpgrade();
}

ExperimentStore::ExperimentStore(const std::string& path, StoreAccess access) : m_path(path)
{
    if (access == StoreAccess::ReadWrite) {
        checkAndUpgrade();
        return;
    }
    Connection db = openSnapshot(path);
    const Inspection found = inspect(db.get());
    if (classify(found, path) != Layout::Current)
        throw Error(
            ErrorKind::Store,
            fmt::format("schema {} where this build writes {}", found.userVersion, kSchemaVersion),
            path, 0, "open it once for writing (e.g. 'sllmr --db FILE runs list')");
    m_db = db.release();
}

ExperimentStore::~ExperimentStore()
{
    sqlite3_close_v2(m_db);
}

void ExperimentStore::checkAndUpgrade()
{
    // 1. Look before touching: an existing file is inspected read-only and refused (unmodified)
    //    when it is not ours or too new. Even switching to WAL would write to it.
    std::error_code error;
    const auto status = std::filesystem::status(m_path, error);
    if (std::filesystem::is_directory(status)) {
        throw Error(ErrorKind::Store, "a folder, not a database file", m_path, 0,
                    "choose a file name inside the folder");
    }
    const bool current = std::filesystem::exists(status) &&
                         classify(inspectReadOnly(m_path), m_path) == Layout::Current;

    // 2. Open read-write (creating the file when absent) and configure the connection.
    Connection db = openConnection(m_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, m_path);
    if (sqlite3_db_readonly(db.get(), "main") == 1) {
        throw Error(ErrorKind::Store, "the database file is read-only", m_path, 0,
                    "check the permissions of the file, or copy it to a writable location");
    }
    exec(db.get(), "PRAGMA foreign_keys = ON");
    exec(db.get(), "PRAGMA journal_mode = WAL");

    // 3. Create or upgrade under the write lock. The file is classified again: another process
    //    may have created or upgraded it since step 1. A file already current needs no lock.
    if (!current)
        inTransaction(db.get(), "prepare the database", [&] {
            const Inspection found = inspect(db.get());
            switch (classify(found, m_path)) {
                case Layout::Empty:
                    exec(db.get(), schemaSql(kSchemaVersion).c_str());
                    break;
                case Layout::Older:
                    for (int version = found.userVersion; version < kSchemaVersion; ++version)
                        exec(db.get(), kUpgrades[static_cast<std::size_t>(version - 1)]);
                    exec(db.get(), versionPragmas(kSchemaVersion).c_str());
                    break;
                case Layout::Current:
                    break;
            }
        });
    m_db = db.release();
}

int ExperimentStore::schemaVersion() const
{
    Statement statement(m_db, "PRAGMA user_version");
    return statement.step() ? static_cast<int>(statement.int64(0)) : 0;
}

// --- datasets and score sets ---------------------------------------------------------------------

std::int64_t ExperimentStore::addDataset(const DatasetRecord& record)
{
    return inTransaction(m_db, "add the dataset", [&] {
        Statement existing(m_db, "SELECT id FROM datasets WHERE content_hash = ?");
        if (existing.bindAll(record.contentHash).step())
            return existing.int64(0);
        Statement insert(m_db,
                         "INSERT INTO datasets (name, source, content_hash, spec_json, "
                         "stats_json, created_at) VALUES (?, ?, ?, ?, ?, ?)");
        insert
            .bindAll(record.name, record.source, record.contentHash, record.specJson,
                     record.statsJson, nowUtc())
            .run();
        return static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db));
    });
}

std::optional<DatasetRecord> ExperimentStore::dataset(std::int64_t id) const
{
    Statement statement(m_db, selectSql(kDatasetColumns, "FROM datasets WHERE id = ?"));
    return first<DatasetRecord>(statement.bindAll(id), readDataset);
}

std::optional<DatasetRecord> ExperimentStore::datasetByHash(const std::string& contentHash) const
{
    Statement statement(m_db, selectSql(kDatasetColumns, "FROM datasets WHERE content_hash = ?"));
    return first<DatasetRecord>(statement.bindAll(contentHash), readDataset);
}

std::vector<DatasetRecord> ExperimentStore::datasets() const
{
    Statement statement(m_db, selectSql(kDatasetColumns, "FROM datasets ORDER BY id"));
    return collect<DatasetRecord>(statement, readDataset);
}

std::int64_t ExperimentStore::addScoreSet(const ScoreSetRecord& record)
{
    return inTransaction(m_db, "add the score set", [&] {
        Statement existing(m_db,
                           "SELECT id FROM score_sets WHERE dataset_id = ? AND content_hash = ?");
        if (existing.bindAll(record.datasetId, record.contentHash).step())
            return existing.int64(0);
        Statement insert(m_db,
                         "INSERT INTO score_sets (dataset_id, name, source, content_hash, "
                         "spec_json, report_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        insert
            .bindAll(record.datasetId, record.name, record.source, record.contentHash,
                     record.specJson, record.reportJson, nowUtc())
            .run();
        return static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db));
    });
}

std::optional<ScoreSetRecord> ExperimentStore::scoreSet(std::int64_t id) const
{
    Statement statement(m_db, selectSql(kScoreSetColumns, "FROM score_sets WHERE id = ?"));
    return first<ScoreSetRecord>(statement.bindAll(id), readScoreSet);
}

std::vector<ScoreSetRecord> ExperimentStore::scoreSets(std::optional<std::int64_t> datasetId) const
{
    Statement statement(
        m_db, selectSql(kScoreSetColumns,
                        "FROM score_sets WHERE ?1 IS NULL OR dataset_id = ?1 ORDER BY id"));
    return collect<ScoreSetRecord>(statement.bindAll(datasetId), readScoreSet);
}

// --- runs ----------------------------------------------------------------------------------------

std::int64_t ExperimentStore::createRun(const RunRecord& record)
{
    return inTransaction(m_db, "create the run", [&] {
        Statement insert(m_db,
                         "INSERT INTO runs (dataset_id, score_set_id, name, config_json, "
                         "config_hash, status, seed, software_version, created_at, "
                         "started_at, finished_at, error, notes, tags) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert
            .bindAll(record.datasetId, record.scoreSetId, record.name, record.configJson,
                     record.configHash, std::string_view(toString(record.status)), record.seed,
                     record.softwareVersion, nowUtc(), nullIfEmpty(record.startedAt),
                     nullIfEmpty(record.finishedAt), nullIfEmpty(record.error), record.notes,
                     record.tags)
            .run();
        return static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db));
    });
}

std::optional<RunRecord> ExperimentStore::run(std::int64_t id) const
{
    Statement statement(m_db, selectSql(kRunColumns, "FROM runs WHERE id = ?"));
    return first<RunRecord>(statement.bindAll(id), readRun);
}

std::vector<RunRecord> ExperimentStore::runs() const
{
    Statement statement(m_db,
                        selectSql(kRunColumns, "FROM runs ORDER BY created_at DESC, id DESC"));
    return collect<RunRecord>(statement, readRun);
}

void ExperimentStore::setRunStatus(std::int64_t id, RunStatus status, const std::string& error)
{
    // Starting (again) stamps started_at and clears finished_at; finishing stamps finished_at.
    const std::string now = nowUtc();
    const bool starting = status == RunStatus::Running;
    inTransaction(m_db, "update the run status", [&] {
        Statement update(m_db,
                         "UPDATE runs SET status = ?1, error = ?2, "
                         "started_at = CASE WHEN ?3 THEN ?5 ELSE started_at END, "
                         "finished_at = CASE WHEN ?3 THEN NULL WHEN ?4 THEN ?5 "
                         "ELSE finished_at END "
                         "WHERE id = ?6");
        update
            .bindAll(std::string_view(toString(status)), nullIfEmpty(error), int{starting},
                     int{isFinished(status)}, now, id)
            .run();
        if (sqlite3_changes(m_db) == 0)
            throwRunNotFound(id, m_path);
    });
}

void ExperimentStore::setRunNotes(std::int64_t id, const std::string& notes,
                                  const std::string& tags)
{
    inTransaction(m_db, "save the run notes", [&] {
        Statement update(m_db, "UPDATE runs SET notes = ?, tags = ? WHERE id = ?");
        update.bindAll(notes, tags, id).run();
        if (sqlite3_changes(m_db) == 0)
            throwRunNotFound(id, m_path);
    });
}

void ExperimentStore::setRunInputs(std::int64_t id, std::optional<std::int64_t> datasetId,
                                   std::optional<std::int64_t> scoreSetId)
{
    inTransaction(m_db, "link the run to its data", [&] {
        Statement update(m_db, "UPDATE runs SET dataset_id = ?, score_set_id = ? WHERE id = ?");
        update.bindAll(datasetId, scoreSetId, id).run();
        if (sqlite3_changes(m_db) == 0)
            throwRunNotFound(id, m_path);
    });
}

void ExperimentStore::deleteRun(std::int64_t id)
{
    inTransaction(m_db, "delete the run", [&] {
        Statement remove(m_db, "DELETE FROM runs WHERE id = ?");  // metrics go by ON DELETE CASCADE
        remove.bindAll(id).run();
        if (sqlite3_changes(m_db) == 0)
            throwRunNotFound(id, m_path);
    });
}

int ExperimentStore::markStaleRunsInterrupted()
{
    return inTransaction(m_db, "mark stale runs as interrupted", [&] {
        Statement update(m_db,
                         "UPDATE runs SET status = 'interrupted', finished_at = ? "
                         "WHERE status = 'running'");
        update.bindAll(nowUtc()).run();
        return sqlite3_changes(m_db);
    });
}

// --- sweeps --------------------------------------------------------------------------------------

std::int64_t ExperimentStore::createSweep(const SweepRecord& sweep,
                                          const std::vector<SweepItemRecord>& items)
{
    return inTransaction(m_db, "create the sweep", [&] {
        Statement insert(m_db,
                         "INSERT INTO sweeps (name, grid_json, created_at, status) "
                         "VALUES (?, ?, ?, ?)");
        insert
            .bindAll(sweep.name, sweep.gridJson, nowUtc(), std::string_view(toString(sweep.status)))
            .run();
        const auto id = static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db));
        Statement item(
            m_db,
            "INSERT INTO sweep_items (sweep_id, position, row_label, seed, config_json, "
            "config_hash, duplicate_of, run_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& i : items) {
            item.reset();
            item.bindAll(id, i.position, i.rowLabel, i.seed, i.configJson, i.configHash,
                         i.duplicateOf ? std::optional<std::int64_t>(*i.duplicateOf) : std::nullopt,
                         i.runId, std::string_view(toString(i.status)))
                .run();
        }
        return id;
    });
}

std::optional<SweepRecord> ExperimentStore::sweep(std::int64_t id) const
{
    Statement statement(m_db, selectSql(kSweepColumns, "FROM sweeps WHERE id = ?"));
    return first<SweepRecord>(statement.bindAll(id), readSweep);
}

std::vector<SweepRecord> ExperimentStore::sweeps() const
{
    Statement statement(m_db, selectSql(kSweepColumns, "FROM sweeps ORDER BY id DESC"));
    return collect<SweepRecord>(statement, readSweep);
}

std::vector<SweepItemRecord> ExperimentStore::sweepItems(std::int64_t sweepId) const
{
    Statement statement(m_db, selectSql(kSweepItemColumns,
                                        "FROM sweep_items WHERE sweep_id = ? ORDER BY position"));
    return collect<SweepItemRecord>(statement.bindAll(sweepId), readSweepItem);
}

void ExperimentStore::setSweepStatus(std::int64_t id, RunStatus status)
{
    inTransaction(m_db, "update the sweep status", [&] {
        Statement update(m_db, "UPDATE sweeps SET status = ? WHERE id = ?");
        update.bindAll(std::string_view(toString(status)), id).run();
        if (sqlite3_changes(m_db) == 0)
            throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", id), m_path, 0,
                        "'sllmr sweeps list' shows the sweeps");
    });
}

void ExperimentStore::setSweepGrid(std::int64_t id, const std::string& gridJson)
{
    inTransaction(m_db, "update the sweep", [&] {
        Statement update(m_db, "UPDATE sweeps SET grid_json = ? WHERE id = ?");
        update.bindAll(gridJson, id).run();
        if (sqlite3_changes(m_db) == 0)
            throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", id), m_path, 0,
                        "'sllmr sweeps list' shows the sweeps");
    });
}

void ExperimentStore::setSweepItem(std::int64_t sweepId, int position,
                                   std::optional<std::int64_t> runId, RunStatus status)
{
    inTransaction(m_db, "update the sweep item", [&] {
        Statement update(m_db,
                         "UPDATE sweep_items SET run_id = ?, status = ? "
                         "WHERE sweep_id = ? AND position = ?");
        update.bindAll(runId, std::string_view(toString(status)), sweepId, position).run();
        if (sqlite3_changes(m_db) == 0)
            throw Error(ErrorKind::NotFound,
                        fmt::format("sweep {} has no item {}", sweepId, position), m_path, 0,
                        "'sllmr sweeps list' shows the sweeps");
    });
}

// --- metrics -------------------------------------------------------------------------------------

namespace {

constexpr const char* kInsertEpochMetric =
    "INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, key, value) VALUES (?, ?, ?, ?)";
constexpr const char* kInsertGateBin =
    "INSERT OR REPLACE INTO gate_bins (run_id, epoch, dimension, bin, lo, hi, count, "
    "mean_activation, active_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

void bindEpochMetric(Statement& s, std::int64_t runId, const EpochMetric& m)
{
    s.bindAll(runId, m.epoch, m.key, m.value);
}

void bindGateBin(Statement& s, std::int64_t runId, const GateBin& b)
{
    s.bindAll(runId, b.epoch, b.dimension, b.bin, b.lo, b.hi, b.count, b.meanActivation,
              b.activeShare);
}

void requireRunExists(sqlite3* db, const std::string& path, std::int64_t runId)
{
    Statement exists(db, "SELECT 1 FROM runs WHERE id = ?");
    if (!exists.bindAll(runId).step())
        throwRunNotFound(runId, path);
}

// Inserts (or replaces) one row per item with `bindRow(statement, item)`; inside a transaction.
template <typename Item, typename BindRow>
void insertRows(sqlite3* db, const std::vector<Item>& items, const char* sql, BindRow bindRow)
{
    Statement insert(db, sql);
    for (const Item& item : items) {
        insert.reset();
        bindRow(insert, item);
        insert.run();
    }
}

// Inserts (or replaces) one row per item with `bindRow(statement, item)`, all in one transaction.
template <typename Item, typename BindRow>
void replaceRows(sqlite3* db, const std::string& path, const char* what, std::int64_t runId,
                 const std::vector<Item>& items, const char* sql, BindRow bindRow)
{
    inTransaction(db, what, [&] {
        requireRunExists(db, path, runId);
        insertRows(db, items, sql, bindRow);
    });
}

}  // namespace

void ExperimentStore::addEpochMetrics(std::int64_t runId, const std::vector<EpochMetric>& metrics)
{
    replaceRows(m_db, m_path, "save the epoch metrics", runId, metrics, kInsertEpochMetric,
                [runId](Statement& s, const EpochMetric& m) { bindEpochMetric(s, runId, m); });
}

void ExperimentStore::addEpoch(std::int64_t runId, const std::vector<EpochMetric>& metrics,
                               const std::vector<GateBin>& bins)
{
    inTransaction(m_db, "save the epoch", [&] {
        requireRunExists(m_db, m_path, runId);
        insertRows(m_db, metrics, kInsertEpochMetric,
                   [runId](Statement& s, const EpochMetric& m) { bindEpochMetric(s, runId, m); });
        insertRows(m_db, bins, kInsertGateBin,
                   [runId](Statement& s, const GateBin& b) { bindGateBin(s, runId, b); });
    });
}

int ExperimentStore::discardEpochsAfter(std::int64_t runId, int epoch)
{
    return inTransaction(m_db, "discard unfinished epochs", [&] {
        int deleted = 0;
        for (const char* sql : {"DELETE FROM epoch_metrics WHERE run_id = ? AND epoch > ?",
                                "DELETE FROM gate_bins WHERE run_id = ? AND epoch > ?"}) {
            Statement remove(m_db, sql);
            remove.bindAll(runId, epoch).run();
            deleted += sqlite3_changes(m_db);
        }
        return deleted;
    });
}

void ExperimentStore::addSegmentMetrics(std::int64_t runId,
                                        const std::vector<SegmentMetric>& metrics)
{
    replaceRows(m_db, m_path, "save the segment metrics", runId, metrics,
                "INSERT OR REPLACE INTO segment_metrics (run_id, segment, metric, value, size) "
                "VALUES (?, ?, ?, ?, ?)",
                [runId](Statement& s, const SegmentMetric& m) {
                    s.bindAll(runId, m.segment, m.metric, m.value, m.size);
                });
}

void ExperimentStore::addInteractionMetrics(std::int64_t runId,
                                            const std::vector<InteractionMetric>& metrics)
{
    replaceRows(m_db, m_path, "save the interaction metrics", runId, metrics,
                "INSERT OR REPLACE INTO interaction_metrics (run_id, user, item, metric, value) "
                "VALUES (?, ?, ?, ?, ?)",
                [runId](Statement& s, const InteractionMetric& m) {
                    s.bindAll(runId, m.user, m.item, m.metric, m.value);
                });
}

void ExperimentStore::addGateBins(std::int64_t runId, const std::vector<GateBin>& bins)
{
    replaceRows(m_db, m_path, "save the gate statistics", runId, bins, kInsertGateBin,
                [runId](Statement& s, const GateBin& b) { bindGateBin(s, runId, b); });
}

std::vector<EpochMetric> ExperimentStore::epochMetrics(std::int64_t runId) const
{
    Statement statement(m_db,
                        "SELECT epoch, key, value FROM epoch_metrics WHERE run_id = ? "
                        "ORDER BY epoch, key");
    return collect<EpochMetric>(statement.bindAll(runId), [](const Statement& s) {
        return EpochMetric{static_cast<int>(s.int64(0)), s.text(1), s.real(2)};
    });
}

std::vector<SegmentMetric> ExperimentStore::segmentMetrics(std::int64_t runId) const
{
    Statement statement(m_db,
                        "SELECT segment, metric, value, size FROM segment_metrics "
                        "WHERE run_id = ? ORDER BY segment, metric");
    return collect<SegmentMetric>(statement.bindAll(runId), [](const Statement& s) {
        return SegmentMetric{s.text(0), s.text(1), s.real(2), s.int64(3)};
    });
}

std::vector<InteractionMetric> ExperimentStore::interactionMetrics(std::int64_t runId,
                                                                   const std::string& metric) const
{
    Statement statement(m_db,
                        "SELECT user, item, metric, value FROM interaction_metrics "
                        "WHERE run_id = ? AND metric = ? ORDER BY user, item");
    return collect<InteractionMetric>(statement.bindAll(runId, metric), [](const Statement& s) {
        return InteractionMetric{s.int64(0), s.int64(1), s.text(2), s.real(3)};
    });
}

std::vector<GateBin> ExperimentStore::gateBins(std::int64_t runId) const
{
    Statement statement(m_db,
                        "SELECT epoch, dimension, bin, lo, hi, count, mean_activation, "
                        "active_share FROM gate_bins WHERE run_id = ? "
                        "ORDER BY epoch, dimension, bin");
    return collect<GateBin>(statement.bindAll(runId), [](const Statement& s) {
        return GateBin{static_cast<int>(s.int64(0)),
                       s.text(1),
                       static_cast<int>(s.int64(2)),
                       s.real(3),
                       s.real(4),
                       s.int64(5),
                       s.real(6),
                       s.real(7)};
    });
}

// --- importing runs from another store (sweep shards)
// ---------------------------------------------

namespace {

// Every table keyed by run_id besides `runs` itself: what importRun copies, with the columns after
// run_id. A table added to the schema with a run_id must be added here (tst_store checks that
// this list covers every table with a run_id column).
struct RunTable
{
    const char* name;
    const char* columns;
};
constexpr std::array<RunTable, 4> kRunTables = {{
    {"epoch_metrics", "epoch, key, value"},
    {"segment_metrics", "segment, metric, value, size"},
    {"interaction_metrics", "user, item, metric, value"},
    {"gate_bins", "epoch, dimension, bin, lo, hi, count, mean_activation, active_share"},
}};

// Copies the rows of `table` for `fromRun` in `from` to `toRun` in `to`.
void copyRunRows(sqlite3* from, sqlite3* to, const RunTable& table, std::int64_t fromRun,
                 std::int64_t toRun)
{
    Statement select(from,
                     fmt::format("SELECT {} FROM {} WHERE run_id = ?", table.columns, table.name));
    select.bindAll(fromRun);
    const int n = select.columns();
    std::string marks;
    for (int c = 0; c < n; ++c)
        marks += ", ?";
    Statement insert(to, fmt::format("INSERT OR REPLACE INTO {} (run_id, {}) VALUES (?{})",
                                     table.name, table.columns, marks));
    while (select.step()) {
        insert.reset();
        insert.bind(1, toRun);
        for (int c = 0; c < n; ++c)
            insert.bindValue(c + 2, select.value(c));
        insert.run();
    }
}

// This store's id of the dataset `id` of `from` (matched by content hash, inserted when absent).
std::optional<std::int64_t> importDataset(sqlite3* from, sqlite3* to,
                                          std::optional<std::int64_t> id)
{
    if (!id)
        return std::nullopt;
    Statement read(from, selectSql(kDatasetColumns, "FROM datasets WHERE id = ?"));
    const auto d = first<DatasetRecord>(read.bindAll(*id), readDataset);
    if (!d)
        return std::nullopt;
    Statement existing(to, "SELECT id FROM datasets WHERE content_hash = ?");
    if (existing.bindAll(d->contentHash).step())
        return existing.int64(0);
    Statement insert(to,
                     "INSERT INTO datasets (name, source, content_hash, spec_json, stats_json, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?)");
    insert.bindAll(d->name, d->source, d->contentHash, d->specJson, d->statsJson, d->createdAt)
        .run();
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(to));
}

std::optional<std::int64_t> importScoreSet(sqlite3* from, sqlite3* to,
                                           std::optional<std::int64_t> id,
                                           std::optional<std::int64_t> datasetId)
{
    if (!id || !datasetId)
        return std::nullopt;
    Statement read(from, selectSql(kScoreSetColumns, "FROM score_sets WHERE id = ?"));
    const auto r = first<ScoreSetRecord>(read.bindAll(*id), readScoreSet);
    if (!r)
        return std::nullopt;
    Statement existing(to, "SELECT id FROM score_sets WHERE dataset_id = ? AND content_hash = ?");
    if (existing.bindAll(*datasetId, r->contentHash).step())
        return existing.int64(0);
    Statement insert(to,
                     "INSERT INTO score_sets (dataset_id, name, source, content_hash, spec_json, "
                     "report_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert
        .bindAll(*datasetId, r->name, r->source, r->contentHash, r->specJson, r->reportJson,
                 r->createdAt)
        .run();
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(to));
}

}  // namespace

std::int64_t ExperimentStore::importRun(const ExperimentStore& source, std::int64_t runId,
                                        const RunImport& options)
{
    auto run = source.run(runId);
    if (!run)
        throw Error(ErrorKind::NotFound, fmt::format("run {} does not exist", runId), source.path(),
                    0, "the shard may belong to another sweep");
    if (!options.configJson.empty()) {
        run->configJson = options.configJson;
        run->configHash = options.configHash;
    }
    return inTransaction(m_db, "import the run", [&] {
        const auto datasetId = importDataset(source.m_db, m_db, run->datasetId);
        const auto scoreSetId = importScoreSet(source.m_db, m_db, run->scoreSetId, datasetId);
        Statement insert(m_db,
                         "INSERT INTO runs (dataset_id, score_set_id, name, config_json, "
                         "config_hash, status, seed, software_version, created_at, "
                         "started_at, finished_at, error, notes, tags) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert
            .bindAll(datasetId, scoreSetId, run->name, run->configJson, run->configHash,
                     std::string_view(toString(run->status)), run->seed, run->softwareVersion,
                     run->createdAt, nullIfEmpty(run->startedAt), nullIfEmpty(run->finishedAt),
                     nullIfEmpty(run->error), run->notes, run->tags)
            .run();
        const auto id = static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db));
        for (const auto& table : kRunTables)
            copyRunRows(source.m_db, m_db, table, runId, id);
        Statement link(m_db,
                       "UPDATE sweep_items SET run_id = ?, status = ? "
                       "WHERE sweep_id = ? AND position = ?");
        for (const auto& [sweepId, position] : options.sweepItems) {
            link.reset();
            link.bindAll(id, std::string_view(toString(run->status)), sweepId, position).run();
            if (sqlite3_changes(m_db) == 0)
                throw Error(ErrorKind::NotFound,
                            fmt::format("sweep {} has no item {}", sweepId, position), m_path, 0,
                            "'sllmr sweeps list' shows the sweeps");
        }
        return id;
    });
}

std::vector<std::string> runTablesForTests()
{
    std::vector<std::string> names;
    for (const auto& table : kRunTables)
        names.emplace_back(table.name);
    return names;
}

std::string storeFileProblem(const std::string& path)
{
    try {
        const Connection db = openSnapshot(path);
        Statement check(db.get(), "PRAGMA integrity_check");
        std::string problems;
        while (check.step()) {
            const auto line = check.text(0);
            if (line != "ok")
                problems += (problems.empty() ? "" : "; ") + line;
        }
        if (!problems.empty())
            return "integrity check failed: " + problems;
        const Inspection found = inspect(db.get());
        if (found.applicationId != kApplicationId || found.userVersion != kSchemaVersion)
            return fmt::format("not a store of this version (application id {:#010x}, schema {})",
                               static_cast<std::uint32_t>(found.applicationId), found.userVersion);
        return {};
    } catch (const Error& e) {
        return e.problem();
    }
}

}  // namespace sllmr
