#include "common/json_util.h"

#include "common/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>

namespace sllmr::json_util {

void requireKeys(const Json& obj, std::initializer_list<const char*> allowed,
                 const std::string& prefix)
{
    if (!obj.is_object())
        throw Error(ErrorKind::Usage, "setting '" +
                                          (prefix.empty() ? std::string("(top level)") : prefix) +
                                          "' must be a JSON object");
    for (const auto& item : obj.items()) {
        const std::string& key = item.key();  // a named variable: lambdas capture it (clang 14)
        const bool known =
            std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; });
        if (!known) {
            std::string list;
            for (const char* k : allowed)
                list += (list.empty() ? "" : ", ") + std::string(k);
            throw Error(ErrorKind::Usage, "unknown setting '" + keyPath(prefix, key) + "'", {}, 0,
                        "allowed here: " + list);
        }
    }
}

std::int64_t readInteger(const Json& value, const std::string& key, std::int64_t lo,
                         std::uint64_t hi, std::uint64_t* unsignedOut)
{
    const auto outOfRange = [&](const std::string& text) {
        return Error(ErrorKind::Usage, "setting '" + key + "' = " + text + " is out of range", {},
                     0,
                     "allowed: whole numbers " + std::to_string(lo) + " .. " + std::to_string(hi));
    };
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (u > hi)
            throw outOfRange(std::to_string(u));
        *unsignedOut = u;
        return static_cast<std::int64_t>(u);
    }
    if (value.is_number_integer()) {
        const auto i = value.get<std::int64_t>();
        if (i < lo || (i > 0 && static_cast<std::uint64_t>(i) > hi))
            throw outOfRange(std::to_string(i));
        *unsignedOut = static_cast<std::uint64_t>(i);
        return i;
    }
    if (value.is_number_float()) {
        // A whole number written as 5.0, or one too large for 64 bits (read as a float).
        const double d = value.get<double>();
        if (std::floor(d) != d)
            throw Error(
                ErrorKind::Usage,
                "setting '" + key + "' = " + value.dump() + " is not a whole number", {}, 0,
                "allowed: whole numbers " + std::to_string(lo) + " .. " + std::to_string(hi));
        // 2^64 is an exact double; a value at or above it does not fit any setting.
        if (d < static_cast<double>(lo) || d >= 18446744073709551616.0)
            throw outOfRange(value.dump());
        if (d < 0)
            return static_cast<std::int64_t>(d);
        const auto u = static_cast<std::uint64_t>(d);
        if (u > hi)
            throw outOfRange(value.dump());
        *unsignedOut = u;
        return static_cast<std::int64_t>(u);
    }
    throw Error(
        ErrorKind::Usage,
        "setting '" + key + "' must be a whole number, not " + std::string(value.type_name()), {},
        0, "see 'sllmr config describe' for the expected type");
}

void requireUtf8(const std::string& value, const std::string& key)
{
    if (!isValidUtf8(value))
        throw Error(ErrorKind::Usage, "setting '" + key + "' is not valid UTF-8 text", {}, 0,
                    "write it in UTF-8 (a file name can be renamed, or given through a link)");
}

void requireColumn(const std::string& value, const std::string& key)
{
    const bool index = !value.empty() && std::all_of(value.begin(), value.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (!index)
        return;
    const auto digits = value.find_first_not_of('0');
    const std::string significant = digits == std::string::npos ? "0" : value.substr(digits);
    if (significant.size() > 10 || (significant.size() == 10 && significant > "2147483647"))
        throw Error(ErrorKind::Usage,
                    "column '" + key + "' = " + value + " is not a column index a file can have",
                    {}, 0, "give a header name or a 0-based index; 0 is the first column");
}

// A bound or value as the message shows it: integers in full, floating point in %g's form with
// 15 significant digits, so that a value just past a bound does not read as the bound
// (std::to_string would show a bound of 1e-7 as 0.000000).
template <class T>
static std::string numberText(T value)
{
    if constexpr (std::is_floating_point_v<T>) {
        char text[32];
        std::snprintf(text, sizeof text, "%.15g", static_cast<double>(value));
        return text;
    } else {
        return std::to_string(value);
    }
}

template <class T>
static void readNumber(const Json& obj, const char* key, T& out, T lo, T hi,
                       const std::string& prefix)
{
    read(obj, key, out, prefix);
    if (out < lo || out > hi)
        throw Error(
            ErrorKind::Usage,
            "setting '" + keyPath(prefix, key) + "' = " + numberText(out) + " is out of range", {},
            0, "allowed: " + numberText(lo) + " .. " + numberText(hi));
}

void readRange(const Json& obj, const char* key, double& out, double lo, double hi,
               const std::string& prefix)
{
    readNumber(obj, key, out, lo, hi, prefix);
}

void readRange(const Json& obj, const char* key, int& out, int lo, int hi,
               const std::string& prefix)
{
    readNumber(obj, key, out, lo, hi, prefix);
}

void readChoice(const Json& obj, const char* key, std::string& out,
                std::initializer_list<const char*> choices, const std::string& prefix)
{
    readChoice(obj, key, out, std::span<const char* const>(choices.begin(), choices.size()),
               prefix);
}

void readChoice(const Json& obj, const char* key, std::string& out,
                std::span<const char* const> choices, const std::string& prefix)
{
    read(obj, key, out, prefix);
    const bool ok =
        std::any_of(choices.begin(), choices.end(), [&](const char* c) { return out == c; });
    if (!ok) {
        std::string list;
        for (const char* c : choices)
            list += (list.empty() ? "" : ", ") + std::string(c);
        throw Error(ErrorKind::Usage, "setting '" + keyPath(prefix, key) + "' = '" + out +
                                          "' is not one of: " + list);
    }
}

}  // namespace sllmr::json_util
