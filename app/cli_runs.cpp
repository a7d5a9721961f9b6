#include "cli_runs.h"

#include "analysis/matrix.h"
#include "analysis/shards.h"
#include "common/error.h"
#include "run/runner.h"
#include "store/experiment_store.h"
#include "train/run_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace sllmr::cli {
namespace {

using nlohmann::json;

std::atomic<bool> g_cancel{false};

extern "C" void onInterrupt(int)
{
    g_cancel.store(true);
}

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ','))
        if (!part.empty())
            out.push_back(part);
    return out;
}

// "--set method.lambda=0.5": the value is read as JSON when it parses, as a string otherwise.
void applySet(json& j, const std::string& assignment)
{
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error(ErrorKind::Usage, "--set '" + assignment + "' is not KEY=VALUE", {}, 0,
                    "e.g. --set method.name=global");
    const auto key = assignment.substr(0, eq);
    const auto text = assignment.substr(eq + 1);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded())
        value = text;
    json* node = &j;
    std::stringstream path(key);
    std::string part;
    std::vector<std::string> parts;
    while (std::getline(path, part, '.'))
        parts.push_back(part);
    if (parts.empty() ||
        std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }) ||
        key.back() == '.')
        throw Error(ErrorKind::Usage, "--set '" + assignment + "': '" + key + "' is not a key", {},
                    0, "keys are dotted paths such as method.lambda");
    std::string walked;
    for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
        walked += (walked.empty() ? "" : ".") + parts[k];
        if (!node->contains(parts[k]))
            (*node)[parts[k]] = json::object();
        node = &(*node)[parts[k]];
        if (!node->is_object())
            throw Error(ErrorKind::Usage,
                        "--set " + key + ": setting '" + walked + "' is a value, not a section", {},
                        0, "'sllmr config describe' lists the keys");
    }
    (*node)[parts.back()] = value;
}

// metrics[segment][metric] and sizes from the store.
struct StoredMetrics
{
    std::map<std::string, std::map<std::string, double>> values;
    std::map<std::string, std::int64_t> sizes;
};

StoredMetrics storedMetrics(const ExperimentStore& store, std::int64_t runId)
{
    StoredMetrics m;
    for (const auto& s : store.segmentMetrics(runId)) {
        m.values[s.segment][s.metric] = s.value;
        m.sizes[s.segment] = s.size;
    }
    return m;
}

json metricsJson(const StoredMetrics& m)
{
    json j = json::object();
    for (const auto& [seg, metrics] : m.values) {
        json s = json::object();
        for (const auto& [k, v] : metrics)
            s[k] = std::isnan(v) ? json(nullptr) : json(v);
        s["size"] = m.sizes.at(seg);
        j[seg] = s;
    }
    return j;
}

RunRecord requireRun(const ExperimentStore& store, std::int64_t id)
{
    auto rec = store.run(id);
    if (!rec)
        throw Error(ErrorKind::NotFound, "run " + std::to_string(id) + " does not exist", {}, 0,
                    "'sllmr runs list' shows the runs");
    return *rec;
}

// config[section][key] when it is a string, "?" otherwise: a stored config is untrusted.
std::string configText(const json& config, const char* section, const char* key)
{
    const auto s = config.find(section);
    if (s == config.end() || !s->is_object())
        return "?";
    const auto v = s->find(key);
    return v != s->end() && v->is_string() ? v->get<std::string>() : "?";
}

