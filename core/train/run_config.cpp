#include "train/run_config.h"

#include "common/error.h"
#include "common/hash.h"
#include "common/json_util.h"
#include "common/paths.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace sllmr {
using json_util::Json;
namespace fs = std::filesystem;

namespace {

Json trainJson(const TrainSpec& t)
{
    Json j{{"loss", toString(t.loss)},
           {"negatives", t.negatives},
           {"learning_rate", t.learningRate},
           {"batch_size", t.batchSize},
           {"epochs", t.epochs},
           {"patience", t.patience},
           {"restore_best", t.restoreBest},
           {"threads", t.threads}};
    // Written only when set: the configs stored before the key existed keep their hashes.
    if (t.parallel != TrainParallel::Ops)
        j["parallel"] = toString(t.parallel);
    return j;
}

Json methodJson(const MethodSpec& m)
{
    return Json{{"name", toString(m.name)},
                {"lambda", m.lambda},
                {"margin", m.margin},
                {"pairs_per_user", m.pairsPerUser},
                {"candidate_factor", m.candidateFactor},
                {"temperature", m.temperature},
                {"neighbours", m.neighbours}};
}

Json optionalJson(const std::optional<double>& v)
{
    return v ? Json(*v) : Json(nullptr);
}

Json gateJson(const GateSpec& g)
{
    return Json{
        {"mode", toString(g.mode)},
        {"inputs", {{"cold", g.useCold}, {"tail", g.useTail}, {"uncertainty", g.useUncertainty}}},
        {"uncertainty", toString(g.uncertainty)},
        {"dropout_passes", g.dropoutPasses},
        {"tau_u", optionalJson(g.tauUser)},
        {"tau_i", optionalJson(g.tauItem)},
        {"tau_q", g.tauQ},
        {"rule", toString(g.rule)},
        {"hard", g.hard},
        {"tau_a", g.tauA},
        {"random_rate", g.randomRate},
        {"reference_run", g.referenceRun},
        {"supervision", toString(g.supervision)},
        {"learning_rate", g.learningRate},
        {"loss_weight", g.lossWeight}};
}

Json evalJson(const EvalSpec& e)
{
    return Json{{"ks", e.ks},
                {"mode", e.mode},
                {"negatives", e.negatives},
                {"user_share", e.userShare},
                {"validation_negatives", e.validationNegatives}};
}

void readOptional(const Json& j, const char* key, std::optional<double>& out, double lo, double hi,
                  const std::string& prefix)
{
    if (!j.contains(key) || j.at(key).is_null())
        return;
    double v = 0;
    json_util::readRange(j, key, v, lo, hi, prefix);
    out = v;
}

}  // namespace

Json toJson(const RunConfig& c)
{
    Json scores = c.scores;
    return Json{{"name", c.name},
                {"seed", c.seed},
                {"dataset", c.dataset},
                {"scores", scores},
                {"model", c.model},
                {"train", trainJson(c.train)},
                {"method", methodJson(c.method)},
                {"gate", gateJson(c.gate)},
                {"eval", evalJson(c.eval)}};
}

