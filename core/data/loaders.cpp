#include "data/loaders.h"

#include "common/error.h"
#include "common/hash.h"
#include "data/preprocess.h"
#include "io/fields.h"
#include "io/line_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <unordered_map>
#include <utility>

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

// A header name without RecBole's ":type" suffix, lower case.
std::string columnName(std::string_view field)
{
    std::string n = lower(trimmed(field));
    if (const auto colon = n.find(':'); colon != std::string::npos)
        n.resize(colon);
    return n;
}

const char* const kUserAliases[] = {"userid", "user_id", "user", "uid"};
const char* const kItemAliases[] = {"movieid", "itemid", "item_id", "item", "iid"};
const char* const kRatingAliases[] = {"rating", "score"};
const char* const kTimeAliases[] = {"timestamp", "time", "ts", "date"};

bool isKnownColumnName(std::string_view field)
{
    const std::string n = columnName(field);
    auto in = [&n](const auto& list) {
        return std::any_of(std::begin(list), std::end(list),
                           [&n](const char* a) { return n == a; });
    };
    return in(kUserAliases) || in(kItemAliases) || in(kRatingAliases) || in(kTimeAliases);
}

std::string shownDelimiter(const std::string& d)
{
    return d == "\t" ? std::string("\\t") : d == " " ? std::string("space") : d;
}

// Resolved reading plan for one interactions file.
struct Layout
{
    std::string format;
    std::string delimiter;
    bool header = false;
    std::string headerNote;  // why line 1 was (or was not) taken for a header
    std::size_t fields = 0;  // expected field count
    int user = 0;
    int item = 1;
    int rating = -1;
    int timestamp = -1;
    int sequence = -1;  // RecBole token_seq history column
};

int columnIndex(const std::string& spec, const std::vector<std::string>& names, int fallback,
                std::initializer_list<const char*> aliases, const std::string& path,
                std::int64_t line, const char* what, bool required)
{
    auto matchName = [&](std::string_view want) -> int {
        for (std::size_t i = 0; i < names.size(); ++i)
            if (columnName(names[i]) == want)
                return static_cast<int>(i);
        return -1;
    };
    if (!spec.empty()) {
        if (isUnsigned(spec)) {
            if (spec.size() > 6)
                throwBadInput(path, line, std::string(what) + " column " + spec + " is too large",
                              "columns are numbered from 0");
            const int idx = std::stoi(spec);
            if (names.empty() || idx < static_cast<int>(names.size()))
                return idx;
            throwBadInput(path, line,
                          std::string(what) + " column " + spec + " is beyond the " +
                              std::to_string(names.size()) + " fields of the file",
                          "columns are numbered from 0");
        }
        const int idx = matchName(lower(spec));
        if (idx < 0)
            throwBadInput(
                path, line,
                std::string(what) + " column '" + excerpt(spec) + "' is not in the header",
                "check the column names or give a 0-based index");
        return idx;
    }
    for (const char* a : aliases) {
        const int idx = matchName(a);
        if (idx >= 0)
            return idx;
    }
    if (required && fallback < 0)
        throwBadInput(path, line, std::string("no ") + what + " column found in the header",
                      "name it in the column mapping");
    return fallback;
}

bool mapsByName(const DatasetSpec& spec)
{
    for (const auto* c :
         {&spec.userColumn, &spec.itemColumn, &spec.ratingColumn, &spec.timestampColumn})
        if (!c->empty() && !isUnsigned(*c))
            return true;
    return false;
}

