#include "llm/scores.h"

#include "common/error.h"
#include "common/hash.h"
#include "common/json_util.h"
#include "io/fields.h"
#include "io/line_reader.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace sllmr {
using json_util::Json;

namespace {

std::string lower(std::string_view s)
{
    std::string out(trimmed(s));
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool isUnsigned(std::string_view s)
{
    s = trimmed(s);
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int findColumn(const std::string& want, const std::vector<std::string>& names, int fallback,
               std::initializer_list<const char*> aliases, const std::string& path,
               const char* what)
{
    if (!want.empty()) {
        if (isUnsigned(want)) {
            if (want.size() > 6)
                throwBadInput(path, 1, std::string(what) + " column " + want + " is too large",
                              "columns are numbered from 0");
            const int idx = std::stoi(want);
            if (!names.empty() && idx >= static_cast<int>(names.size()))
                throwBadInput(path, 1,
                              std::string(what) + " column " + want + " is beyond the " +
                                  std::to_string(names.size()) + " fields",
                              "columns are numbered from 0");
            return idx;
        }
        for (std::size_t i = 0; i < names.size(); ++i)
            if (lower(names[i]) == lower(want))
                return static_cast<int>(i);
        throwBadInput(path, 1, std::string(what) + " column '" + want + "' is not in the header",
                      "check the column name or give a 0-based index");
    }
    for (const char* a : aliases)
        for (std::size_t i = 0; i < names.size(); ++i)
            if (lower(names[i]) == a)
                return static_cast<int>(i);
    return fallback;
}

struct PairHash
{
    std::size_t operator()(std::uint64_t v) const noexcept
    {
        v ^= v >> 33;
        v *= 0xff51afd7ed558ccdULL;
        v ^= v >> 33;
        return static_cast<std::size_t>(v);
    }
};

std::uint64_t pairKey(std::uint32_t u, std::uint32_t i)
{
    return (static_cast<std::uint64_t>(u) << 32) | i;
}

// Looks an id up in the dataset's map the way the dataset read it. Integer datasets parse the
// text strictly so a malformed id is an error, not an "unknown id".
std::optional<std::uint32_t> lookup(const IdMap& map, std::string_view text,
                                    const FieldContext& ctx, const char* what)
{
    if (map.kind() == IdMap::Kind::Token)
        return map.find(trimmed(text));
    return map.find(parseId(text, ctx, what));
}

void checkCancel(const LoadControl& control)
{
    if (control.cancel && control.cancel->load(std::memory_order_relaxed))
        throw Error(ErrorKind::Cancelled, "loading cancelled");
}

constexpr double kMaxRank = 2147483648.0;

bool isComment(std::string_view line)
{
    const auto t = trimmed(line);
    return !t.empty() && t.front() == '#';
}

// Next data line: skips blank lines and '#' comments. Comments before the first data line that
// read '# key: value' are collected as provenance.
bool nextData(LineReader& reader, std::string_view& line, ScoreReport& rep, bool collect)
{
    while (reader.nextNonBlank(line)) {
        if (!isComment(line))
            return true;
        ++rep.commentLines;
        if (!collect)
            continue;
        auto t = trimmed(line);
        t.remove_prefix(1);
        t = trimmed(t);
        const auto colon = t.find(':');
        if (colon == std::string_view::npos || colon == 0)
            continue;
        const std::string key(trimmed(t.substr(0, colon)));
        if (key.find(' ') != std::string::npos)
            continue;
        rep.provenance[key] = std::string(trimmed(t.substr(colon + 1)));
    }
    return false;
}

struct Row
{
    std::uint32_t user;
    std::uint32_t item;
    double value;
    std::uint32_t order;
    bool fixed = false;  // a default score: already in [0, 1], not normalized
};

// Scores larger than this in magnitude are errors, not values to clamp.
constexpr double kMaxValue = 1e9;

bool isColumnAlias(std::string_view field)
{
    const std::string n = lower(field);
    for (const char* a : {"userid", "user_id", "user", "uid", "user_id:token", "movieid", "itemid",
                          "item_id", "item", "iid", "item_id:token", "rank", "score", "rating",
                          "prediction", "probability", "value"})
        if (n == a)
            return true;
    return false;
}

LineReader::Options readerOptions(const ScoreFileSpec& spec)
{
    LineReader::Options o;
    o.encoding = parseTextEncoding(spec.encoding, "setting 'scores.encoding'");
    o.encodingSetting = "--score-encoding (run config: 'scores.encoding')";
    return o;
}

// The selection check of ScoreReport (unseenEntries, heldOutEntries, expectedHeldOut); with
// `drop`, removes the entries whose pair is a validation or test positive.
void checkHeldOut(std::vector<Row>& rows, const Dataset& ds, bool drop, ScoreReport& rep)
{
    std::unordered_set<std::uint64_t, PairHash> trainOnly;
    std::unordered_set<std::uint64_t, PairHash> heldOut;
    std::vector<double> trainCount(ds.numUsers(), 0);
    std::vector<double> heldOutCount(ds.numUsers(), 0);
    for (const auto& r : ds.train) {
        trainOnly.insert(pairKey(r.user, r.item));
        ++trainCount[r.user];
    }
    for (const auto* part : {&ds.validation, &ds.test})
        for (const auto& r : *part)
            if (heldOut.insert(pairKey(r.user, r.item)).second)
                ++heldOutCount[r.user];
    std::vector<Row> kept;
    for (const auto& r : rows) {
        const auto k = pairKey(r.user, r.item);
        const bool isHeldOut = heldOut.count(k) > 0;
        if (!trainOnly.count(k)) {
            ++rep.unseenEntries;
            rep.heldOutEntries += isHeldOut;
            const double unseen = static_cast<double>(ds.numItems()) - trainCount[r.user];
            if (unseen > 0)
                rep.expectedHeldOut += heldOutCount[r.user] / unseen;
        }
        if (drop && isHeldOut)
            ++rep.heldOutDropped;
        else if (drop)
            kept.push_back(r);
    }
    if (drop)
        rows = std::move(kept);
}

}  // namespace

std::string heldOutWarning(const ScoreReport& r)
{
    if (r.unseenEntries == 0)
        return {};
    // A recommender's candidate list holds held-out positives well above chance (the demo's
    // UserKNN candidates: 8 times, 10% of the entries); a file built around the held-out items
    // holds them far above both.
    const auto held = static_cast<double>(r.heldOutEntries);
    const double share = held / static_cast<double>(r.unseenEntries);
    if (held < kHeldOutRatio * r.expectedHeldOut || share < kHeldOutShare ||
        held < r.expectedHeldOut + 3)
        return {};
    return fmt::format(
        "{} of the {} scored entries outside the training history ({:.1f}%) are validation or "
        "test positives, where random unseen items of the same users would give {:.1f} ({:.2f}%): "
        "the score file over-represents the items the evaluation asks about, so the LLM's "
        "numbers and pairs lean on held-out answers{}",
        r.heldOutEntries, r.unseenEntries, 100.0 * held / static_cast<double>(r.unseenEntries),
        r.expectedHeldOut, 100.0 * r.expectedHeldOut / static_cast<double>(r.unseenEntries),
        r.heldOutDropped > 0
            ? fmt::format("; {} of them were dropped (scores.held_out = drop)", r.heldOutDropped)
            : std::string("; set scores.held_out to drop to remove them"));
}

void ScoreFileSpec::resolvePaths(const std::string& baseDir)
{
    for (std::string* p : {&path, &candidatesPath}) {
        if (p->empty())
            continue;
        std::filesystem::path fp(*p);
        if (fp.is_relative())
            *p = (std::filesystem::path(baseDir) / fp).lexically_normal().string();
    }
}

void to_json(Json& j, const ScoreFileSpec& s)
{
    j = Json{
        {"path", s.path},
        {"name", s.name},
        {"kind", s.kind},
        {"delimiter", s.delimiter},
        {"header", s.header},
        {"columns", {{"user", s.userColumn}, {"item", s.itemColumn}, {"value", s.valueColumn}}},
        {"rating_min", s.ratingMin},
        {"rating_max", s.ratingMax},
        {"rank_mapping", s.rankMapping},
        {"decay", s.decay},
        {"candidates_path", s.candidatesPath},
        {"candidate_default", s.candidateDefault},
        {"encoding", s.encoding},
        {"missing", s.missing},
        {"held_out", s.heldOut}};
    // Only when set, so that the hash of every config without it stays what it was.
    if (s.simulate)
        j["simulate"] = toJson(*s.simulate);
}

std::string ScoreFileSpec::source() const
{
    return simulate && path.empty() ? std::string("simulated LLM") : path;
}

ScoreFileSpec scoreSpecFromJson(const Json& j, const std::string& prefix)
{
    using namespace json_util;
    ScoreFileSpec s;
    requireKeys(j,
                {"path", "name", "kind", "delimiter", "header", "columns", "rating_min",
                 "rating_max", "rank_mapping", "decay", "candidates_path", "candidate_default",
                 "encoding", "missing", "held_out", "simulate"},
                prefix);
    read(j, "path", s.path, prefix);
    read(j, "name", s.name, prefix);
    readChoice(j, "kind", s.kind, {"auto", "rank", "pointwise", "rating"}, prefix);
    read(j, "delimiter", s.delimiter, prefix);
    readChoice(j, "header", s.header, {"auto", "yes", "no"}, prefix);
    if (j.contains("columns")) {
        const auto p = keyPath(prefix, "columns");
        const auto& c = j.at("columns");
        requireKeys(c, {"user", "item", "value"}, p);
        read(c, "user", s.userColumn, p);
        read(c, "item", s.itemColumn, p);
        read(c, "value", s.valueColumn, p);
    }
    readRange(j, "rating_min", s.ratingMin, -1e9, 1e9, prefix);
    readRange(j, "rating_max", s.ratingMax, -1e9, 1e9, prefix);
    if (s.ratingMax <= s.ratingMin)
        throw Error(ErrorKind::Usage, "setting '" + keyPath(prefix, "rating_max") +
                                          "' must be greater than 'rating_min'");
    readChoice(j, "rank_mapping", s.rankMapping, {"linear", "exponential"}, prefix);
    readRange(j, "decay", s.decay, 1e-6, 10.0, prefix);
    read(j, "candidates_path", s.candidatesPath, prefix);
    readRange(j, "candidate_default", s.candidateDefault, 0.0, 1.0, prefix);
    readChoice(j, "encoding", s.encoding, {"utf-8", "latin1", "cp1252"}, prefix);
    readChoice(j, "missing", s.missing, {"skip", "default", "error"}, prefix);
    readChoice(j, "held_out", s.heldOut, {"keep", "drop"}, prefix);
    if (j.contains("simulate") && !j.at("simulate").is_null()) {
        const auto p = keyPath(prefix, "simulate");
        if (!j.at("simulate").is_object())
            throw Error(ErrorKind::Usage, "setting '" + p + "' must be an object", {}, 0,
                        "give a simulated LLM's profile, e.g. {\"default\": {\"behaviour\": "
                        "\"noisy\"}} (README, \"sllmr simulate-llm\")");
        s.simulate = simulationProfileFromJson(j.at("simulate"), p);
        if (!s.path.empty() || !s.candidatesPath.empty())
            throw Error(ErrorKind::Usage,
                        "settings '" +
                            keyPath(prefix, s.path.empty() ? "candidates_path" : "path") +
                            "' and '" + p + "' are both given",
                        {}, 0, "name either a score file or a simulated LLM");
        if (s.kind != "auto" && s.kind != "pointwise")
            throw Error(ErrorKind::Usage,
                        "setting '" + keyPath(prefix, "kind") + "' is '" + s.kind +
                            "', but a simulated LLM's scores are pointwise",
                        {}, 0, "leave 'kind' at auto");
    }
    if (!s.given())
        throw Error(ErrorKind::Usage, "setting '" + keyPath(prefix, "path") + "' is empty", {}, 0,
                    "name the LLM score file (or a simulated LLM in 'simulate')");
    return s;
}

namespace {

// Delimiter, header and columns of a score file, decided from its first data line.
struct ScoreLayout
{
    std::string delim;
    std::size_t fields = 0;
    bool header = false;
    int user = 0;
    int item = 1;
    int value = -1;
    std::string kind;
};

ScoreLayout planScores(const ScoreFileSpec& spec, const Dataset& ds, std::string_view line,
                       std::int64_t lineNo)
{
    const std::string& path = spec.path;
    ScoreLayout lay;
    lay.delim = spec.delimiter.empty() ? detectDelimiter(line) : spec.delimiter;
    if (lay.delim == "\\t" || lay.delim == "tab")
        lay.delim = "\t";
    if (lay.delim.empty())
        lay.delim = ",";
    std::vector<std::string_view> f;
    std::string scratch;
    if (!splitRecord(line, lay.delim, f, scratch))
        throwBadInput(path, lineNo, "unterminated quote",
                      "a quoted field must end with a closing double quote on the same line");
    if (f.size() > 3)
        dropTrailingEmpty(f);  // "user,item,score," (a trailing delimiter)
    lay.fields = f.size();
    if (lay.fields < 3)
        throwBadInput(
            path, lineNo,
            "found " + std::to_string(lay.fields) + " fields; user, item and a value are needed",
            "check the delimiter (tab or comma)");
    // A header names a column, or has text where ids or values must be numbers.
    const std::size_t valueIndex = isUnsigned(spec.valueColumn) && spec.valueColumn.size() < 7
                                       ? std::stoul(spec.valueColumn)
                                       : f.size() - 1;
    const std::string_view valueText = f[std::min(valueIndex, f.size() - 1)];
    lay.header = spec.header == "yes";
    if (spec.header == "auto")
        lay.header = std::any_of(f.begin(), f.end(), isColumnAlias) ||
                     (ds.users.kind() == IdMap::Kind::Integer && !isUnsigned(f[0])) ||
                     (!trimmed(valueText).empty() && !looksNumeric(valueText));
    std::vector<std::string> names;
    if (lay.header)
        names.assign(f.begin(), f.end());
    lay.user = findColumn(spec.userColumn, names, 0,
                          {"userid", "user_id", "user", "uid", "user_id:token"}, path, "user");
    lay.item =
        findColumn(spec.itemColumn, names, 1,
                   {"movieid", "itemid", "item_id", "item", "iid", "item_id:token"}, path, "item");
    lay.value = findColumn(spec.valueColumn, names, -1,
                           {"rank", "score", "rating", "prediction", "probability", "value"}, path,
                           "value");
    if (lay.value < 0)
        lay.value = static_cast<int>(lay.fields) - 1;
    for (int c : {lay.user, lay.item, lay.value})
        if (c >= static_cast<int>(lay.fields))
            throwBadInput(path, lineNo,
                          "column " + std::to_string(c) + " is beyond the " +
                              std::to_string(lay.fields) + " fields",
                          "check the column mapping");
    lay.kind = spec.kind;
    if (lay.kind == "auto") {
        if (!lay.header)
            throw Error(ErrorKind::Usage,
                        "the score file has no header, so its kind cannot be detected", path,
                        lineNo, "choose the kind: rank, pointwise or rating");
        const auto n = lower(names[lay.value]);
        lay.kind = n == "rank" ? "rank" : (n == "rating" ? "rating" : "pointwise");
    }
    return lay;
}

// Normalizes the values to [0, 1] (defaults are already there).
void normalize(std::vector<Row>& rows, const ScoreFileSpec& spec, const std::string& kind,
               const std::vector<std::uint32_t>& listLength,
               const std::vector<std::int64_t>& maxRank)
{
    for (auto& r : rows) {
        if (r.fixed)
            continue;
        if (kind == "rank") {
            if (spec.rankMapping == "linear") {
                const double n =
                    std::max<double>(listLength[r.user], static_cast<double>(maxRank[r.user]));
                r.value = n > 0 ? 1.0 - (r.value - 1.0) / n : 1.0;
            } else {
                r.value = std::exp(-spec.decay * (r.value - 1.0));
            }
        } else if (kind == "rating") {
            r.value = (r.value - spec.ratingMin) / (spec.ratingMax - spec.ratingMin);
        }
    }
}

// CSR by user, file order within a user; counts the users and items covered.
void buildCsr(ScoreSet& set, const Dataset& ds, std::vector<Row>& rows)
{
    auto& rep = set.report;
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.user < b.user; });
    set.offsets.assign(ds.numUsers() + 1, 0);
    set.items.reserve(rows.size());
    set.values.reserve(rows.size());
    std::vector<bool> itemSeen(ds.numItems(), false);
    for (const auto& r : rows) {
        ++set.offsets[r.user + 1];
        set.items.push_back(r.item);
        set.values.push_back(static_cast<float>(r.value));
        if (!itemSeen[r.item]) {
            itemSeen[r.item] = true;
            ++rep.itemsCovered;
        }
    }
    for (std::size_t u = 0; u < ds.numUsers(); ++u) {
        rep.usersCovered += set.offsets[u + 1] > 0;
        set.offsets[u + 1] += set.offsets[u];
    }
}

// Adds the candidates the LLM was offered but did not return; returns the file's content hash.
std::string addCandidates(const ScoreFileSpec& spec, const Dataset& ds, std::vector<Row>& rows,
                          ScoreReport& rep)
{
    std::unordered_set<std::uint64_t, PairHash> scored;
    for (const auto& r : rows)
        scored.insert(pairKey(r.user, r.item));
    LineReader cands(spec.candidatesPath, readerOptions(spec));
    FieldContext cctx{&spec.candidatesPath, 0};
    std::vector<std::string_view> f;
    std::vector<std::string_view> items;
    std::string_view line;
    bool first = true;
    while (cands.nextNonBlank(line)) {
        cctx.line = cands.lineNumber();
        splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
        if (std::exchange(first, false) && !isUnsigned(f[0]) &&
            (ds.users.kind() == IdMap::Kind::Integer || isColumnAlias(f[0])))
            continue;  // header
        if (f.size() < 2)
            throwBadInput(spec.candidatesPath, cands.lineNumber(),
                          "expected 'user, item[, rank]' or 'user<TAB>item item ...'",
                          "one candidate per row, or a user and a space-separated list");
        const auto u = lookup(ds.users, f[0], cctx, "user id");
        // Either one item per row or a space-separated list in the second field.
        splitFields(trimmed(f[1]), " ", items);
        for (auto it : items) {
            if (it.empty())
                continue;
            const auto i = lookup(ds.items, it, cctx, "item id");
            if (!u || !i) {
                ++rep.candidatesUnknown;
                continue;
            }
            if (!scored.insert(pairKey(*u, *i)).second)
                continue;
            rows.push_back(
                {*u, *i, spec.candidateDefault, static_cast<std::uint32_t>(rows.size()), true});
            ++rep.candidatesAdded;
        }
    }
    return cands.contentHash();
}

// Reads the data rows of a score file one by one: checks each value, counts what the report
// shows (unknown ids, duplicates, rows in train or test, values out of range) and keeps the rows
// that name a known user and item.
class ScoreRows
{
public:
    ScoreRows(const ScoreFileSpec& spec, const Dataset& ds, const ScoreLayout& lay,
              ScoreReport& rep)
        : listLength(ds.numUsers(), 0)
        , maxRank(ds.numUsers(), 0)
        , m_spec(spec)
        , m_ds(ds)
        , m_lay(lay)
        , m_rep(rep)
        , m_ctx{&spec.path, 0}
        , m_what(lay.kind == "rank" ? "rank" : "score")
    {
        // Known positives for the report: train and validation (carved from the training
        // history).
        m_trainPairs.reserve((ds.train.size() + ds.validation.size()) * 2);
        for (const auto* part : {&ds.train, &ds.validation})
            for (const auto& r : *part)
                m_trainPairs.insert(pairKey(r.user, r.item));
        for (const auto& r : ds.test)
            m_testPairs.insert(pairKey(r.user, r.item));
    }

