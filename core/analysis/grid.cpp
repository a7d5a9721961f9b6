#include "analysis/grid.h"

#include "analysis/executors.h"

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "train/run_config.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kGridHint = "see 'Ablation sweeps and significance' in the README";

[[noreturn]] void gridError(const std::string& file, const std::string& problem,
                            const std::string& hint = kGridHint)
{
    throw Error(ErrorKind::Usage, problem, file, 0, hint);
}

std::string typeName(const json& j)
{
    return j.type_name();
}

// Checks a config by parsing it; "@LABEL" in gate.reference_run is replaced by 0 for the check.
// Returns the config as the engine stores it (paths resolved) with the placeholder put back.
json checkedConfig(json config, const std::string& baseDir, std::optional<std::string>& atLabel,
                   std::string& hash)
{
    atLabel.reset();
    if (config.contains("gate") && config["gate"].is_object() &&
        config["gate"].contains("reference_run") && config["gate"]["reference_run"].is_string()) {
        const auto text = config["gate"]["reference_run"].get<std::string>();
        if (text.size() < 2 || text.front() != '@')
            throw Error(ErrorKind::Usage,
                        "setting 'gate.reference_run' is \"" + text +
                            "\": a run id, or \"@LABEL\" naming an earlier row",
                        {}, 0, "e.g. \"gate.reference_run\": \"@reliability\"");
        atLabel = text.substr(1);
        config["gate"]["reference_run"] = 0;
    }
    const RunConfig parsed = runConfigFromJson(config, baseDir);
    json out = toJson(parsed);
    hash = configHash(parsed);
    return out;
}

}  // namespace

void setDottedKey(json& config, const std::string& key, const json& value)
{
    std::vector<std::string> parts;
    std::stringstream in(key);
    std::string part;
    while (std::getline(in, part, '.'))
        parts.push_back(part);
    if (parts.empty() || key.back() == '.')
        throw Error(ErrorKind::Usage, "'" + key + "' is not a dotted config key", {}, 0,
                    "e.g. method.lambda");
    json* node = &config;
    for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
        if (parts[k].empty())
            throw Error(ErrorKind::Usage, "'" + key + "' is not a dotted config key", {}, 0,
                        "e.g. method.lambda");
        if (!node->contains(parts[k]) || !(*node)[parts[k]].is_object())
            (*node)[parts[k]] = json::object();
        node = &(*node)[parts[k]];
    }
    (*node)[parts.back()] = value;
}

std::string axisValueText(const json& value)
{
    return value.is_string() ? value.get<std::string>() : value.dump();
}

namespace {

// The grid's base: the default config, a partial object merged over it, or a config file.
json gridBase(const json& j, const std::string& file, const std::string& baseDir)
{
    json base;
    try {
        if (!j.contains("base")) {
            base = toJson(runConfigFromJson(toJson(defaultRunConfig()), baseDir));
        } else if (j["base"].is_string()) {
            const auto path = resolveDataPath(j["base"].get<std::string>(), baseDir);
            base = toJson(loadRunConfig(path));
        } else if (j["base"].is_object()) {
            json merged = toJson(defaultRunConfig());
            merged.merge_patch(j["base"]);
            std::optional<std::string> at;
            std::string hash;
            base = checkedConfig(merged, baseDir, at, hash);
            if (at)
                gridError(file, "base: 'gate.reference_run' \"@" + *at +
                                    "\" belongs in a variant's set, not in the base");
        } else {
            gridError(file, "grid key 'base' must be a config file path or a config object, not " +
                                typeName(j["base"]));
        }
    } catch (const Error& e) {
        if (e.file() == file)
            throw;
        throw Error(e.kind(),
                    "base: " + e.problem() + (e.file().empty() ? "" : " (" + e.file() + ")"), file,
                    0, e.hint());
    }
    return base;
}

// The grid's variants (one "base" variant when it has none).
std::vector<GridVariant> gridVariants(const json& j, const std::string& file)
{
    std::vector<GridVariant> variants;
    if (j.contains("variants")) {
        if (!j["variants"].is_array() || j["variants"].empty())
            gridError(file, "grid key 'variants' must be a non-empty array of {label, set}");
        std::set<std::string> labels;
        for (std::size_t k = 0; k < j["variants"].size(); ++k) {
            const auto& v = j["variants"][k];
            const std::string where = "variants[" + std::to_string(k) + "]";
            if (!v.is_object())
                gridError(file, where + " must be an object {\"label\": ..., \"set\": {...}}");
            for (const auto& [key, value] : v.items())
                if (key != "label" && key != "set")
                    gridError(file, where + ": unknown key '" + key + "'", "allowed: label, set");
            if (!v.contains("label") || !v["label"].is_string() ||
                v["label"].get<std::string>().empty())
                gridError(file, where + ".label must be a non-empty string");
            GridVariant variant;
            variant.label = v["label"].get<std::string>();
            if (variant.label.find(" | ") != std::string::npos || variant.label.front() == '@')
                gridError(file, where + ".label \"" + variant.label +
                                    "\" may not contain \" | \" or start with '@'");
            if (!labels.insert(variant.label).second)
                gridError(file, where + ".label \"" + variant.label + "\" is used twice");
            if (v.contains("set")) {
                if (!v["set"].is_object())
                    gridError(file, where + ".set must be an object of dotted keys");
                variant.set = v["set"];
            }
            variants.push_back(std::move(variant));
        }
    } else {
        variants.push_back({"base", json::object()});
    }
    return variants;
}

}  // namespace