// header "auto": line 1 is a header when the mapping names columns, when it holds a known column
// name, or when a column is text on line 1 but a number on the next line. Rows of text ids that
// look like the rows below them are data.
void decideHeader(Layout& lay, const DatasetSpec& spec, const std::vector<std::string_view>& f,
                  const std::vector<std::string_view>& next, std::string_view first)
{
    const std::string shown = "line '" + excerpt(first) + "'";
    if (spec.header == "yes" || spec.header == "no") {
        lay.header = spec.header == "yes";
        return;
    }
    if (mapsByName(spec)) {
        lay.header = true;
        lay.headerNote = shown + " is the header: the column mapping names columns";
        return;
    }
    for (auto field : f)
        if (isKnownColumnName(field)) {
            lay.header = true;
            lay.headerNote =
                shown + " is the header: it names the column '" + excerpt(trimmed(field)) + "'";
            return;
        }
    if (next.size() == f.size())
        for (std::size_t k = 0; k < f.size(); ++k)
            if (!looksNumeric(f[k]) && looksNumeric(next[k])) {
                lay.header = true;
                lay.headerNote = shown + " is the header: column " + std::to_string(k) +
                                 " holds text there and numbers below";
                return;
            }
    lay.header = false;
    if (f.size() >= 2 && (!isUnsigned(f[0]) || !isUnsigned(f[1])))
        lay.headerNote = shown +
                         " is read as data, not as a header: it names no known column "
                         "and looks like the rows below (say --header yes if it is one)";
}

