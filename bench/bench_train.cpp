// bench_train: training and evaluation cost of the S-LLMR engine on the bundled demo (MovieLens
// ml-latest-small, shipped split, ChatGPT EXP_3 rankings: the default run config) at the paper
// settings (batch 128, dim 64, lr 1e-3, lambda 0.1, K = 4).
//   1. Seconds per epoch (Trainer::trainEpoch, EpochResult::seconds: the batches only, not the
//      validation AUC) for MF and DeepFM with methods none / global (gate off) / selective
//      (reliability gate), median of 3 epochs after 1 warm-up epoch; DCNv2 none / selective.
//   2. Full-ranking evaluation: evaluate() with the default EvalSpec, and the bare
//      BackboneImpl::scoreAll() over every user in chunks of 128 users and in one call.
//   3. Catalogue size: ms per training step (forward + backward + lazy Adam / Adam, as the Trainer
//      splits the parameters) over the same batches with the model built for the real item count
//      and for 10x as many items, with sparse and with dense embedding gradients.
// A benchmark, not a test: targets are reported as PASS/FAIL but never change the exit status.
// See bench/README.md.
#include "common/error.h"
#include "common/torch_runtime.h"
#include "data/dataset.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "eval/evaluator.h"
#include "llm/scores.h"
#include "model/backbone.h"
#include "train/lazy_adam.h"
#include "train/run_config.h"
#include "train/trainer.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#ifndef SLLMR_BENCH_DEMO_DIR
#define SLLMR_BENCH_DEMO_DIR ""
#endif

using Clock = std::chrono::steady_clock;
using namespace sllmr;

