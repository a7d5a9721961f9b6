#include "cli_llm.h"

#include "common/error.h"
#include "common/paths.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "llm/http_client.h"
#include "train/run_config.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace sllmr::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::atomic<bool> g_cancel{false};

extern "C" void onScoringInterrupt(int)
{
    g_cancel.store(true);
}

std::string count(std::int64_t n)
{
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

// "accurate", "noisy:0.2", "adversarial:0.05"
SimulatedBehaviour parseBehaviour(const std::string& text, const char* option)
{
    SimulatedBehaviour b;
    const auto colon = text.find(':');
    b.behaviour = text.substr(0, colon);
    if (b.behaviour != "accurate" && b.behaviour != "noisy" && b.behaviour != "adversarial")
        throw Error(ErrorKind::Usage, std::string(option) + " '" + text + "' is not a behaviour",
                    {}, 0, "write accurate, noisy or adversarial, optionally with :NOISE (0..1)");
    if (colon != std::string::npos) {
        try {
            b.noise = std::stod(text.substr(colon + 1));
        } catch (const std::logic_error&) {
            b.noise = -1;
        }
        if (!(b.noise >= 0 && b.noise <= 1))
            throw Error(ErrorKind::Usage, std::string(option) + " '" + text + "': bad noise", {}, 0,
                        "the noise is a standard deviation in [0, 1], e.g. accurate:0.05");
    }
    return b;
}

// A batch file was written instead of calling the endpoint (--dry-run or a batch job).
void reportBatch(const ScoringResult& r, bool asJson)
{
    const auto& p = r.progress;
    if (asJson) {
        std::cout << json{{"requests", r.batchRequests},
                          {"batch_file", r.outputPath},
                          {"estimated_input_tokens", p.promptTokens},
                          {"estimated_output_tokens", p.completionTokens},
                          {"estimated_cost", p.cost},
                          {"template_hash", r.templateHash}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        fmt::print("wrote {} requests to {}\n", count(r.batchRequests), r.outputPath);
        fmt::print(
            "estimated tokens: {} in, {} out (about 4 characters per token); "
            "estimated cost {:.4f}\n",
            count(p.promptTokens), count(p.completionTokens), p.cost);
    }
}

// What a scoring run did: the file, the requests, the tokens and cost, what failed.
void reportScoring(const ScoringResult& r, bool asJson, double missingScore)
{
    const auto& p = r.progress;
    if (asJson) {
        std::cout << json{{"output", r.outputPath},
                          {"cache", r.cachePath},
                          {"users", p.total},
                          {"users_written", r.usersWritten},
                          {"rows", r.rows},
                          {"scored", r.scored},
                          {"missing", r.missing},
                          {"unknown_ids", r.unknownIds},
                          {"clipped", r.clipped},
                          {"cached", p.cached},
                          {"sent", p.sent},
                          {"retries", p.retries},
                          {"failed", p.failed},
                          {"malformed", p.malformed},
                          {"malformed_file", r.malformedPath},
                          {"input_tokens", p.promptTokens},
                          {"output_tokens", p.completionTokens},
                          {"cached_input_tokens", p.cachedPromptTokens},
                          {"cached_output_tokens", p.cachedCompletionTokens},
                          {"tokens_estimated", p.tokensEstimated},
                          {"cost", p.cost},
                          {"failures", r.failures},
                          {"template_hash", r.templateHash}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        fmt::print("wrote {} ({} users, {} rows: {} scored, {} missing -> {})\n", r.outputPath,
                   count(r.usersWritten), count(r.rows), count(r.scored), count(r.missing),
                   missingScore);
        fmt::print(
            "requests: {} answered from the cache, {} sent ({} retries), {} failed, {} "
            "malformed\n",
            count(p.cached), count(p.sent), count(p.retries), count(p.failed), count(p.malformed));
        fmt::print(
            "tokens this run: {} in, {} out{}; cost {:.4f} (cached answers: {} in, {} "
            "out, no cost)\n",
            count(p.promptTokens), count(p.completionTokens),
            p.tokensEstimated ? " (partly estimated)" : "", p.cost, count(p.cachedPromptTokens),
            count(p.cachedCompletionTokens));
        if (r.unknownIds > 0 || r.clipped > 0)
            fmt::print(
                "answers named {} ids that were not offered (ignored) and {} scores "
                "outside [0,1] (clipped)\n",
                count(r.unknownIds), count(r.clipped));
        if (!r.malformedPath.empty())
            fmt::print("malformed answers with their raw text: {}\n", r.malformedPath);
        for (std::size_t k = 0; k < r.failures.size() && k < 5; ++k)
            fmt::print("failed: {}\n", r.failures[k]);
        if (p.failed > 0)
            fmt::print(
                "{} users have no answer and are not in the file; run the same command "
                "again to retry them\n",
                count(p.failed));
    }
}

// One updating line on the terminal per progress report.
void printScoringProgress(const ScoringProgress& p)
{
    std::fprintf(stderr,
                 "\rscoring %lld/%lld users  cached %lld  retries %lld  failed %lld  "
                 "tokens %lld in / %lld out  cost %.4f   ",
                 static_cast<long long>(p.done), static_cast<long long>(p.total),
                 static_cast<long long>(p.cached), static_cast<long long>(p.retries),
                 static_cast<long long>(p.failed), static_cast<long long>(p.promptTokens),
                 static_cast<long long>(p.completionTokens), p.cost);
    std::fflush(stderr);
}

}  // namespace

LlmCommands::LlmCommands(CLI::App& app)
{
    m_score = app.add_subcommand(
        "score", "Ask an OpenAI-compatible LLM endpoint to score sampled candidates per user");
    m_score->require_subcommand(0, 1);
    m_score->fallthrough();
    addScoreOptions(*m_score);
    m_import = m_score->add_subcommand(
        "import-batch", "Read batch-API results into the cache and write the score file");
    m_import->add_option("results", m_resultsPath, "Batch results (JSONL)")->required();

    m_simulate = app.add_subcommand(
        "simulate-llm", "Write a score file from a declared reliability profile (no LLM)");
    m_simData.add(*m_simulate, false, false);
    m_simulate->add_flag("--demo", m_demo, "Use the bundled demo split with movie titles");
    m_simulate->add_option("-o,--output", m_simOutput, "Score file to write")->required();
    m_simulate->add_option("--profile", m_profilePath,
                           "Profile JSON: default / cold / tail behaviours, train_positives, "
                           "held_out, negatives_per_positive, seed");
    m_simulate->add_option("--elsewhere", m_elsewhere,
                           "Behaviour where no other rule applies: accurate|noisy|adversarial"
                           "[:NOISE]");
    m_simulate->add_option("--on-cold", m_onCold, "Behaviour on cold users");
    m_simulate->add_option("--on-tail", m_onTail, "Behaviour on long-tail items");
    m_simulate
        ->add_option("--train-positives", m_profile.trainPositives,
                     "Training positives scored per user")
        ->capture_default_str();
    m_simulate->add_flag("--no-held-out", m_noHeldOut,
                         "Do not score validation and test positives");
    m_simulate
        ->add_option("--negatives", m_profile.negativesPerPositive,
                     "Sampled non-positives per scored positive")
        ->capture_default_str();
    m_simulate->add_option("--sim-seed", m_profile.seed, "Seed of the simulated scores")
        ->capture_default_str();
    m_simulate->add_flag("--json", m_json, "Machine-readable output");
}

void LlmCommands::addScoreOptions(CLI::App& cmd)
{
    auto& p = m_params;
    auto& e = p.endpoint;
    auto& c = p.candidates;
    m_scoreData.add(cmd, false, false);
    cmd.add_flag("--demo", m_demo, "Use the bundled demo split with movie titles");
    cmd.add_option("-o,--output", p.outputPath, "Score file to write (pointwise, TSV)");
    cmd.add_option("--base-url", e.baseUrl, "Endpoint: POST {base-url}/chat/completions")
        ->capture_default_str();
    cmd.add_option("--model", e.model, "Model name sent with each request")->capture_default_str();
    cmd.add_option("--temperature", e.temperature, "Sampling temperature")->capture_default_str();
    cmd.add_option("--max-tokens", e.maxTokens, "Answer length limit")->capture_default_str();
    cmd.add_option("--timeout", e.timeoutSeconds, "Seconds per request")->capture_default_str();
    cmd.add_option("--api-key-env", m_keyEnv,
                   "Environment variable(s) holding the API key (default SLLMR_API_KEY, then "
                   "OPENAI_API_KEY); the key is never written anywhere");
    cmd.add_option("--template", p.templatePath,
                   "Prompt template (default resources/prompts/score-candidates.txt)");
    cmd.add_option("--history", c.history, "L: recent interactions shown per user")
        ->capture_default_str();
    cmd.add_option("--candidates", c.candidates, "N: candidates per user from the top-M popular")
        ->capture_default_str();
    cmd.add_option("--pool", c.popularPool, "M: size of the popular pool")->capture_default_str();
    cmd.add_option("--cold-extra", c.coldExtra, "Extra popular candidates for cold users")
        ->capture_default_str();
    cmd.add_option("--tail-extra", c.tailExtra, "Extra long-tail candidates per user")
        ->capture_default_str();
    cmd.add_option("--users", c.users, "Which users: all, cold, warm")
        ->check(CLI::IsMember({"all", "cold", "warm"}))
        ->capture_default_str();
    cmd.add_option("--max-users", c.maxUsers, "At most this many users, in id order (0: all)")
        ->capture_default_str();
    cmd.add_option("--sample-seed", c.seed, "Seed of the candidate sampling")
        ->capture_default_str();
    cmd.add_option("--concurrency", p.concurrency, "Requests in flight")->capture_default_str();
    cmd.add_option("--rpm", p.requestsPerMinute, "Requests per minute (0: no limit)")
        ->capture_default_str();
    cmd.add_option("--retries", p.maxRetries, "Retries on 429, 5xx, timeouts")
        ->capture_default_str();
    cmd.add_option("--backoff", p.backoffSeconds, "First retry delay in seconds (doubles)")
        ->capture_default_str();
    cmd.add_option("--max-backoff", p.maxBackoffSeconds, "Longest wait between tries")
        ->capture_default_str();
    cmd.add_option("--cost-in", p.costPer1kInput, "Cost per 1k input tokens")
        ->capture_default_str();
    cmd.add_option("--cost-out", p.costPer1kOutput, "Cost per 1k output tokens")
        ->capture_default_str();
    cmd.add_option("--missing-score", p.missingScore, "Score of offered, unanswered candidates")
        ->capture_default_str();
    cmd.add_option("--cache", p.cachePath, "Answer cache (default llm-cache.db next to -o)");
    cmd.add_option("--dry-run", p.batchOutputPath,
                   "Write the requests as batch-API JSONL to this file; send nothing");
    cmd.add_flag("--offline", p.offline, "Use cached answers only; send nothing");
    cmd.add_flag("--json", m_json, "Machine-readable summary");
}

DatasetSpec LlmCommands::datasetSpec(const CLI::App& cmd, DatasetOptions& opts, bool demo)
{
    if (demo) {
        const std::string dir = demoDir();
        if (dir.empty())
            throw Error(ErrorKind::NotFound, "the bundled demo was not found", {}, 0,
                        "set $SLLMR_DEMO_DIR to the resources/demo folder");
        const fs::path d(dir);
        opts.spec.path = (d / "llm-rankings-ml-latest-small/split/train.tsv").string();
        opts.spec.testPath = (d / "llm-rankings-ml-latest-small/split/test.tsv").string();
        if (opts.spec.itemsPath.empty())
            opts.spec.itemsPath = (d / "ml-latest-small/movies.csv").string();
    }
    if (opts.spec.path.empty())
        throw Error(ErrorKind::Usage, "no dataset", {}, 0,
                    "name it with --data (and --test, --items for titles) or use --demo");
    return opts.finish(cmd);
}

std::optional<int> LlmCommands::execute()
{
    if (*m_import)
        return score(true);
    if (*m_score)
        return score(false);
    if (*m_simulate)
        return simulate();
    return std::nullopt;
}

int LlmCommands::score(bool importBatch)
{
    if (!m_keyEnv.empty())
        m_params.endpoint.apiKeyEnv = m_keyEnv;
    if (m_params.outputPath.empty() && (importBatch || m_params.batchOutputPath.empty()))
        throw Error(ErrorKind::Usage, "no output file", {}, 0,
                    "name the score file with -o (or write a batch file with --dry-run)");
    const DatasetSpec spec = datasetSpec(*m_score, m_scoreData, m_demo);
    const Dataset ds = loadDataset(spec);
    const Segmentation seg = computeSegments(ds, spec.segments);
    m_params.candidates.tauUser = seg.tauUser;
    m_params.candidates.tauItem = seg.tauItem;
    if (importBatch) {
        m_params.batchOutputPath.clear();
        m_params.offline = true;
    }
    ScoringJob job(m_params, ds);
    const bool tty = !m_json && isatty(fileno(stderr));
    if (importBatch) {
        std::int64_t skipped = 0;
        const auto n = job.importBatchResults(m_resultsPath, skipped);
        if (!m_json)
            fmt::print(
                "imported {} answers into {} ({} lines skipped: not in this job or not "
                "answered)\n",
                count(n), job.params().cachePath, count(skipped));
    }
    ScoringCallbacks cb;
    cb.cancel = &g_cancel;
    if (tty)
        cb.onProgress = printScoringProgress;
    std::signal(SIGINT, onScoringInterrupt);
    std::signal(SIGTERM, onScoringInterrupt);
    ScoringResult r;
    try {
        r = job.run(cb);
    } catch (...) {
        if (tty)
            std::fprintf(stderr, "\n");
        throw;
    }
    if (tty)
        std::fprintf(stderr, "\n");
    if (r.batchRequests > 0 || !m_params.batchOutputPath.empty())
        reportBatch(r, m_json);
    else
        reportScoring(r, m_json, m_params.missingScore);
    return 0;
}

int LlmCommands::simulate()
{
    SimulationProfile profile = m_profile;
    if (!m_profilePath.empty()) {
        std::ifstream in(m_profilePath);
        if (!in)
            throw Error(ErrorKind::NotFound, "cannot open the profile", m_profilePath, 0,
                        "check the path");
        const json j = json::parse(in, nullptr, false);
        if (j.is_discarded())
            throw Error(ErrorKind::BadInput, "the profile is not valid JSON", m_profilePath, 0,
                        "see 'sllmr simulate-llm --help' for the keys");
        try {
            profile = simulationProfileFromJson(j);
        } catch (const Error& e) {
            throw Error(e.kind(), e.problem(), m_profilePath, 0, e.hint());
        }
    }
    if (!m_elsewhere.empty())
        profile.fallback = parseBehaviour(m_elsewhere, "--elsewhere");
    if (!m_onCold.empty())
        profile.cold = parseBehaviour(m_onCold, "--on-cold");
    if (!m_onTail.empty())
        profile.tail = parseBehaviour(m_onTail, "--on-tail");
    if (m_noHeldOut)
        profile.heldOut = false;
    if (profile.trainPositives < 0 || profile.negativesPerPositive < 0)
        throw Error(ErrorKind::Usage, "--train-positives and --negatives cannot be negative");
    const DatasetSpec spec = datasetSpec(*m_simulate, m_simData, m_demo);
    const Dataset ds = loadDataset(spec);
    const Segmentation seg = computeSegments(ds, spec.segments);
    const SimulationReport rep = simulateScores(ds, seg.tauUser, seg.tauItem, profile, m_simOutput);
    if (m_json) {
        std::cout << json{{"output", m_simOutput},     {"rows", rep.rows},
                          {"users", rep.users},        {"cold_rows", rep.cold},
                          {"tail_rows", rep.tail},     {"default_rows", rep.fallback},
                          {"tau_user", rep.tauUser},   {"tau_item", rep.tauItem},
                          {"profile", toJson(profile)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        fmt::print("wrote {} (simulated LLM): {} rows for {} users\n", m_simOutput, count(rep.rows),
                   count(rep.users));
        fmt::print("  cold users (|H(u)| < {}): {} rows, {}\n", rep.tauUser, count(rep.cold),
                   profile.cold ? profile.cold->behaviour : std::string("default rule"));
        fmt::print("  tail items (pop(i) < {}): {} rows, {}\n", rep.tauItem, count(rep.tail),
                   profile.tail ? profile.tail->behaviour : std::string("default rule"));
        fmt::print("  elsewhere: {} rows, {}\n", count(rep.fallback), profile.fallback.behaviour);
    }
    return 0;
}

}  // namespace sllmr::cli