Layout planLayout(const std::string& path, const DatasetSpec& spec, std::string_view first,
                  std::string_view second, std::int64_t line)
{
    Layout lay;
    lay.format = spec.format == "auto" ? detectFormat(path, first, second) : spec.format;
    // A delimiter or a column mapping says the file has columns: not one sequence per line.
    if (spec.format == "auto" && lay.format == "sequences" &&
        (!spec.delimiter.empty() || !spec.userColumn.empty() || !spec.itemColumn.empty()))
        lay.format = "delimited";
    if (lay.format == "movielens-dat")
        lay.delimiter = "::";
    else if (lay.format == "movielens-udata" || lay.format == "recbole")
        lay.delimiter = "\t";
    else if (lay.format == "movielens-csv")
        lay.delimiter = ",";
    else if (lay.format == "sequences")
        lay.delimiter = " ";
    if (!spec.delimiter.empty())
        lay.delimiter = spec.delimiter == "\\t" || spec.delimiter == "tab" ? "\t" : spec.delimiter;
    if (lay.delimiter.empty())
        lay.delimiter = detectDelimiter(first);
    if (lay.delimiter.empty())
        lay.delimiter = ",";  // a single-column file: the field count check will explain
    if (lay.format == "sequences")
        return lay;

    std::vector<std::string_view> f;
    std::string scratch;
    if (!splitRecord(first, lay.delimiter, f, scratch))
        throwBadInput(path, line, "unterminated quote",
                      "a quoted field must end with a closing double quote on the same line");
    dropTrailingEmpty(f);
    std::vector<std::string> names(f.begin(), f.end());
    lay.fields = f.size();

    if (lay.format == "recbole") {
        lay.header = true;
        lay.user = columnIndex(spec.userColumn, names, -1, {"user_id"}, path, line, "user", true);
        lay.sequence = columnIndex({}, names, -1, {"item_id_list"}, path, line, "history", false);
        lay.item = columnIndex(spec.itemColumn, names, -1, {"item_id"}, path, line, "item", true);
        lay.rating =
            columnIndex(spec.ratingColumn, names, -1, {"rating"}, path, line, "rating", false);
        lay.timestamp = columnIndex(spec.timestampColumn, names, -1, {"timestamp"}, path, line,
                                    "timestamp", false);
        for (const auto& n : names)
            if (n.find(':') == std::string::npos)
                throwBadInput(path, line,
                              "RecBole header field '" + excerpt(n) + "' has no ':type'",
                              "RecBole atomic files name columns as name:type, e.g. user_id:token");
        return lay;
    }

    std::vector<std::string_view> next;
    std::string nextScratch;
    if (!second.empty() && splitRecord(second, lay.delimiter, next, nextScratch))
        dropTrailingEmpty(next, f.size());
    decideHeader(lay, spec, f, next, first);

    const std::vector<std::string> none;
    const auto& cols = lay.header ? names : none;
    lay.user = columnIndex(spec.userColumn, cols, 0, {"userid", "user_id", "user", "uid"}, path,
                           line, "user", true);
    lay.item =
        columnIndex(spec.itemColumn, cols, 1, {"movieid", "itemid", "item_id", "item", "iid"}, path,
                    line, "item", true);
    lay.rating = columnIndex(spec.ratingColumn, cols, f.size() > 2 ? 2 : -1, {"rating", "score"},
                             path, line, "rating", false);
    lay.timestamp =
        columnIndex(spec.timestampColumn, cols, f.size() > 3 ? 3 : -1,
                    {"timestamp", "time", "ts", "date"}, path, line, "timestamp", false);
    if (f.size() < 2)
        throwBadInput(path, line,
                      "found " + std::to_string(f.size()) + " field with delimiter '" +
                          shownDelimiter(lay.delimiter) + "'; at least user and item are needed",
                      "check the delimiter (comma, tab, semicolon or '::')");
    for (int c : {lay.user, lay.item, lay.rating, lay.timestamp})
        if (c >= static_cast<int>(lay.fields))
            throwBadInput(path, line,
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

LineReader::Options readerOptions(const DatasetSpec& spec)
{
    LineReader::Options o;
    o.encoding = parseTextEncoding(spec.encoding, "setting 'dataset.encoding'");
    o.encodingSetting = "--encoding (run config: 'dataset.encoding')";
    return o;
}

// The first two non-blank lines of a file, copied (the reader's views do not survive reading).
struct Head
{
    std::string first;
    std::string second;
    std::int64_t firstLine = 0;
    bool hasSecond = false;
};

Head readHead(LineReader& reader, const std::string& path)
{
    Head h;
    std::string_view line;
    if (!reader.nextNonBlank(line))
        throwBadInput(path, 0, "the file is empty", "choose a file with one interaction per line");
    h.first.assign(line);
    h.firstLine = reader.lineNumber();
    if (reader.nextNonBlank(line)) {
        h.second.assign(line);
        h.hasSecond = true;
    }
    return h;
}

}  // namespace

IdMap::Kind detectIdKind(const std::string& path, const DatasetSpec& spec)
{
    if (spec.idType == "integer")
        return IdMap::Kind::Integer;
    if (spec.idType == "token")
        return IdMap::Kind::Token;
    LineReader reader(path, readerOptions(spec));
    const Head head = readHead(reader, path);
    const Layout lay = planLayout(path, spec, head.first, head.second, head.firstLine);
    if (lay.format == "recbole")
        return IdMap::Kind::Token;
    if (lay.format == "sequences") {
        std::vector<std::string_view> f;
        splitFields(trimmed(head.first), " ", f);
        const bool numeric = std::all_of(
            f.begin(), f.end(), [](std::string_view s) { return s.empty() || isUnsigned(s); });
        return numeric ? IdMap::Kind::Integer : IdMap::Kind::Token;
    }
    if (lay.header && !head.hasSecond)
        return IdMap::Kind::Integer;  // header only: reading reports it
    const std::string& data = lay.header ? head.second : head.first;
    std::vector<std::string_view> f;
    std::string scratch;
    if (!splitRecord(data, lay.delimiter, f, scratch))
        return IdMap::Kind::Integer;  // reading reports the quote
    dropTrailingEmpty(f, lay.fields);
    if (f.size() != lay.fields)
        return IdMap::Kind::Integer;  // reading reports the field count
    return isUnsigned(f[lay.user]) && isUnsigned(f[lay.item]) ? IdMap::Kind::Integer
                                                              : IdMap::Kind::Token;
}

namespace {

// Fields of a line of unsigned integers separated by single spaces; 0 for any other line.
std::size_t spacedNumbers(std::string_view line)
{
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.remove_suffix(1);
    if (line.empty())
        return 0;
    std::size_t fields = 1;
    bool digit = false;
    for (const char c : line) {
        if (c == ' ') {
            if (!digit)
                return 0;
            ++fields;
            digit = false;
        } else if (c >= '0' && c <= '9') {
            digit = true;
        } else {
            return 0;
        }
    }
    return digit ? fields : 0;
}

// 'user item item ...': space-separated numbers, more than an interactions file's four columns,
// or a different count on the next line (an interactions file keeps its count).
bool looksLikeSequences(std::string_view first, std::string_view second)
{
    const auto a = spacedNumbers(first);
    if (a < 2)
        return false;
    const auto b = spacedNumbers(second);
    if (!second.empty() && b < 2)
        return false;
    return a > 4 || b > 4 || (b >= 2 && a != b);
}

}  // namespace

std::string detectFormat(const std::string& path, std::string_view firstLine,
                         std::string_view secondLine)
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
    if (looksLikeSequences(firstLine, secondLine))
        return "sequences";
    return "delimited";
}

