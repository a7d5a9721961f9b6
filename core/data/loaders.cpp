#include "data/loaders.h"

#include "common/error.h"
#include "common/hash.h"
#include "data/preprocess.h"
#include "io/fields.h"
#include "io/line_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <limits>
#include <unordered_map>

namespace sllmr {
namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string baseName(const std::string& path)
{
    std::string name = std::filesystem::path(path).filename().string();
    if (name.size() > 3 && name.ends_with(".gz"))
        name.resize(name.size() - 3);
    return lower(name);
}

bool isUnsigned(std::string_view s)
{
    s = trimmed(s);
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Resolved reading plan for one interactions file.
struct Layout
{
    std::string format;
    std::string delimiter;
    bool header = false;
    std::size_t fields = 0;  // expected field count
    int user = 0;
    int item = 1;
    int rating = -1;
    int timestamp = -1;
    int sequence = -1;  // RecBole token_seq history column
};

int columnIndex(const std::string& spec, const std::vector<std::string>& names, int fallback,
                std::initializer_list<const char*> aliases, const std::string& path,
                const char* what, bool required)
{
    auto matchName = [&](std::string_view want) -> int {
        for (std::size_t i = 0; i < names.size(); ++i) {
            std::string n = lower(trimmed(names[i]));
            if (const auto colon = n.find(':'); colon != std::string::npos)
                n.resize(colon);  // RecBole "name:type"
            if (n == want)
                return static_cast<int>(i);
        }
        return -1;
    };
    if (!spec.empty()) {
        if (isUnsigned(spec)) {
            const int idx = std::stoi(spec);
            if (names.empty() || idx < static_cast<int>(names.size()))
                return idx;
            throwBadInput(path, 1,
                          std::string(what) + " column " + spec + " is beyond the " +
                              std::to_string(names.size()) + " fields of the file",
                          "columns are numbered from 0");
        }
        const int idx = matchName(lower(spec));
        if (idx < 0)
            throwBadInput(path, 1,
                          std::string(what) + " column '" + spec + "' is not in the header",
                          "check the column names or give a 0-based index");
        return idx;
    }
    for (const char* a : aliases) {
        const int idx = matchName(a);
        if (idx >= 0)
            return idx;
    }
    if (required && fallback < 0)
        throwBadInput(path, 1, std::string("no ") + what + " column found in the header",
                      "name it in the column mapping");
    return fallback;
}

Layout planLayout(const std::string& path, const DatasetSpec& spec, std::string_view first)
{
    Layout lay;
    lay.format = spec.format == "auto" ? detectFormat(path, first) : spec.format;
    if (lay.format == "movielens-dat")
        lay.delimiter = "::";
    else if (lay.format == "movielens-udata" || lay.format == "recbole")
        lay.delimiter = "\t";
    else if (lay.format == "movielens-csv")
        lay.delimiter = ",";
    if (!spec.delimiter.empty())
        lay.delimiter = spec.delimiter == "\\t" || spec.delimiter == "tab" ? "\t" : spec.delimiter;
    if (lay.delimiter.empty())
        lay.delimiter = detectDelimiter(first);
    if (lay.delimiter.empty())
        lay.delimiter = ",";  // a single-column file: the field count check will explain

    std::vector<std::string_view> f;
    splitFields(first, lay.delimiter, f);
    std::vector<std::string> names(f.begin(), f.end());
    lay.fields = f.size();

    if (lay.format == "recbole") {
        lay.header = true;
        lay.user = columnIndex(spec.userColumn, names, -1, {"user_id"}, path, "user", true);
        lay.sequence = columnIndex({}, names, -1, {"item_id_list"}, path, "history", false);
        lay.item = columnIndex(spec.itemColumn, names, -1, {"item_id"}, path, "item", true);
        lay.rating = columnIndex(spec.ratingColumn, names, -1, {"rating"}, path, "rating", false);
        lay.timestamp =
            columnIndex(spec.timestampColumn, names, -1, {"timestamp"}, path, "timestamp", false);
        for (const auto& n : names)
            if (n.find(':') == std::string::npos)
                throwBadInput(path, 1, "RecBole header field '" + excerpt(n) + "' has no ':type'",
                              "RecBole atomic files name columns as name:type, e.g. user_id:token");
        return lay;
    }

    if (spec.header == "yes")
        lay.header = true;
    else if (spec.header == "no")
        lay.header = false;
    else  // a header when the default id columns are not numbers
        lay.header = f.size() >= 2 && (!isUnsigned(f[0]) || !isUnsigned(f[1]));

    if (lay.header) {
        lay.user = columnIndex(spec.userColumn, names, 0, {"userid", "user_id", "user", "uid"},
                               path, "user", true);
        lay.item = columnIndex(spec.itemColumn, names, 1,
                               {"movieid", "itemid", "item_id", "item", "iid"}, path, "item", true);
        lay.rating = columnIndex(spec.ratingColumn, names, f.size() > 2 ? 2 : -1,
                                 {"rating", "score"}, path, "rating", false);
        lay.timestamp = columnIndex(spec.timestampColumn, names, f.size() > 3 ? 3 : -1,
                                    {"timestamp", "time", "ts", "date"}, path, "timestamp", false);
    } else {
        const std::vector<std::string> none;
        lay.user = columnIndex(spec.userColumn, none, 0, {}, path, "user", true);
        lay.item = columnIndex(spec.itemColumn, none, 1, {}, path, "item", true);
        lay.rating =
            columnIndex(spec.ratingColumn, none, f.size() > 2 ? 2 : -1, {}, path, "rating", false);
        lay.timestamp = columnIndex(spec.timestampColumn, none, f.size() > 3 ? 3 : -1, {}, path,
                                    "timestamp", false);
    }
    if (f.size() < 2)
        throwBadInput(path, 1,
                      "found " + std::to_string(f.size()) + " field with delimiter '" +
                          (lay.delimiter == "\t" ? std::string("\\t") : lay.delimiter) +
                          "'; at least user and item are needed",
                      "check the delimiter (comma, tab, semicolon or '::')");
    for (int c : {lay.user, lay.item, lay.rating, lay.timestamp})
        if (c >= static_cast<int>(lay.fields))
            throwBadInput(path, 1,
                          "column " + std::to_string(c) + " is beyond the " +
                              std::to_string(lay.fields) + " fields of the file",
                          "check the column mapping");
    return lay;
}

void checkCancel(const LoadControl& control)
{
    if (control.cancel && control.cancel->load(std::memory_order_relaxed))
        throw Error(ErrorKind::Cancelled, "loading cancelled");
}

}  // namespace

IdMap::Kind detectIdKind(const std::string& path, const DatasetSpec& spec)
{
    if (spec.idType == "integer")
        return IdMap::Kind::Integer;
    if (spec.idType == "token")
        return IdMap::Kind::Token;
    std::vector<std::string> lines;
    {
        LineReader reader(path);
        std::string_view line;
        while (lines.size() < 2 && reader.nextNonBlank(line))
            lines.emplace_back(line);
    }
    if (lines.empty())
        throwBadInput(path, 0, "the file is empty", "choose a file with one interaction per line");
    const Layout lay = planLayout(path, spec, lines[0]);
    if (lay.format == "recbole")
        return IdMap::Kind::Token;
    const std::size_t dataLine = lay.header ? 1 : 0;
    if (dataLine >= lines.size())
        return IdMap::Kind::Integer;  // header only: reading reports it
    std::vector<std::string_view> f;
    splitFields(lines[dataLine], lay.delimiter, f);
    if (f.size() != lay.fields)
        return IdMap::Kind::Integer;  // reading reports the field count
    return isUnsigned(f[lay.user]) && isUnsigned(f[lay.item]) ? IdMap::Kind::Integer
                                                              : IdMap::Kind::Token;
}

std::string detectFormat(const std::string& path, std::string_view firstLine)
{
    const std::string name = baseName(path);
    if (name.ends_with(".inter"))
        return "recbole";
    if (name == "u.data")
        return "movielens-udata";
    if (name.ends_with(".dat") || firstLine.find("::") != std::string_view::npos)
        return "movielens-dat";
    if (lower(firstLine).starts_with("userid,movieid,rating"))
        return "movielens-csv";
    return "delimited";
}

std::vector<std::string> previewLines(const std::string& path, int n)
{
    LineReader reader(path);
    std::vector<std::string> out;
    std::string_view line;
    while (static_cast<int>(out.size()) < n && reader.next(line))
        out.emplace_back(line);
    return out;
}

RawFile readInteractions(const std::string& path, const DatasetSpec& spec, IdMap& users,
                         IdMap& items, const std::string& role, const LoadControl& control)
{
    RawFile raw;
    LineReader reader(path);
    raw.report.role = role;
    raw.report.path = path;
    raw.report.compressed = reader.compressed();

    std::string_view line;
    // The first non-blank line decides the layout.
    if (!reader.nextNonBlank(line))
        throwBadInput(path, 0, "the file is empty", "choose a file with one interaction per line");

    const Layout lay = planLayout(path, spec, line);
    if (lay.format == "recbole" && users.kind() != IdMap::Kind::Token)
        throw Error(ErrorKind::Usage,
                    "file uses the 'recbole' loader but the other files of the dataset do not",
                    path, 0, "load all parts of a split with the same loader");
    raw.report.format = lay.format;
    raw.report.delimiter = lay.delimiter;
    raw.report.header = lay.header;
    raw.hasRatings = lay.rating >= 0;
    raw.hasTimestamps = lay.timestamp >= 0;

    // After the first rows, reserve from the file size and the mean row length so far, so the
    // array is allocated about once instead of doubling (which would peak at 1.5-2x the rows).
    constexpr std::int64_t kEstimateAfterRows = 4096;

    const FieldContext ctx{&path, 0};
    FieldContext here = ctx;
    std::vector<std::string_view> f;
    std::vector<std::string_view> seq;
    const bool tokens = users.kind() == IdMap::Kind::Token;
    const std::size_t maxRows = std::numeric_limits<std::uint32_t>::max() - 1;
    std::uint64_t progressTick = 0;

    auto handle = [&](std::string_view text) {
        here.line = reader.lineNumber();
        splitFields(text, lay.delimiter, f);
        if (f.size() != lay.fields) {
            std::string problem = "found " + std::to_string(f.size()) + " fields, expected " +
                                  std::to_string(lay.fields);
            std::string hint = "every line needs the same number of fields; ";
            if (f.size() < lay.fields && reader.lineNumber() > 1)
                hint += "is the line truncated or are delimiters mixed?";
            else
                hint += "check the delimiter or quoting";
            throwBadInput(path, reader.lineNumber(), problem, hint);
        }
        Interaction it;
        if (tokens) {
            it.user = users.intern(trimmed(f[lay.user]));
        } else {
            it.user = users.intern(parseId(f[lay.user], here, "user id"));
        }
        it.rating =
            lay.rating >= 0 ? static_cast<float>(parseNumber(f[lay.rating], here, "rating")) : 1.0f;
        const bool ts = lay.timestamp >= 0;
        const std::int64_t time = ts ? parseInteger(f[lay.timestamp], here, "timestamp") : 0;
        auto push = [&](std::uint32_t item) {
            if (raw.rows.size() >= maxRows)
                throwBadInput(path, reader.lineNumber(), "more than 4 billion interactions",
                              "split the file; one dataset holds at most 2^32-2 interactions");
            it.item = item;
            it.order = static_cast<std::uint32_t>(raw.rows.size());
            it.time = ts ? time : static_cast<std::int64_t>(raw.rows.size());
            raw.rows.push_back(it);
        };
        if (lay.sequence >= 0) {
            // RecBole history layout: the history in order, then the target item.
            splitFields(trimmed(f[lay.sequence]), " ", seq);
            for (auto s : seq)
                if (!s.empty())
                    push(tokens ? items.intern(s) : items.intern(parseId(s, here, "item id")));
        }
        const auto itemText = trimmed(f[lay.item]);
        push(tokens ? items.intern(itemText) : items.intern(parseId(itemText, here, "item id")));
        ++raw.report.rows;
        if (raw.report.rows == kEstimateAfterRows && !reader.compressed() &&
            reader.textBytes() > 0) {
            const double perLine =
                static_cast<double>(raw.rows.size()) / static_cast<double>(reader.lineNumber());
            const double lines = static_cast<double>(reader.fileSize()) *
                                 static_cast<double>(reader.lineNumber()) /
                                 static_cast<double>(reader.textBytes());
            raw.rows.reserve(static_cast<std::size_t>(lines * perLine * 1.03) + 1024);
        }
        if ((++progressTick & 0xFFFF) == 0) {
            checkCancel(control);
            if (control.progress && reader.fileSize() > 0)
                control.progress(static_cast<double>(reader.bytesConsumed()) /
                                     static_cast<double>(reader.fileSize()),
                                 "reading " + role);
        }
    };

    if (!lay.header)
        handle(line);
    while (reader.nextNonBlank(line))
        handle(line);
    if (raw.report.rows == 0)
        throwBadInput(path, reader.lineNumber(),
                      lay.header ? "the file has a header but no data rows" : "no data rows",
                      "choose a file with one interaction per line");
    raw.report.lines = reader.lineNumber();
    raw.report.bytes = reader.textBytes();
    raw.report.blankLines = reader.blankLines();
    raw.report.contentHash = reader.contentHash();
    return raw;
}

void readItemInfo(const DatasetSpec& spec, const IdMap& items, ItemInfo& info,
                  std::vector<FileReport>& reports)
{
    if (!spec.itemsPath.empty()) {
        const std::string& path = spec.itemsPath;
        LineReader reader(path);
        FileReport rep;
        rep.role = "items";
        rep.path = path;
        rep.compressed = reader.compressed();
        info.titles.assign(items.size(), std::string());
        std::string_view line;
        if (!reader.next(line))
            throwBadInput(path, 0, "the items file is empty", "choose movies.csv or a .item file");
        const bool recbole =
            baseName(path).ends_with(".item") || line.find(":token") != std::string_view::npos;
        const char delim =
            recbole ? '\t' : (line.find('\t') != std::string_view::npos ? '\t' : ',');
        rep.format = recbole ? "recbole-item" : "movielens-movies";
        rep.delimiter = std::string(1, delim);
        std::vector<std::string> header;
        if (!splitQuoted(line, delim, header))
            throwBadInput(path, 1, "unterminated quote in the header");
        int idCol = 0;
        int titleCol = 1;
        int genreCol = -1;
        for (std::size_t i = 0; i < header.size(); ++i) {
            std::string n = lower(header[i]);
            if (auto c = n.find(':'); c != std::string::npos)
                n.resize(c);
            if (n == "movieid" || n == "item_id" || n == "itemid")
                idCol = static_cast<int>(i);
            else if (n == "title" || n == "movie_title")
                titleCol = static_cast<int>(i);
            else if (n == "genres" || n == "genre")
                genreCol = static_cast<int>(i);
        }
        rep.header = true;
        std::vector<std::string> f;
        std::vector<std::vector<std::string>> genresByItem;
        if (genreCol >= 0)
            genresByItem.resize(items.size());
        while (reader.nextNonBlank(line)) {
            if (!splitQuoted(line, delim, f))
                throwBadInput(path, reader.lineNumber(), "unterminated quote",
                              "a quoted title must end with a closing double quote");
            if (f.size() != header.size())
                throwBadInput(path, reader.lineNumber(),
                              "found " + std::to_string(f.size()) + " fields, expected " +
                                  std::to_string(header.size()),
                              "titles containing the delimiter must be quoted");
            ++rep.rows;
            const auto idx = items.findText(f[idCol]);
            if (!idx)
                continue;  // items outside the dataset are ignored (titles for display only)
            info.titles[*idx] = std::string(trimmed(f[titleCol]));
            if (genreCol >= 0 && f[genreCol] != "(no genres listed)") {
                std::vector<std::string_view> parts;
                splitFields(f[genreCol], "|", parts);
                for (auto p : parts)
                    genresByItem[*idx].emplace_back(p);
            }
        }
        rep.lines = reader.lineNumber();
        rep.bytes = reader.textBytes();
        rep.contentHash = reader.contentHash();
        reports.push_back(rep);
        if (genreCol >= 0 && spec.itemFeaturesPath.empty()) {
            // Genres from movies.csv become the categorical item features.
            std::unordered_map<std::string, std::uint32_t> ids;
            info.featureOffsets.assign(1, 0);
            for (auto& g : genresByItem) {
                for (auto& name : g) {
                    auto [it, added] =
                        ids.try_emplace(name, static_cast<std::uint32_t>(ids.size()));
                    if (added)
                        info.featureNames.push_back(name);
                    info.features.push_back(it->second);
                }
                info.featureOffsets.push_back(static_cast<std::uint32_t>(info.features.size()));
            }
        }
    }
    if (!spec.itemFeaturesPath.empty()) {
        const std::string& path = spec.itemFeaturesPath;
        LineReader reader(path);
        FileReport rep;
        rep.role = "item_features";
        rep.path = path;
        rep.format = "item-features";
        rep.delimiter = "\t";
        std::vector<std::vector<std::uint32_t>> byItem(items.size());
        std::vector<std::string_view> f;
        std::string_view line;
        FieldContext ctx{&path, 0};
        std::uint32_t maxFeature = 0;
        bool any = false;
        while (reader.nextNonBlank(line)) {
            ctx.line = reader.lineNumber();
            splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
            if (reader.lineNumber() == 1 && !isUnsigned(f[0])) {
                rep.header = true;
                continue;
            }
            ++rep.rows;
            const auto idx = items.findText(f[0]);
            for (std::size_t k = 1; k < f.size(); ++k) {
                if (trimmed(f[k]).empty())
                    continue;
                const auto id = parseId(f[k], ctx, "feature id");
                if (id > 1000000)
                    throwBadInput(path, reader.lineNumber(),
                                  "feature id " + std::to_string(id) + " is implausibly large",
                                  "feature ids must be small categorical codes (0, 1, 2, ...)");
                maxFeature = std::max(maxFeature, static_cast<std::uint32_t>(id));
                any = true;
                if (idx)
                    byItem[*idx].push_back(static_cast<std::uint32_t>(id));
            }
        }
        rep.lines = reader.lineNumber();
        rep.bytes = reader.textBytes();
        rep.contentHash = reader.contentHash();
        reports.push_back(rep);
        info.features.clear();
        info.featureOffsets.assign(1, 0);
        for (auto& v : byItem) {
            info.features.insert(info.features.end(), v.begin(), v.end());
            info.featureOffsets.push_back(static_cast<std::uint32_t>(info.features.size()));
        }
        info.featureNames.clear();
        if (any)
            for (std::uint32_t k = 0; k <= maxFeature; ++k)
                info.featureNames.push_back(std::to_string(k));
        if (!spec.itemFeatureNamesPath.empty()) {
            const std::string& npath = spec.itemFeatureNamesPath;
            LineReader names(npath);
            FileReport nrep;
            nrep.role = "item_feature_names";
            nrep.path = npath;
            nrep.format = "feature-names";
            FieldContext nctx{&npath, 0};
            while (names.nextNonBlank(line)) {
                nctx.line = names.lineNumber();
                splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
                if (names.lineNumber() == 1 && !isUnsigned(f[0])) {
                    nrep.header = true;
                    continue;
                }
                if (f.size() < 2)
                    throwBadInput(npath, names.lineNumber(), "expected 'id<TAB>name'");
                ++nrep.rows;
                const auto id = parseId(f[0], nctx, "feature id");
                if (id < info.featureNames.size())
                    info.featureNames[id] = std::string(trimmed(f[1]));
            }
            nrep.lines = names.lineNumber();
            nrep.contentHash = names.contentHash();
            reports.push_back(nrep);
        }
    }
}

Dataset loadDataset(const DatasetSpec& spec, const LoadControl& control)
{
    validate(spec);
    // The id kind follows the main file.
    const auto kind = detectIdKind(spec.path, spec);
    IdMap users(kind);
    IdMap items(kind);
    std::vector<RawFile> parts;
    if (spec.split.method == "given") {
        parts.push_back(readInteractions(spec.path, spec, users, items, "train", control));
        parts.push_back(readInteractions(spec.testPath, spec, users, items, "test", control));
        if (!spec.validationPath.empty())
            parts.push_back(
                readInteractions(spec.validationPath, spec, users, items, "validation", control));
    } else {
        parts.push_back(readInteractions(spec.path, spec, users, items, "interactions", control));
    }
    return buildDataset(spec, std::move(users), std::move(items), std::move(parts), control);
}

}  // namespace sllmr
