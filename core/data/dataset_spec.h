#pragma once
// DatasetSpec: everything that turns files on disk into a split, segmented dataset: the files,
// the loader and column mapping, preprocessing, the split and the segment thresholds, and the
// seed. It serializes to JSON (stored with datasets and runs) and is read back strictly.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sllmr {

// "quantile": the bottom `value` share (0..1] of users/items, ties at the boundary included;
// "absolute": count < value.
struct Threshold
{
    std::string mode = "quantile";
    double value = 0.2;
};

struct SegmentSpec
{
    Threshold cold;   // users by training history length
    Threshold tail;   // items by training popularity
    int buckets = 5;  // equal-count buckets by history length and by popularity
};

struct SplitSpec
{
    // "given" (train/test files), "leave-one-out" (by time), "temporal" (ratio by time, per user),
    // "random" (ratio per user, seeded).
    std::string method = "given";
    double testRatio = 0.2;
    // "auto": the given validation file, else second-to-last for leave-one-out, else the last
    // interaction of each user by time ("last"); "none"; "last"; "ratio" (random share per user).
    std::string validation = "auto";
    double validationRatio = 0.1;
};

struct DatasetSpec
{
    std::string name;  // display name; defaults to the file name
    std::string path;  // interactions, or the train file when `testPath` is set
    std::string testPath;
    std::string validationPath;
    std::string itemsPath;             // titles/genres: movies.csv or a RecBole .item file
    std::string itemFeaturesPath;      // item -> categorical ids (e.g. genre_map.tsv)
    std::string itemFeatureNamesPath;  // id -> name (e.g. genre_features.tsv)

    // "auto", "movielens-csv", "movielens-dat", "movielens-udata", "delimited", "recbole",
    // "sequences" (one line per user: 'user item item ...' in time order; "auto" detects it from
    // the first two lines unless a delimiter or a user or item column is given)
    std::string format = "auto";
    // Text encoding of every file of the dataset: "utf-8", "latin1" or "cp1252"; read as UTF-8.
    std::string encoding = "utf-8";
    std::string delimiter;        // empty: detect
    std::string header = "auto";  // "auto", "yes", "no"
    // Column names (with a header) or 0-based indices as text; empty: the loader's default.
    std::string userColumn;
    std::string itemColumn;
    std::string ratingColumn;
    std::string timestampColumn;
    // "auto": whole numbers when the first data row's user and item ids are, tokens otherwise
    // (RecBole files always use tokens); "integer"; "token".
    std::string idType = "auto";

    std::optional<double> implicitThreshold;  // keep ratings >= this; none keeps all
    std::string duplicates = "first";         // "first" or "last" occurrence is kept
    int kcore = 0;                            // 0: off

    SplitSpec split;
    SegmentSpec segments;
    std::uint64_t seed = 42;

    // Resolves relative paths against `baseDir`.
    void resolvePaths(const std::string& baseDir);
};

void to_json(nlohmann::json& j, const DatasetSpec& spec);
// Strict: unknown keys or bad values throw Error(Usage) naming the key under `prefix`.
DatasetSpec datasetSpecFromJson(const nlohmann::json& j, const std::string& prefix = "dataset");
void validate(const DatasetSpec& spec);

}  // namespace sllmr