std::vector<std::string> previewLines(const std::string& path, int n, const std::string& encoding)
{
    LineReader::Options options;
    options.encoding = parseTextEncoding(encoding, "encoding");
    LineReader reader(path, options);
    std::vector<std::string> out;
    std::string_view line;
    while (static_cast<int>(out.size()) < n && reader.next(line))
        out.emplace_back(line);
    return out;
}

namespace {

constexpr std::size_t kMaxRows = std::numeric_limits<std::uint32_t>::max() - 1;
constexpr double kMaxRating = 1e9;

// Appends interactions to a RawFile: reserves ahead, checks the row limit, reports progress.
class InteractionSink
{
public:
    InteractionSink(RawFile& raw, const LineReader& reader, const LoadControl& control,
                    const std::string& role)
        : m_raw(raw), m_reader(reader), m_control(control), m_role(role)
    {}

    // Without `hasTime`, the row's position in the file is its time.
    void add(std::uint32_t user, std::uint32_t item, float rating, std::int64_t time, bool hasTime,
             std::int64_t line)
    {
        if (m_raw.rows.size() >= kMaxRows)
            throwBadInput(m_reader.path(), line, "more than 4 billion interactions",
                          "split the file; one dataset holds at most 2^32-2 interactions");
        Interaction it;
        it.user = user;
        it.item = item;
        it.rating = rating;
        it.order = static_cast<std::uint32_t>(m_raw.rows.size());
        it.time = hasTime ? time : static_cast<std::int64_t>(m_raw.rows.size());
        m_raw.rows.push_back(it);
    }

    // After the first rows, reserve from the file size and the mean row length so far, so the
    // array is allocated about once instead of doubling (which would peak at 1.5-2x the rows).
    void rowDone()
    {
        constexpr std::int64_t kEstimateAfterRows = 4096;
        ++m_raw.report.rows;
        if (m_raw.report.rows == kEstimateAfterRows && !m_reader.compressed() &&
            m_reader.textBytes() > 0) {
            const double lines = static_cast<double>(m_reader.lineNumber());
            const double perLine = static_cast<double>(m_raw.rows.size()) / lines;
            const double total = static_cast<double>(m_reader.fileSize()) * lines /
                                 static_cast<double>(m_reader.textBytes());
            m_raw.rows.reserve(static_cast<std::size_t>(total * perLine * 1.03) + 1024);
        }
        if ((++m_tick & 0xFFFF) == 0) {
            checkCancel(m_control);
            if (m_control.progress && m_reader.fileSize() > 0)
                m_control.progress(static_cast<double>(m_reader.bytesConsumed()) /
                                       static_cast<double>(m_reader.fileSize()),
                                   "reading " + m_role);
        }
    }

private:
    RawFile& m_raw;
    const LineReader& m_reader;
    const LoadControl& m_control;
    const std::string& m_role;
    std::uint64_t m_tick = 0;
};

// Parses rows of one interactions file with its layout.
class RowParser
{
public:
    RowParser(const std::string& path, const Layout& lay, IdMap& users, IdMap& items,
              InteractionSink& sink)
        : m_path(path)
        , m_lay(lay)
        , m_users(users)
        , m_items(items)
        , m_sink(sink)
        , m_tokens(users.kind() == IdMap::Kind::Token)
    {}