json runJson(const ExperimentStore& store, const RunRecord& r, bool withEpochs)
{
    const json config = json::parse(r.configJson, nullptr, false);
    json j{{"run_id", r.id},
           {"name", r.name},
           {"status", toString(r.status)},
           {"seed", r.seed},
           {"config_hash", r.configHash},
           {"software_version", r.softwareVersion},
           {"created_at", r.createdAt},
           {"started_at", r.startedAt},
           {"finished_at", r.finishedAt},
           {"error", r.error},
           {"notes", r.notes},
           {"tags", r.tags},
           {"metrics", metricsJson(storedMetrics(store, r.id))}};
    const bool readable = config.is_object() && config.contains("method") &&
                          config["method"].is_object() && config.contains("model") &&
                          config["model"].is_object();
    if (readable) {
        const std::string method = configText(config, "method", "name");
        j["summary"] =
            method == "selective"
                ? fmt::format("{} / selective / gate {}", configText(config, "model", "type"),
                              configText(config, "gate", "mode"))
                : fmt::format("{} / {}", configText(config, "model", "type"), method);
        j["config"] = config;
    } else {
        // One odd row never makes the list unreadable: it is shown with a note.
        j["summary"] = "(unreadable config)";
        j["note"] =
            "the stored config is not a readable run config; the run cannot be resumed "
            "or rerun";
    }
    if (withEpochs) {
        std::map<int, json> epochs;
        for (const auto& e : store.epochMetrics(r.id)) {
            auto& row = epochs[e.epoch];
            row["epoch"] = e.epoch;
            row[e.key] = std::isnan(e.value) ? json(nullptr) : json(e.value);
        }
        json arr = json::array();
        for (auto& [k, v] : epochs)
            arr.push_back(v);
        j["epochs"] = arr;
    }
    return j;
}

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        out.push_back(
            text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return out;
}

std::string fmtValue(double v)
{
    return std::isnan(v) ? std::string("-") : fmt::format("{:.4f}", v);
}

class TerminalProgress
{
public:
    explicit TerminalProgress(bool quiet) : m_tty(!quiet && isatty(fileno(stderr))), m_quiet(quiet)
    {}

    void batch(const BatchProgress& p)
    {
        if (!m_tty)
            return;
        const int width = 30;
        const double f =
            p.batches ? static_cast<double>(p.batch) / static_cast<double>(p.batches) : 0;
        const int filled = static_cast<int>(f * width);
        std::fprintf(stderr,
                     "\repoch %d/%d [%s%s] %3.0f%%  base %.4f  llm %.4f  gate %.4f  %6.0f/s ",
                     p.epoch, p.epochs, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), '.').c_str(), f * 100.0,
                     p.baseLoss, p.llmLoss, p.gateLoss, p.samplesPerSecond);
        std::fflush(stderr);
    }

    void epoch(const EpochResult& r)
    {
        if (m_quiet)
            return;
        if (m_tty)
            std::fprintf(stderr, "\r%100s\r", "");
        const auto get = [&](const char* seg) {
            auto it = r.validationAuc.find(seg);
            return it == r.validationAuc.end() ? std::nan("") : it->second;
        };
        const auto gate = r.gate.count("overall") ? r.gate.at("overall").mean() : std::nan("");
        std::fprintf(stderr,
                     "epoch %d: base %.4f  llm %.4f  gate %.4f  val AUC %s (cold %s, tail %s)  "
                     "gate mean %s  %.1fs\n",
                     r.epoch, r.baseLoss, r.llmLoss, r.gateLoss, fmtValue(get("overall")).c_str(),
                     fmtValue(get("cold")).c_str(), fmtValue(get("tail")).c_str(),
                     fmtValue(gate).c_str(), r.seconds);
    }

    void stage(const std::string& s)
    {
        if (!m_quiet)
            std::fprintf(stderr, "%s...\n", s.c_str());
    }

private:
    bool m_tty;
    bool m_quiet;
};

void printMetricsTable(const std::vector<std::pair<std::string, StoredMetrics>>& runs,
                       const std::vector<std::string>& segments,
                       const std::vector<std::string>& metrics)
{
    bool anySmall = false;
    fmt::print("{:<10} {:<10}", "segment", "metric");
    for (const auto& [label, m] : runs)
        fmt::print(" {:>12}", label);
    fmt::print("\n");
    for (const auto& seg : segments) {
        for (const auto& metric : metrics) {
            fmt::print("{:<10} {:<10}", seg, metric);
            for (const auto& [label, m] : runs) {
                double v = std::nan("");
                if (auto s = m.values.find(seg); s != m.values.end())
                    if (auto it = s->second.find(metric); it != s->second.end())
                        v = it->second;
                const auto size = m.sizes.find(seg);
                const bool small = size != m.sizes.end() && size->second < kSmallSegment;
                if (small)
                    anySmall = true;
                fmt::print(" {:>12}", fmtValue(v) + (small && std::isfinite(v) ? "†" : ""));
            }
            fmt::print("\n");
        }
        fmt::print("{:<10} {:<10}", seg, "size");
        for (const auto& [label, m] : runs) {
            const auto it = m.sizes.find(seg);
            fmt::print(" {:>12}",
                       it == m.sizes.end() ? std::string("-") : std::to_string(it->second));
        }
        fmt::print("\n");
    }
    if (anySmall)
        fmt::print("† computed on fewer than {} test interactions: too few to read\n",
                   kSmallSegment);
}

}  // namespace

