#include "cli_sweep.h"

#include "analysis/grid.h"
#include "analysis/matrix.h"
#include "analysis/shards.h"
#include "analysis/sweep.h"
#include "common/error.h"
#include "store/experiment_store.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace sllmr::cli {
namespace {

using nlohmann::json;

std::atomic<bool> g_cancelSweep{false};

extern "C" void onSweepInterrupt(int)
{
    g_cancelSweep.store(true);
}

std::vector<std::string> splitCommas(const std::vector<std::string>& parts)
{
    std::vector<std::string> out;
    for (const auto& p : parts) {
        std::stringstream in(p);
        std::string item;
        while (std::getline(in, item, ','))
            if (!item.empty())
                out.push_back(item);
    }
    return out;
}

std::vector<std::int64_t> parseRunIds(const std::string& text)
{
    std::vector<std::int64_t> ids;
    for (const auto& part : splitCommas({text})) {
        try {
            std::size_t used = 0;
            const auto id = std::stoll(part, &used);
            if (used != part.size() || id < 1)
                throw std::invalid_argument(part);
            ids.push_back(id);
        } catch (const std::logic_error&) {
            throw Error(ErrorKind::Usage, "--runs: '" + part + "' is not a run id", {}, 0,
                        "e.g. --runs 1,2,3");
        }
    }
    return ids;
}

void writeOutput(const std::string& text, const std::string& path)
{
    if (path.empty()) {
        std::cout << text;
        return;
    }
    std::ofstream out(path);
    out << text;
    if (!out)
        throw Error(ErrorKind::BadInput, "cannot write the output file", path, 0,
                    "check that the folder exists and is writable");
}

json expansionJson(const GridExpansion& e, const Grid& g)
{
    json items = json::array();
    for (const auto& i : e.items) {
        json x{{"position", i.position},
               {"row", i.rowLabel},
               {"seed", i.seed},
               {"config_hash", i.configHash}};
        if (i.duplicateOf)
            x["duplicate_of"] = *i.duplicateOf;
        if (i.referenceRow)
            x["reference_row"] = *i.referenceRow;
        items.push_back(x);
    }
    return {{"name", g.name},
            {"description", g.description},
            {"rows", e.rows},
            {"seeds", g.seeds},
            {"reference", e.reference},
            {"items", items},
            {"runs", e.uniqueRuns},
            {"duplicates", static_cast<int>(e.items.size()) - e.uniqueRuns}};
}

// The sllmr that runs the cells: the configured program, else this very binary.
std::string thisProgram(const ExecutorSettings& settings)
{
    if (!settings.slurm.program.empty())
        return settings.slurm.program;
    std::error_code ec;
    const auto self = std::filesystem::canonical("/proc/self/exe", ec);
    return ec ? std::string("sllmr") : self.string();
}

void printExpansion(const GridExpansion& e, const Grid& g)
{
    fmt::print("grid \"{}\"{}{}\n", g.name, g.description.empty() ? "" : ": ", g.description);
    fmt::print("{} rows x {} seeds = {} items, {} runs ({} duplicates run once)\n", e.rows.size(),
               g.seeds.size(), e.items.size(), e.uniqueRuns,
               static_cast<int>(e.items.size()) - e.uniqueRuns);
    fmt::print("reference row: {}\n", e.reference);
    for (const auto& row : e.rows) {
        std::string seeds;
        for (const auto& i : e.items) {
            if (i.rowLabel != row)
                continue;
            seeds += fmt::format("{}{}", seeds.empty() ? "" : " ", i.seed);
            if (i.duplicateOf)
                seeds += fmt::format("(= #{} {})", *i.duplicateOf,
                                     e.items[static_cast<std::size_t>(*i.duplicateOf)].rowLabel);
        }
        fmt::print("  {:<40} seeds {}\n", row, seeds);
    }
}

}  // namespace