namespace {

void readTrain(const Json& t, TrainSpec& train)
{
    using namespace json_util;
    const std::string p = "train";
    requireKeys(t,
                {"loss", "negatives", "learning_rate", "batch_size", "epochs", "patience",
                 "restore_best", "threads", "parallel"},
                p);
    readChoice(t, "loss", train.loss, p);
    readRange(t, "negatives", train.negatives, 1, 1000, p);
    readRange(t, "learning_rate", train.learningRate, 1e-7, 1.0, p);
    readRange(t, "batch_size", train.batchSize, 1, 1 << 20, p);
    readRange(t, "epochs", train.epochs, 1, 10000, p);
    readRange(t, "patience", train.patience, 0, 10000, p);
    read(t, "restore_best", train.restoreBest, p);
    readRange(t, "threads", train.threads, 0, 256, p);
    readChoice(t, "parallel", train.parallel, p);
}

void readMethod(const Json& m, MethodSpec& method)
{
    using namespace json_util;
    const std::string p = "method";
    requireKeys(m,
                {"name", "lambda", "margin", "pairs_per_user", "candidate_factor", "temperature",
                 "neighbours"},
                p);
    readChoice(m, "name", method.name, p);
    readRange(m, "lambda", method.lambda, 0.0, 1000.0, p);
    readRange(m, "margin", method.margin, 0.0, 100.0, p);
    readRange(m, "pairs_per_user", method.pairsPerUser, 1, 10000, p);
    readRange(m, "candidate_factor", method.candidateFactor, 1, 100, p);
    readRange(m, "temperature", method.temperature, 1e-3, 1000.0, p);
    readRange(m, "neighbours", method.neighbours, 1, 100000, p);
}

void readGate(const Json& g, GateSpec& gate)
{
    using namespace json_util;
    const std::string p = "gate";
    requireKeys(g,
                {"mode", "inputs", "uncertainty", "dropout_passes", "tau_u", "tau_i", "tau_q",
                 "rule", "hard", "tau_a", "random_rate", "reference_run", "supervision",
                 "learning_rate", "loss_weight"},
                p);
    readChoice(g, "mode", gate.mode, p);
    if (g.contains("inputs")) {
        const auto& in = g.at("inputs");
        const std::string ip = "gate.inputs";
        requireKeys(in, {"cold", "tail", "uncertainty"}, ip);
        read(in, "cold", gate.useCold, ip);
        read(in, "tail", gate.useTail, ip);
        read(in, "uncertainty", gate.useUncertainty, ip);
    }
    readChoice(g, "uncertainty", gate.uncertainty, p);
    readRange(g, "dropout_passes", gate.dropoutPasses, 2, 100, p);
    readOptional(g, "tau_u", gate.tauUser, 0.0, 1e12, p);
    readOptional(g, "tau_i", gate.tauItem, 0.0, 1e12, p);
    readRange(g, "tau_q", gate.tauQ, 0.0, 1.0, p);
    readChoice(g, "rule", gate.rule, p);
    read(g, "hard", gate.hard, p);
    readRange(g, "tau_a", gate.tauA, 0.0, 1.0, p);
    readRange(g, "random_rate", gate.randomRate, 0.0, 1.0, p);
    read(g, "reference_run", gate.referenceRun, p);
    if (gate.referenceRun < 0)
        throw Error(ErrorKind::Usage, "setting 'gate.reference_run' must be a run id or 0");
    readChoice(g, "supervision", gate.supervision, p);
    readRange(g, "learning_rate", gate.learningRate, 1e-7, 10.0, p);
    readRange(g, "loss_weight", gate.lossWeight, 0.0, 1000.0, p);
}

void readEval(const Json& e, EvalSpec& eval)
{
    using namespace json_util;
    const std::string p = "eval";
    requireKeys(e, {"ks", "mode", "negatives", "user_share", "validation_negatives"}, p);
    read(e, "ks", eval.ks, p);
    if (eval.ks.empty())
        throw Error(ErrorKind::Usage, "setting 'eval.ks' must list at least one cutoff");
    for (int k : eval.ks)
        if (k < 1 || k > 10000)
            throw Error(ErrorKind::Usage,
                        "setting 'eval.ks' holds " + std::to_string(k) + ", out of range", {}, 0,
                        "allowed: 1 .. 10000");
    readChoice(e, "mode", eval.mode, {"full", "sampled"}, p);
    readRange(e, "negatives", eval.negatives, 1, 100000, p);
    readRange(e, "user_share", eval.userShare, 0.0001, 1.0, p);
    readRange(e, "validation_negatives", eval.validationNegatives, 0, 100000, p);
}

// Rules across sections: a method that needs scores has them; "global" is the hinge with the gate
// off, by definition; "selective" with the gate off would be "global".
void checkMethodAndGate(RunConfig& c)
{
    const bool withoutScores = c.method.name == MethodName::None ||
                               c.method.name == MethodName::MostPop ||
                               c.method.name == MethodName::ItemKnn;
    if (!withoutScores && !c.scores.given())
        throw Error(
            ErrorKind::Usage,
            "method '" + toString(c.method.name) + "' needs an LLM score file ('scores.path')", {},
            0,
            "set scores.path (or scores.simulate), or use method 'none', 'mostpop' or 'itemknn'");
    if (c.method.name == MethodName::Global && c.gate.mode != GateMode::Off)
        c.gate.mode = GateMode::Off;
    if (c.method.name == MethodName::Selective && c.gate.mode == GateMode::Off)
        throw Error(ErrorKind::Usage, "method 'selective' with gate mode 'off' is method 'global'",
                    {}, 0, "choose method 'global', or a gate mode");
}

}  // namespace