RunCommands::RunCommands(CLI::App& app, const std::string& dbPath) : m_dbPath(dbPath)
{
    auto* config = app.add_subcommand("config", "Run configuration files");
    config->require_subcommand(1);
    m_template = config->add_subcommand(
        "template", "Print a default run config (MF + S-LLMR on the bundled demo); it runs as is");
    m_describe =
        config->add_subcommand("describe", "List every config key: meaning, default, range");
    m_describe->add_flag("--json", m_json, "Machine-readable output");

    m_run = app.add_subcommand("run", "Train and evaluate a run described by a config file");
    m_run->add_option("config", m_configPath, "Run config (JSON); see 'sllmr config template'");
    m_run->add_option("--resume", m_resume,
                      "Continue an interrupted or cancelled run from its last epoch");
    m_run->add_option("--set", m_set, "Override a config key: KEY=VALUE (repeatable)");
    m_run->add_flag("--json", m_json, "Print the result as JSON");
    m_run->add_option("--sweep-dir", m_sweepDir,
                      "Run one cell of a sweep folder into its own shard (with --cell)");
    m_run->add_option("--cell", m_cell, "The cell (item position) to run, with --sweep-dir");
    m_run->add_option("--threads", m_threads,
                      "With --cell: train.threads where the cell's config leaves it 0");

    auto* runs = app.add_subcommand("runs", "Browse runs in the experiment database");
    runs->require_subcommand(1);
    m_list = runs->add_subcommand("list", "List runs, newest first");
    m_list->add_option("--status", m_status, "Only runs with this status");
    m_list->add_flag("--json", m_json, "Machine-readable output");
    m_show =
        runs->add_subcommand("show", "Show a run: config summary, metrics per segment, epochs");
    m_show->add_option("run", m_runId, "Run id")->required();
    m_show->add_flag("--json", m_json, "Machine-readable output");
    m_compare = runs->add_subcommand("compare", "Per-segment metrics of several runs side by side");
    m_compare->add_option("runs", m_runIds, "Run ids")->required()->expected(1, -1);
    m_compare->add_option("--metrics", m_metrics, "Comma-separated metrics")->capture_default_str();
    m_compare->add_option("--segments", m_segments, "Comma-separated segments")
        ->capture_default_str();
    m_compare->add_flag("--json", m_json, "Machine-readable output");
    m_export = runs->add_subcommand("export", "Export a run's config, curves and metrics");
    m_export->add_option("run", m_runId, "Run id")->required();
    m_export->add_option("--format", m_format, "csv or json")
        ->check(CLI::IsMember({"csv", "json"}))
        ->capture_default_str();
    m_export->add_option("--output,-o", m_output, "File to write (default: standard output)");
}