    void row(std::string_view text, std::int64_t line)
    {
        if (m_lay.format == "sequences")
            sequenceRow(text, line);
        else
            delimitedRow(text, line);
        m_sink.rowDone();
    }

private:
    std::uint32_t intern(IdMap& map, std::string_view text, const FieldContext& ctx,
                         const char* what)
    {
        return m_tokens ? map.intern(trimmed(text)) : map.intern(parseId(text, ctx, what));
    }

    void delimitedRow(std::string_view text, std::int64_t line)
    {
        const FieldContext ctx{&m_path, line};
        if (!splitRecord(text, m_lay.delimiter, m_f, m_scratch))
            throwBadInput(m_path, line, "unterminated quote",
                          "a quoted field must end with a closing double quote on the same line");
        dropTrailingEmpty(m_f, m_lay.fields);
        if (m_f.size() != m_lay.fields) {
            std::string hint = "every line needs the same number of fields; ";
            if (m_lay.delimiter == " ")
                hint +=
                    "if each line is a user followed by their items in time order, choose "
                    "the loader 'sequences' (--format sequences)";
            else if (m_f.size() < m_lay.fields && line > 1)
                hint += "is the line truncated or are delimiters mixed?";
            else
                hint += "check the delimiter or quoting";
            throwBadInput(m_path, line,
                          "found " + std::to_string(m_f.size()) + " fields, expected " +
                              std::to_string(m_lay.fields),
                          hint);
        }
        const std::uint32_t user = intern(m_users, m_f[m_lay.user], ctx, "user id");
        float rating = 1.0f;
        if (m_lay.rating >= 0) {
            const double v = parseNumber(m_f[m_lay.rating], ctx, "rating");
            if (std::fabs(v) > kMaxRating)
                throwBadInput(
                    m_path, line,
                    "rating '" + excerpt(trimmed(m_f[m_lay.rating])) + "' is out of range",
                    "ratings must lie between -1e9 and 1e9; check the column mapping");
            rating = static_cast<float>(v);
        }
        const bool ts = m_lay.timestamp >= 0;
        const std::int64_t time = ts ? parseInteger(m_f[m_lay.timestamp], ctx, "timestamp") : 0;
        if (m_lay.sequence >= 0) {
            // RecBole history layout: the history in order, then the target item.
            splitFields(trimmed(m_f[m_lay.sequence]), " ", m_seq);
            for (auto s : m_seq)
                if (!s.empty())
                    m_sink.add(user, intern(m_items, s, ctx, "item id"), rating, time, ts, line);
        }
        m_sink.add(user, intern(m_items, m_f[m_lay.item], ctx, "item id"), rating, time, ts, line);
    }

    // "user item item ...": the position in the line is the time order.
    void sequenceRow(std::string_view text, std::int64_t line)
    {
        const FieldContext ctx{&m_path, line};
        m_seq.clear();
        std::size_t i = 0;
        while (i < text.size()) {
            while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
                ++i;
            std::size_t j = i;
            while (j < text.size() && text[j] != ' ' && text[j] != '\t')
                ++j;
            if (j > i)
                m_seq.push_back(text.substr(i, j - i));
            i = j;
        }
        if (m_seq.size() < 2)
            throwBadInput(m_path, line, "the line has a user but no items",
                          "each line of a sequences file is 'user item item ...' (space-separated, "
                          "oldest item first)");
        const std::uint32_t user = intern(m_users, m_seq[0], ctx, "user id");
        for (std::size_t k = 1; k < m_seq.size(); ++k)
            m_sink.add(user, intern(m_items, m_seq[k], ctx, "item id"), 1.0f, 0, false, line);
    }

    const std::string& m_path;
    const Layout& m_lay;
    IdMap& m_users;
    IdMap& m_items;
    InteractionSink& m_sink;
    bool m_tokens;
    std::vector<std::string_view> m_f;
    std::vector<std::string_view> m_seq;
    std::string m_scratch;
};

}  // namespace

