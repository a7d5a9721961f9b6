#include "common/json_util.h"

#include <algorithm>

namespace sllmr::json_util {

void requireKeys(const Json& obj, std::initializer_list<const char*> allowed,
                 const std::string& prefix)
{
    if (!obj.is_object())
        throw Error(ErrorKind::Usage, "setting '" +
                                          (prefix.empty() ? std::string("(top level)") : prefix) +
                                          "' must be a JSON object");
    for (const auto& [key, value] : obj.items()) {
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

template <class T>
static void readNumber(const Json& obj, const char* key, T& out, T lo, T hi,
                       const std::string& prefix)
{
    read(obj, key, out, prefix);
    if (out < lo || out > hi)
        throw Error(
            ErrorKind::Usage,
            "setting '" + keyPath(prefix, key) + "' = " + std::to_string(out) + " is out of range",
            {}, 0, "allowed: " + std::to_string(lo) + " .. " + std::to_string(hi));
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