std::optional<int> RunCommands::execute()
{
    if (*m_template) {
        std::cout << toJson(defaultRunConfig())
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    if (*m_describe) {
        const auto docs = describeRunConfig();
        if (m_json) {
            json arr = json::array();
            for (const auto& d : docs)
                arr.push_back({{"key", d.key},
                               {"type", d.type},
                               {"default", d.defaultValue},
                               {"range", d.range},
                               {"meaning", d.meaning}});
            std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
            for (const auto& d : docs)
                fmt::print("{}\n    {} (default {}{}{})\n    {}\n", d.key, d.type, d.defaultValue,
                           d.range.empty() ? "" : "; ", d.range, d.meaning);
        }
        return 0;
    }
    if (*m_run)
        return runConfig();
    if (*m_list)
        return listRuns();
    if (*m_show)
        return showRun();
    if (*m_compare)
        return compareRuns();
    if (*m_export)
        return exportRun();
    return std::nullopt;
}

int RunCommands::runConfig()
{
    TerminalProgress progress(m_json);
    RunCallbacks cb;
    cb.cancel = &g_cancel;
    cb.onBatch = [&](const BatchProgress& p) { progress.batch(p); };
    cb.onEpoch = [&](const EpochResult& r) { progress.epoch(r); };
    cb.onStage = [&](const std::string& s) { progress.stage(s); };
    cb.onWarning = [](const std::string& w) { std::fprintf(stderr, "warning: %s\n", w.c_str()); };
    cb.onStarted = [&](std::int64_t id) {
        if (!m_json)
            std::fprintf(stderr, "run %lld\n", static_cast<long long>(id));
    };
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);

    RunOutcome outcome;
    if (!m_sweepDir.empty() || m_cell >= 0) {
        if (m_sweepDir.empty() || m_cell < 0 || m_resume > 0 || !m_configPath.empty() ||
            !m_set.empty())
            throw Error(ErrorKind::Usage, "--sweep-dir and --cell go together and alone", {}, 0,
                        "e.g. 'sllmr run --sweep-dir experiments.db.sweeps/sweep-1 --cell 3'");
        outcome = runCell(m_sweepDir, m_cell, m_threads, cb);
        fmt::print("cell {}: run {} {} after {} epochs (shard {})\n", m_cell, outcome.runId,
                   toString(outcome.status), outcome.epochsRun, shardPath(m_sweepDir, m_cell));
        return outcome.status == RunStatus::Cancelled ? 130 : 0;
    }
    // Not before: a sweep cell never opens experiments.db (it may live on a shared filesystem).
    ExperimentStore store(m_dbPath);
    if (m_resume > 0) {
        if (!m_configPath.empty() || !m_set.empty())
            throw Error(ErrorKind::Usage, "--resume continues a run with its stored config", {}, 0,
                        "drop the config file and --set");
        outcome = resumeRun(m_resume, store, cb);
    } else {
        if (m_configPath.empty())
            throw Error(ErrorKind::Usage, "no config file given", {}, 0,
                        "'sllmr config template > run.json' writes one; then 'sllmr run run.json'");
        RunConfig config = loadRunConfig(m_configPath);
        if (!m_set.empty()) {
            json j = toJson(config);
            for (const auto& s : m_set)
                applySet(j, s);
            try {
                config = runConfigFromJson(j, {});
            } catch (const Error& e) {
                throw Error(e.kind(), "with --set: " + e.problem(), m_configPath, 0, e.hint());
            }
        }
        outcome = executeRun(config, store, cb);
    }
    const auto rec = requireRun(store, outcome.runId);
    json j = runJson(store, rec, false);
    j["protocol"] = outcome.evaluation.protocol;
    j["best_epoch"] = outcome.bestEpoch;
    j["epochs_run"] = outcome.epochsRun;
    if (m_json) {
        j.erase("config");
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        fmt::print("run {} {} after {} epochs (best {})\n", outcome.runId, toString(outcome.status),
                   outcome.epochsRun, outcome.bestEpoch);
        if (outcome.status == RunStatus::Completed) {
            fmt::print("{}\n\n", outcome.evaluation.protocol);
            printMetricsTable(
                {{"run " + std::to_string(outcome.runId), storedMetrics(store, outcome.runId)}},
                splitList("overall,cold,warm,tail,head"), splitList(m_metrics));
        } else if (outcome.status == RunStatus::Cancelled) {
            fmt::print("resume with: sllmr --db {} run --resume {}\n", m_dbPath, outcome.runId);
        }
    }
    return outcome.status == RunStatus::Cancelled ? 130 : 0;
}