RunConfig runConfigFromJson(const Json& j, const std::string& baseDir)
{
    using namespace json_util;
    RunConfig c;
    requireKeys(
        j, {"name", "seed", "dataset", "scores", "model", "train", "method", "gate", "eval"}, "");
    read(j, "name", c.name, "");
    read(j, "seed", c.seed, "");
    if (!j.contains("dataset"))
        throw Error(ErrorKind::Usage, "the config has no 'dataset' section", {}, 0,
                    "start from 'sllmr config template'");
    c.dataset = datasetSpecFromJson(j.at("dataset"), "dataset");
    if (j.contains("scores") && !j.at("scores").is_null())
        c.scores = scoreSpecFromJson(j.at("scores"), "scores");
    if (j.contains("model"))
        c.model = modelSpecFromJson(j.at("model"), "model");
    if (j.contains("train"))
        readTrain(j.at("train"), c.train);
    if (j.contains("method"))
        readMethod(j.at("method"), c.method);
    if (j.contains("gate"))
        readGate(j.at("gate"), c.gate);
    if (j.contains("eval"))
        readEval(j.at("eval"), c.eval);
    checkMethodAndGate(c);

    // Paths: "demo:" names the bundled demo; relative paths are relative to the config file.
    for (const auto& [value, key] : {std::pair{&c.dataset.userColumn, "dataset.columns.user"},
                                     {&c.dataset.itemColumn, "dataset.columns.item"},
                                     {&c.dataset.ratingColumn, "dataset.columns.rating"},
                                     {&c.dataset.timestampColumn, "dataset.columns.timestamp"},
                                     {&c.scores.userColumn, "scores.columns.user"},
                                     {&c.scores.itemColumn, "scores.columns.item"},
                                     {&c.scores.valueColumn, "scores.columns.value"}})
        requireColumn(*value, key);
    for (std::string* path :
         {&c.dataset.path, &c.dataset.testPath, &c.dataset.validationPath, &c.dataset.itemsPath,
          &c.dataset.itemFeaturesPath, &c.dataset.itemFeatureNamesPath, &c.scores.path,
          &c.scores.candidatesPath})
        *path = resolveDataPath(*path, baseDir);
    return c;
}

namespace {

// Line (1-based) of byte `offset` in `text`.
std::int64_t lineAt(const std::string& text, std::size_t offset)
{
    std::int64_t line = 1;
    for (std::size_t k = 0; k < text.size() && k < offset; ++k)
        line += text[k] == '\n';
    return line;
}

// Reads a config file whole. A directory, a FIFO or a device is refused before it is opened
// (opening a FIFO would wait for a writer forever).
std::string readConfigText(const std::string& path)
{
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status))
        throw Error(ErrorKind::NotFound, "cannot read the config file (it does not exist)", path, 0,
                    "check the path; 'sllmr config template > run.json' writes a starting point");
    if (!fs::is_regular_file(status))
        throw Error(ErrorKind::BadInput,
                    fs::is_directory(status) ? "the config is a folder, not a file"
                                             : "the config is not a regular file (a pipe or a "
                                               "device)",
                    path, 0, "give a JSON file; 'sllmr config template > run.json' writes one");
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof())
        throw Error(ErrorKind::NotFound, "cannot read the config file", path, 0,
                    "check that the file is readable");
    return text;
}

}  // namespace

