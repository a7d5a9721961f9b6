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

// Shortens text for an error message.
std::string excerpt(std::string_view text, std::size_t max = 40);

}  // namespace sllmr