SweepCommands::SweepCommands(CLI::App& app, const std::string& dbPath) : m_dbPath(dbPath)
{
    m_sweep = app.add_subcommand(
        "sweep", "Expand an ablation grid and run its queue (resumable; Ctrl+C cancels)");
    m_sweep->add_option("grid", m_gridPath, "Grid file (JSON); examples in resources/grids/");
    m_sweep->add_option("--resume", m_resume, "Continue sweep ID: skip completed items");
    m_sweep->add_flag("--dry-run", m_dryRun, "Only print the expansion");
    m_sweep->add_flag("--json", m_json, "Machine-readable output");
    m_sweep->add_option("--executor", m_executor, "local (default), processes or slurm")
        ->check(CLI::IsMember({"local", "processes", "slurm"}));
    m_sweep->add_option("--jobs", m_jobs, "processes: worker processes (default 2)")
        ->check(CLI::Range(1, 1024));
    m_sweep->add_option("--sweep-dir", m_folder,
                        "processes/slurm: the sweep folder (shared by every node); default "
                        "<db>.sweeps/sweep-ID");
    m_sweep->add_option("--partition", m_partition, "slurm: #SBATCH --partition");
    m_sweep->add_option("--time", m_time, "slurm: #SBATCH --time per cell, e.g. 00:30:00");
    m_sweep->add_option("--cpus-per-task", m_cpusPerTask, "slurm: #SBATCH --cpus-per-task")
        ->check(CLI::Range(1, 4096));
    m_sweep->add_option("--mem", m_mem, "slurm: #SBATCH --mem, e.g. 4G");
    m_sweep->add_option("--account", m_account, "slurm: #SBATCH --account");
    m_sweep->add_option("--throttle", m_throttle, "slurm: at most N cells at once (--array=...%N)")
        ->check(CLI::Range(1, 100000));
    m_sweep->add_option("--sbatch", m_sbatch,
                        "slurm: another #SBATCH line, e.g. --sbatch=--qos=short (repeatable)");
    m_sweep->add_option("--program", m_program,
                        "slurm: the sllmr the nodes run (default: this binary)");
    m_sweep->add_flag("--print-script", m_printScript,
                      "slurm: print the batch script (with --dry-run: without submitting)");

    auto* sweeps = app.add_subcommand("sweeps", "Browse sweeps in the experiment database");
    sweeps->require_subcommand(1);
    m_list = sweeps->add_subcommand("list", "List sweeps, newest first, with their progress");
    m_list->add_flag("--json", m_json, "Machine-readable output");
    m_status = sweeps->add_subcommand(
        "status", "Per cell of a processes/slurm sweep: pending, running, completed, failed");
    m_status->add_option("sweep", m_sweepArg, "Sweep id or sweep folder")->required();
    m_status->add_flag("--json", m_json, "Machine-readable output");
    m_collect = sweeps->add_subcommand(
        "collect", "Merge the completed shards of a processes/slurm sweep into the database");
    m_collect->add_option("sweep", m_sweepArg, "Sweep id or sweep folder")->required();
    m_collect->add_flag("--json", m_json, "Machine-readable output");

    m_matrix = app.add_subcommand(
        "matrix", "Results matrix of a sweep or of runs grouped by name, with significance tests");
    m_matrix->add_option("sweep", m_sweepId, "Sweep id");
    m_matrix->add_option("--runs", m_runs, "Comma-separated run ids instead of a sweep");
    m_matrix->add_option("--reference", m_reference, "Reference row label");
    m_matrix->add_option("--metric", m_metrics, "Metrics (repeatable or comma-separated)");
    m_matrix->add_option("--segments", m_segments, "Comma-separated segments")
        ->capture_default_str();
    m_matrix->add_option("--format", m_format, "text, csv, json or latex")
        ->check(CLI::IsMember({"text", "csv", "json", "latex"}))
        ->capture_default_str();
    m_matrix->add_option("--output,-o", m_output, "File to write (default: standard output)");
    m_matrix->add_option("--bootstrap", m_resamples, "Bootstrap resamples B")
        ->check(CLI::Range(100, 1000000))
        ->capture_default_str();
    m_matrix
        ->add_option("--unit", m_unit,
                     "Replication unit of the tests: user (per-user mean AUC), seed (needs 3+ "
                     "seeds) or interaction (every test interaction, as if independent)")
        ->check(CLI::IsMember({"user", "seed", "interaction"}))
        ->capture_default_str();

    m_compare = app.add_subcommand(
        "compare", "Paired tests between two runs per segment (RUN_A against RUN_B)");
    m_compare->add_option("runs", m_pair, "RUN_A RUN_B")->required()->expected(2);
    m_compare->add_option("--segments", m_segments, "Comma-separated segments")
        ->capture_default_str();
    m_compare->add_flag("--json", m_json, "Machine-readable output");
    m_compare
        ->add_option("--unit", m_unit,
                     "Replication unit of the tests: user (per-user mean AUC) or interaction "
                     "(every test interaction, as if independent)")
        ->check(CLI::IsMember({"user", "interaction"}))
        ->capture_default_str();
}

