#include "run/runner.h"

#include "common/error.h"
#include "common/torch_runtime.h"
#include "data/loaders.h"
#include "eval/evaluator.h"
#include "train/trainer.h"

#include <filesystem>
#include <fstream>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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
    s.epoch = j.value("epoch", 0);
    s.bestEpoch = j.value("best_epoch", 0);
    s.bestAuc = j.value("best_auc", -1.0);
    s.sinceBest = j.value("since_best", 0);
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
    ds.specJson = json(dataset.spec).dump();
    ds.statsJson = datasetSummary(dataset, segmentation).dump();
    const auto datasetId = store.addDataset(ds);
    std::optional<std::int64_t> scoreSetId;
    if (scores) {
        ScoreSetRecord sc;
        sc.datasetId = datasetId;
        sc.name = scores->spec.name;
        sc.source = scores->spec.path;
        sc.contentHash = scores->report.contentHash;
        sc.specJson = json(scores->spec).dump();
        sc.reportJson = scoreReportJson(scores->report).dump();
        scoreSetId = store.addScoreSet(sc);
    }
    store.setRunInputs(runId, datasetId, scoreSetId);
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
    try {
        store.setRunStatus(runId, RunStatus::Running);
        if (cb.onStarted)
            cb.onStarted(runId);
        configureTorch(config.train.threads);

        stage("loading data");
        LoadControl load;
        load.cancel = cb.cancel;
        const Dataset dataset = loadDataset(config.dataset, load);
        const Segmentation segmentation = computeSegments(dataset, config.dataset.segments);
        std::optional<ScoreSet> scores;
        if (!config.scores.path.empty() && config.method.name != MethodName::None)
            scores = loadScores(config.scores, dataset, load);

        linkInputs(store, runId, dataset, segmentation, scores ? &*scores : nullptr);
        Trainer trainer(config, dataset, segmentation, scores ? &*scores : nullptr);
        if (config.gate.mode == GateMode::Random && config.gate.referenceRun > 0) {
            const auto ref = store.epochMetrics(config.gate.referenceRun);
            double rate = -1;
            for (const auto& m : ref)
                if (m.key == "gate_mean.overall")
                    rate = m.value;  // the last epoch's
            if (rate < 0)
                throw Error(ErrorKind::Usage,
                            "run " + std::to_string(config.gate.referenceRun) +
                                " has no gate activation to copy",
                            {}, 0, "choose a finished selective run as 'gate.reference_run'");
            trainer.setRandomRate(rate);
        }

        if (!resuming) {
            // A new run never picks up files of an earlier database that had the same path.
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
        fs::create_directories(dir);
        ResumeState state;
        if (resuming) {
            if (auto s = loadState(dir)) {
                state = *s;
                if (state.epoch > 0)
                    trainer.loadCheckpoint((dir / "last.pt").string());
            }
        }

        TrainControl control;
        control.cancel = cb.cancel;
        control.onBatch = cb.onBatch;
        bool cancelled = false;
        stage("training");
        for (int epoch = state.epoch + 1; epoch <= config.train.epochs; ++epoch) {
            EpochResult result;
            if (!trainer.trainEpoch(epoch, control, result)) {
                cancelled = true;
                break;
            }
            const double auc =
                result.validationAuc.count("overall") ? result.validationAuc.at("overall") : -1.0;
            state.epoch = epoch;
            if (auc > state.bestAuc || state.bestEpoch == 0) {
                state.bestAuc = auc;
                state.bestEpoch = epoch;
                state.sinceBest = 0;
                writeFileAtomically(dir / "best.pt",
                                    [&](const std::string& tmp) { trainer.saveCheckpoint(tmp); });
            } else {
                ++state.sinceBest;
            }
            writeFileAtomically(dir / "last.pt",
                                [&](const std::string& tmp) { trainer.saveCheckpoint(tmp); });
            saveState(dir, state);
            store.addEpochMetrics(runId, epochMetrics(result));
            store.addGateBins(runId, result.gateBins);
            if (cb.onEpoch)
                cb.onEpoch(result);
            if (config.train.patience > 0 && state.sinceBest >= config.train.patience)
                break;
        }
        outcome.epochsRun = state.epoch;
        outcome.bestEpoch = state.bestEpoch;
        if (cancelled) {
            store.setRunStatus(runId, RunStatus::Cancelled);
            outcome.status = RunStatus::Cancelled;
            return outcome;
        }

        stage("evaluating");
        if (config.train.restoreBest && state.bestEpoch > 0 && state.bestEpoch != state.epoch)
            trainer.loadCheckpoint((dir / "best.pt").string());
        outcome.evaluation =
            evaluate(trainer.model(), dataset, segmentation, scores ? &*scores : nullptr,
                     config.eval, config.seed, cb.cancel);
        std::vector<SegmentMetric> seg;
        for (const auto& [segment, metrics] : outcome.evaluation.metrics)
            for (const auto& [metric, value] : metrics)
                seg.push_back({segment, metric, value, outcome.evaluation.sizes[segment]});
        seg.push_back({"overall", "best_epoch", static_cast<double>(state.bestEpoch),
                       outcome.evaluation.sizes["overall"]});
        // The gate's activity per segment in the epoch whose parameters were evaluated.
        const int evaluatedEpoch = config.train.restoreBest ? state.bestEpoch : state.epoch;
        for (const auto& m : store.epochMetrics(runId)) {
            if (m.epoch != evaluatedEpoch)
                continue;
            for (const char* prefix : {"gate_mean.", "gate_active."}) {
                const std::string p(prefix);
                if (m.key.rfind(p, 0) == 0) {
                    const auto segment = m.key.substr(p.size());
                    seg.push_back({segment, p.substr(0, p.size() - 1), m.value,
                                   outcome.evaluation.sizes[segment]});
                }
            }
        }
        store.addSegmentMetrics(runId, seg);
        store.addInteractionMetrics(runId, outcome.evaluation.perInteraction);
        store.setRunStatus(runId, RunStatus::Completed);
        outcome.status = RunStatus::Completed;
        // The run is finished; only the best parameters are worth keeping.
        std::error_code ec;
        fs::remove(dir / "last.pt", ec);
        return outcome;
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

std::string checkpointDir(const ExperimentStore& store, std::int64_t runId)
{
    return store.path() + ".checkpoints/run-" + std::to_string(runId);
}

RunOutcome executeRun(const RunConfig& config, ExperimentStore& store, const RunCallbacks& cb)
{
    RunRecord rec;
    rec.name = config.name;
    rec.configJson = toJson(config).dump();
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
    const RunConfig config = runConfigFromJson(json::parse(rec->configJson));
    return drive(runId, config, store, cb, true);
}

}  // namespace sllmr