    void add(std::string_view text, std::int64_t at);
    void finish()
    {
        m_rep.matched = static_cast<std::int64_t>(rows.size());
        m_rep.distinctUnknownUsers = static_cast<std::int64_t>(m_unknownU.size());
        m_rep.distinctUnknownItems = static_cast<std::int64_t>(m_unknownI.size());
    }

    std::vector<Row> rows;
    std::vector<std::uint32_t> listLength;
    std::vector<std::int64_t> maxRank;

private:
    /// The row's value (the default when missing); nullopt when a missing value is skipped.
    std::optional<double> value(bool missing, std::int64_t at);
    /// False for a repeated (user, item): known ids compare as ids ("010" and "10" are one
    /// item), unknown ones as text.
    bool firstTime(std::optional<std::uint32_t> u, std::optional<std::uint32_t> i);
    /// False (and counted, with a warning for the first few) when the id is unknown.
    bool known(bool found, std::string_view id, std::int64_t at, const char* noun,
               std::int64_t& count, std::unordered_set<std::string>& seen);

    const ScoreFileSpec& m_spec;
    const Dataset& m_ds;
    const ScoreLayout& m_lay;
    ScoreReport& m_rep;
    FieldContext m_ctx;
    const char* m_what;
    std::unordered_set<std::uint64_t, PairHash> m_trainPairs;
    std::unordered_set<std::uint64_t, PairHash> m_testPairs;
    std::unordered_set<std::uint64_t, PairHash> m_seenPairs;
    std::unordered_set<std::string> m_seenText;  // (user, item) text of rows with an unknown id
    std::unordered_set<std::string> m_unknownU;
    std::unordered_set<std::string> m_unknownI;
    std::vector<std::string_view> m_f;
    std::string m_scratch;
    std::string m_key;
};

std::optional<double> ScoreRows::value(bool missing, std::int64_t at)
{
    const std::string& path = m_spec.path;
    const std::string_view text = trimmed(m_f[m_lay.value]);
    if (missing) {
        ++m_rep.missingValues;
        if (m_spec.missing == "error")
            throwBadInput(path, at, std::string("empty ") + m_what + " (the LLM gave no answer?)",
                          "fill it, or choose what empty values mean: --missing skip or "
                          "default (run config: 'scores.missing')");
        if (m_spec.missing == "skip")
            return std::nullopt;
        return m_spec.candidateDefault;
    }
    const double v = parseNumber(m_f[m_lay.value], m_ctx, m_what);
    if (std::fabs(v) > kMaxValue)
        throwBadInput(path, at, std::string(m_what) + " '" + excerpt(text) + "' is out of range",
                      "scores, ratings and ranks must lie between -1e9 and 1e9");
    if (m_lay.kind == "rank") {
        if (v < 1 || std::floor(v) != v)
            throwBadInput(path, at, "rank " + excerpt(text) + " is not a whole number >= 1",
                          "ranks start at 1 (best)");
        if (v > kMaxRank)
            throwBadInput(path, at, "rank " + excerpt(text) + " is implausibly large",
                          "ranks are positions in a list; the largest accepted is 2^31");
        m_rep.maxRank = std::max<std::int64_t>(m_rep.maxRank, static_cast<std::int64_t>(v));
    }
    return v;
}

bool ScoreRows::firstTime(std::optional<std::uint32_t> u, std::optional<std::uint32_t> i)
{
    if (u && i)
        return m_seenPairs.insert(pairKey(*u, *i)).second;
    m_key.assign(trimmed(m_f[m_lay.user]));
    m_key += '\x1f';
    m_key.append(trimmed(m_f[m_lay.item]));
    return m_seenText.insert(m_key).second;
}

bool ScoreRows::known(bool found, std::string_view id, std::int64_t at, const char* noun,
                      std::int64_t& count, std::unordered_set<std::string>& seen)
{
    if (found)
        return true;
    ++count;
    if (seen.insert(std::string(trimmed(id))).second && m_rep.warnings.size() < 5)
        m_rep.warnings.push_back("line " + std::to_string(at) + ": unknown " + noun + " '" +
                                 excerpt(trimmed(id)) + "'");
    return false;
}

void ScoreRows::add(std::string_view text, std::int64_t at)
{
    const std::string& path = m_spec.path;
    m_ctx.line = at;
    if (!splitRecord(text, m_lay.delim, m_f, m_scratch))
        throwBadInput(path, at, "unterminated quote",
                      "a quoted field must end with a closing double quote on the same line");
    dropTrailingEmpty(m_f, m_lay.fields);
    if (m_f.size() != m_lay.fields)
        throwBadInput(path, at,
                      "found " + std::to_string(m_f.size()) + " fields, expected " +
                          std::to_string(m_lay.fields),
                      "is the line truncated, or are delimiters mixed?");
    ++m_rep.rows;
    const auto u = lookup(m_ds.users, m_f[m_lay.user], m_ctx, "user id");
    const auto i = lookup(m_ds.items, m_f[m_lay.item], m_ctx, "item id");
    const bool missing = trimmed(m_f[m_lay.value]).empty();
    const std::optional<double> parsed = value(missing, at);
    if (!parsed)
        return;  // a missing value, skipped
    double v = *parsed;
    if (u && !missing) {
        ++listLength[*u];
        if (m_lay.kind == "rank")
            maxRank[*u] = std::max<std::int64_t>(maxRank[*u], static_cast<std::int64_t>(v));
    }
    if (u && i) {
        const auto k = pairKey(*u, *i);
        m_rep.inTrain += m_trainPairs.count(k);
        m_rep.inTest += m_testPairs.count(k);
    }
    if (!firstTime(u, i)) {
        ++m_rep.duplicates;
        return;
    }
    if (!known(u.has_value(), m_f[m_lay.user], at, "user", m_rep.unknownUsers, m_unknownU) ||
        !known(i.has_value(), m_f[m_lay.item], at, "item", m_rep.unknownItems, m_unknownI))
        return;
    if (!missing && m_lay.kind == "pointwise" && (v < 0 || v > 1)) {
        ++m_rep.outOfRange;
        v = std::clamp(v, 0.0, 1.0);
    } else if (!missing && m_lay.kind == "rating" &&
               (v < m_spec.ratingMin || v > m_spec.ratingMax)) {
        ++m_rep.outOfRange;
        v = std::clamp(v, m_spec.ratingMin, m_spec.ratingMax);
    }
    rows.push_back({*u, *i, v, static_cast<std::uint32_t>(rows.size()), missing});
}

// The same bytes read another way (kind, columns, mapping, candidates) are another score set.
// The encoding is not part of it (the hash is over the decoded text), nor is the missing-value
// policy when no value is missing.
std::string scoreSetHash(const ScoreFileSpec& spec, const ScoreReport& rep,
                         const std::string& fileHash, const std::string& candidatesHash)
{
    Json how = spec;
    // A simulated LLM's profile is in its file's header, so in fileHash.
    for (const char* k : {"path", "name", "candidates_path", "encoding", "simulate"})
        how.erase(k);
    if (rep.missingValues == 0)
        how.erase("missing");
    // A setting added later is left out while it has its default, which reads the file as
    // before the setting existed: the hash stays what stored runs resume against.
    if (spec.heldOut == "keep")
        how.erase("held_out");
    Hasher hasher;
    hasher.add(fileHash);
    hasher.add(candidatesHash);
    hasher.add(how.dump());
    return hasher.hex();
}

}  // namespace

