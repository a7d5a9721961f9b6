#include "llm/scores.h"

#include "common/error.h"
#include "common/hash.h"
#include "common/json_util.h"
#include "io/fields.h"
#include "io/line_reader.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

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
};

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
        {"held_out", s.heldOut}};
}

ScoreFileSpec scoreSpecFromJson(const Json& j, const std::string& prefix)
{
    using namespace json_util;
    ScoreFileSpec s;
    requireKeys(
        j,
        {"path", "name", "kind", "delimiter", "header", "columns", "rating_min", "rating_max",
         "rank_mapping", "decay", "candidates_path", "candidate_default", "held_out"},
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
    readChoice(j, "held_out", s.heldOut, {"keep", "drop"}, prefix);
    if (s.path.empty())
        throw Error(ErrorKind::Usage, "setting '" + keyPath(prefix, "path") + "' is empty", {}, 0,
                    "name the LLM score file");
    return s;
}

ScoreSet loadScores(const ScoreFileSpec& spec, const Dataset& ds, const LoadControl& control)
{
    ScoreSet set;
    set.spec = spec;
    auto& rep = set.report;
    const std::string& path = spec.path;
    LineReader reader(path);
    std::string_view line;
    if (!nextData(reader, line, rep, true))
        throwBadInput(path, 0, "the score file is empty",
                      "expected one 'user, item, score|rating|rank' row per line");

    std::string delim = spec.delimiter.empty() ? detectDelimiter(line) : spec.delimiter;
    if (delim == "\\t" || delim == "tab")
        delim = "\t";
    if (delim.empty())
        delim = ",";
    std::vector<std::string_view> f;
    splitFields(line, delim, f);
    const std::size_t nfields = f.size();
    if (nfields < 3)
        throwBadInput(
            path, 1,
            "found " + std::to_string(nfields) + " fields; user, item and a value are needed",
            "check the delimiter (tab or comma)");
    bool header = spec.header == "yes";
    if (spec.header == "auto")
        header = ds.users.kind() == IdMap::Kind::Integer
                     ? !isUnsigned(f[0])
                     : (lower(f[0]) == "user_id" || lower(f[0]).starts_with("user"));
    std::vector<std::string> names;
    if (header)
        names.assign(f.begin(), f.end());
    const int userCol =
        findColumn(spec.userColumn, names, 0, {"userid", "user_id", "user", "uid", "user_id:token"},
                   path, "user");
    const int itemCol =
        findColumn(spec.itemColumn, names, 1,
                   {"movieid", "itemid", "item_id", "item", "iid", "item_id:token"}, path, "item");
    int valueCol = findColumn(spec.valueColumn, names, -1,
                              {"rank", "score", "rating", "prediction", "probability", "value"},
                              path, "value");
    if (valueCol < 0)
        valueCol = static_cast<int>(nfields) - 1;
    for (int c : {userCol, itemCol, valueCol})
        if (c >= static_cast<int>(nfields))
            throwBadInput(path, 1,
                          "column " + std::to_string(c) + " is beyond the " +
                              std::to_string(nfields) + " fields",
                          "check the column mapping");

    std::string kind = spec.kind;
    if (kind == "auto") {
        if (!header)
            throw Error(ErrorKind::Usage,
                        "the score file has no header, so its kind cannot be detected", path, 1,
                        "choose the kind: rank, pointwise or rating");
        const auto n = lower(names[valueCol]);
        kind = n == "rank" ? "rank" : (n == "rating" ? "rating" : "pointwise");
    }
    rep.kind = kind;

    // Known positives for the report: train and validation (carved from the training history).
    std::unordered_set<std::uint64_t, PairHash> trainPairs;
    std::unordered_set<std::uint64_t, PairHash> testPairs;
    trainPairs.reserve((ds.train.size() + ds.validation.size()) * 2);
    for (const auto* part : {&ds.train, &ds.validation})
        for (const auto& r : *part)
            trainPairs.insert(pairKey(r.user, r.item));
    for (const auto& r : ds.test)
        testPairs.insert(pairKey(r.user, r.item));

    std::vector<Row> rows;
    std::unordered_set<std::uint64_t, PairHash> seenPairs;
    std::unordered_set<std::string> seenText;  // (user, item) text of rows with an unknown id
    std::unordered_set<std::string> unknownU;
    std::unordered_set<std::string> unknownI;
    std::vector<std::uint32_t> listLength(ds.numUsers(), 0);
    std::vector<std::int64_t> maxRank(ds.numUsers(), 0);
    FieldContext ctx{&path, 0};
    std::string key;

    auto handle = [&](std::string_view text) {
        ctx.line = reader.lineNumber();
        splitFields(text, delim, f);
        if (f.size() != nfields)
            throwBadInput(path, reader.lineNumber(),
                          "found " + std::to_string(f.size()) + " fields, expected " +
                              std::to_string(nfields),
                          "is the line truncated, or are delimiters mixed?");
        ++rep.rows;
        const auto u = lookup(ds.users, f[userCol], ctx, "user id");
        const auto i = lookup(ds.items, f[itemCol], ctx, "item id");
        double v = parseNumber(f[valueCol], ctx, kind == "rank" ? "rank" : "score");
        if (kind == "rank") {
            if (v < 1 || std::floor(v) != v)
                throwBadInput(
                    path, reader.lineNumber(),
                    "rank " + excerpt(trimmed(f[valueCol])) + " is not a whole number >= 1",
                    "ranks start at 1 (best)");
            if (v > kMaxRank)
                throwBadInput(path, reader.lineNumber(),
                              "rank " + excerpt(trimmed(f[valueCol])) + " is implausibly large",
                              "ranks are positions in a list; the largest accepted is 2^31");
            rep.maxRank = std::max<std::int64_t>(rep.maxRank, static_cast<std::int64_t>(v));
        }
        if (u) {
            ++listLength[*u];
            if (kind == "rank")
                maxRank[*u] = std::max<std::int64_t>(maxRank[*u], static_cast<std::int64_t>(v));
        }
        if (u && i) {
            const auto k = pairKey(*u, *i);
            rep.inTrain += trainPairs.count(k);
            rep.inTest += testPairs.count(k);
        }
        // Known ids are compared as ids ("010" and "10" are one item); unknown ones as text.
        bool repeated = false;
        if (u && i) {
            repeated = !seenPairs.insert(pairKey(*u, *i)).second;
        } else {
            key.assign(trimmed(f[userCol]));
            key += '\x1f';
            key.append(trimmed(f[itemCol]));
            repeated = !seenText.insert(key).second;
        }
        if (repeated) {
            ++rep.duplicates;
            return;
        }
        if (!u) {
            ++rep.unknownUsers;
            if (unknownU.insert(std::string(trimmed(f[userCol]))).second && rep.warnings.size() < 5)
                rep.warnings.push_back("line " + std::to_string(reader.lineNumber()) +
                                       ": unknown user '" + excerpt(trimmed(f[userCol])) + "'");
            return;
        }
        if (!i) {
            ++rep.unknownItems;
            if (unknownI.insert(std::string(trimmed(f[itemCol]))).second && rep.warnings.size() < 5)
                rep.warnings.push_back("line " + std::to_string(reader.lineNumber()) +
                                       ": unknown item '" + excerpt(trimmed(f[itemCol])) + "'");
            return;
        }
        if (kind == "pointwise" && (v < 0 || v > 1)) {
            ++rep.outOfRange;
            v = std::clamp(v, 0.0, 1.0);
        } else if (kind == "rating" && (v < spec.ratingMin || v > spec.ratingMax)) {
            ++rep.outOfRange;
            v = std::clamp(v, spec.ratingMin, spec.ratingMax);
        }
        rows.push_back({*u, *i, v, static_cast<std::uint32_t>(rows.size())});
        if ((rows.size() & 0x3FFF) == 0)
            checkCancel(control);
    };
    {
        const auto src = rep.provenance.find("source");
        rep.simulated = src != rep.provenance.end() && src->second == "simulated";
    }
    if (!header)
        handle(line);
    while (nextData(reader, line, rep, false))
        handle(line);
    rep.matched = static_cast<std::int64_t>(rows.size());
    rep.distinctUnknownUsers = static_cast<std::int64_t>(unknownU.size());
    rep.distinctUnknownItems = static_cast<std::int64_t>(unknownI.size());
    if (rep.rows == 0)
        throwBadInput(path, reader.lineNumber(), "the score file has no data rows",
                      "expected one 'user, item, value' row per line");

    // Normalize to [0, 1].
    for (auto& r : rows) {
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

    // Candidates the LLM was offered but did not return.
    std::string candidatesHash;
    if (!spec.candidatesPath.empty()) {
        std::unordered_set<std::uint64_t, PairHash> scored;
        for (const auto& r : rows)
            scored.insert(pairKey(r.user, r.item));
        LineReader cands(spec.candidatesPath);
        FieldContext cctx{&spec.candidatesPath, 0};
        std::vector<std::string_view> items;
        while (cands.nextNonBlank(line)) {
            cctx.line = cands.lineNumber();
            splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
            if (cands.lineNumber() == 1 && !isUnsigned(f[0]) &&
                ds.users.kind() == IdMap::Kind::Integer)
                continue;  // header
            if (f.size() < 2)
                throwBadInput(spec.candidatesPath, cands.lineNumber(),
                              "expected 'user, item[, rank]' or 'user<TAB>item item ...'");
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
                    {*u, *i, spec.candidateDefault, static_cast<std::uint32_t>(rows.size())});
                ++rep.candidatesAdded;
            }
        }
        candidatesHash = cands.contentHash();
    }

    checkHeldOut(rows, ds, spec.heldOut == "drop", rep);

    // CSR by user, file order within a user.
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
    // The same bytes read another way (kind, columns, mapping, candidates) are another score set.
    Json how = spec;
    for (const char* k : {"path", "name", "candidates_path"})
        how.erase(k);
    if (spec.heldOut == "keep")
        how.erase("held_out");  // the default reads the file as before the option existed
    Hasher hasher;
    hasher.add(reader.contentHash());
    hasher.add(candidatesHash);
    hasher.add(how.dump());
    rep.contentHash = hasher.hex();
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
