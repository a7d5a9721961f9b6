#pragma once
// `sllmr inspect RUN ...`: the gate inspector on the command line. Readable tables by default,
// --json for scripts. Commands throw sllmr::Error; the caller maps it to an exit code.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sllmr {
class RunInspector;
}

namespace sllmr::cli {

class InspectCommand
{
public:
    InspectCommand(CLI::App& app, const std::string& dbPath);
    // Executes `inspect` when it was parsed; nullopt otherwise.
    std::optional<int> execute();

private:
    // One view each; they print and return the exit code.
    int showUser(const RunInspector& inspector) const;
    int showItem(const RunInspector& inspector) const;
    int showFind(const RunInspector& inspector) const;
    int showBins(const RunInspector& inspector) const;
    int showEpochs(const RunInspector& inspector) const;
    int showDirections(const RunInspector& inspector) const;
    int showOverview(const RunInspector& inspector) const;

    const std::string& m_dbPath;
    CLI::App* m_inspect = nullptr;
    std::int64_t m_runId = 0;
    std::string m_user;
    std::string m_item;
    std::string m_find;
    bool m_grid = false;
    bool m_bins = false;
    bool m_allEpochs = false;
    bool m_epochs = false;
    bool m_directions = false;
    bool m_json = false;
    int m_limit = 20;
};

}  // namespace sllmr::cli