RawFile readInteractions(const std::string& path, const DatasetSpec& spec, IdMap& users,
                         IdMap& items, const std::string& role, const LoadControl& control)
{
    RawFile raw;
    LineReader reader(path, readerOptions(spec));
    raw.report.role = role;
    raw.report.path = path;
    raw.report.compressed = reader.compressed();

    // The first two non-blank lines decide the layout (header or data).
    const Head head = readHead(reader, path);
    const std::int64_t secondLine = reader.lineNumber();
    const Layout lay = planLayout(path, spec, head.first, head.second, head.firstLine);
    if (lay.format == "recbole" && users.kind() != IdMap::Kind::Token)
        throw Error(ErrorKind::Usage,
                    "file uses the 'recbole' loader but the other files of the dataset do not",
                    path, 0, "load all parts of a split with the same loader");
    raw.report.format = lay.format;
    raw.report.delimiter = lay.delimiter;
    raw.report.header = lay.header;
    raw.report.encoding = textEncodingName(reader.encoding());
    if (!lay.headerNote.empty())
        raw.report.notes.push_back(lay.headerNote);
    raw.hasRatings = lay.rating >= 0 && lay.format != "sequences";
    raw.hasTimestamps = lay.timestamp >= 0 && lay.format != "sequences";

    InteractionSink sink(raw, reader, control, role);
    RowParser parser(path, lay, users, items, sink);
    if (!lay.header)
        parser.row(head.first, head.firstLine);
    if (head.hasSecond)
        parser.row(head.second, secondLine);
    std::string_view line;
    while (reader.nextNonBlank(line))
        parser.row(line, reader.lineNumber());
    if (raw.report.rows == 0)
        throwBadInput(path, reader.lineNumber(),
                      lay.header ? "the file has a header but no data rows" : "no data rows",
                      "choose a file with one interaction per line");
    raw.report.lines = reader.lineNumber();
    raw.report.bytes = reader.textBytes();
    raw.report.blankLines = reader.blankLines();
    raw.report.contentHash = reader.contentHash();
    raw.report.encoding = textEncodingName(reader.encoding());
    return raw;
}

