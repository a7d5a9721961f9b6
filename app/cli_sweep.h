#pragma once
// `sllmr sweep`, `sllmr sweeps list`, `sllmr matrix` and `sllmr compare`: ablation grids, their
// queue in the experiment database, and results matrices with paired significance tests.
// Commands throw sllmr::Error; the caller maps it to an exit code.
#include "analysis/executors.h"
#include "store/experiment_store.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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
    int runLocal(ExperimentStore& store, std::int64_t sweepId);
    int runElsewhere(ExperimentStore& store, std::int64_t sweepId, const ExecutorSettings& settings,
                     bool resuming);
    ExecutorSettings executorSettings(const nlohmann::json& fromGrid) const;
    int listSweeps();
    int sweepStatus();
    int collect();
    int matrix();
    int compare();

    const std::string& m_dbPath;
    CLI::App* m_sweep = nullptr;
    CLI::App* m_list = nullptr;
    CLI::App* m_status = nullptr;
    CLI::App* m_collect = nullptr;
    std::string m_sweepArg;  // sweeps status/collect: id or folder
    // --executor and its options (override the grid's "executor")
    std::string m_executor;
    int m_jobs = 0;
    std::string m_folder;
    std::string m_partition;
    std::string m_time;
    int m_cpusPerTask = 0;
    std::string m_mem;
    std::string m_account;
    int m_throttle = 0;
    std::vector<std::string> m_sbatch;
    std::string m_program;
    bool m_printScript = false;
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
