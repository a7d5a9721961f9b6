#pragma once
// `sllmr sweep`, `sllmr sweeps list`, `sllmr matrix` and `sllmr compare`: ablation grids, their
// queue in the experiment database, and results matrices with paired significance tests.
// Commands throw sllmr::Error; the caller maps it to an exit code.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr::cli {

class SweepCommands
{
public:
    SweepCommands(CLI::App& app, const std::string& dbPath);
    // Executes the parsed command if it is one of these; nullopt otherwise.
    std::optional<int> execute();

private:
    int sweep();
    int listSweeps();
    int matrix();
    int compare();

    const std::string& m_dbPath;
    CLI::App* m_sweep = nullptr;
    CLI::App* m_list = nullptr;
    CLI::App* m_matrix = nullptr;
    CLI::App* m_compare = nullptr;
    std::string m_gridPath;
    std::int64_t m_resume = 0;
    bool m_dryRun = false;
    bool m_json = false;
    std::int64_t m_sweepId = 0;
    std::string m_runs;
    std::string m_reference;
    std::vector<std::string> m_metrics;
    std::string m_segments = "overall,cold,tail";
    std::string m_format = "text";
    std::string m_output;
    int m_resamples = 2000;
    std::string m_unit = "user";
    std::vector<std::int64_t> m_pair;
};

}  // namespace sllmr::cli
