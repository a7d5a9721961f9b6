#pragma once
// Strict reading of JSON settings: unknown keys and values of the wrong type or out of range are
// Error(Usage) naming the full key path (e.g. "dataset.split.test_ratio").
#include "common/choice.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

namespace sllmr::json_util {

using Json = nlohmann::json;

inline std::string keyPath(const std::string& prefix, const std::string& key)
{
    return prefix.empty() ? key : prefix + "." + key;
}

// Throws when `obj` is not an object or holds a key not in `allowed`.
void requireKeys(const Json& obj, std::initializer_list<const char*> allowed,
                 const std::string& prefix);

// Integer settings take whole numbers in the range of T only: -1 is not 2^64-1 and
// 18446744073709551616 is not 0. Throws Error(Usage) naming the key.
std::int64_t readInteger(const Json& value, const std::string& key, std::int64_t lo,
                         std::uint64_t hi, std::uint64_t* unsignedOut);

// Text settings must be valid UTF-8 (a --set value is taken byte for byte from the command line).
void requireUtf8(const std::string& value, const std::string& key);

template <class T>
void read(const Json& obj, const char* key, T& out, const std::string& prefix)
{
    if (!obj.contains(key))
        return;
    const Json& value = obj.at(key);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        std::uint64_t u = 0;
        const std::int64_t i = readInteger(
            value, keyPath(prefix, key), static_cast<std::int64_t>(std::numeric_limits<T>::min()),
            static_cast<std::uint64_t>(std::numeric_limits<T>::max()), &u);
        out = std::is_signed_v<T> ? static_cast<T>(i) : static_cast<T>(u);
        return;
    }
    try {
        out = value.get<T>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Usage,
                    "setting '" + keyPath(prefix, key) + "' has the wrong type: " + e.what(), {}, 0,
                    "see 'sllmr config describe' for the expected type");
    }
    if constexpr (std::is_same_v<T, std::string>)
        requireUtf8(out, keyPath(prefix, key));
}

// A column given as a header name or a 0-based index: an index must fit the readers' int.
void requireColumn(const std::string& value, const std::string& key);

// Reads a number and checks lo <= value <= hi.
void readRange(const Json& obj, const char* key, double& out, double lo, double hi,
               const std::string& prefix);
void readRange(const Json& obj, const char* key, int& out, int lo, int hi,
               const std::string& prefix);

// Reads a string and checks it is one of `choices`.
void readChoice(const Json& obj, const char* key, std::string& out,
                std::initializer_list<const char*> choices, const std::string& prefix);
void readChoice(const Json& obj, const char* key, std::string& out,
                std::span<const char* const> choices, const std::string& prefix);

// Reads a named choice (common/choice.h) by its name; the same errors as for a string choice.
template <NamedChoice E>
void readChoice(const Json& obj, const char* key, E& out, const std::string& prefix)
{
    std::string text = toString(out);
    readChoice(obj, key, text, choiceNames(out), prefix);
    out = *parseChoice<E>(text);
}

}  // namespace sllmr::json_util
