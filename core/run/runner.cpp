#include "run/runner.h"

#include "common/error.h"
#include "common/torch_runtime.h"
#include "data/loaders.h"
#include "eval/evaluator.h"
#include "train/reference_run.h"
#include "train/run_checks.h"
#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Checkpoint protocol. After epoch k:
//   1. the parameters go to epoch-k.pt (written whole, then renamed; nothing refers to it yet);
//   2. the epoch's metrics and gate bins are stored in one transaction;
//   3. state.json is replaced (write, rename): it now names epoch k. This is the commit point;
//   4. best.pt is refreshed when k is the best epoch and unreferenced epoch files are deleted.
// A kill before 3 leaves state.json naming epoch k-1: a resume discards stored rows of epochs
// after it and trains epoch k again, which gives the same rows (training is deterministic in the
// seed and the epoch). A checkpoint is never ahead of the stored rows; should it be (a
// checkpoint of an older version of the program), the resume starts the run over.

// SLLMR_FAULT=<point>:<epoch> kills the process with SIGKILL at that point of that epoch, so that
// tests can check the protocol above with a real process. Points: before-epoch-rows,
// between-metrics-and-checkpoint, after-checkpoint. Unset in normal use.
void faultPoint(const char* point, int epoch)
{
    static const std::string fault = [] {
        const char* value = std::getenv("SLLMR_FAULT");
        return value ? std::string(value) : std::string();
    }();
    if (!fault.empty() && fault == std::string(point) + ":" + std::to_string(epoch)) {
        std::raise(SIGKILL);
        std::_Exit(137);
    }
}

fs::path epochFile(const fs::path& dir, int epoch)
{
    return dir / ("epoch-" + std::to_string(epoch) + ".pt");
}

// Written next to the checkpoint after every epoch; what a resume needs besides the tensors.
struct ResumeState
{
    int epoch = 0;  // last finished epoch
    int bestEpoch = 0;
    double bestAuc = -1;
    int sinceBest = 0;
};

void writeFileAtomically(const fs::path& path, const std::function<void(const std::string&)>& write)
{
    const auto tmp = path.string() + ".tmp";
    write(tmp);
    fs::rename(tmp, path);
}

void saveState(const fs::path& dir, const ResumeState& s)
{
    writeFileAtomically(dir / "state.json", [&](const std::string& tmp) {
        std::ofstream out(tmp);
        out << json{{"epoch", s.epoch},
                    {"best_epoch", s.bestEpoch},
                    {"best_auc", s.bestAuc},
                    {"since_best", s.sinceBest}}
                   .dump();
        if (!out)
            throw Error(ErrorKind::Store, "cannot write the run state", tmp, 0,
                        "check the free disk space and permissions next to experiments.db");
    });
}

std::optional<ResumeState> loadState(const fs::path& dir)
{
    std::ifstream in(dir / "state.json");
    if (!in)
        return std::nullopt;
    const auto j = json::parse(in, nullptr, false);
    if (j.is_discarded())
        return std::nullopt;
    ResumeState s;
    try {
        s.epoch = j.value("epoch", 0);
        s.bestEpoch = j.value("best_epoch", 0);
        // NaN is written as null (a validation AUC that could not be computed).
        if (j.contains("best_auc"))
            s.bestAuc = j["best_auc"].is_null() ? std::nan("") : j["best_auc"].get<double>();
        s.sinceBest = j.value("since_best", 0);
    } catch (const json::exception&) {
        return std::nullopt;  // not a state this program wrote: the run starts over
    }
    return s;
}

std::vector<EpochMetric> epochMetrics(const EpochResult& r)
{
    std::vector<EpochMetric> m{{r.epoch, "base_loss", r.baseLoss},
                               {r.epoch, "llm_loss", r.llmLoss},
                               {r.epoch, "gate_loss", r.gateLoss},
                               {r.epoch, "seconds", r.seconds},
                               {r.epoch, "pairs", static_cast<double>(r.pairs)},
                               {r.epoch, "labeled_pairs", static_cast<double>(r.labeledPairs)},
                               {r.epoch, "gate_w_cold", r.gateParameters[0]},
                               {r.epoch, "gate_w_tail", r.gateParameters[1]},
                               {r.epoch, "gate_w_q", r.gateParameters[2]},
                               {r.epoch, "gate_b", r.gateParameters[3]}};
    for (const auto& [seg, auc] : r.validationAuc)
        m.push_back({r.epoch, "val_auc." + seg, auc});
    for (const auto& [seg, g] : r.gate) {
        m.push_back({r.epoch, "gate_mean." + seg, g.mean()});
        m.push_back({r.epoch, "gate_active." + seg, g.activeShare()});
    }
    return m;
}

