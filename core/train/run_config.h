#pragma once
// RunConfig: one JSON document that describes a run completely: dataset (+ split and segments),
// LLM score file (+ normalization), backbone, training, method, gate, evaluation and seed. It is
// stored with the run; its hash identifies identical configs. Reading is strict: unknown keys and
// out-of-range values are Error(Usage) naming the key. Relative paths resolve against the config
// file's folder; "demo:REL" names a file of the bundled demo from any folder.
#include "data/dataset_spec.h"
#include "llm/scores.h"
#include "model/model_spec.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct TrainSpec
{
    std::string loss = "bce";  // "bce" with `negatives` sampled negatives per positive, or "bpr"
    int negatives = 4;
    double learningRate = 1e-3;
    int batchSize = 128;
    int epochs = 30;
    int patience = 3;  // epochs without a better validation AUC before stopping; 0: off
    bool restoreBest = true;
    int threads = 0;  // intra-op threads; 0: LibTorch's default
};

struct MethodSpec
{
    // "none", "kd" (global distillation), "global" (hinge, gate off), "pointwise" (MSE),
    // "selective" (hinge with the gate); non-learned reference rows (train/reference_methods.h):
    // "mostpop", "itemknn", "llm"
    std::string name = "selective";
    double lambda = 0.1;
    double margin = 1.0;
    int pairsPerUser = 4;      // K: kept pairs per user and batch
    int candidateFactor = 4;   // pairs are the K largest |r_i - r_j| of factor*K random candidates
    double temperature = 1.0;  // kd
    int neighbours = 50;       // itemknn: k nearest items kept per item
};

struct GateSpec
{
    // "off", "paper", "reliability", "threshold", "random"
    std::string mode = "reliability";
    bool useCold = true;
    bool useTail = true;
    bool useUncertainty = true;
    // q(u,i): "margin" (a) 2(1-max(p,1-p)), "entropy" (b) binary entropy in bits, "dropout" (c)
    // variance of p over dropout passes, scaled to [0,1].
    std::string uncertainty = "entropy";
    int dropoutPasses = 5;
    std::optional<double> tauUser;  // Cold(u) = |H(u)| < tau_u; default: the cold segment's
    std::optional<double> tauItem;  // Tail(i) = pop(i) < tau_i; default: the tail segment's
    double tauQ = 0.5;              // threshold mode: q > tau_q
    std::string rule = "any";       // threshold mode: "any" or "all" enabled conditions
    bool hard = false;              // a -> 1[a > tau_a]
    double tauA = 0.5;
    double randomRate = 0.5;            // random mode: Bernoulli rate...
    std::int64_t referenceRun = 0;      // ...or the mean activation of this earlier run (0: none)
    std::string supervision = "train";  // reliability labels from "train" or "validation" positives
    double learningRate = 1e-2;         // gate parameters (paper and reliability modes)
    double lossWeight = 1.0;            // weight of the reliability BCE in the total loss
};

struct EvalSpec
{
    std::vector<int> ks = {10, 20};
    // "full": every test interaction against all the user's negatives (the paper's protocol);
    // "sampled": against `negatives` seeded random negatives. Reports say which.
    std::string mode = "full";
    int negatives = 99;
    double userShare = 1.0;        // seeded share of test users evaluated (1: all)
    int validationNegatives = 99;  // validation AUC per epoch on sampled negatives (0: full)
};

struct RunConfig
{
    std::string name;
    DatasetSpec dataset;
    ScoreFileSpec scores;
    ModelSpec model;
    TrainSpec train;
    MethodSpec method;
    GateSpec gate;
    EvalSpec eval;
    std::uint64_t seed = 42;
};

nlohmann::json toJson(const RunConfig& config);
// Strict reading; `baseDir` resolves relative paths ("" leaves them as they are).
RunConfig runConfigFromJson(const nlohmann::json& j, const std::string& baseDir = {});
RunConfig loadRunConfig(const std::string& path);
// Stable hash of the config as stored (paths included, the display name excluded).
std::string configHash(const RunConfig& config);

// The default config: MF on the bundled demo's shipped split with the ChatGPT EXP_3 rankings.
RunConfig defaultRunConfig();

struct ConfigKeyDoc
{
    std::string key;
    std::string type;
    std::string defaultValue;
    std::string range;
    std::string meaning;
};
// Every key of a run config with its meaning, default and allowed range.
std::vector<ConfigKeyDoc> describeRunConfig();

// The bundled demo folder: $SLLMR_DEMO_DIR, <exe>/../share/sllmr/demo, or the source tree's
// resources/demo; empty when none exists.
std::string demoDir();
// Resolves "demo:REL" against demoDir() and relative paths against `baseDir`.
std::string resolveDataPath(const std::string& path, const std::string& baseDir);

}  // namespace sllmr
