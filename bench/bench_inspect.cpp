// Cost of the gate inspector on the bundled demo: opening a RunInspector on a completed run
// (reload of data, scores, model and gate; the gate over every LLM-scored entry) and the
// drill-downs a user clicks through. Trains its own run unless --db/--run name one. Not a test:
// prints PASS/FAIL against the targets and exits 0 whenever it could measure.
#include "common/error.h"
#include "common/torch_runtime.h"
#include "inspect/gate_inspector.h"
#include "run/runner.h"
#include "store/experiment_store.h"
#include "train/run_config.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace sllmr;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Series
{
    std::vector<double> v;
    double median() const
    {
        auto s = v;
        std::sort(s.begin(), s.end());
        return s.empty() ? 0.0 : s[s.size() / 2];
    }
    double max() const { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }
};

}  // namespace

int main(int argc, char** argv)
{
    std::string db;
    std::int64_t runId = 0;
    std::string model = "mf";
    int epochs = 5;
    int reps = 3;
    int threads = 2;
    for (int k = 1; k < argc; ++k) {
        const std::string a = argv[k];
        auto next = [&]() -> std::string {
            if (k + 1 >= argc) {
                fmt::print(stderr, "{} needs a value\n", a);
                std::exit(1);
            }
            return argv[++k];
        };
        if (a == "--db")
            db = next();
        else if (a == "--run")
            runId = std::stoll(next());
        else if (a == "--model")
            model = next();
        else if (a == "--epochs")
            epochs = std::stoi(next());
        else if (a == "--reps")
            reps = std::stoi(next());
        else if (a == "--threads")
            threads = std::stoi(next());
        else {
            fmt::print(stderr,
                       "usage: bench_inspect [--db FILE --run N] [--model mf|deepfm|dcnv2] "
                       "[--epochs N] [--reps N] [--threads N]\n");
            return 1;
        }
    }
    try {
        configureTorch(threads);
        fs::path scratch;
        if (db.empty()) {
            scratch = fs::temp_directory_path() / fmt::format("bench_inspect_{}", ::getpid());
            fs::create_directories(scratch);
            db = (scratch / "experiments.db").string();
        }
        ExperimentStore store(db);
        if (runId == 0) {
            // Through JSON, so that the template's demo: paths resolve.
            RunConfig c = runConfigFromJson(toJson(defaultRunConfig()));
            c.model.type = model;
            c.train.epochs = epochs;
            c.train.threads = threads;
            const auto t = Clock::now();
            const auto outcome = executeRun(c, store);
            runId = outcome.runId;
            fmt::print("trained run {} ({} / selective / reliability, {} epochs) in {:.1f} s\n",
                       runId, model, epochs, since(t));
        }

        Series open;
        for (int r = 0; r < reps; ++r) {
            const auto t = Clock::now();
            const RunInspector inspector(store, runId);
            open.v.push_back(since(t));
        }
        const RunInspector inspector(store, runId);
        const auto& info = inspector.run();
        fmt::print("run {}: {} users, {} items, {} LLM-scored entries, model {}\n", runId,
                   info.users, info.items, info.scoredEntries, info.model);

        Series views;
        for (int r = 0; r < reps; ++r) {
            const auto t = Clock::now();
            (void)inspector.coldTailGrid();
            (void)inspector.histogram();
            (void)inspector.finalBins();
            (void)inspector.epochs();
            views.v.push_back(since(t));
        }
        // Every user with LLM scores, and the 50 most often scored items.
        Series user, item;
        std::size_t pairs = 0;
        for (std::int64_t u = 1; u <= 610; ++u) {
            UserDrillDown d;
            const auto t = Clock::now();
            try {
                d = inspector.user(std::to_string(u));
            } catch (const Error&) {
                continue;
            }
            user.v.push_back(since(t));
            pairs = std::max(pairs, d.pairs.size());
        }
        for (const char* id :
             {"296", "318", "356", "593", "2571", "260", "50", "1", "110", "858"}) {
            const auto t = Clock::now();
            try {
                (void)inspector.item(id);
            } catch (const Error&) {
                continue;
            }
            item.v.push_back(since(t));
        }
        Series find;
        for (const char* text : {"star", "godfather", "1", "zzzz"}) {
            const auto t = Clock::now();
            (void)inspector.find(text, 10);
            find.v.push_back(since(t));
        }
        fmt::print("\n| step | n | median s | max s | target | |\n|---|---:|---:|---:|---|---|\n");
        auto row = [](const char* step, const Series& s, double target) {
            fmt::print("| {} | {} | {:.4f} | {:.4f} | <= {} s | {} |\n", step, s.v.size(),
                       s.median(), s.max(), target, s.max() <= target ? "PASS" : "FAIL");
        };
        row("open the inspector", open, 2.0);
        row("grid + histogram + bins + epochs", views, 0.5);
        row("user drill-down", user, 0.5);
        row("item drill-down", item, 0.5);
        row("find", find, 0.5);
        fmt::print("\nlargest user drill-down: {} candidate pairs\n", pairs);
        if (!scratch.empty()) {
            std::error_code ec;
            fs::remove_all(scratch, ec);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_inspect: {}\n", e.what());
        return 1;
    }
    return 0;
}