// Records the dataset and score set a run was trained on and links the run to them, so that a
// later reader can check that the files did not change since.
void linkInputs(ExperimentStore& store, std::int64_t runId, const Dataset& dataset,
                const Segmentation& segmentation, const ScoreSet* scores)
{
    DatasetRecord ds;
    ds.name = dataset.spec.name;
    ds.source = dataset.spec.path;
    ds.contentHash = dataset.contentHash;
    ds.specJson = json(dataset.spec).dump(-1, ' ', false, json::error_handler_t::replace);
    ds.statsJson =
        datasetSummary(dataset, segmentation).dump(-1, ' ', false, json::error_handler_t::replace);
    const auto datasetId = store.addDataset(ds);
    std::optional<std::int64_t> scoreSetId;
    if (scores) {
        ScoreSetRecord sc;
        sc.datasetId = datasetId;
        sc.name = scores->spec.name;
        sc.source = scores->spec.source();
        sc.contentHash = scores->report.contentHash;
        sc.specJson = json(scores->spec).dump(-1, ' ', false, json::error_handler_t::replace);
        sc.reportJson =
            scoreReportJson(scores->report).dump(-1, ' ', false, json::error_handler_t::replace);
        scoreSetId = store.addScoreSet(sc);
    }
    store.setRunInputs(runId, datasetId, scoreSetId);
}

// A resumed run continues on the inputs it started on: the dataset and the score set (a file's
// bytes, or a simulated LLM's output) must hash as the stored ones, or the epochs before and after
// the break would be trained on different data. The hash covers the bytes and the settings they
// are read with. Throws InputsChanged, which leaves the run's status as it was.
struct InputsChanged : Error
{
    using Error::Error;
};

void checkResumedDataset(const ExperimentStore& store, std::int64_t runId, const Dataset& dataset)
{
    const auto rec = store.run(runId);
    const auto before = rec && rec->datasetId ? store.dataset(*rec->datasetId) : std::nullopt;
    if (before && before->contentHash != dataset.contentHash)
        throw InputsChanged(
            ErrorKind::BadInput,
            "cannot resume run " + std::to_string(runId) +
                ": the dataset changed since the run started (its file, or the settings it is "
                "read with)",
            dataset.spec.path, 0,
            "restore the file the run started on and resume, or start a new run with the run's "
            "config ('sllmr runs show " +
                std::to_string(runId) + "'); the epochs stored so far are kept");
}

void checkResumedScores(const ExperimentStore& store, std::int64_t runId, const ScoreSet& scores)
{
    const auto rec = store.run(runId);
    const auto before = rec && rec->scoreSetId ? store.scoreSet(*rec->scoreSetId) : std::nullopt;
    if (before && before->contentHash != scores.report.contentHash)
        throw InputsChanged(
            ErrorKind::BadInput,
            "cannot resume run " + std::to_string(runId) +
                ": the LLM scores changed since the run started",
            scores.spec.source(), 0,
            scores.spec.simulate
                ? "the simulated LLM now gives other scores (another build of the program?); "
                  "start a new run with the run's config"
                : "restore the score file the run started on and resume, or start a new run "
                  "with the run's config; the epochs stored so far are kept");
}

// Deletes the epoch-*.pt files (and leftovers of interrupted writes) except those of `keep`.
void removeEpochFiles(const fs::path& dir, const std::vector<int>& keep)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const bool epochFileName = name.rfind("epoch-", 0) == 0;
        const bool leftover = name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0;
        if (!epochFileName && !leftover && name != "last.pt")
            continue;
        const bool kept = std::any_of(keep.begin(), keep.end(), [&](int epoch) {
            return entry.path().filename() == epochFile(dir, epoch).filename();
        });
        if (!kept)
            fs::remove(entry.path(), ec);
    }
}

// best.pt holds the best epoch's parameters for the gate inspector; a copy of its epoch file.
void refreshBest(const fs::path& dir, int bestEpoch)
{
    writeFileAtomically(dir / "best.pt", [&](const std::string& tmp) {
        fs::copy_file(epochFile(dir, bestEpoch), tmp, fs::copy_options::overwrite_existing);
    });
}

// True when every epoch 1..epoch has its rows stored (a base loss, written with the others).
bool epochsStored(const ExperimentStore& store, std::int64_t runId, int epoch)
{
    std::vector<bool> seen(static_cast<std::size_t>(epoch) + 1, false);
    for (const auto& m : store.epochMetrics(runId))
        if (m.key == "base_loss" && m.epoch >= 1 && m.epoch <= epoch)
            seen[static_cast<std::size_t>(m.epoch)] = true;
    return std::all_of(seen.begin() + 1, seen.end(), [](bool b) { return b; });
}