std::optional<int> SweepCommands::execute()
{
    if (*m_sweep)
        return sweep();
    if (*m_list)
        return listSweeps();
    if (*m_status)
        return sweepStatus();
    if (*m_collect)
        return collect();
    if (*m_matrix)
        return matrix();
    if (*m_compare)
        return compare();
    return std::nullopt;
}

int SweepCommands::sweep()
{
    if ((m_resume > 0) == !m_gridPath.empty())
        throw Error(ErrorKind::Usage, "give either a grid file or --resume ID", {}, 0,
                    "'sllmr sweep resources/grids/demo-ablation.json' or 'sllmr sweep --resume 1'");
    if (m_resume > 0) {
        ExperimentStore store(m_dbPath);
        const auto sweep = store.sweep(m_resume);
        if (!sweep)
            throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", m_resume),
                        m_dbPath, 0, "'sllmr sweeps list' shows the sweeps");
        const json grid = json::parse(sweep->gridJson, nullptr, false);
        if (!grid.is_discarded() && grid.contains("folder")) {
            ExecutorSettings settings = executorSettings(grid.value("executor", json()));
            if (settings.kind == ExecutorKind::Local)
                throw Error(ErrorKind::Usage,
                            fmt::format("sweep {} runs its cells as shards; it cannot continue "
                                        "in this process",
                                        m_resume),
                            {}, 0, "use --executor processes or slurm, or the sweep's own");
            return runElsewhere(store, m_resume, settings, true);
        }
        if (!m_executor.empty() && m_executor != "local")
            throw Error(ErrorKind::Usage,
                        fmt::format("sweep {} was started by the local executor", m_resume), {}, 0,
                        "resume it without --executor, or start the grid again");
        if (!m_json)
            fmt::print("sweep {}\n", m_resume);
        return runLocal(store, m_resume);
    }
    const Grid grid = loadGrid(m_gridPath);
    const GridExpansion expansion = expandGrid(grid);
    const ExecutorSettings settings = executorSettings(grid.executor);
    if (m_json && m_dryRun) {
        std::cout << expansionJson(expansion, grid)
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    if (!m_json)
        printExpansion(expansion, grid);
    if (m_dryRun) {
        if (settings.kind == ExecutorKind::Slurm && m_printScript) {
            const auto m =
                previewManifest(grid.name, expansion, 0,
                                settings.folder.empty() ? "SWEEP_FOLDER" : settings.folder);
            const auto waves = cellWaves(m, m.cells());
            for (std::size_t w = 0; w < waves.size(); ++w)
                fmt::print(
                    "\n--- array job {} of {}{}\n{}", w + 1, waves.size(),
                    w > 0 ? " (submitted with --dependency=afterany on the previous one)" : "",
                    slurmScript(m, settings.slurm, waves[w], thisProgram(settings)));
        }
        return 0;
    }
    ExperimentStore store(m_dbPath);
    const std::int64_t sweepId = createSweep(store, grid, expansion);
    if (!m_json)
        fmt::print("sweep {}\n", sweepId);
    std::fflush(stdout);
    if (settings.kind == ExecutorKind::Local)
        return runLocal(store, sweepId);
    return runElsewhere(store, sweepId, settings, false);
}

