#pragma once
// The one exception type of the core library. It says what went wrong, where (file and line for
// inputs) and what the user can do about it. Only `ui` words it for a dialog and only `app` maps
// it to an exit code.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sllmr {

enum class ErrorKind {
    BadInput,   // a file or value the user supplied is malformed
    Usage,      // a setting or argument is invalid
    NotFound,   // a file, run or record does not exist
    Store,      // the experiment database cannot be used
    Cancelled,  // the user cancelled long work
    Internal,   // a bug: should not happen
};

class Error : public std::runtime_error
{
public:
    Error(ErrorKind kind, std::string problem, std::string file = {}, std::int64_t line = 0,
          std::string hint = {});

    ErrorKind kind() const noexcept { return m_kind; }
    const std::string& problem() const noexcept { return m_problem; }
    const std::string& file() const noexcept { return m_file; }
    std::int64_t line() const noexcept { return m_line; }
    const std::string& hint() const noexcept { return m_hint; }

private:
    ErrorKind m_kind;
    std::string m_problem;
    std::string m_file;
    std::int64_t m_line;
    std::string m_hint;
};

// Shorthand for the most common case: a malformed input at file:line.
[[noreturn]] void throwBadInput(const std::string& file, std::int64_t line, std::string problem,
                                std::string hint = {});

}  // namespace sllmr