namespace {

// MovieLens 100K u.genre: the order of u.item's 19 genre flags.
const char* const kUItemGenres[] = {
    "unknown",     "Action", "Adventure", "Animation", "Children's", "Comedy",  "Crime",
    "Documentary", "Drama",  "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
    "Romance",     "Sci-Fi", "Thriller",  "War",       "Western"};
constexpr std::size_t kUItemFields = 5 + std::size(kUItemGenres);

// How an items file is read.
struct ItemLayout
{
    std::string format;
    std::string delimiter;
    bool header = false;
    bool quoting = true;  // RFC 4180 quotes (not in u.item and movies.dat)
    std::size_t fields = 0;
    int id = 0;
    int title = 1;
    int genres = -1;      // '|'-separated names
    int genreFlags = -1;  // u.item: first of 19 0/1 flags
};

bool isUItemRow(const std::vector<std::string_view>& f)
{
    if (f.size() != kUItemFields || !isUnsigned(f[0]))
        return false;
    for (std::size_t k = 5; k < f.size(); ++k)
        if (trimmed(f[k]) != "0" && trimmed(f[k]) != "1")
            return false;
    return true;
}

ItemLayout planItems(const std::string& path, std::string_view first, std::int64_t line)
{
    ItemLayout lay;
    const std::string name = baseName(path);
    std::vector<std::string_view> f;
    std::string scratch;
    splitFields(first, "|", f);
    if (name == "u.item" || isUItemRow(f)) {
        lay.format = "movielens-uitem";
        lay.delimiter = "|";
        lay.quoting = false;
        lay.fields = kUItemFields;
        lay.genreFlags = 5;
        return lay;
    }
    if (name.ends_with(".dat") || first.find("::") != std::string_view::npos) {
        lay.format = "movielens-movies-dat";
        lay.delimiter = "::";
        lay.quoting = false;
        lay.fields = 3;
        lay.genres = 2;
        return lay;
    }
    const bool recbole = name.ends_with(".item") || first.find(":token") != std::string_view::npos;
    lay.format = recbole ? "recbole-item" : "movielens-movies";
    lay.delimiter = recbole || first.find('\t') != std::string_view::npos ? "\t" : ",";
    if (!splitRecord(first, lay.delimiter, f, scratch))
        throwBadInput(path, line, "unterminated quote in the first line",
                      "a quoted title must end with a closing double quote on the same line");
    dropTrailingEmpty(f);
    lay.fields = f.size();
    // A header unless the first field is an id (a file of 'id,title[,genres]' rows).
    lay.header = recbole || !isUnsigned(f[0]);
    int titleCol = -1;
    if (lay.header) {
        for (std::size_t i = 0; i < f.size(); ++i) {
            const std::string n = columnName(f[i]);
            if (n == "movieid" || n == "item_id" || n == "itemid" || n == "id")
                lay.id = static_cast<int>(i);
            else if (n == "title" || n == "movie_title" || n == "name")
                titleCol = static_cast<int>(i);
            else if (n == "genres" || n == "genre")
                lay.genres = static_cast<int>(i);
        }
    } else if (f.size() > 2) {
        lay.genres = 2;
    }
    lay.title = titleCol >= 0 ? titleCol : (lay.id == 0 ? 1 : 0);
    if (f.size() < 2 || lay.title == lay.id)
        throwBadInput(path, line,
                      "the items file has " + std::to_string(f.size()) +
                          (f.size() == 1 ? " column" : " columns") + " (delimiter '" +
                          shownDelimiter(lay.delimiter) + "'); an item id and a title are needed",
                      "give movies.csv (movieId,title,genres), MovieLens u.item or movies.dat, or "
                      "a RecBole .item file");
    return lay;
}

void readItemTitles(const DatasetSpec& spec, const IdMap& items, ItemInfo& info,
                    std::vector<FileReport>& reports)
{
    const std::string& path = spec.itemsPath;
    LineReader reader(path, readerOptions(spec));
    FileReport rep;
    rep.role = "items";
    rep.path = path;
    rep.compressed = reader.compressed();
    info.titles.assign(items.size(), std::string());
    std::string_view line;
    if (!reader.nextNonBlank(line))
        throwBadInput(path, 0, "the items file is empty",
                      "choose movies.csv, u.item, movies.dat or a .item file");
    const ItemLayout lay = planItems(path, line, reader.lineNumber());
    rep.format = lay.format;
    rep.delimiter = lay.delimiter;
    rep.header = lay.header;
    std::vector<std::vector<std::string>> genresByItem;
    if (lay.genres >= 0 || lay.genreFlags >= 0)
        genresByItem.resize(items.size());
    std::vector<std::string_view> f;
    std::vector<std::string_view> parts;
    std::string scratch;
    bool pending = !lay.header;  // the first line is a row
    while (pending || reader.nextNonBlank(line)) {
        pending = false;
        const std::int64_t at = reader.lineNumber();
        if (!lay.quoting)
            splitFields(line, lay.delimiter, f);
        else if (!splitRecord(line, lay.delimiter, f, scratch))
            throwBadInput(path, at, "unterminated quote",
                          "a quoted title must end with a closing double quote on the same line");
        dropTrailingEmpty(f, lay.fields);
        if (f.size() != lay.fields)
            throwBadInput(path, at,
                          "found " + std::to_string(f.size()) + " fields, expected " +
                              std::to_string(lay.fields),
                          lay.quoting ? "titles containing the delimiter must be quoted"
                                      : "is the line truncated, or is this another format?");
        ++rep.rows;
        const auto idx = items.findText(trimmed(f[lay.id]));
        if (!idx)
            continue;  // items outside the dataset are ignored (titles for display only)
        info.titles[*idx] = std::string(trimmed(f[lay.title]));
        if (lay.genres >= 0 && trimmed(f[lay.genres]) != "(no genres listed)") {
            splitFields(trimmed(f[lay.genres]), "|", parts);
            for (auto p : parts)
                if (!trimmed(p).empty())
                    genresByItem[*idx].emplace_back(trimmed(p));
        }
        if (lay.genreFlags >= 0)
            for (std::size_t k = 0; k < std::size(kUItemGenres); ++k)
                if (trimmed(f[lay.genreFlags + k]) == "1")
                    genresByItem[*idx].emplace_back(kUItemGenres[k]);
    }
    rep.lines = reader.lineNumber();
    rep.bytes = reader.textBytes();
    rep.blankLines = reader.blankLines();
    rep.contentHash = reader.contentHash();
    rep.encoding = textEncodingName(reader.encoding());
    reports.push_back(rep);
    if (!genresByItem.empty() && spec.itemFeaturesPath.empty()) {
        // Genres become the categorical item features.
        std::unordered_map<std::string, std::uint32_t> ids;
        info.featureOffsets.assign(1, 0);
        for (auto& g : genresByItem) {
            for (auto& name : g) {
                auto [it, added] = ids.try_emplace(name, static_cast<std::uint32_t>(ids.size()));
                if (added)
                    info.featureNames.push_back(name);
                info.features.push_back(it->second);
            }
            info.featureOffsets.push_back(static_cast<std::uint32_t>(info.features.size()));
        }
    }
}

void readFeatureNames(const DatasetSpec& spec, ItemInfo& info, std::vector<FileReport>& reports)
{
    const std::string& npath = spec.itemFeatureNamesPath;
    LineReader names(npath, readerOptions(spec));
    FileReport nrep;
    nrep.role = "item_feature_names";
    nrep.path = npath;
    nrep.format = "feature-names";
    FieldContext nctx{&npath, 0};
    std::vector<std::string_view> f;
    std::string_view line;
    bool first = true;
    while (names.nextNonBlank(line)) {
        nctx.line = names.lineNumber();
        splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
        if (std::exchange(first, false) && !isUnsigned(f[0])) {
            nrep.header = true;
            continue;
        }
        if (f.size() < 2)
            throwBadInput(npath, names.lineNumber(), "expected 'id<TAB>name'",
                          "one feature per line: its id, a tab, its name");
        ++nrep.rows;
        const auto id = parseId(f[0], nctx, "feature id");
        if (id < info.featureNames.size())
            info.featureNames[id] = std::string(trimmed(f[1]));
    }
    nrep.lines = names.lineNumber();
    nrep.contentHash = names.contentHash();
    nrep.encoding = textEncodingName(names.encoding());
    reports.push_back(nrep);
}

void readItemFeatures(const DatasetSpec& spec, const IdMap& items, ItemInfo& info,
                      std::vector<FileReport>& reports)
{
    const std::string& path = spec.itemFeaturesPath;
    LineReader reader(path, readerOptions(spec));
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
    bool first = true;
    while (reader.nextNonBlank(line)) {
        ctx.line = reader.lineNumber();
        splitFields(line, line.find('\t') != std::string_view::npos ? "\t" : ",", f);
        if (std::exchange(first, false) && !isUnsigned(f[0])) {
            rep.header = true;
            continue;
        }
        ++rep.rows;
        const auto idx = items.findText(trimmed(f[0]));
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
    rep.encoding = textEncodingName(reader.encoding());
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
    if (!spec.itemFeatureNamesPath.empty())
        readFeatureNames(spec, info, reports);
}

}  // namespace

void readItemInfo(const DatasetSpec& spec, const IdMap& items, ItemInfo& info,
                  std::vector<FileReport>& reports)
{
    if (!spec.itemsPath.empty())
        readItemTitles(spec, items, info, reports);
    if (!spec.itemFeaturesPath.empty())
        readItemFeatures(spec, items, info, reports);
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
