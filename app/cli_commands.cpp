#include "cli_commands.h"

#include "cli_dataset.h"
#ifndef SLLMR_FRONT
#include "cli_inspect.h"
#endif
#include "cli_llm.h"
#include "cli_runs.h"
#include "cli_sweep.h"

#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "llm/scores.h"
#include "store/experiment_store.h"

#include <fmt/core.h>
#include <torch/version.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>

namespace sllmr::cli {
namespace {

using nlohmann::json;

enum Exit { Ok = 0, Internal = 1, Usage = 2, BadInput = 3, StoreError = 4, Cancelled = 130 };

std::string fmtCount(std::int64_t n)
{
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

void printDataset(const json& j)
{
    fmt::print("Dataset {}\n", j["name"].get<std::string>());
    fmt::print("  users {:>12}   items {:>10}   interactions {:>12}   density {:.4f}%\n",
               fmtCount(j["users"]), fmtCount(j["items"]), fmtCount(j["interactions"]),
               j["density"].get<double>() * 100.0);
    for (const char* part : {"train", "validation", "test"}) {
        const auto& p = j[part];
        fmt::print("  {:<10} {:>12} interactions  {:>8} users  {:>8} items\n", part,
                   fmtCount(p["interactions"]), fmtCount(p["users"]), fmtCount(p["items"]));
    }
    const auto& pre = j["preprocessing"];
    fmt::print(
        "  read {} rows; dropped: {} below threshold, {} duplicates, {} in train and "
        "validation/test, {} by k-core; {} moved to validation\n",
        fmtCount(pre["rows_read"]), fmtCount(pre["below_threshold"]), fmtCount(pre["duplicates"]),
        fmtCount(pre["cross_split_duplicates"]), fmtCount(pre["kcore_removed"]),
        fmtCount(pre["validation_carved"]));
    if (pre["test_items_unseen_in_train"].get<std::int64_t>() > 0)
        fmt::print(
            "  {} test interactions have an item with no training interaction (ID-only "
            "models cannot score them)\n",
            fmtCount(pre["test_items_unseen_in_train"]));
    for (const auto& f : j["files"]) {
        if (f["encoding"] != "utf-8" && f["encoding"] != "")
            fmt::print("  {}: read as {}\n", f["path"].get<std::string>(),
                       f["encoding"].get<std::string>());
        for (const auto& note : f["notes"])
            fmt::print("  note: {}: {}\n", f["path"].get<std::string>(), note.get<std::string>());
    }
    fmt::print("  thresholds: cold = |H(u)| < {}, tail = pop(i) < {}\n",
               j["thresholds"]["tau_u"].get<double>(), j["thresholds"]["tau_i"].get<double>());
    fmt::print("\n  {:<9} {:>8} {:>8} {:>10}  {}\n", "segment", "users", "items", "test",
               "definition");
    for (const auto& nameJson : j["segment_order"]) {
        const auto name = nameJson.get<std::string>();
        const auto& s = j["segments"][name];
        fmt::print("  {:<9} {:>8} {:>8} {:>10}  {}\n", name,
                   s.contains("users") ? fmtCount(s["users"]) : std::string("-"),
                   s.contains("items") ? fmtCount(s["items"]) : std::string("-"),
                   fmtCount(s["test_interactions"]), s["description"].get<std::string>());
    }
}

void printScores(const json& r, const std::string& path)
{
    fmt::print("LLM scores {} ({}{})\n", path, r["kind"].get<std::string>(),
               r["simulated"].get<bool>() ? ", SIMULATED LLM" : "");
    for (const auto& [key, value] : r["provenance"].items())
        fmt::print("  # {}: {}\n", key, value.get<std::string>());
    fmt::print("  rows            {:>10}\n", fmtCount(r["rows"]));
    fmt::print("  matched         {:>10}   (scores used)\n", fmtCount(r["matched"]));
    fmt::print("  duplicates      {:>10}   (repeated user-item rows; first kept)\n",
               fmtCount(r["duplicates"]));
    fmt::print("  unknown users   {:>10}   rows, {} distinct ids\n", fmtCount(r["unknown_users"]),
               fmtCount(r["distinct_unknown_users"]));
    fmt::print("  unknown items   {:>10}   rows, {} distinct ids\n", fmtCount(r["unknown_items"]),
               fmtCount(r["distinct_unknown_items"]));
    fmt::print("  out of range    {:>10}   (clamped into the scale)\n",
               fmtCount(r["out_of_range"]));
    fmt::print("  missing values  {:>10}   ({})\n", fmtCount(r["missing_values"]),
               r["missing_policy"] == "default" ? "empty value: scored with the candidate default"
                                                : "empty value: row skipped");
    fmt::print("  in train        {:>10}   rows naming a positive of the training history\n",
               fmtCount(r["in_train"]));
    fmt::print("  in test         {:>10}   rows naming a test positive\n", fmtCount(r["in_test"]));
    fmt::print("  users covered   {:>10}\n", fmtCount(r["users_covered"]));
    fmt::print("  items covered   {:>10}\n", fmtCount(r["items_covered"]));
    if (r["candidates_added"].get<std::int64_t>() > 0 ||
        r["candidates_unknown"].get<std::int64_t>() > 0)
        fmt::print(
            "  candidates added {:>9}   (offered, not returned; default score); {} with "
            "unknown ids skipped\n",
            fmtCount(r["candidates_added"]), fmtCount(r["candidates_unknown"]));
    if (r["kind"] == "rank")
        fmt::print("  largest rank    {:>10}\n", fmtCount(r["max_rank"]));
    for (const auto& w : r["warnings"])
        fmt::print("  note: {}\n", w.get<std::string>());
}

LoadControl progressOnTerminal(bool quiet)
{
    LoadControl c;
    if (!quiet && isatty(fileno(stderr)))
        c.progress = [](double f, const std::string& stage) {
            std::fprintf(stderr, "\r%-24s %5.1f%%", stage.c_str(), f * 100.0);
            if (f >= 1.0)
                std::fprintf(stderr, "\r%40s\r", "");
            std::fflush(stderr);
        };
    return c;
}

DatasetRecord datasetRecord(const Dataset& ds, const json& summary)
{
    DatasetRecord rec;
    rec.name = ds.spec.name;
    rec.source = ds.spec.path;
    rec.contentHash = ds.contentHash;
    rec.specJson = json(ds.spec).dump(-1, ' ', false, json::error_handler_t::replace);
    rec.statsJson = summary.dump(-1, ' ', false, json::error_handler_t::replace);
    return rec;
}

int errorExit(const Error& e)
{
    std::cerr << "sllmr: " << e.what() << '\n';
    switch (e.kind()) {
        case ErrorKind::Usage:
            return Usage;
        case ErrorKind::BadInput:
        case ErrorKind::NotFound:
            return BadInput;
        case ErrorKind::Store:
            return StoreError;
        case ErrorKind::Cancelled:
            return Cancelled;
        case ErrorKind::Internal:
            return Internal;
    }
    return Internal;
}

// `sllmr dataset inspect`: load, split and segment a dataset; report or record it.
class DatasetCommand
{
public:
    explicit DatasetCommand(CLI::App& app)
    {
        auto* dataset = app.add_subcommand("dataset", "Load and inspect datasets");
        dataset->require_subcommand(1);
        m_inspect = dataset->add_subcommand(
            "inspect", "Load a dataset, split and segment it, and report counts and segment sizes");
        m_options.add(*m_inspect, true);
        m_inspect->add_flag("--json", m_json, "Machine-readable output");
        m_inspect->add_flag("--save", m_save, "Record the dataset in the experiment database");
    }

    std::optional<int> execute(const std::string& dbPath)
    {
        if (!*m_inspect)
            return std::nullopt;
        const DatasetSpec spec = m_options.finish(*m_inspect);
        const Dataset ds = loadDataset(spec, progressOnTerminal(m_json));
        const Segmentation seg = computeSegments(ds, spec.segments);
        json summary = datasetSummary(ds, seg);
        if (m_save) {
            ExperimentStore store(dbPath);
            summary["dataset_id"] = store.addDataset(datasetRecord(ds, summary));
        }
        if (m_json)
            std::cout << summary.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
        else
            printDataset(summary);
        return Ok;
    }

private:
    CLI::App* m_inspect = nullptr;
    DatasetOptions m_options;
    bool m_json = false;
    bool m_save = false;
};

// `sllmr scores inspect`: load an LLM score file against a dataset; report or record it.
class ScoresCommand
{
public:
    explicit ScoresCommand(CLI::App& app)
    {
        auto* scores = app.add_subcommand("scores", "Load and inspect LLM score files");
        scores->require_subcommand(1);
        m_inspect = scores->add_subcommand(
            "inspect", "Load an LLM score file against a dataset and report what matched");
        addOptions(*m_inspect);
        m_data.add(*m_inspect, false);
        m_inspect->add_flag("--json", m_json, "Machine-readable output");
        m_inspect->add_flag("--save", m_save,
                            "Record the dataset and the score set in the experiment database");
    }

    std::optional<int> execute(const std::string& dbPath)
    {
        if (!*m_inspect)
            return std::nullopt;
        const DatasetSpec spec = m_data.finish(*m_inspect);
        m_spec.encoding = m_encoding.empty() ? spec.encoding : m_encoding;
        const Dataset ds = loadDataset(spec, progressOnTerminal(m_json));
        const ScoreSet set = loadScores(m_spec, ds);
        json out = scoreReportJson(set.report);
        if (m_save) {
            ExperimentStore store(dbPath);
            const Segmentation seg = computeSegments(ds, spec.segments);
            const auto datasetId = store.addDataset(datasetRecord(ds, datasetSummary(ds, seg)));
            ScoreSetRecord rec;
            rec.datasetId = datasetId;
            rec.name = set.spec.name;
            rec.source = set.spec.path;
            rec.contentHash = set.report.contentHash;
            rec.specJson = json(set.spec).dump(-1, ' ', false, json::error_handler_t::replace);
            rec.reportJson = out.dump(-1, ' ', false, json::error_handler_t::replace);
            out["dataset_id"] = datasetId;
            out["score_set_id"] = store.addScoreSet(rec);
        }
        if (m_json)
            std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
        else
            printScores(out, m_spec.path);
        return Ok;
    }

private:
    void addOptions(CLI::App& cmd)
    {
        auto& sc = m_spec;
        cmd.add_option("file", sc.path, "Score file: user, item, rank|score|rating (.gz ok)")
            ->required();
        cmd.add_option("--kind", sc.kind, "How to read the value column")
            ->check(CLI::IsMember({"auto", "rank", "pointwise", "rating"}))
            ->capture_default_str();
        cmd.add_option("--score-delimiter", sc.delimiter, "Delimiter (default: detect)");
        cmd.add_option("--score-encoding", m_encoding,
                       "Text encoding of the score and candidate files (default: --encoding)")
            ->check(CLI::IsMember({"utf-8", "latin1", "cp1252"}));
        cmd.add_option("--missing", sc.missing,
                       "Rows with an empty value: skip (counted), default (--candidate-default), "
                       "error")
            ->check(CLI::IsMember({"skip", "default", "error"}))
            ->capture_default_str();
        cmd.add_option("--score-header", sc.header, "Header line")
            ->check(CLI::IsMember({"auto", "yes", "no"}));
        cmd.add_option("--score-user-col", sc.userColumn, "User column: name or index")
            ->check(columnOption());
        cmd.add_option("--score-item-col", sc.itemColumn, "Item column: name or index")
            ->check(columnOption());
        cmd.add_option("--value-col", sc.valueColumn, "Value column: name or index")
            ->check(columnOption());
        cmd.add_option("--rating-min", sc.ratingMin, "Lowest rating of the scale")
            ->capture_default_str();
        cmd.add_option("--rating-max", sc.ratingMax, "Highest rating of the scale")
            ->capture_default_str();
        cmd.add_option("--rank-mapping", sc.rankMapping,
                       "linear: 1-(rank-1)/N_u; exponential: exp(-decay*(rank-1))")
            ->check(CLI::IsMember({"linear", "exponential"}))
            ->capture_default_str();
        cmd.add_option("--decay", sc.decay, "Decay of the exponential rank mapping")
            ->capture_default_str();
        cmd.add_option("--candidates", sc.candidatesPath,
                       "Candidates offered to the LLM; those not returned get --candidate-default");
        cmd.add_option("--candidate-default", sc.candidateDefault,
                       "Score of an offered but unreturned candidate")
            ->check(CLI::Range(0.0, 1.0))
            ->capture_default_str();
    }

    CLI::App* m_inspect = nullptr;
    ScoreFileSpec m_spec;
    std::string m_encoding;  // --score-encoding; empty: the dataset's
    DatasetOptions m_data;
    bool m_json = false;
    bool m_save = false;
};

}  // namespace

int run(int argc, char** argv)
{
    CLI::App app{
        "sllmr: Selective LLM-Guided Regularization experiments, headless.\n"
        "Runs the same engine and writes the same experiments.db as SLLMR Studio."};
    app.set_version_flag(
        "--version", std::string("sllmr ") + SLLMR_VERSION + " (LibTorch " + TORCH_VERSION + ")");
    app.require_subcommand(1);
    std::string dbPath = "experiments.db";
    app.add_option("--db", dbPath, "Experiment database (SQLite)")->capture_default_str();
    // Options of the top level (--db) are also accepted after a subcommand.
    app.fallthrough();

    DatasetCommand datasetCommand(app);
    ScoresCommand scoresCommand(app);
    RunCommands runCommands(app, dbPath);
    LlmCommands llmCommands(app);
#ifdef SLLMR_FRONT
    // The front hands `inspect` to sllmr-engine before parsing; listed here for --help.
    app.add_subcommand("inspect", kInspectDescription)->allow_extras();
#else
    InspectCommand inspectCommand(app, dbPath);
#endif
    SweepCommands sweepCommands(app, dbPath);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? Ok : Usage;
    }

    try {
        for (const auto& execute : std::initializer_list<std::function<std::optional<int>()>>{
                 [&] { return runCommands.execute(); }, [&] { return llmCommands.execute(); },
#ifndef SLLMR_FRONT
                 [&] { return inspectCommand.execute(); },
#endif
                 [&] { return sweepCommands.execute(); },
                 [&] { return datasetCommand.execute(dbPath); },
                 [&] { return scoresCommand.execute(dbPath); }})
            if (const auto code = execute())
                return *code;
    } catch (const Error& e) {
        return errorExit(e);
    } catch (const std::bad_alloc&) {
        std::cerr << "sllmr: out of memory\n";
        return Internal;
    } catch (const std::exception& e) {
        std::cerr << "sllmr: internal error: " << e.what() << '\n';
        return Internal;
    }
    return Ok;
}

}  // namespace sllmr::cli