RunConfig loadRunConfig(const std::string& path)
{
    const std::string text = readConfigText(path);
    Json j;
    try {
        j = Json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann reports a byte offset; give the line too.
        throw Error(ErrorKind::BadInput, std::string("not valid JSON: ") + e.what(), path,
                    lineAt(text, e.byte),
                    "fix the syntax (a missing comma or quote is the usual cause)");
    } catch (const nlohmann::json::exception& e) {
        // A number too large for a double (1e400) is an out_of_range error without a position:
        // find the number in the text for the line.
        const std::string what = e.what();
        const auto open = what.find('\'');
        const auto close = what.rfind('\'');
        std::int64_t line = 0;
        if (open != std::string::npos && close > open + 1) {
            const auto at = text.find(what.substr(open + 1, close - open - 1));
            if (at != std::string::npos)
                line = lineAt(text, at);
        }
        throw Error(ErrorKind::BadInput, std::string("not a usable JSON value: ") + what, path,
                    line, "numbers must fit a double (about 1.8e308)");
    }
    const auto dir = fs::absolute(fs::path(path)).parent_path().string();
    try {
        return runConfigFromJson(j, dir);
    } catch (const Error& e) {
        throw Error(e.kind(), e.problem(), path, 0, e.hint());
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Usage, std::string("the config cannot be read: ") + e.what(), path,
                    0, "start from 'sllmr config template'");
    }
}

