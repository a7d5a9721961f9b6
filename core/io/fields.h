#pragma once
// Field splitting and number parsing for delimited text. Parsers throw Error naming file, line,
// column and the offending text; they never accept NaN or infinity.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sllmr {

// Where a value came from, for error messages.
struct FieldContext
{
    const std::string* file = nullptr;
    std::int64_t line = 0;
};

// Splits at every occurrence of `delim` (one or more characters). `out` is reused.
void splitFields(std::string_view line, std::string_view delim, std::vector<std::string_view>& out);

// Splits one RFC 4180 record (quoted fields, "" escapes) at `delim`. Returns false for an
// unterminated quote. `out` is reused.
bool splitQuoted(std::string_view line, char delim, std::vector<std::string>& out);

// Splits one delimited record at `delim` (one or more characters) with RFC 4180 quoting: a field
// in double quotes may hold the delimiter, and "" inside it is one quote. The views point into
// `line`, or into `scratch` for quoted fields (reused; valid until the next call). Lines without a
// quote take the fast path of splitFields(). Returns false for an unterminated quote.
bool splitRecord(std::string_view line, std::string_view delim, std::vector<std::string_view>& out,
                 std::string& scratch);

// Drops one trailing empty field (a trailing delimiter, "a,b,c,") when `out` has exactly one more
// field than `expected` (or `expected` is 0).
void dropTrailingEmpty(std::vector<std::string_view>& out, std::size_t expected = 0);

std::string_view trimmed(std::string_view text) noexcept;

// Unsigned 64-bit id. Errors: empty, non-numeric, negative, beyond 64 bits.
std::uint64_t parseId(std::string_view text, const FieldContext& ctx, std::string_view what);
// Finite decimal number. Errors: empty, non-numeric, NaN, infinity.
double parseNumber(std::string_view text, const FieldContext& ctx, std::string_view what);
// Signed 64-bit integer (timestamps). Accepts a decimal point with zero fraction ("964982703.0").
std::int64_t parseInteger(std::string_view text, const FieldContext& ctx, std::string_view what);

// Guesses the delimiter of a sample line: "::", tab, comma, semicolon, '|' or a space, in that
// order of preference; empty when none splits the line.
std::string detectDelimiter(std::string_view sample);

// Shortens text for an error message to at most `max` bytes, cut on a UTF-8 character boundary,
// with control characters and bytes that are not UTF-8 written as \xNN.
std::string excerpt(std::string_view text, std::size_t max = 40);

// A decimal number, signs and exponents allowed (for telling a header from data: "4.5" is data,
// "rating" is not).
bool looksNumeric(std::string_view s);

}  // namespace sllmr
