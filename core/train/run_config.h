#pragma once
// RunConfig: one JSON document that describes a run completely: dataset (+ split and segments),
// LLM score file (+ normalization), backbone, training, method, gate, evaluation and seed. It is
// stored with the run; its hash identifies identical configs. Reading is strict: unknown keys and
// out-of-range values are Error(Usage) naming the key; named choices (method, gate mode, ...) are
// parsed into enums here, once. Relative paths resolve against the config file's folder;
// "demo:REL" names a file of the bundled demo from any folder (common/paths.h).
#include "data/dataset_spec.h"
#include "eval/eval_spec.h"
#include "llm/scores.h"
#include "model/model_spec.h"
#include "train/gate_spec.h"
#include "train/train_spec.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sllmr {

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

}  // namespace sllmr