Grid gridFromJson(const json& j, const std::string& file, const std::string& baseDir)
{
    if (!j.is_object())
        gridError(file, "a grid is a JSON object, not " + typeName(j));
    static const std::set<std::string> allowed = {"name", "description", "base",      "variants",
                                                  "axes", "seeds",       "reference", "executor"};
    for (const auto& [key, value] : j.items())
        if (!allowed.count(key))
            gridError(file, "unknown grid key '" + key + "'",
                      "allowed: name, description, base, variants, axes, seeds, reference, "
                      "executor");
    Grid g;
    g.file = file;
    g.source = j;
    auto text = [&](const char* key, std::string& out) {
        if (!j.contains(key))
            return;
        if (!j[key].is_string())
            gridError(file, std::string("grid key '") + key + "' must be a string, not " +
                                typeName(j[key]));
        out = j[key].get<std::string>();
    };
    text("name", g.name);
    text("description", g.description);
    text("reference", g.reference);
    if (j.contains("executor")) {
        executorFromJson(j["executor"], file);  // checked now, used by the command that runs it
        g.executor = j["executor"];
    }
    if (g.name.empty())
        g.name = file.empty() ? "grid" : fs::path(file).stem().string();

    g.base = gridBase(j, file, baseDir);
    g.variants = gridVariants(j, file);

    if (j.contains("axes")) {
        if (!j["axes"].is_object())
            gridError(file, "grid key 'axes' must be an object: dotted key -> array of values");
        for (const auto& [key, values] : j["axes"].items()) {
            if (!values.is_array() || values.empty())
                gridError(file, "axes." + key + " must be a non-empty array of values");
            if (key == "seed")
                gridError(file, "axes.seed: seeds are listed under 'seeds'");
            GridAxis axis{key, {}};
            for (const auto& value : values)
                axis.values.push_back(value);
            g.axes.push_back(std::move(axis));
        }
    }

    if (j.contains("seeds")) {
        if (!j["seeds"].is_array() || j["seeds"].empty())
            gridError(file, "grid key 'seeds' must be a non-empty array of whole numbers");
        std::set<std::uint64_t> seen;
        for (std::size_t k = 0; k < j["seeds"].size(); ++k) {
            const auto& s = j["seeds"][k];
            if (!s.is_number_unsigned())
                gridError(file, "seeds[" + std::to_string(k) +
                                    "] must be a whole number >= 0, not " + s.dump());
            if (!seen.insert(s.get<std::uint64_t>()).second)
                gridError(file, "seeds[" + std::to_string(k) + "] repeats seed " + s.dump());
            g.seeds.push_back(s.get<std::uint64_t>());
        }
    } else {
        g.seeds.push_back(g.base.value("seed", std::uint64_t{42}));
    }
    return g;
}

Grid loadGrid(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw Error(ErrorKind::NotFound, "cannot read the grid file", path, 0,
                    "check the path; resources/grids/ holds examples");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string textBytes = buffer.str();
    json j;
    try {
        j = json::parse(textBytes);
    } catch (const json::parse_error& e) {
        std::int64_t line = 1;
        for (std::size_t k = 0; k < textBytes.size() && k < e.byte; ++k)
            line += textBytes[k] == '\n';
        throw Error(ErrorKind::BadInput, std::string("not valid JSON: ") + e.what(), path, line,
                    "fix the syntax (a missing comma or quote is the usual cause)");
    }
    const auto dir = fs::absolute(fs::path(path)).parent_path().string();
    return gridFromJson(j, path, dir);
}