namespace {

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0.0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Options
{
    int threads = 2;
    bool quick = false;
    std::string markdown;
    int warmup = -1;      // epochs; -1: default
    int epochs = -1;      // timed epochs for MF; -1: default
    int deepEpochs = -1;  // timed epochs for DeepFM and DCNv2; -1: default
    int steps = -1;       // steps per catalogue pass; -1: default
    std::string only;     // "", "epochs", "catalogue" or "eval"
};

void usage()
{
    std::puts(
        "bench_train [--threads N] [--quick] [--markdown FILE]\n"
        "  --threads N      LibTorch intra-op threads (default 2)\n"
        "  --quick          smoke run: fewer epochs and steps (numbers not meaningful)\n"
        "  --warmup N       warm-up epochs per method (default 1)\n"
        "  --epochs N       timed epochs for MF (default 3)\n"
        "  --deep-epochs N  timed epochs for DeepFM (default 3) and the other CTR backbones\n"
        "                   (default 1)\n"
        "  --steps N        steps per catalogue-size pass (default 200)\n"
        "  --only SECTION   run one section: epochs, catalogue or eval\n"
        "  --markdown FILE  also write the report to FILE (rewritten after every result)");
}

// Report lines, printed as they come; the --markdown file is rewritten after every line so that
// an interrupted run keeps what it measured.
struct Report
{
    std::string text;
    std::string path;
    void line(const std::string& s = {})
    {
        std::fputs((s + "\n").c_str(), stdout);
        std::fflush(stdout);
        text += s + "\n";
        if (!path.empty()) {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out << text;
        }
    }
};

// ---------------------------------------------------------------------------------------------
// 1. Seconds per epoch through the Trainer

struct EpochRow
{
    std::string model, method, gate;
    int timedEpochs = 0;
    double median = 0, min = 0, max = 0;
    double pairsPerEpoch = 0;
};

EpochRow timeEpochs(const RunConfig& base, const std::string& model, const std::string& method,
                    const std::string& gate, int warmup, int timed, const Dataset& ds,
                    const Segmentation& seg, const ScoreSet& scores)
{
    RunConfig cfg = base;
    cfg.model.type = model;
    cfg.method.name = *parseChoice<MethodName>(method);
    cfg.gate.mode = *parseChoice<GateMode>(gate);
    Trainer trainer(cfg, ds, seg, method == "none" ? nullptr : &scores);
    TrainControl control;
    std::vector<double> secs;
    double pairs = 0;
    for (int e = 1; e <= warmup + timed; ++e) {
        EpochResult r;
        trainer.trainEpoch(e, control, r);
        fmt::print(stderr, "  {} {} ({}) epoch {}: {:.2f} s{}\n", model, method, gate, e, r.seconds,
                   e <= warmup ? " (warm-up)" : "");
        if (e > warmup) {
            secs.push_back(r.seconds);
            pairs += static_cast<double>(r.pairs);
        }
    }
    EpochRow row{model,
                 method,
                 gate,
                 timed,
                 median(secs),
                 *std::min_element(secs.begin(), secs.end()),
                 *std::max_element(secs.begin(), secs.end()),
                 pairs / timed};
    return row;
}

// ---------------------------------------------------------------------------------------------
// 2. Full-ranking evaluation

struct EvalRow
{
    std::string model;
    double evaluateSeconds = 0;
    double scoreAllSeconds = 0;
    double scoreAllOneCallSeconds = 0;  // every user in one scoreAll() call
    std::int64_t users = 0;
    std::int64_t items = 0;
    std::string protocol;
};

EvalRow timeEvaluation(const RunConfig& base, const std::string& model, int reps, const Dataset& ds,
                       const Segmentation& seg, const ScoreSet& scores)
{
    RunConfig cfg = base;
    cfg.model.type = model;
    cfg.method.name = MethodName::Selective;
    // Freshly initialised weights, built as the Trainer builds them: the cost of scoring does not
    // depend on the values.
    torch::manual_seed(mixSeed(cfg.seed, 0x11));
    BackboneContext ctx{static_cast<std::int64_t>(ds.numUsers()),
                        static_cast<std::int64_t>(ds.numItems()), &ds.itemInfo, &ds.train};
    auto model_ = makeBackbone(cfg.model, ctx);
    auto& net = *model_;

    EvalRow row;
    row.model = model;
    row.users = ds.numUsers();
    row.items = ds.numItems();
    std::vector<double> ev, sa;
    for (int k = 0; k < reps; ++k) {
        const auto t0 = Clock::now();
        const auto e = evaluate(net, ds, seg, &scores, cfg.eval, cfg.seed);
        ev.push_back(secondsSince(t0));
        row.protocol = e.protocol;
    }
    torch::NoGradGuard noGrad;
    net.eval();
    const auto all = torch::arange(static_cast<std::int64_t>(ds.numUsers()), torch::kLong);
    double checksum = 0;
    for (int k = 0; k < reps; ++k) {
        const auto t0 = Clock::now();
        for (std::int64_t u0 = 0; u0 < all.size(0); u0 += 128) {
            const auto n = std::min<std::int64_t>(128, all.size(0) - u0);
            const auto s = net.scoreAll(all.narrow(0, u0, n));
            checksum += s[0][0].item<double>();
        }
        sa.push_back(secondsSince(t0));
    }
    std::vector<double> one;
    for (int k = 0; k < reps; ++k) {
        const auto t0 = Clock::now();
        const auto s = net.scoreAll(all);
        one.push_back(secondsSince(t0));
        checksum += s.sum().item<double>();
    }
    if (!std::isfinite(checksum))  // uses the scores, so the work cannot be dropped
        fmt::print(stderr, "  {}: non-finite scores\n", model);
    row.evaluateSeconds = median(ev);
    row.scoreAllSeconds = median(sa);
    row.scoreAllOneCallSeconds = median(one);
    return row;
}

// ---------------------------------------------------------------------------------------------
// 3. Step cost against catalogue size

struct StepBatch
{
    torch::Tensor users;  // [B * (1 + negatives)]
    torch::Tensor items;
    torch::Tensor targets;  // 1 for the first B rows, 0 after
};

// Batches of 128 training positives with 4 uniform negatives each, drawn from the real items only
// (the first ds.numItems() rows of every table), so both catalogue sizes see the same rows.
std::vector<StepBatch> makeStepBatches(const Dataset& ds, int count, int batchSize, int negatives,
                                       std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<StepBatch> out;
    const auto n = ds.train.size();
    const auto items = ds.numItems();
    for (int b = 0; b < count; ++b) {
        std::vector<std::int64_t> u, i;
        for (int k = 0; k < batchSize; ++k) {
            const auto& r = ds.train[rng() % n];
            u.push_back(r.user);
            i.push_back(r.item);
        }
        for (int k = 0; k < batchSize; ++k)
            for (int m = 0; m < negatives; ++m) {
                u.push_back(u[static_cast<std::size_t>(k)]);
                i.push_back(static_cast<std::int64_t>(rng() % items));
            }
        auto targets = torch::zeros({static_cast<std::int64_t>(u.size())});
        targets.narrow(0, 0, batchSize).fill_(1.0);
        out.push_back({torch::tensor(u, torch::kLong), torch::tensor(i, torch::kLong), targets});
    }
    return out;
}

// Median over `reps` passes of the mean ms per step over `batches` (after `warmup` steps).
double msPerStep(const ModelSpec& spec, const BackboneContext& ctx,
                 const std::vector<StepBatch>& batches, int warmup, int reps, double lr)
{
    torch::manual_seed(7);
    auto model = makeBackbone(spec, ctx);
    model->train();
    LazyAdam sparse(model->sparseParameters(), lr);
    std::unique_ptr<torch::optim::Adam> dense;
    if (auto d = model->denseParameters(); !d.empty())
        dense = std::make_unique<torch::optim::Adam>(d, torch::optim::AdamOptions(lr));
    auto step = [&](const StepBatch& b) {
        const auto logits = model->forward(b.users, b.items);
        const auto loss = torch::binary_cross_entropy_with_logits(logits, b.targets);
        sparse.zeroGrad();
        if (dense)
            dense->zero_grad();
        loss.backward();
        sparse.step();
        if (dense)
            dense->step();
        return loss.item<double>();
    };
    for (int k = 0; k < warmup; ++k)
        step(batches[static_cast<std::size_t>(k) % batches.size()]);
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        for (const auto& b : batches)
            step(b);
        ms.push_back(1000.0 * secondsSince(t0) / static_cast<double>(batches.size()));
    }
    return median(ms);
}