std::string configHash(const RunConfig& c)
{
    Json j = toJson(c);
    j.erase("name");
    return hashHex(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

RunConfig defaultRunConfig()
{
    RunConfig c;
    c.name = "MF + S-LLMR (reliability gate) on the demo";
    const std::string base = "demo:llm-rankings-ml-latest-small/";
    c.dataset.name = "ml-latest-small (shipped split)";
    c.dataset.path = base + "split/train.tsv";
    c.dataset.testPath = base + "split/test.tsv";
    c.dataset.itemsPath = "demo:ml-latest-small/movies.csv";  // titles for the inspector
    c.dataset.itemFeaturesPath = base + "split/genre_map.tsv";
    c.dataset.itemFeatureNamesPath = base + "split/genre_features.tsv";
    c.dataset.split.method = "given";
    c.scores.path = base + "chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv";
    c.scores.name = "ChatGPT EXP_3 (UserKNN re-rank)";
    c.scores.kind = "rank";
    return c;
}

namespace {

std::vector<ConfigKeyDoc> describeRun()
{
    return {
        {"name", "string", "\"\"", "", "Display name of the run"},
        {"seed", "integer", "42", "0 .. 2^64-1",
         "Seed of every random source (split, init, sampling, dropout)"},
    };
}

std::vector<ConfigKeyDoc> describeDataset()
{
    return {
        {"dataset.path", "path", "", "",
         "Interactions file, or the train file of a given split; 'demo:REL' names the bundled "
         "demo, 'data:REL' the public data folder ($SLLMR_SHARED_DATA)"},
        {"dataset.test_path", "path", "\"\"", "",
         "Test file of a pre-split dataset (split 'given')"},
        {"dataset.validation_path", "path", "\"\"", "", "Validation file of a pre-split dataset"},
        {"dataset.items_path", "path", "\"\"", "",
         "Titles/genres: movies.csv, MovieLens u.item or movies.dat, or a RecBole .item file"},
        {"dataset.item_features_path", "path", "\"\"", "",
         "Categorical item features: item<TAB>feature ids"},
        {"dataset.item_feature_names_path", "path", "\"\"", "", "Feature names: id<TAB>name"},
        {"dataset.format", "choice", "auto",
         "auto, movielens-csv, movielens-dat, movielens-udata, delimited, recbole, sequences",
         "Loader; 'sequences': one line per user, 'user item item ...' in time order"},
        {"dataset.encoding", "choice", "utf-8", "utf-8, latin1, cp1252",
         "Text encoding of every dataset file (read as UTF-8)"},
        {"dataset.delimiter", "string", "\"\" (detect)", "',', '\\t', ';', '::', ...",
         "Field delimiter"},
        {"dataset.header", "choice", "auto", "auto, yes, no", "Whether the first line is a header"},
        {"dataset.columns.user", "string", "\"\" (detect)", "header name or 0-based index",
         "User column"},
        {"dataset.columns.item", "string", "\"\" (detect)", "header name or 0-based index",
         "Item column"},
        {"dataset.columns.rating", "string", "\"\" (detect)", "header name or 0-based index",
         "Rating column"},
        {"dataset.columns.timestamp", "string", "\"\" (detect)", "header name or 0-based index",
         "Timestamp column"},
        {"dataset.id_type", "choice", "auto", "auto, integer, token",
         "Whether ids are whole numbers or tokens"},
        {"dataset.implicit_threshold", "number|null", "null", "any",
         "Keep ratings >= this (implicit feedback)"},
        {"dataset.duplicates", "choice", "first", "first, last",
         "Which repeated (user, item) row is kept"},
        {"dataset.kcore", "integer", "0", "0 .. 1000000",
         "Keep users and items with at least K interactions (0: off)"},
        {"dataset.split.method", "choice", "given", "given, leave-one-out, temporal, random",
         "How test interactions are chosen"},
        {"dataset.split.test_ratio", "number", "0.2", "0 .. 0.9",
         "Test share per user (temporal, random)"},
        {"dataset.split.validation", "choice", "auto", "auto, none, last, ratio",
         "How the validation slice is carved from train"},
        {"dataset.split.validation_ratio", "number", "0.1", "0 .. 0.9",
         "Validation share per user (ratio)"},
        {"dataset.segments.cold.mode", "choice", "quantile", "quantile, absolute",
         "Cold users: bottom share or |H(u)| below a count"},
        {"dataset.segments.cold.value", "number", "0.2", "0 .. 1 (quantile), >= 0 (absolute)",
         "Cold-user threshold"},
        {"dataset.segments.tail.mode", "choice", "quantile", "quantile, absolute",
         "Long-tail items: bottom share or pop(i) below a count"},
        {"dataset.segments.tail.value", "number", "0.2", "0 .. 1 (quantile), >= 0 (absolute)",
         "Long-tail threshold"},
        {"dataset.segments.buckets", "integer", "5", "1 .. 100",
         "Equal-count buckets by history and by popularity"},
        {"dataset.seed", "integer", "42", "", "Seed of the split"},
        {"dataset.name", "string", "\"\"", "", "Display name of the dataset"},
    };
}

std::vector<ConfigKeyDoc> describeScores()
{
    return {
        {"scores.path", "path", "", "", "LLM score file (needed by every method but 'none')"},
        {"scores.name", "string", "\"\"", "", "Display name of the score set"},
        {"scores.kind", "choice", "auto", "auto, rank, pointwise, rating",
         "How the value column is read"},
        {"scores.delimiter", "string", "\"\" (detect)", "", "Field delimiter"},
        {"scores.header", "choice", "auto", "auto, yes, no", "Whether the first line is a header"},
        {"scores.columns.user", "string", "\"\" (detect)", "name or index", "User column"},
        {"scores.columns.item", "string", "\"\" (detect)", "name or index", "Item column"},
        {"scores.columns.value", "string", "\"\" (detect)", "name or index",
         "Score, rating or rank column"},
        {"scores.rating_min", "number", "1", "", "Lowest rating of the scale (kind rating)"},
        {"scores.rating_max", "number", "5", "> rating_min",
         "Highest rating of the scale (kind rating)"},
        {"scores.rank_mapping", "choice", "linear", "linear, exponential",
         "Rank to r: 1-(rank-1)/N_u or exp(-decay (rank-1))"},
        {"scores.decay", "number", "0.1", "1e-6 .. 10", "Decay of the exponential rank mapping"},
        {"scores.candidates_path", "path", "\"\"", "",
         "Candidates offered to the LLM; unreturned ones get candidate_default"},
        {"scores.candidate_default", "number", "0.5", "0 .. 1",
         "Score of an offered but unreturned candidate (and, for method llm, of every item "
         "without a score)"},
        {"scores.encoding", "choice", "utf-8", "utf-8, latin1, cp1252",
         "Text encoding of the score and candidate files (read as UTF-8)"},
        {"scores.missing", "choice", "skip", "skip, default, error",
         "A row with an empty value: skipped (counted), scored candidate_default, or an error"},
        {"scores.held_out", "choice", "keep", "keep, drop",
         "Entries whose pair is a validation or test positive: keep (warns when they are "
         "over-represented) or drop them before pairs are built"},
        {"scores.simulate", "object", "(absent)", "a simulate-llm profile",
         "Instead of a file: a simulated LLM with this profile ({\"default\": {\"behaviour\": "
         "\"noisy\"}, \"cold\": {\"behaviour\": \"accurate\", \"noise\": 0.05}, \"tail\": ..., "
         "\"seed\": 42}), scored for the run's dataset and segment thresholds when the run starts; "
         "stored as the score set 'simulated LLM' and marked SIMULATED on the Studio's LLM scores "
         "page"},
    };
}

std::vector<ConfigKeyDoc> describeModel()
{
    return {
        {"model.type", "choice", "mf", "mf, deepfm, dcnv2, xdeepfm, autoint, dcnv1, din",
         "Backbone"},
        {"model.dim", "integer", "64", "1 .. 1024", "Embedding dimension"},
        {"model.hidden", "integer list", "[256, 128]", "1 .. 4096 each",
         "DNN layer sizes (all CTR backbones; AutoInt: empty = no DNN)"},
        {"model.cross_layers", "integer", "3", "0 .. 10", "Cross layers (DCNv2, DCNv1)"},
        {"model.cin_layers", "integer list", "[32, 32]", "1 .. 4096 each",
         "xDeepFM CIN feature maps per layer (empty = no CIN)"},
        {"model.attention_layers", "integer", "3", "1 .. 10", "AutoInt interacting layers"},
        {"model.attention_heads", "integer", "2", "1 .. 16", "AutoInt attention heads"},
        {"model.attention_dim", "integer", "32", "1 .. 512", "AutoInt attention size per head"},
        {"model.history_length", "integer", "10", "1 .. 200",
         "DIN: most recent training items per user"},
        {"model.din_attention", "integer list", "[80, 40]", "1 .. 4096 each, at least one",
         "DIN local activation unit hidden sizes (PReLU)"},
        {"model.dropout", "number", "0.1", "0 .. 0.9",
         "Dropout (DNN; MF: on embeddings); needed by uncertainty 'dropout'"},
        {"model.item_features", "boolean", "true", "",
         "Use the dataset's item-side categorical fields"},
        {"model.sparse_embeddings", "boolean", "true", "",
         "Sparse embedding updates: a step touches only the rows it uses. false: dense Adam "
         "over the whole tables at every step, a cost that grows with users + items (MF on "
         "Amazon Sports: 87 s an epoch against 10 s sparse, bench/README.md)"},
    };
}

std::vector<ConfigKeyDoc> describeTrain()
{
    return {
        {"train.loss", "choice", "bce", "bce, bpr", "Base loss L_rec"},
        {"train.negatives", "integer", "4", "1 .. 1000", "Sampled negatives per positive"},
        {"train.learning_rate", "number", "0.001", "1e-7 .. 1", "Adam learning rate (paper: 1e-3)"},
        {"train.batch_size", "integer", "128", "1 .. 2^20", "Positives per batch (paper: 128)"},
        {"train.epochs", "integer", "30", "1 .. 10000", "Most epochs"},
        {"train.patience", "integer", "3", "0 .. 10000",
         "Stop after this many epochs without a better validation AUC (0: off)"},
        {"train.restore_best", "boolean", "true", "",
         "End with the parameters of the best validation epoch"},
        {"train.threads", "integer", "1", "0 .. 256",
         "Threads (0: one per core), used as train.parallel says; with \"ops\" one thread was "
         "fastest at batch 128 for every backbone measured (bench/README.md)"},
        {"train.parallel", "choice", "ops", "ops, batch",
         "How threads share a step: LibTorch splits each operation (ops), or each thread takes a "
         "share of the batch through forward and backward, the gradients summed in a fixed order "
         "(batch, at most 255 shares; same seed and thread count, same numbers; other numbers "
         "than one thread)"},
    };
}

std::vector<ConfigKeyDoc> describeMethod()
{
    return {
        {"method.name", "choice", "selective",
         "none, kd, global, pointwise, selective, mostpop, itemknn, llm",
         "Regularization: none, distillation, hinge without gate, MSE, hinge with gate; or a "
         "non-learned reference row: training popularity, cosine ItemKNN, the LLM's scores"},
        {"method.lambda", "number", "0.1", "0 .. 1000", "Weight of the LLM term (paper: 0.1)"},
        {"method.margin", "number", "1.0", "0 .. 100", "Hinge margin m on logit differences"},
        {"method.pairs_per_user", "integer", "4", "1 .. 10000",
         "K: LLM pairs kept per user and batch"},
        {"method.candidate_factor", "integer", "4", "1 .. 100",
         "Pairs are the K largest |r_i - r_j| of factor*K random candidates"},
        {"method.temperature", "number", "1.0", "1e-3 .. 1000", "Distillation temperature T (kd)"},
        {"method.neighbours", "integer", "50", "1 .. 100000",
         "itemknn: nearest items (cosine over training interactions) kept per item"},
    };
}

std::vector<ConfigKeyDoc> describeGate()
{
    return {
        {"gate.mode", "choice", "reliability", "off, paper, reliability, threshold, random",
         "How a(u,i) is set (SPEC 4)"},
        {"gate.inputs.cold", "boolean", "true", "", "Gate input Cold(u) = |H(u)| < tau_u"},
        {"gate.inputs.tail", "boolean", "true", "", "Gate input Tail(i) = pop(i) < tau_i"},
        {"gate.inputs.uncertainty", "boolean", "true", "",
         "Gate input q(u,i): the backbone's uncertainty"},
        {"gate.uncertainty", "choice", "entropy", "margin, entropy, dropout",
         "q: (a) 2(1-max(p,1-p)), (b) entropy in bits, (c) dropout variance"},
        {"gate.dropout_passes", "integer", "5", "2 .. 100",
         "Forward passes for uncertainty 'dropout'"},
        {"gate.tau_u", "number|null", "null (cold segment)", ">= 0", "Cold(u) threshold on |H(u)|"},
        {"gate.tau_i", "number|null", "null (tail segment)", ">= 0", "Tail(i) threshold on pop(i)"},
        {"gate.tau_q", "number", "0.5", "0 .. 1", "Threshold mode: q(u,i) > tau_q"},
        {"gate.rule", "choice", "any", "any, all", "Threshold mode: any or all enabled conditions"},
        {"gate.hard", "boolean", "false", "", "Hard switch: a -> 1[a > tau_a]"},
        {"gate.tau_a", "number", "0.5", "0 .. 1", "Hard switch threshold"},
        {"gate.random_rate", "number", "0.5", "0 .. 1", "Random mode: activation probability"},
        {"gate.reference_run", "integer", "0", "run id or 0",
         "Random mode: use this run's mean activation in its best epoch as the rate"},
        {"gate.supervision", "choice", "train", "train, validation",
         "Reliability labels: positives of train or of the validation slice"},
        {"gate.learning_rate", "number", "0.01", "1e-7 .. 10",
         "Learning rate of the four gate parameters"},
        {"gate.loss_weight", "number", "1.0", "0 .. 1000",
         "Weight of the reliability BCE in the loss"},
    };
}

std::vector<ConfigKeyDoc> describeEval()
{
    return {
        {"eval.ks", "integer list", "[10, 20]", "1 .. 10000 each",
         "Cutoffs of NDCG@K, Recall@K, HR@K"},
        {"eval.mode", "choice", "full", "full, sampled",
         "Full ranking (paper) or sampled negatives (labelled)"},
        {"eval.negatives", "integer", "99", "1 .. 100000",
         "Sampled negatives per test interaction (sampled mode)"},
        {"eval.user_share", "number", "1.0", "0.0001 .. 1",
         "Seeded share of test users evaluated (labelled)"},
        {"eval.validation_negatives", "integer", "99", "0 .. 100000",
         "Validation AUC per epoch on sampled negatives (0: full ranking)"},
    };
}

}  // namespace

std::vector<ConfigKeyDoc> describeRunConfig()
{
    std::vector<ConfigKeyDoc> keys;
    for (auto section : {&describeRun, &describeDataset, &describeScores, &describeModel,
                         &describeTrain, &describeMethod, &describeGate, &describeEval}) {
        auto part = section();
        keys.insert(keys.end(), part.begin(), part.end());
    }
    return keys;
}

}  // namespace sllmr
