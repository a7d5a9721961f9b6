#pragma once
// Ablation grids: a JSON file naming a base run config, variants (dotted-key overrides), axes (a
// cartesian product of values per key) and seeds. Expansion gives the queue of runs in order:
// variants x axes x seeds, each with its row label ("label | key=value ...") and full config.
//
// Reading is strict: unknown keys, wrong types, unknown config keys in `set` or `axes` and
// invalid values are Error(Usage) naming the grid file and the key path (e.g.
// "variants[2].set: setting 'gate.mode' ..."). Configs identical after expansion (same hash) are
// marked as duplicates of the first one and run once. `gate.reference_run` may be "@LABEL": the
// run of row LABEL (with the same axis values, else the row named exactly LABEL) and the same
// seed, which must come earlier in the queue; it is resolved when the item runs.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct GridVariant
{
    std::string label;
    nlohmann::json set = nlohmann::json::object();  // dotted key -> JSON value
};

struct GridAxis
{
    std::string key;  // dotted config key
    std::vector<nlohmann::json> values;
};

struct Grid
{
    std::string file;  // where it was read from; "" when built in memory
    std::string name;
    std::string description;
    nlohmann::json base;  // a complete run config (the default merged with the grid's base)
    std::vector<GridVariant> variants;
    std::vector<GridAxis> axes;  // in key order
    std::vector<std::uint64_t> seeds;
    std::string reference;    // row label as written; "" = the first row
    nlohmann::json source;    // the grid document as read
    nlohmann::json executor;  // the "executor" key as read (executors.h), null when absent
};

struct GridItem
{
    int position = 0;
    std::string rowLabel;
    std::string variant;
    std::uint64_t seed = 0;
    nlohmann::json config;  // complete; gate.reference_run may hold "@ROW LABEL"
    std::string configHash;
    std::optional<std::string> referenceRow;  // resolved row label of "@LABEL"
    std::optional<int> duplicateOf;           // position of the identical earlier item
};

struct GridExpansion
{
    std::vector<std::string> rows;  // in queue order
    std::vector<GridItem> items;
    std::string reference;  // resolved row label
    int uniqueRuns = 0;     // items that are not duplicates
};

// Reads a grid file. Relative paths (base, paths in `set`) resolve against its folder.
Grid loadGrid(const std::string& path);
// `file` names the grid in errors; `baseDir` resolves relative paths.
Grid gridFromJson(const nlohmann::json& j, const std::string& file, const std::string& baseDir);
// Expands and validates every config (throws as described above).
GridExpansion expandGrid(const Grid& grid);

// Sets a dotted key ("method.lambda") in a config JSON, creating objects on the way.
void setDottedKey(nlohmann::json& config, const std::string& key, const nlohmann::json& value);
// "0.1", "mf", "true": how an axis value appears in a row label.
std::string axisValueText(const nlohmann::json& value);

}  // namespace sllmr
