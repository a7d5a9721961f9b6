#pragma once
// Strict reading of JSON settings: unknown keys and values of the wrong type or out of range are
// Error(Usage) naming the full key path (e.g. "dataset.split.test_ratio").
#include "common/choice.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <span>
#include <string>

namespace sllmr::json_util {

using Json = nlohmann::json;

inline std::string keyPath(const std::string& prefix, const std::string& key)
{
    return prefix.empty() ? key : prefix + "." + key;
}

// Throws when `obj` is not an object or holds a key not in `allowed`.
void requireKeys(const Json& obj, std::initializer_list<const char*> allowed,
                 const std::string& prefix);

template <class T>
void read(const Json& obj, const char* key, T& out, const std::string& prefix)
{
    if (!obj.contains(key))
        return;
    try {
        out = obj.at(key).get<T>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Usage,
                    "setting '" + keyPath(prefix, key) + "' has the wrong type: " + e.what(), {}, 0,
                    "see 'sllmr config describe' for the expected type");
    }
}

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