int SweepCommands::runLocal(ExperimentStore& store, std::int64_t sweepId)
{
    const bool tty = !m_json && isatty(fileno(stderr));
    SweepCallbacks cb;
    cb.cancelAll = &g_cancelSweep;
    int done = 0;
    cb.onItemStarted = [&](const SweepItemRecord& item, std::int64_t runId, int count) {
        std::fprintf(stderr, "[%d/%d] %s, seed %lld: run %lld\n", item.position + 1, count,
                     item.rowLabel.c_str(), static_cast<long long>(item.seed),
                     static_cast<long long>(runId));
    };
    cb.onBatch = [&](const SweepItemRecord& item, const BatchProgress& p) {
        if (!tty)
            return;
        const double f =
            p.batches ? static_cast<double>(p.batch) / static_cast<double>(p.batches) : 0;
        std::fprintf(stderr, "\r  [%d] epoch %d/%d %3.0f%%  base %.4f  llm %.4f  %6.0f/s   ",
                     item.position + 1, p.epoch, p.epochs, f * 100.0, p.baseLoss, p.llmLoss,
                     p.samplesPerSecond);
        std::fflush(stderr);
    };
    cb.onWarning = [&](const SweepItemRecord& item, const std::string& w) {
        std::fprintf(stderr, "warning (%s, seed %lld): %s\n", item.rowLabel.c_str(),
                     static_cast<long long>(item.seed), w.c_str());
    };
    cb.onEpoch = [&](const SweepItemRecord&, const EpochResult& r) {
        const auto it = r.validationAuc.find("overall");
        std::fprintf(stderr, "%s  epoch %d: val AUC %.4f  %.1fs\n", tty ? "\r" : "", r.epoch,
                     it == r.validationAuc.end() ? std::nan("") : it->second, r.seconds);
    };
    cb.onItemFinished = [&](const SweepItemRecord& item, RunStatus status,
                            const std::string& error) {
        ++done;
        std::fprintf(stderr, "  #%d %s, seed %lld: %s%s%s\n", item.position + 1,
                     item.rowLabel.c_str(), static_cast<long long>(item.seed), toString(status),
                     error.empty() ? "" : ": ", error.c_str());
    };
    g_cancelSweep.store(false);
    std::signal(SIGINT, onSweepInterrupt);
    std::signal(SIGTERM, onSweepInterrupt);
    const SweepOutcome outcome = runSweep(store, sweepId, cb);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    if (m_json) {
        json items = json::array();
        for (const auto& i : store.sweepItems(sweepId))
            items.push_back({{"position", i.position},
                             {"row", i.rowLabel},
                             {"seed", i.seed},
                             {"run_id", i.runId ? json(*i.runId) : json(nullptr)},
                             {"status", toString(i.status)}});
        std::cout << json{{"sweep_id", sweepId},
                          {"status", toString(outcome.status)},
                          {"completed", outcome.completed},
                          {"skipped", outcome.skipped},
                          {"failed", outcome.failed},
                          {"cancelled", outcome.cancelled},
                          {"items", items}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        fmt::print("sweep {} {}: {} completed, {} already done, {} failed, {} cancelled\n", sweepId,
                   toString(outcome.status), outcome.completed, outcome.skipped, outcome.failed,
                   outcome.cancelled);
        if (outcome.status == RunStatus::Completed)
            fmt::print("results: sllmr --db {} matrix {}\n", m_dbPath, sweepId);
        else
            fmt::print("continue with: sllmr --db {} sweep --resume {}\n", m_dbPath, sweepId);
    }
    if (outcome.status == RunStatus::Cancelled)
        return 130;
    return outcome.status == RunStatus::Failed ? 1 : 0;
}

ExecutorSettings SweepCommands::executorSettings(const json& fromGrid) const
{
    ExecutorSettings s =
        executorFromJson(fromGrid, m_gridPath.empty() ? "the sweep's grid" : m_gridPath);
    if (!m_executor.empty())
        s.kind = executorFromJson(json(m_executor), "--executor").kind;
    if (m_jobs > 0)
        s.jobs = m_jobs;
    if (!m_folder.empty())
        s.folder = m_folder;
    auto& o = s.slurm;
    for (const auto& [from, to] : {std::pair{&m_partition, &o.partition},
                                   {&m_time, &o.time},
                                   {&m_mem, &o.mem},
                                   {&m_account, &o.account},
                                   {&m_program, &o.program}})
        if (!from->empty()) {
            if (from->find_first_of("\n\r") != std::string::npos)
                throw Error(ErrorKind::Usage, "a Slurm option holds a line break", {}, 0,
                            "give one-line values");
            *to = *from;
        }
    if (m_cpusPerTask > 0)
        o.cpusPerTask = m_cpusPerTask;
    if (m_throttle > 0)
        o.throttle = m_throttle;
    for (const auto& line : m_sbatch)
        o.extra.push_back(line);
    if (s.kind != ExecutorKind::Processes && m_jobs > 0)
        throw Error(ErrorKind::Usage, "--jobs is an option of --executor processes", {}, 0,
                    "add --executor processes");
    return s;
}

int SweepCommands::runElsewhere(ExperimentStore& store, std::int64_t sweepId,
                                const ExecutorSettings& settings, bool resuming)
{
    const SweepLaunch launch = prepareSweepLaunch(store, sweepId, settings, resuming);
    const SweepManifest& m = launch.manifest;
    const std::vector<int>& cells = launch.cells;
    if (!m_json)
        fmt::print("sweep folder {}\n{} of {} cells to run ({} executor)\n", m.folder, cells.size(),
                   m.cells().size(), toString(settings.kind));
    if (settings.kind == ExecutorKind::Slurm) {
        json jobs = json::array();
        if (!cells.empty()) {
            for (const auto& sub : submitSlurm(m, settings.slurm, cells, thisProgram(settings))) {
                if (m_printScript && !m_json) {
                    std::ifstream in(sub.script);
                    fmt::print("{}\n", std::string(std::istreambuf_iterator<char>(in), {}));
                }
                if (!m_json)
                    fmt::print("submitted array job {} ({} cells{}); script {}\n", sub.jobId,
                               sub.cells.size(),
                               sub.dependsOn.empty() ? "" : ", after job " + sub.dependsOn,
                               sub.script);
                jobs.push_back({{"job_id", sub.jobId},
                                {"cells", sub.cells},
                                {"depends_on", sub.dependsOn},
                                {"script", sub.script}});
            }
        }
        if (m_json) {
            std::cout << json{{"sweep_id", sweepId}, {"folder", m.folder}, {"jobs", jobs}}.dump(
                             2, ' ', false, nlohmann::json::error_handler_t::replace)
                      << '\n';
        } else {
            fmt::print("follow it: sllmr --db {} sweeps status {}\n", m_dbPath, sweepId);
            fmt::print("then:      sllmr --db {} sweeps collect {}\n", m_dbPath, sweepId);
        }
        return 0;
    }

    ProcessCallbacks cb;
    cb.cancel = &g_cancelSweep;
    cb.onCellStarted = [&](int p, int pid) {
        const auto& item = m.items[static_cast<std::size_t>(p)];
        std::fprintf(stderr, "cell %d (%s, seed %lld): worker %d\n", p, item.rowLabel.c_str(),
                     static_cast<long long>(item.seed), pid);
    };
    int failed = 0;
    cb.onCellFinished = [&](int p, int code) {
        failed += code != 0 && code != 130;
        std::fprintf(stderr, "cell %d: %s\n", p,
                     code == 0     ? "completed"
                     : code == 130 ? "cancelled"
                                   : fmt::format("failed (exit {}), see {}/worker.log", code,
                                                 cellDir(m.folder, p))
                                         .c_str());
    };
    g_cancelSweep.store(false);
    std::signal(SIGINT, onSweepInterrupt);
    std::signal(SIGTERM, onSweepInterrupt);
    runProcesses(m, cells, settings.jobs > 0 ? settings.jobs : 2, thisProgram(settings), cb);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    const CollectReport report = collectSweep(store, sweepId);
    if (g_cancelSweep.load())
        store.setSweepStatus(sweepId, RunStatus::Cancelled);
    if (m_json) {
        std::cout << json{{"sweep_id", sweepId},
                          {"folder", m.folder},
                          {"imported", report.imported},
                          {"already_collected", report.alreadyCollected},
                          {"not_collected", report.skipped}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        fmt::print("sweep {}: {} runs collected, {} already, {} not collected\n", sweepId,
                   report.imported, report.alreadyCollected, report.skipped);
        if (report.skipped == 0)
            fmt::print("results: sllmr --db {} matrix {}\n", m_dbPath, sweepId);
        else
            fmt::print("continue with: sllmr --db {} sweep --resume {}\n", m_dbPath, sweepId);
    }
    if (g_cancelSweep.load())
        return 130;
    return failed > 0 ? 1 : 0;
}

namespace {

bool isNumber(const std::string& text)
{
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c) != 0; });
}

}  // namespace

