#pragma once
// `sllmr score ...` (ask an LLM endpoint to score candidates, or write/import batch-API files)
// and `sllmr simulate-llm` (a score file from a declared reliability profile). Commands throw
// sllmr::Error; the caller maps it to an exit code.
#include "cli_dataset.h"
#include "llm/scoring_job.h"
#include "llm/simulate.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sllmr::cli {

class LlmCommands
{
public:
    explicit LlmCommands(CLI::App& app);
    // Executes the parsed command if it is one of these; nullopt otherwise.
    std::optional<int> execute();

private:
    void addScoreOptions(CLI::App& cmd);
    DatasetSpec datasetSpec(const CLI::App& cmd, DatasetOptions& opts, bool demo);
    int score(bool importBatch);
    int simulate();

    CLI::App* m_score = nullptr;
    CLI::App* m_import = nullptr;
    CLI::App* m_simulate = nullptr;
    DatasetOptions m_scoreData;
    DatasetOptions m_simData;
    bool m_demo = false;
    bool m_json = false;
    ScoringParams m_params;
    std::vector<std::string> m_keyEnv;
    std::string m_resultsPath;
    std::string m_profilePath;
    std::string m_elsewhere;
    std::string m_onCold;
    std::string m_onTail;
    SimulationProfile m_profile;
    bool m_noHeldOut = false;
    std::string m_simOutput;
};

}  // namespace sllmr::cli
