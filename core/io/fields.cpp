#include "io/fields.h"

#include "common/error.h"
#include "io/line_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sllmr {
namespace {

[[noreturn]] void fail(const FieldContext& ctx, std::string problem, std::string hint = {})
{
    throw Error(ErrorKind::BadInput, std::move(problem), ctx.file ? *ctx.file : std::string(),
                ctx.line, std::move(hint));
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max)
{
    std::string out;
    const auto* u = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0;
    auto escape = [&](unsigned char c) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        out += buf;
    };
    while (i < text.size()) {
        const unsigned char c = u[i];
        std::size_t len = 1;
        if (c >= 0x80) {
            // Length of a valid UTF-8 sequence here, or 0.
            const auto bad =
                findInvalidUtf8(text.substr(i, std::min<std::size_t>(4, text.size() - i)));
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            if (len == 0 || i + len > text.size() || (bad != std::string_view::npos && bad < len))
                len = 0;
        }
        if (i + std::max<std::size_t>(len, 1) > max)
            break;
        if (len == 0) {
            escape(c);
            ++i;
        } else if (len == 1 && (c < 0x20 || c == 0x7F)) {
            escape(c);
            ++i;
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    if (i < text.size())
        out += "...";
    return out;
}

void splitFields(std::string_view line, std::string_view delim, std::vector<std::string_view>& out)
{
    out.clear();
    if (line.empty()) {
        // An empty view may have no data at all: memchr must not see a null pointer.
        out.push_back(line);
        return;
    }
    if (delim.size() == 1) {
        const char d = delim[0];
        std::size_t start = 0;
        for (;;) {
            const void* hit = std::memchr(line.data() + start, d, line.size() - start);
            if (!hit) {
                out.push_back(line.substr(start));
                return;
            }
            const auto pos = static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
            out.push_back(line.substr(start, pos - start));
            start = pos + 1;
        }
    }
    std::size_t start = 0;
    for (;;) {
        const auto pos = line.find(delim, start);
        if (pos == std::string_view::npos) {
            out.push_back(line.substr(start));
            return;
        }
        out.push_back(line.substr(start, pos - start));
        start = pos + delim.size();
    }
}

bool splitQuoted(std::string_view line, char delim, std::vector<std::string>& out)
{
    out.clear();
    std::size_t i = 0;
    const std::size_t n = line.size();
    for (;;) {
        std::string field;
        if (i < n && line[i] == '"') {
            ++i;
            bool closed = false;
            while (i < n) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                field += line[i++];
            }
            if (!closed)
                return false;
        }
        // Unquoted text (or text after a closing quote) up to the delimiter is kept verbatim.
        const auto pos = line.find(delim, i);
        const auto end = pos == std::string_view::npos ? n : pos;
        field.append(line.substr(i, end - i));
        out.push_back(std::move(field));
        if (end >= n)
            return true;
        i = end + 1;
        if (i == n) {
            out.emplace_back();
            return true;
        }
    }
}

bool splitRecord(std::string_view line, std::string_view delim, std::vector<std::string_view>& out,
                 std::string& scratch)
{
    if (line.find('"') == std::string_view::npos) {
        splitFields(line, delim, out);
        return true;
    }
    out.clear();
    scratch.clear();
    scratch.reserve(line.size());  // unquoted text is never longer: views into it stay valid
    const std::size_t n = line.size();
    std::size_t i = 0;
    for (;;) {
        std::size_t end = 0;
        if (i < n && line[i] == '"') {
            const std::size_t from = scratch.size();
            bool closed = false;
            for (++i; i < n;) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        scratch += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                scratch += line[i++];
            }
            if (!closed)
                return false;
            // Text after the closing quote, up to the delimiter, is kept as is.
            const auto pos = line.find(delim, i);
            end = pos == std::string_view::npos ? n : pos;
            scratch.append(line.substr(i, end - i));
            out.emplace_back(scratch.data() + from, scratch.size() - from);
        } else {
            const auto pos = line.find(delim, i);
            end = pos == std::string_view::npos ? n : pos;
            out.push_back(line.substr(i, end - i));
        }
        if (end >= n)
            return true;
        i = end + delim.size();
        if (i >= n) {
            out.emplace_back();
            return true;
        }
    }
}

void dropTrailingEmpty(std::vector<std::string_view>& out, std::size_t expected)
{
    if (out.size() >= 2 && (expected == 0 || out.size() == expected + 1) &&
        trimmed(out.back()).empty())
        out.pop_back();
}

std::string_view trimmed(std::string_view text) noexcept
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

std::uint64_t parseId(std::string_view text, const FieldContext& ctx, std::string_view what)
{
    const auto t = trimmed(text);
    if (t.empty())
        fail(ctx, std::string("empty ") + std::string(what), "every row needs a value here");
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec == std::errc::result_out_of_range)
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' does not fit in 64 bits",
             "ids must be whole numbers below 2^64; map long ids to short ones first");
    if (ec != std::errc() || ptr != t.data() + t.size())
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' is not a non-negative whole number",
             "check the column mapping and the delimiter");
    return value;
}

double parseNumber(std::string_view text, const FieldContext& ctx, std::string_view what)
{
    auto t = trimmed(text);
    if (t.empty())
        fail(ctx, std::string("empty ") + std::string(what), "every row needs a value here");
    if (t.front() == '+')
        t.remove_prefix(1);
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec == std::errc::result_out_of_range)
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' is out of range",
             "values must be finite numbers");
    if (ec != std::errc() || ptr != t.data() + t.size())
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' is not a number",
             "check the column mapping and the delimiter");
    if (!std::isfinite(value))
        fail(ctx, std::string(what) + " is " + excerpt(t),
             "NaN and infinite values are not allowed; fix or remove the row");
    return value;
}

std::int64_t parseInteger(std::string_view text, const FieldContext& ctx, std::string_view what)
{
    const auto t = trimmed(text);
    if (t.empty())
        fail(ctx, std::string("empty ") + std::string(what), "every row needs a value here");
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec == std::errc::result_out_of_range)
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' does not fit in 64 bits");
    if (ec == std::errc() && ptr != t.data() + t.size()) {
        // Allow "123.0" style integers.
        std::string_view rest(ptr, static_cast<std::size_t>(t.data() + t.size() - ptr));
        if (rest.size() >= 2 && rest.front() == '.' &&
            rest.find_first_not_of('0', 1) == std::string_view::npos)
            return value;
    }
    if (ec != std::errc() || ptr != t.data() + t.size())
        fail(ctx, std::string(what) + " '" + excerpt(t) + "' is not a whole number",
             "check the column mapping and the delimiter");
    return value;
}

std::string detectDelimiter(std::string_view sample)
{
    if (sample.find("::") != std::string_view::npos)
        return "::";
    for (const char c : {'\t', ',', ';', '|', ' '})
        if (sample.find(c) != std::string_view::npos)
            return std::string(1, c);
    return {};
}

bool looksNumeric(std::string_view s)
{
    s = trimmed(s);
    if (!s.empty() && (s.front() == '+' || s.front() == '-'))
        s.remove_prefix(1);
    if (s.empty())
        return false;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ptr == s.data() + s.size() &&
           (ec == std::errc() || ec == std::errc::result_out_of_range);
}

}  // namespace sllmr
