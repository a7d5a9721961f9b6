#include "data/dataset_spec.h"

#include "common/json_util.h"

#include <cmath>
#include <filesystem>

namespace sllmr {
using json_util::Json;

namespace {
void resolveOne(std::string& path, const std::filesystem::path& base)
{
    if (path.empty())
        return;
    std::filesystem::path p(path);
    if (p.is_relative())
        path = (base / p).lexically_normal().string();
}

Json thresholdJson(const Threshold& t)
{
    return Json{{"mode", t.mode}, {"value", t.value}};
}

Threshold thresholdFromJson(const Json& j, const std::string& prefix)
{
    Threshold t;
    json_util::requireKeys(j, {"mode", "value"}, prefix);
    json_util::readChoice(j, "mode", t.mode, {"quantile", "absolute"}, prefix);
    if (t.mode == "quantile")
        json_util::readRange(j, "value", t.value, 0.0, 1.0, prefix);
    else
        json_util::readRange(j, "value", t.value, 0.0, 1e12, prefix);
    return t;
}
}  // namespace

void DatasetSpec::resolvePaths(const std::string& baseDir)
{
    const std::filesystem::path base(baseDir);
    for (std::string* p :
         {&path, &testPath, &validationPath, &itemsPath, &itemFeaturesPath, &itemFeatureNamesPath})
        resolveOne(*p, base);
}

void to_json(Json& j, const DatasetSpec& s)
{
    j = Json{
        {"name", s.name},
        {"path", s.path},
        {"test_path", s.testPath},
        {"validation_path", s.validationPath},
        {"items_path", s.itemsPath},
        {"item_features_path", s.itemFeaturesPath},
        {"item_feature_names_path", s.itemFeatureNamesPath},
        {"format", s.format},
        {"encoding", s.encoding},
        {"delimiter", s.delimiter},
        {"header", s.header},
        {"columns",
         {{"user", s.userColumn},
          {"item", s.itemColumn},
          {"rating", s.ratingColumn},
          {"timestamp", s.timestampColumn}}},
        {"id_type", s.idType},
        {"implicit_threshold", s.implicitThreshold ? Json(*s.implicitThreshold) : Json(nullptr)},
        {"duplicates", s.duplicates},
        {"kcore", s.kcore},
        {"split",
         {{"method", s.split.method},
          {"test_ratio", s.split.testRatio},
          {"validation", s.split.validation},
          {"validation_ratio", s.split.validationRatio}}},
        {"segments",
         {{"cold", thresholdJson(s.segments.cold)},
          {"tail", thresholdJson(s.segments.tail)},
          {"buckets", s.segments.buckets}}},
        {"seed", s.seed}};
}

DatasetSpec datasetSpecFromJson(const Json& j, const std::string& prefix)
{
    using namespace json_util;
    DatasetSpec s;
    requireKeys(
        j,
        {"name", "path", "test_path", "validation_path", "items_path", "item_features_path",
         "item_feature_names_path", "format", "encoding", "delimiter", "header", "columns",
         "id_type", "implicit_threshold", "duplicates", "kcore", "split", "segments", "seed"},
        prefix);
    read(j, "name", s.name, prefix);
    read(j, "path", s.path, prefix);
    read(j, "test_path", s.testPath, prefix);
    read(j, "validation_path", s.validationPath, prefix);
    read(j, "items_path", s.itemsPath, prefix);
    read(j, "item_features_path", s.itemFeaturesPath, prefix);
    read(j, "item_feature_names_path", s.itemFeatureNamesPath, prefix);
    readChoice(j, "format", s.format,
               {"auto", "movielens-csv", "movielens-dat", "movielens-udata", "delimited", "recbole",
                "sequences"},
               prefix);
    readChoice(j, "encoding", s.encoding, {"utf-8", "latin1", "cp1252"}, prefix);
    read(j, "delimiter", s.delimiter, prefix);
    readChoice(j, "header", s.header, {"auto", "yes", "no"}, prefix);
    if (j.contains("columns")) {
        const auto& c = j.at("columns");
        const auto p = keyPath(prefix, "columns");
        requireKeys(c, {"user", "item", "rating", "timestamp"}, p);
        read(c, "user", s.userColumn, p);
        read(c, "item", s.itemColumn, p);
        read(c, "rating", s.ratingColumn, p);
        read(c, "timestamp", s.timestampColumn, p);
    }
    readChoice(j, "id_type", s.idType, {"auto", "integer", "token"}, prefix);
    if (j.contains("implicit_threshold") && !j.at("implicit_threshold").is_null()) {
        double t = 0;
        readRange(j, "implicit_threshold", t, -1e9, 1e9, prefix);
        s.implicitThreshold = t;
    }
    readChoice(j, "duplicates", s.duplicates, {"first", "last"}, prefix);
    readRange(j, "kcore", s.kcore, 0, 1000000, prefix);
    if (j.contains("split")) {
        const auto& sp = j.at("split");
        const auto p = keyPath(prefix, "split");
        requireKeys(sp, {"method", "test_ratio", "validation", "validation_ratio"}, p);
        readChoice(sp, "method", s.split.method, {"given", "leave-one-out", "temporal", "random"},
                   p);
        readRange(sp, "test_ratio", s.split.testRatio, 0.0, 0.9, p);
        readChoice(sp, "validation", s.split.validation, {"auto", "none", "last", "ratio"}, p);
        readRange(sp, "validation_ratio", s.split.validationRatio, 0.0, 0.9, p);
    }
    if (j.contains("segments")) {
        const auto& sg = j.at("segments");
        const auto p = keyPath(prefix, "segments");
        requireKeys(sg, {"cold", "tail", "buckets"}, p);
        if (sg.contains("cold"))
            s.segments.cold = thresholdFromJson(sg.at("cold"), keyPath(p, "cold"));
        if (sg.contains("tail"))
            s.segments.tail = thresholdFromJson(sg.at("tail"), keyPath(p, "tail"));
        readRange(sg, "buckets", s.segments.buckets, 1, 100, p);
    }
    read(j, "seed", s.seed, prefix);
    validate(s);
    return s;
}

void validate(const DatasetSpec& s)
{
    if (s.path.empty())
        throw Error(ErrorKind::Usage, "setting 'dataset.path' is empty", {}, 0,
                    "name the interactions file (or the train file of a given split)");
    if (s.split.method == "given" && s.testPath.empty())
        throw Error(ErrorKind::Usage, "split 'given' needs 'dataset.test_path'", {}, 0,
                    "name the test file, or choose split leave-one-out, temporal or random");
    if (s.split.method != "given" && !s.testPath.empty())
        throw Error(ErrorKind::Usage,
                    "a test file is given but 'dataset.split.method' is '" + s.split.method + "'",
                    {}, 0, "use split method 'given' with a test file");
}

}  // namespace sllmr
