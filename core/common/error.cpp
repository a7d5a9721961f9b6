#include "common/error.h"

namespace sllmr {
namespace {
std::string compose(const std::string& problem, const std::string& file, std::int64_t line,
                    const std::string& hint)
{
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0)
            out += ':' + std::to_string(line);
        out += ": ";
    }
    out += problem;
    if (!hint.empty()) {
        out += " (";
        out += hint;
        out += ')';
    }
    return out;
}
}  // namespace

Error::Error(ErrorKind kind, std::string problem, std::string file, std::int64_t line,
             std::string hint)
    : std::runtime_error(compose(problem, file, line, hint))
    , m_kind(kind)
    , m_problem(std::move(problem))
    , m_file(std::move(file))
    , m_line(line)
    , m_hint(std::move(hint))
{}

void throwBadInput(const std::string& file, std::int64_t line, std::string problem,
                   std::string hint)
{
    throw Error(ErrorKind::BadInput, std::move(problem), file, line, std::move(hint));
}

}  // namespace sllmr