ScoreSet loadRunScores(const ScoreFileSpec& spec, const Dataset& ds, double tauUser, double tauItem,
                       const LoadControl& control)
{
    if (!spec.simulate)
        return loadScores(spec, ds, control);
    namespace fs = std::filesystem;
    // A folder of its own (mkdtemp: unique, mode 0700), removed with whatever is in it.
    std::string folder = (fs::temp_directory_path() / "sllmr-simulated-XXXXXX").string();
    if (!::mkdtemp(folder.data()))
        throw Error(ErrorKind::NotFound, "cannot create a temporary folder for the simulated LLM",
                    folder, 0, "check that TMPDIR names a writable folder");
    struct Remove
    {
        fs::path path;
        ~Remove()
        {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } remove{folder};
    const fs::path file = fs::path(folder) / "scores.tsv";
    if (control.progress)
        control.progress(0.0, "simulating the LLM's scores");
    simulateScores(ds, tauUser, tauItem, *spec.simulate, file.string());
    // Read as the file simulateScores writes, whatever the spec says about files.
    ScoreFileSpec read;
    read.path = file.string();
    read.kind = "pointwise";
    read.missing = spec.missing;
    read.heldOut = spec.heldOut;
    ScoreSet set = loadScores(read, ds, control);
    set.spec = spec;
    if (set.spec.name.empty())
        set.spec.name = "simulated LLM";
    return set;
}

ScoreSet loadScores(const ScoreFileSpec& spec, const Dataset& ds, const LoadControl& control)
{
    ScoreSet set;
    set.spec = spec;
    auto& rep = set.report;
    const std::string& path = spec.path;
    LineReader reader(path, readerOptions(spec));
    std::string_view line;
    if (!nextData(reader, line, rep, true))
        throwBadInput(path, 0, "the score file is empty",
                      "expected one 'user, item, score|rating|rank' row per line");
    const ScoreLayout lay = planScores(spec, ds, line, reader.lineNumber());
    rep.kind = lay.kind;
    rep.missingPolicy = spec.missing;
    {
        const auto src = rep.provenance.find("source");
        rep.simulated = src != rep.provenance.end() && src->second == "simulated";
    }

    ScoreRows reading(spec, ds, lay, rep);
    if (!lay.header)
        reading.add(line, reader.lineNumber());
    std::int64_t lines = 0;
    while (nextData(reader, line, rep, false)) {
        reading.add(line, reader.lineNumber());
        if ((++lines & 0x3FFF) == 0)
            checkCancel(control);
    }
    reading.finish();
    if (rep.rows == 0)
        throwBadInput(path, reader.lineNumber(), "the score file has no data rows",
                      "expected one 'user, item, value' row per line");
    std::vector<Row>& rows = reading.rows;
    normalize(rows, spec, lay.kind, reading.listLength, reading.maxRank);
    const std::string candidatesHash =
        spec.candidatesPath.empty() ? std::string() : addCandidates(spec, ds, rows, rep);
    checkHeldOut(rows, ds, spec.heldOut == "drop", rep);
    buildCsr(set, ds, rows);
    rep.contentHash = scoreSetHash(spec, rep, reader.contentHash(), candidatesHash);
    if (set.spec.name.empty())
        set.spec.name = std::filesystem::path(path).filename().string();
    return set;
}

Json scoreReportJson(const ScoreReport& r)
{
    return Json{{"kind", r.kind},
                {"rows", r.rows},
                {"matched", r.matched},
                {"duplicates", r.duplicates},
                {"unknown_users", r.unknownUsers},
                {"unknown_items", r.unknownItems},
                {"distinct_unknown_users", r.distinctUnknownUsers},
                {"distinct_unknown_items", r.distinctUnknownItems},
                {"out_of_range", r.outOfRange},
                {"missing_values", r.missingValues},
                {"missing_policy", r.missingPolicy},
                {"in_train", r.inTrain},
                {"in_test", r.inTest},
                {"unseen_entries", r.unseenEntries},
                {"held_out_entries", r.heldOutEntries},
                {"expected_held_out", r.expectedHeldOut},
                {"held_out_dropped", r.heldOutDropped},
                {"users_covered", r.usersCovered},
                {"items_covered", r.itemsCovered},
                {"candidates_added", r.candidatesAdded},
                {"candidates_unknown", r.candidatesUnknown},
                {"max_rank", r.maxRank},
                {"content_hash", r.contentHash},
                {"warnings", r.warnings},
                {"comment_lines", r.commentLines},
                {"provenance", r.provenance},
                {"simulated", r.simulated}};
}

}  // namespace sllmr