// The dataset's item features padded with featureless items up to `items`.
ItemInfo paddedItemInfo(const ItemInfo& info, std::int64_t items)
{
    ItemInfo out = info;
    if (out.hasFeatures()) {
        const auto last = out.featureOffsets.back();
        out.featureOffsets.resize(static_cast<std::size_t>(items + 1), last);
    }
    if (out.hasTitles())
        out.titles.resize(static_cast<std::size_t>(items));
    return out;
}

std::string passFail(bool ok)
{
    return ok ? "PASS" : "FAIL";
}

}  // namespace

int main(int argc, char** argv)
{
    Options opt;
    for (int a = 1; a < argc; ++a) {
        const std::string arg = argv[a];
        if (arg == "--threads" && a + 1 < argc)
            opt.threads = std::max(1, std::atoi(argv[++a]));
        else if (arg == "--quick")
            opt.quick = true;
        else if (arg == "--markdown" && a + 1 < argc)
            opt.markdown = argv[++a];
        else if (arg == "--warmup" && a + 1 < argc)
            opt.warmup = std::max(0, std::atoi(argv[++a]));
        else if (arg == "--epochs" && a + 1 < argc)
            opt.epochs = std::max(1, std::atoi(argv[++a]));
        else if (arg == "--deep-epochs" && a + 1 < argc)
            opt.deepEpochs = std::max(1, std::atoi(argv[++a]));
        else if (arg == "--only" && a + 1 < argc)
            opt.only = argv[++a];
        else if (arg == "--steps" && a + 1 < argc)
            opt.steps = std::max(1, std::atoi(argv[++a]));
        else if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        } else {
            usage();
            return 1;
        }
    }

    try {
        if (std::string(SLLMR_BENCH_DEMO_DIR).size() > 0)
            ::setenv("SLLMR_DEMO_DIR", SLLMR_BENCH_DEMO_DIR, /*overwrite=*/0);
        configureTorch(opt.threads);

        // The default config (demo: paths resolved by reading it back) at the paper settings.
        RunConfig cfg = runConfigFromJson(toJson(defaultRunConfig()));
        cfg.train.batchSize = 128;
        cfg.model.dim = 64;
        cfg.train.learningRate = 1e-3;
        cfg.method.lambda = 0.1;
        cfg.method.pairsPerUser = 4;

        const int warmup = opt.warmup >= 0 ? opt.warmup : 1;
        const int timed = opt.epochs > 0 ? opt.epochs : (opt.quick ? 1 : 3);
        const int deepTimed = opt.deepEpochs > 0 ? opt.deepEpochs : (opt.quick ? 1 : 3);
        const int dcnTimed = opt.deepEpochs > 0 ? opt.deepEpochs : 1;
        const int evalReps = opt.quick ? 1 : 3;
        const int steps = opt.steps > 0 ? opt.steps : (opt.quick ? 30 : 200);
        const int stepWarmup = opt.quick ? 5 : 20;
        const int stepReps = opt.quick ? 1 : 3;

        const auto tLoad = Clock::now();
        const Dataset ds = loadDataset(cfg.dataset);
        const Segmentation seg = computeSegments(ds, cfg.dataset.segments);
        const ScoreSet scores = loadScores(cfg.scores, ds);
        const double loadSeconds = secondsSince(tLoad);

        Report rep;
        rep.path = opt.markdown;
        rep.line("## bench_train results");
        rep.line();
        rep.line(fmt::format(
            "Data: {} ({} users, {} items, {} train / {} validation / {} test interactions), "
            "scores: {} ({} matched); loaded in {:.2f} s.",
            cfg.dataset.name, ds.numUsers(), ds.numItems(), ds.train.size(), ds.validation.size(),
            ds.test.size(), cfg.scores.name, scores.size(), loadSeconds));
        rep.line(fmt::format(
            "Settings: batch {}, dim {}, lr {}, lambda {}, K {}, {} negatives (BCE), LibTorch {} "
            "with {} intra-op thread(s){}.",
            cfg.train.batchSize, cfg.model.dim, cfg.train.learningRate, cfg.method.lambda,
            cfg.method.pairsPerUser, cfg.train.negatives, torchVersion(), torchThreads(),
            opt.quick ? ", --quick (smoke run, numbers not meaningful)" : ""));
        rep.line();

        // Sections run in order of priority (cheap and most wanted first); every row is
        // printed (and written to --markdown) as soon as it is measured.
        std::map<std::string, double> noneSeconds;
        auto epochTable = [&](const std::string& title,
                              const std::vector<std::array<std::string, 3>>& plans, int n) {
            rep.line(
                fmt::format("### {} (median of {} timed epoch(s) after {} warm-up epoch(s); "
                            "{} batches of {} positives)",
                            title, n, warmup, (ds.train.size() + 127) / 128, cfg.train.batchSize));
            rep.line();
            rep.line(
                "| model | method | gate | timed epochs | s/epoch (median) | min | max | LLM "
                "pairs / epoch | x none | target |");
            rep.line("|---|---|---|---:|---:|---:|---:|---:|---:|---|");
            for (const auto& p : plans) {
                const auto r = timeEpochs(cfg, p[0], p[1], p[2], warmup, n, ds, seg, scores);
                if (r.method == "none")
                    noneSeconds[r.model] = r.median;
                const double none = noneSeconds.count(r.model) ? noneSeconds[r.model] : 0.0;
                const double ratio = none > 0 ? r.median / none : 0.0;
                const std::string target =
                    r.method == "selective" ? "<= 1.3: " + passFail(ratio <= 1.3) : "";
                rep.line(
                    fmt::format("| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.0f} | "
                                "{:.2f} | {} |",
                                r.model, r.method, r.gate, r.timedEpochs, r.median, r.min, r.max,
                                r.pairsPerEpoch, ratio, target));
            }
            rep.line();
        };

        auto want = [&](const char* section) { return opt.only.empty() || opt.only == section; };

        // 1a. MF epochs.
        if (want("epochs"))
            epochTable("1a. Seconds per epoch, MF",
                       {{"mf", "none", "off"},
                        {"mf", "global", "off"},
                        {"mf", "selective", "reliability"}},
                       timed);

        // 3. Catalogue size.
        if (want("catalogue")) {
            const auto batches = makeStepBatches(ds, steps, cfg.train.batchSize,
                                                 cfg.train.negatives, mixSeed(cfg.seed, 0x77));
            const std::int64_t items1 = ds.numItems();
            const std::int64_t items10 = 10 * items1;
            const ItemInfo info10 = paddedItemInfo(ds.itemInfo, items10);
            rep.line(fmt::format(
                "### 3. Step cost against catalogue size ({} steps of {} positives + {} negatives "
                "each, "
                "median of {} pass(es) after {} warm-up steps; items drawn from the real {} only)",
                steps, cfg.train.batchSize, cfg.train.batchSize * cfg.train.negatives, stepReps,
                stepWarmup, items1));
            rep.line();
            rep.line(
                fmt::format("| model | embedding gradients | ms/step at {} items (1x) | ms/step "
                            "at {} items (10x) | 10x / 1x | target |",
                            items1, items10));
            rep.line("|---|---|---:|---:|---:|---|");
            for (const std::string model : {"mf", "deepfm"})
                for (const bool sparse : {true, false}) {
                    ModelSpec spec = cfg.model;
                    spec.type = model;
                    spec.sparseEmbeddings = sparse;
                    BackboneContext c1{ds.numUsers(), items1, &ds.itemInfo};
                    BackboneContext c10{ds.numUsers(), items10, &info10};
                    fmt::print(stderr, "  steps {} {}\n", model, sparse ? "sparse" : "dense");
                    const double ms1 =
                        msPerStep(spec, c1, batches, stepWarmup, stepReps, cfg.train.learningRate);
                    const double ms10 =
                        msPerStep(spec, c10, batches, stepWarmup, stepReps, cfg.train.learningRate);
                    const double ratio = ms1 > 0 ? ms10 / ms1 : 0.0;
                    rep.line(fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {} |", model,
                                         sparse ? "sparse (default)" : "dense", ms1, ms10, ratio,
                                         sparse ? "flat (<= 1.2): " + passFail(ratio <= 1.2)
                                                : std::string("(grows)")));
                }
            rep.line();
        }

        // 2. Evaluation.
        if (want("eval")) {
            rep.line(
                fmt::format("### 2. Full-ranking evaluation (median of {} run(s); all {} users x "
                            "{} items; scoreAll() in chunks of 128 users as evaluate() does)",
                            evalReps, ds.numUsers(), ds.numItems()));
            rep.line();
            rep.line(
                "| model | evaluate() s | scoreAll() all users s | scoreAll() one call s | "
                "target |");
            rep.line("|---|---:|---:|---:|---|");
            std::string protocol;
            for (const std::string& model : backboneTypes()) {
                fmt::print(stderr, "  evaluation {}\n", model);
                const auto r = timeEvaluation(cfg, model, evalReps, ds, seg, scores);
                protocol = r.protocol;
                rep.line(fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {} |", r.model,
                                     r.evaluateSeconds, r.scoreAllSeconds, r.scoreAllOneCallSeconds,
                                     r.model == "mf" ? "< 2 s: " + passFail(r.evaluateSeconds < 2.0)
                                                     : std::string()));
            }
            rep.line();
            rep.line(fmt::format(
                "evaluate() protocol: {}; metrics at K = 10, 20 (default EvalSpec).", protocol));
            rep.line();
        }

        // 1b. DeepFM and DCNv2 epochs (the slow part).
        if (want("epochs")) {
            epochTable("1b. Seconds per epoch, DeepFM",
                       {{"deepfm", "none", "off"},
                        {"deepfm", "global", "off"},
                        {"deepfm", "selective", "reliability"}},
                       deepTimed);
            epochTable("1c. Seconds per epoch, DCNv2",
                       {{"dcnv2", "none", "off"}, {"dcnv2", "selective", "reliability"}}, dcnTimed);
            epochTable("1d. Seconds per epoch, DCNv1, xDeepFM, DIN, AutoInt",
                       {{"dcnv1", "none", "off"},
                        {"dcnv1", "selective", "reliability"},
                        {"xdeepfm", "none", "off"},
                        {"xdeepfm", "selective", "reliability"},
                        {"din", "none", "off"},
                        {"din", "selective", "reliability"},
                        {"autoint", "none", "off"},
                        {"autoint", "selective", "reliability"}},
                       dcnTimed);
        }
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_train: {}\n", e.what());
        return 1;
    }
}
