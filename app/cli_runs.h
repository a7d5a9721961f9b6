#pragma once
// `sllmr config ...`, `sllmr run ...` and `sllmr runs ...`: training runs and their records in
// the experiment database. Commands throw sllmr::Error; the caller maps it to an exit code.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace sllmr::cli {

class RunCommands
{
public:
    RunCommands(CLI::App& app, const std::string& dbPath);
    // Executes the parsed command if it is one of these; nullopt otherwise.
    std::optional<int> execute();

private:
    int runConfig();
    int listRuns();
    int showRun();
    int compareRuns();
    int exportRun();

    const std::string& m_dbPath;
    CLI::App* m_template = nullptr;
    CLI::App* m_describe = nullptr;
    CLI::App* m_run = nullptr;
    CLI::App* m_list = nullptr;
    CLI::App* m_show = nullptr;
    CLI::App* m_compare = nullptr;
    CLI::App* m_export = nullptr;
    bool m_json = false;
    std::string m_configPath;
    std::int64_t m_resume = 0;
    std::vector<std::string> m_set;
    std::string m_sweepDir;
    int m_cell = -1;
    int m_threads = 0;
    std::string m_status;
    std::int64_t m_runId = 0;
    std::vector<std::int64_t> m_runIds;
    std::string m_metrics = "auc,gauc,ndcg@10,recall@20,mrr,llm_auc";
    std::string m_segments = "overall,cold,tail";
    std::string m_format = "json";
    std::string m_output;
};

}  // namespace sllmr::cli