int RunCommands::listRuns()
{
    ExperimentStore store(m_dbPath);
    json arr = json::array();
    for (const auto& r : store.runs()) {
        if (!m_status.empty() && m_status != toString(r.status))
            continue;
        arr.push_back(runJson(store, r, false));
    }
    if (m_json) {
        for (auto& r : arr)
            r.erase("config");
        std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    fmt::print("{:>5}  {:<11}  {:<24}  {:>8} {:>8} {:>8}  {}\n", "run", "status",
               "model / method / gate", "AUC", "cold", "tail", "name");
    for (const auto& r : arr) {
        auto metric = [&](const char* seg) {
            const auto& m = r["metrics"];
            if (!m.contains(seg) || !m[seg].contains("auc") || m[seg]["auc"].is_null())
                return std::string("-");
            return fmt::format("{:.4f}", m[seg]["auc"].get<double>());
        };
        fmt::print("{:>5}  {:<11}  {:<24}  {:>8} {:>8} {:>8}  {}\n",
                   r["run_id"].get<std::int64_t>(), r["status"].get<std::string>(),
                   r.value("summary", ""), metric("overall"), metric("cold"), metric("tail"),
                   r["name"].get<std::string>());
    }
    return 0;
}

int RunCommands::showRun()
{
    ExperimentStore store(m_dbPath);
    const auto rec = requireRun(store, m_runId);
    json j = runJson(store, rec, true);
    if (m_json) {
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    fmt::print("run {}: {} ({})\n", rec.id, rec.name, toString(rec.status));
    fmt::print("  {}\n  seed {}, created {}, finished {}\n", j.value("summary", ""), rec.seed,
               rec.createdAt, rec.finishedAt.empty() ? "-" : rec.finishedAt);
    if (!rec.error.empty())
        fmt::print("  error: {}\n", rec.error);
    if (j.contains("note"))
        fmt::print("  note: {}\n", j["note"].get<std::string>());
    if (!rec.notes.empty())
        fmt::print("  notes:\n    {}\n", fmt::join(splitLines(rec.notes), "\n    "));
    fmt::print("\n  {:>5} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "epoch", "base", "llm", "gate",
               "val AUC", "gate a");
    for (const auto& e : j["epochs"]) {
        auto v = [&](const char* k) {
            return e.contains(k) && !e[k].is_null() ? fmt::format("{:.4f}", e[k].get<double>())
                                                    : std::string("-");
        };
        fmt::print("  {:>5} {:>10} {:>10} {:>10} {:>9} {:>9}\n", e["epoch"].get<int>(),
                   v("base_loss"), v("llm_loss"), v("gate_loss"), v("val_auc.overall"),
                   v("gate_mean.overall"));
    }
    fmt::print("\n");
    printMetricsTable({{"run " + std::to_string(rec.id), storedMetrics(store, rec.id)}},
                      splitList("overall,cold,warm,tail,head"), splitList(m_metrics));
    return 0;
}

int RunCommands::compareRuns()
{
    ExperimentStore store(m_dbPath);
    std::vector<std::pair<std::string, StoredMetrics>> runs;
    json out = json::object();
    for (auto id : m_runIds) {
        const auto rec = requireRun(store, id);
        runs.emplace_back("run " + std::to_string(id), storedMetrics(store, id));
        out[std::to_string(id)] = runJson(store, rec, false);
        out[std::to_string(id)].erase("config");
    }
    if (m_json) {
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    for (auto id : m_runIds)
        fmt::print("run {}: {}\n", id, out[std::to_string(id)].value("summary", ""));
    fmt::print("\n");
    printMetricsTable(runs, splitList(m_segments), splitList(m_metrics));
    return 0;
}

int RunCommands::exportRun()
{
    ExperimentStore store(m_dbPath);
    const auto rec = requireRun(store, m_runId);
    std::ostringstream text;
    if (m_format == "json") {
        json j = runJson(store, rec, true);
        json bins = json::array();
        for (const auto& b : store.gateBins(rec.id))
            bins.push_back({{"epoch", b.epoch},
                            {"dimension", b.dimension},
                            {"bin", b.bin},
                            {"lo", b.lo},
                            {"hi", b.hi},
                            {"count", b.count},
                            {"mean_activation", b.meanActivation},
                            {"active_share", b.activeShare}});
        j["gate_bins"] = bins;
        text << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        text << "run_id,kind,segment,epoch,metric,value,size\n";
        for (const auto& s : store.segmentMetrics(rec.id))
            text << rec.id << ",segment," << s.segment << ",," << s.metric << ','
                 << fmt::format("{}", s.value) << ',' << s.size << '\n';
        for (const auto& e : store.epochMetrics(rec.id))
            text << rec.id << ",epoch,," << e.epoch << ',' << e.key << ','
                 << fmt::format("{}", e.value) << ",\n";
        for (const auto& b : store.gateBins(rec.id))
            text << rec.id << ",gate_bin," << b.dimension << ':' << b.bin << ',' << b.epoch
                 << ",mean_activation," << fmt::format("{}", b.meanActivation) << ',' << b.count
                 << '\n';
    }
    if (m_output.empty()) {
        std::cout << text.str();
    } else {
        std::ofstream out(m_output);
        out << text.str();
        if (!out)
            throw Error(ErrorKind::BadInput, "cannot write the export", m_output, 0,
                        "check the folder exists and is writable");
    }
    return 0;
}

}  // namespace sllmr::cli