// Brings a resumed run to its last committed epoch: loads that checkpoint and discards the rows of
// later epochs (they are trained again). Starts over when the checkpoint cannot be trusted.
ResumeState reconcile(const fs::path& dir, ExperimentStore& store, std::int64_t runId,
                      Trainer& trainer)
{
    const std::optional<ResumeState> saved = loadState(dir);
    const bool usable = saved && saved->epoch > 0 && saved->bestEpoch > 0 &&
                        fs::exists(epochFile(dir, saved->epoch)) &&
                        fs::exists(epochFile(dir, saved->bestEpoch)) &&
                        epochsStored(store, runId, saved->epoch);
    if (!usable) {
        store.discardEpochsAfter(runId, 0);
        removeEpochFiles(dir, {});
        return {};
    }
    trainer.loadCheckpoint(epochFile(dir, saved->epoch).string());
    store.discardEpochsAfter(runId, saved->epoch);
    refreshBest(dir, saved->bestEpoch);
    removeEpochFiles(dir, {saved->epoch, saved->bestEpoch});
    return *saved;
}

// Trains epochs state.epoch + 1 .. config.train.epochs (or until patience runs out), committing
// each as described above. False when cancelled.
bool trainEpochs(Trainer& trainer, const RunConfig& config, ExperimentStore& store,
                 std::int64_t runId, const fs::path& dir, const TrainControl& control,
                 const RunCallbacks& cb, ResumeState& state)
{
    for (int epoch = state.epoch + 1; epoch <= config.train.epochs; ++epoch) {
        EpochResult result;
        if (!trainer.trainEpoch(epoch, control, result))
            return false;
        const double auc =
            result.validationAuc.count("overall") ? result.validationAuc.at("overall") : -1.0;
        ResumeState next = state;
        next.epoch = epoch;
        if (auc > next.bestAuc || next.bestEpoch == 0) {
            next.bestAuc = auc;
            next.bestEpoch = epoch;
            next.sinceBest = 0;
        } else {
            ++next.sinceBest;
        }
        writeFileAtomically(epochFile(dir, epoch),
                            [&](const std::string& tmp) { trainer.saveCheckpoint(tmp); });
        faultPoint("before-epoch-rows", epoch);
        store.addEpoch(runId, epochMetrics(result), result.gateBins);
        faultPoint("between-metrics-and-checkpoint", epoch);
        saveState(dir, next);
        state = next;
        faultPoint("after-checkpoint", epoch);
        if (state.bestEpoch == epoch)
            refreshBest(dir, epoch);
        removeEpochFiles(dir, {state.epoch, state.bestEpoch});
        if (cb.onEpoch)
            cb.onEpoch(result);
        if (config.train.patience > 0 && state.sinceBest >= config.train.patience)
            break;
    }
    return true;
}

// Stores the evaluation's segment and interaction metrics; `evaluatedEpoch` (0 for a method
// without training) selects the gate activity stored beside them.
void storeEvaluation(ExperimentStore& store, std::int64_t runId, Evaluation& evaluation,
                     int bestEpoch, int evaluatedEpoch)
{
    std::vector<SegmentMetric> seg;
    for (const auto& [segment, metrics] : evaluation.metrics)
        for (const auto& [metric, value] : metrics)
            seg.push_back({segment, metric, value, evaluation.sizes[segment]});
    seg.push_back(
        {"overall", "best_epoch", static_cast<double>(bestEpoch), evaluation.sizes["overall"]});
    // The gate's activity per segment in the epoch whose parameters were evaluated.
    for (const auto& m : store.epochMetrics(runId)) {
        if (evaluatedEpoch == 0 || m.epoch != evaluatedEpoch)
            continue;
        for (const char* prefix : {"gate_mean.", "gate_active."}) {
            const std::string p(prefix);
            if (m.key.rfind(p, 0) == 0) {
                const auto segment = m.key.substr(p.size());
                seg.push_back(
                    {segment, p.substr(0, p.size() - 1), m.value, evaluation.sizes[segment]});
            }
        }
    }
    store.addSegmentMetrics(runId, seg);
    store.addInteractionMetrics(runId, evaluation.perInteraction);
}