int SweepCommands::sweepStatus()
{
    SweepManifest m;
    if (isNumber(m_sweepArg)) {
        const ExperimentStore store(m_dbPath);
        m = readSweepManifest(sweepFolderOf(store, std::stoll(m_sweepArg)));
    } else {
        m = readSweepManifest(m_sweepArg);
    }
    const auto cells = sweepCellStatus(m);
    std::map<std::string, int> counts;
    json arr = json::array();
    for (const auto& c : cells) {
        ++counts[toString(c.state)];
        arr.push_back({{"position", c.position},
                       {"row", c.rowLabel},
                       {"seed", c.seed},
                       {"state", toString(c.state)},
                       {"job", c.jobId},
                       {"slurm_state", c.slurmState},
                       {"shard", c.shard},
                       {"detail", c.detail},
                       {"log_tail", c.logTail}});
    }
    if (m_json) {
        std::cout << json{{"sweep_id", m.sweepId}, {"folder", m.folder}, {"cells", arr}}.dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    fmt::print("sweep {} \"{}\" in {}\n", m.sweepId, m.name, m.folder);
    fmt::print("{:>4}  {:<28} {:>5}  {:<10} {:<12} {:<11} {}\n", "cell", "row", "seed", "state",
               "job", "slurm", "shard");
    for (const auto& c : cells)
        fmt::print("{:>4}  {:<28} {:>5}  {:<10} {:<12} {:<11} {}{}{}\n", c.position, c.rowLabel,
                   c.seed, toString(c.state), c.jobId.empty() ? "-" : c.jobId,
                   c.slurmState.empty() ? "-" : c.slurmState, c.shard, c.detail.empty() ? "" : ": ",
                   c.detail);
    for (const auto& c : cells)
        if (!c.logTail.empty())
            fmt::print("\ncell {} log (last lines):\n{}", c.position, c.logTail);
    fmt::print("\n{} completed, {} running, {} pending, {} failed\n", counts["completed"],
               counts["running"], counts["pending"], counts["failed"]);
    return 0;
}

int SweepCommands::collect()
{
    std::string db = m_dbPath;
    std::int64_t sweepId = 0;
    if (isNumber(m_sweepArg)) {
        sweepId = std::stoll(m_sweepArg);
    } else {
        const SweepManifest m = readSweepManifest(m_sweepArg);
        db = m.database;
        sweepId = m.sweepId;
    }
    ExperimentStore store(db);
    const CollectReport report = collectSweep(store, sweepId);
    if (m_json) {
        json items = json::array();
        for (const auto& i : report.items)
            items.push_back({{"position", i.position},
                             {"row", i.rowLabel},
                             {"seed", i.seed},
                             {"outcome", i.outcome == CollectedItem::Outcome::Imported ? "imported"
                                         : i.outcome == CollectedItem::Outcome::AlreadyCollected
                                             ? "already collected"
                                             : "not collected"},
                             {"run_id", i.runId ? json(*i.runId) : json(nullptr)},
                             {"note", i.note}});
        std::cout << json{{"sweep_id", sweepId},
                          {"imported", report.imported},
                          {"already_collected", report.alreadyCollected},
                          {"not_collected", report.skipped},
                          {"status", toString(report.sweepStatus)},
                          {"items", items}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    for (const auto& i : report.items)
        if (i.outcome != CollectedItem::Outcome::AlreadyCollected)
            fmt::print("cell {:>3} {:<28} seed {:>3}: {}\n", i.position, i.rowLabel, i.seed,
                       i.outcome == CollectedItem::Outcome::Imported
                           ? fmt::format("run {}", *i.runId)
                           : "not collected, " + i.note);
    fmt::print("sweep {}: {} runs collected, {} already collected, {} not collected\n", sweepId,
               report.imported, report.alreadyCollected, report.skipped);
    if (report.skipped == 0)
        fmt::print("results: sllmr --db {} matrix {}\n", db, sweepId);
    return 0;
}

int SweepCommands::listSweeps()
{
    ExperimentStore store(m_dbPath);
    json arr = json::array();
    for (const auto& s : store.sweeps()) {
        const auto items = store.sweepItems(s.id);
        int completed = 0;
        for (const auto& i : items)
            completed += i.status == RunStatus::Completed;
        const json grid = json::parse(s.gridJson, nullptr, false);
        arr.push_back({{"sweep_id", s.id},
                       {"name", s.name},
                       {"status", toString(s.status)},
                       {"created_at", s.createdAt},
                       {"items", items.size()},
                       {"completed", completed},
                       {"reference", grid.is_discarded() ? "" : grid.value("reference", "")},
                       {"file", grid.is_discarded() ? "" : grid.value("file", "")}});
    }
    if (m_json) {
        std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    fmt::print("{:>5}  {:<11}  {:>9}  {:<24}  {}\n", "sweep", "status", "done", "created", "name");
    for (const auto& s : arr)
        fmt::print("{:>5}  {:<11}  {:>9}  {:<24}  {}\n", s["sweep_id"].get<std::int64_t>(),
                   s["status"].get<std::string>(),
                   fmt::format("{}/{}", s["completed"].get<int>(), s["items"].get<std::size_t>()),
                   s["created_at"].get<std::string>(), s["name"].get<std::string>());
    return 0;
}

int SweepCommands::matrix()
{
    if ((m_sweepId > 0) == !m_runs.empty())
        throw Error(ErrorKind::Usage, "give either a sweep id or --runs", {}, 0,
                    "'sllmr matrix 1' or 'sllmr matrix --runs 4,5,6'");
    ExperimentStore store(m_dbPath);
    MatrixSettings settings;
    settings.segments = splitCommas({m_segments});
    if (!m_metrics.empty())
        settings.metrics = splitCommas(m_metrics);
    if (settings.segments.empty() || settings.metrics.empty())
        throw Error(ErrorKind::Usage, "no segment or no metric to show", {}, 0,
                    "e.g. --segments overall,cold,tail --metric auc,gauc");
    settings.bootstrap.resamples = m_resamples;
    settings.unit = testUnitFromString(m_unit);
    std::vector<MatrixGroup> groups;
    std::string title;
    if (m_sweepId > 0) {
        groups = sweepGroups(store, m_sweepId, &settings.reference, &title);
    } else {
        groups = groupRuns(store, parseRunIds(m_runs));
        title = "runs " + m_runs;
    }
    if (!m_reference.empty())
        settings.reference = m_reference;
    ResultsMatrix m = buildMatrix(store, groups, settings);
    m.title = title;
    std::string text;
    if (m_format == "csv")
        text = matrixCsv(m);
    else if (m_format == "json")
        text = matrixJson(m).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    else if (m_format == "latex")
        text = matrixLatex(m);
    else
        text = matrixText(m);
    writeOutput(text, m_output);
    return 0;
}

int SweepCommands::compare()
{
    ExperimentStore store(m_dbPath);
    const auto a = m_pair.at(0);
    const auto b = m_pair.at(1);
    if (a == b)
        throw Error(ErrorKind::Usage, "compare needs two different runs", {}, 0,
                    "e.g. 'sllmr compare 5 2'");
    for (const auto id : {a, b}) {
        const auto run = store.run(id);
        if (!run)
            throw Error(ErrorKind::NotFound, "run " + std::to_string(id) + " does not exist", {}, 0,
                        "'sllmr runs list' shows the runs");
        if (run->status != RunStatus::Completed)
            throw Error(ErrorKind::Usage,
                        fmt::format("run {} is {}, not completed", id, toString(run->status)), {},
                        0, "resume it with 'sllmr run --resume ID' first");
    }
    MatrixSettings settings;
    settings.segments = splitCommas({m_segments});
    settings.metrics = {"auc"};
    settings.unit = testUnitFromString(m_unit);
    const std::string la = "run " + std::to_string(a);
    const std::string lb = "run " + std::to_string(b);
    settings.reference = lb;
    ResultsMatrix m = buildMatrix(store, {{la, {a}}, {lb, {b}}}, settings);
    if (m_json) {
        // One column per segment (metric auc) and one test per segment, in the same order.
        const json tests = matrixJson(m)["tests"];
        json out{{"run_a", a},
                 {"run_b", b},
                 {"unit", m_unit},
                 {"unit_description", testUnitDescription(settings.unit, "auc")},
                 {"segments", json::array()}};
        for (std::size_t c = 0; c < m.columns.size(); ++c) {
            json seg = tests.at(c);
            seg.erase("row");
            seg["auc_a"] = std::isfinite(m.cells[0][c].mean) ? json(m.cells[0][c].mean) : json();
            seg["auc_b"] = std::isfinite(m.cells[1][c].mean) ? json(m.cells[1][c].mean) : json();
            out["segments"].push_back(seg);
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    fmt::print("run {} against run {}: AUC per segment; Holm over {} segments\n{}\n\n", a, b,
               m.tests.size(), testUnitDescription(settings.unit, "auc"));
    fmt::print("{:<9} {:>8} {:>8} {:>9} {:>22} {:>7} {:>9} {:>9} {:>9}\n", "segment", "AUC A",
               "AUC B", "A - B", "95% CI", m_unit == "user" ? "users" : "pairs", "p_t", "p_W",
               "p_t Holm");
    bool smallSegments = false;
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
        const auto* t = m.test(la, m.columns[c].segment);
        const auto f = [](double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : "-"; };
        const auto p = [](double v) {
            return !std::isfinite(v) ? std::string("-")
                   : v < 1e-4        ? std::string("<1e-4")
                                     : fmt::format("{:.4f}", v);
        };
        if (!t || !t->note.empty()) {
            fmt::print("{:<9} {:>8} {:>8}  no test: {}\n", m.columns[c].segment,
                       f(m.cells[0][c].mean), f(m.cells[1][c].mean), t ? t->note : "");
            continue;
        }
        fmt::print("{:<9} {:>8} {:>8} {:>+9.4f} {:>22} {:>7} {:>9} {:>9} {:>9}{}\n",
                   m.columns[c].segment + (m.cells[0][c].small() ? "†" : ""), f(m.cells[0][c].mean),
                   f(m.cells[1][c].mean), t->ci.mean,
                   fmt::format("[{:+.4f}, {:+.4f}]", t->ci.lo, t->ci.hi), t->pairs, p(t->t.p),
                   p(t->wilcoxon.p), p(t->tHolm), t->significant ? " *" : "");
        if (m.cells[0][c].small() || m.cells[1][c].small())
            smallSegments = true;
    }
    if (smallSegments)
        fmt::print("† a segment with fewer than {} test interactions: too few to read\n",
                   kSmallSegment);
    return 0;
}

}  // namespace sllmr::cli