GridExpansion expandGrid(const Grid& grid)
{
    const std::string baseDir = grid.file.empty()
                                    ? std::string()
                                    : fs::absolute(fs::path(grid.file)).parent_path().string();
    GridExpansion out;
    // Cartesian product of the axes, the first axis varying slowest.
    std::vector<std::vector<std::size_t>> combos{{}};
    for (const auto& axis : grid.axes) {
        std::vector<std::vector<std::size_t>> next;
        for (const auto& c : combos)
            for (std::size_t v = 0; v < axis.values.size(); ++v) {
                auto n = c;
                n.push_back(v);
                next.push_back(std::move(n));
            }
        combos = std::move(next);
    }
    std::map<std::string, int> firstByHash;
    std::map<std::pair<std::string, std::uint64_t>, int> positionByRowSeed;
    for (std::size_t vi = 0; vi < grid.variants.size(); ++vi) {
        const auto& variant = grid.variants[vi];
        for (const auto& combo : combos) {
            std::string suffix;
            json config = grid.base;
            std::string where = "variants[" + std::to_string(vi) + "] (\"" + variant.label + "\")";
            try {
                for (const auto& [key, value] : variant.set.items())
                    setDottedKey(config, key, value);
                for (std::size_t a = 0; a < grid.axes.size(); ++a) {
                    const auto& value = grid.axes[a].values[combo[a]];
                    setDottedKey(config, grid.axes[a].key, value);
                    suffix += " | " + grid.axes[a].key + "=" + axisValueText(value);
                }
            } catch (const Error& e) {
                throw Error(e.kind(), where + ": " + e.problem(), grid.file, 0, e.hint());
            }
            const std::string row = variant.label + suffix;
            out.rows.push_back(row);
            if (!suffix.empty())
                where += " with" + suffix.substr(2);
            for (const auto seed : grid.seeds) {
                GridItem item;
                item.position = static_cast<int>(out.items.size());
                item.rowLabel = row;
                item.variant = variant.label;
                item.seed = seed;
                json c = config;
                c["seed"] = seed;
                c["name"] = row;
                std::optional<std::string> at;
                std::string hash;
                try {
                    item.config = checkedConfig(c, baseDir, at, hash);
                } catch (const Error& e) {
                    throw Error(e.kind(), where + ".set: " + e.problem(), grid.file, 0, e.hint());
                }
                if (at) {
                    // "@LABEL": the row LABEL with this item's axis values, else the row LABEL.
                    int target = -1;
                    for (const auto& candidate : {*at + suffix, *at}) {
                        if (auto it = positionByRowSeed.find({candidate, seed});
                            it != positionByRowSeed.end()) {
                            target = it->second;
                            item.referenceRow = candidate;
                            break;
                        }
                    }
                    if (target < 0)
                        throw Error(ErrorKind::Usage,
                                    where + ".set: 'gate.reference_run' \"@" + *at +
                                        "\" names no row with seed " + std::to_string(seed) +
                                        " earlier in the queue",
                                    grid.file, 0,
                                    "name the label of a variant listed before this one");
                    item.config["gate"]["reference_run"] = "@" + *item.referenceRow;
                    hash = hashHex(hash + "@" + *item.referenceRow);
                }
                item.configHash = hash;
                if (auto it = firstByHash.find(hash); it != firstByHash.end())
                    item.duplicateOf = it->second;
                else
                    firstByHash.emplace(hash, item.position);
                positionByRowSeed[{row, seed}] = item.position;
                out.items.push_back(std::move(item));
            }
        }
    }
    out.uniqueRuns = static_cast<int>(firstByHash.size());
    if (grid.reference.empty()) {
        out.reference = out.rows.front();
    } else {
        for (const auto& row : out.rows)
            if (row == grid.reference)
                out.reference = row;
        if (out.reference.empty()) {
            std::string rows;
            for (const auto& row : out.rows)
                rows += (rows.empty() ? "" : ", ") + ("\"" + row + "\"");
            gridError(grid.file, "reference \"" + grid.reference + "\" is not a row of the grid",
                      "name one of the rows: " + rows);
        }
    }
    return out;
}

}  // namespace sllmr