// Appends the warnings the run's notes do not hold yet, one "warning: " line each.
void storeWarnings(ExperimentStore& store, std::int64_t runId,
                   const std::vector<std::string>& warnings)
{
    const auto rec = store.run(runId);
    if (!rec || warnings.empty())
        return;
    std::string notes = rec->notes;
    for (const auto& w : warnings) {
        const std::string line = kWarningPrefix + w;
        if (notes.find(line) != std::string::npos)
            continue;
        notes += (notes.empty() || notes.back() == '\n' ? "" : "\n") + line + "\n";
    }
    if (notes != rec->notes)
        store.setRunNotes(runId, notes, rec->tags);
}

// The activation rate a random gate copies from `referenceRun`: the overall gate mean of the epoch
// whose parameters that run was evaluated with (its best epoch, as 'runs show' reports it).
double referenceActivation(const ExperimentStore& store, std::int64_t referenceRun)
{
    int best = 0;
    for (const auto& m : store.segmentMetrics(referenceRun))
        if (m.segment == "overall" && m.metric == "best_epoch")
            best = static_cast<int>(m.value);
    double rate = -1;
    for (const auto& m : store.epochMetrics(referenceRun))
        if (m.key == "gate_mean.overall" && (best == 0 || m.epoch == best))
            rate = m.value;  // the best epoch's; the last one's for a run without an evaluation
    if (rate < 0)
        throw Error(ErrorKind::Usage,
                    "run " + std::to_string(referenceRun) + " has no gate activation to copy", {},
                    0, "choose a finished selective run as 'gate.reference_run'");
    return rate;
}

// What a run trains on: loaded, checked against the stored hashes on a resume, and linked to the
// run in the store.
struct RunInputs
{
    Dataset dataset;
    Segmentation segmentation;
    std::optional<ScoreSet> scores;
};

RunInputs loadInputs(const RunConfig& config, ExperimentStore& store, std::int64_t runId,
                     bool resuming, const std::atomic<bool>* cancel)
{
    LoadControl load;
    load.cancel = cancel;
    RunInputs in;
    in.dataset = loadDataset(config.dataset, load);
    if (resuming)
        checkResumedDataset(store, runId, in.dataset);
    in.segmentation = computeSegments(in.dataset, config.dataset.segments);
    if (config.scores.given() && config.method.name != MethodName::None)
        in.scores = loadRunScores(config.scores, in.dataset, in.segmentation.tauUser,
                                  in.segmentation.tauItem, load);
    if (resuming && in.scores)
        checkResumedScores(store, runId, *in.scores);
    linkInputs(store, runId, in.dataset, in.segmentation, in.scores ? &*in.scores : nullptr);
    return in;
}

