// sllmr: the command line's front. It starts without LibTorch, runs every command that reads or
// writes files and the store itself, and hands the commands that train or score a model (run,
// sweep, inspect: cli::kEngineCommands) to `sllmr-engine` beside it, with the same arguments.
#include "cli_commands.h"

#include "common/error.h"
#include "run/runner.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string_view>

namespace {

// The subcommand: the first argument that is neither an option nor the value of --db.
std::string_view subcommand(int argc, char** argv)
{
    for (int k = 1; k < argc; ++k) {
        const std::string_view a = argv[k];
        if (a == "--db") {
            ++k;
            continue;
        }
        if (a.empty() || a.front() == '-')
            continue;
        return a;
    }
    return {};
}

bool forEngine(std::string_view command)
{
    for (const char* c : sllmr::cli::kEngineCommands)
        if (command == c)
            return true;
    return false;
}

// Replaces this process by sllmr-engine from the same folder; returns only on failure.
int handOver(char** argv)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto self = fs::canonical("/proc/self/exe", ec);
    const auto engine = (ec ? fs::path(argv[0]) : self).parent_path() / "sllmr-engine";
    execv(engine.c_str(), argv);
    std::cerr
        << "sllmr: cannot start the training engine " << engine.string() << ": "
        << std::strerror(errno)
        << "\n  hint: sllmr-engine is built and installed beside sllmr; rebuild or reinstall\n";
    return 1;  // internal error (cli_commands.h)
}

}  // namespace

// The front never trains: run and sweep are handed over before these could be reached. They exist
// because the command tree and the sweep code it shares with sllmr-engine name them.
namespace sllmr {

RunOutcome executeRun(const RunConfig&, ExperimentStore&, const RunCallbacks&)
{
    throw Error(ErrorKind::Internal, "training runs in sllmr-engine, not in the sllmr front");
}

RunOutcome resumeRun(std::int64_t, ExperimentStore&, const RunCallbacks&)
{
    throw Error(ErrorKind::Internal, "training runs in sllmr-engine, not in the sllmr front");
}

}  // namespace sllmr

int main(int argc, char** argv)
{
    if (forEngine(subcommand(argc, argv)))
        return handOver(argv);
    return sllmr::cli::run(argc, argv);
}