RunOutcome drive(std::int64_t runId, const RunConfig& config, ExperimentStore& store,
                 const RunCallbacks& cb, bool resuming)
{
    RunOutcome outcome;
    outcome.runId = runId;
    const fs::path dir = checkpointDir(store, runId);
    auto stage = [&](const char* s) {
        if (cb.onStage)
            cb.onStage(s);
    };
    const auto before = store.run(runId);
    const RunStatus statusBefore = before ? before->status : RunStatus::Pending;
    const std::string errorBefore = before ? before->error : std::string();
    try {
        store.setRunStatus(runId, RunStatus::Running);
        if (cb.onStarted)
            cb.onStarted(runId);
        // "batch": the trainer's own threads share each batch, LibTorch runs each share on one.
        configureTorch(config.train.parallel == TrainParallel::Batch ? 1 : config.train.threads);

        stage("loading data");
        const RunInputs inputs = loadInputs(config, store, runId, resuming, cb.cancel);
        const Dataset& dataset = inputs.dataset;
        const Segmentation& segmentation = inputs.segmentation;
        const std::optional<ScoreSet>& scores = inputs.scores;
        const auto warn = [&](const std::string& w) {
            if (w.empty())
                return;
            outcome.warnings.push_back(w);
            if (cb.onWarning)
                cb.onWarning(w);
        };
        if (scores)
            warn(heldOutWarning(scores->report));
        const bool reliability = config.method.name == MethodName::Selective &&
                                 config.gate.mode == GateMode::Reliability;
        if (scores && reliability)
            warn(gateSupervisionWarning(
                scoredSupervisionPositives(dataset, *scores, config.gate.supervision),
                config.gate.supervision));
        if (isReferenceMethod(config.method.name)) {
            // Not trained: one evaluation of the non-learned scorer.
            stage("evaluating");
            outcome.evaluation = evaluateReferenceMethod(config, dataset, segmentation,
                                                         scores ? &*scores : nullptr, cb.cancel);
            storeEvaluation(store, runId, outcome.evaluation, 0, 0);
            storeWarnings(store, runId, outcome.warnings);
            store.setRunStatus(runId, RunStatus::Completed);
            outcome.status = RunStatus::Completed;
            return outcome;
        }
        Trainer trainer(config, dataset, segmentation, scores ? &*scores : nullptr);
        if (config.gate.mode == GateMode::Random && config.gate.referenceRun > 0)
            trainer.setRandomRate(referenceActivation(store, config.gate.referenceRun));

        if (!resuming) {
            // A new run never picks up files of an earlier database that had the same path.
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
        fs::create_directories(dir);
        ResumeState state = resuming ? reconcile(dir, store, runId, trainer) : ResumeState{};
        TrainControl control;
        control.cancel = cb.cancel;
        control.onBatch = cb.onBatch;
        stage("training");
        const bool cancelled = !trainEpochs(trainer, config, store, runId, dir, control, cb, state);
        outcome.epochsRun = state.epoch;
        outcome.bestEpoch = state.bestEpoch;
        if (cancelled) {
            store.setRunStatus(runId, RunStatus::Cancelled);
            outcome.status = RunStatus::Cancelled;
            return outcome;
        }

        stage("evaluating");
        if (config.train.restoreBest && state.bestEpoch > 0 && state.bestEpoch != state.epoch)
            trainer.loadCheckpoint(epochFile(dir, state.bestEpoch).string());
        outcome.evaluation =
            evaluate(trainer.model(), dataset, segmentation, scores ? &*scores : nullptr,
                     config.eval, config.seed, cb.cancel);
        storeEvaluation(store, runId, outcome.evaluation, state.bestEpoch,
                        config.train.restoreBest ? state.bestEpoch : state.epoch);
        if (reliability) {
            double labelled = 0;
            double pairs = 0;
            for (const auto& m : store.epochMetrics(runId)) {
                labelled += m.key == "labeled_pairs" ? m.value : 0.0;
                pairs += m.key == "pairs" ? m.value : 0.0;
            }
            warn(labelledPairsWarning(static_cast<std::int64_t>(labelled),
                                      static_cast<std::int64_t>(pairs)));
        }
        storeWarnings(store, runId, outcome.warnings);
        store.setRunStatus(runId, RunStatus::Completed);
        outcome.status = RunStatus::Completed;
        // The run is finished; only the best parameters (best.pt) are worth keeping.
        removeEpochFiles(dir, {});
        return outcome;
    } catch (const InputsChanged&) {
        // Refused before anything ran: the run stays resumable once its inputs are restored.
        store.setRunStatus(runId, statusBefore, errorBefore);
        throw;
    } catch (const Error& e) {
        const auto status =
            e.kind() == ErrorKind::Cancelled ? RunStatus::Cancelled : RunStatus::Failed;
        store.setRunStatus(runId, status, e.what());
        if (status == RunStatus::Cancelled) {
            outcome.status = status;
            return outcome;
        }
        throw;
    } catch (const std::exception& e) {
        store.setRunStatus(runId, RunStatus::Failed, e.what());
        throw Error(ErrorKind::Internal, std::string("training failed: ") + e.what());
    }
}

}  // namespace

RunOutcome executeRun(const RunConfig& config, ExperimentStore& store, const RunCallbacks& cb)
{
    RunRecord rec;
    rec.name = config.name;
    rec.configJson = toJson(config).dump(-1, ' ', false, json::error_handler_t::replace);
    rec.configHash = configHash(config);
    rec.seed = static_cast<std::int64_t>(config.seed);
    rec.softwareVersion = std::string(SLLMR_VERSION) + " (LibTorch " + torchVersion() + ")";
    const auto id = store.createRun(rec);
    return drive(id, config, store, cb, false);
}

RunOutcome resumeRun(std::int64_t runId, ExperimentStore& store, const RunCallbacks& cb)
{
    const auto rec = store.run(runId);
    if (!rec)
        throw Error(ErrorKind::NotFound, "run " + std::to_string(runId) + " does not exist", {}, 0,
                    "'sllmr runs list' shows the runs");
    if (rec->status == RunStatus::Completed)
        throw Error(ErrorKind::Usage, "run " + std::to_string(runId) + " is already completed", {},
                    0, "start a new run with its config instead");
    const json stored = json::parse(rec->configJson, nullptr, false);
    RunConfig config;
    try {
        if (stored.is_discarded())
            throw Error(ErrorKind::Store, "it is not valid JSON");
        config = runConfigFromJson(stored);
    } catch (const Error& e) {
        throw Error(
            ErrorKind::Store,
            "the stored config of run " + std::to_string(runId) + " cannot be used: " + e.problem(),
            store.path(), 0, "start a new run with a config file instead");
    }
    return drive(runId, config, store, cb, true);
}

}  // namespace sllmr
