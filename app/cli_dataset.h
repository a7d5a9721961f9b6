#pragma once
// Command-line options shared by every command that loads a dataset (files, loader, column
// mapping, preprocessing, split, segments, seed) and their translation into a DatasetSpec.
#include "common/error.h"
#include "common/json_util.h"
#include "data/dataset_spec.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace sllmr::cli {

// "20%" is a quantile, a plain number an absolute count threshold.
inline Threshold parseThreshold(const std::string& text, const char* option)
{
    Threshold t;
    try {
        if (!text.empty() && text.back() == '%') {
            t.mode = "quantile";
            t.value = std::stod(text.substr(0, text.size() - 1)) / 100.0;
            if (t.value < 0 || t.value > 1)
                throw std::out_of_range("quantile");
        } else {
            t.mode = "absolute";
            t.value = std::stod(text);
            if (t.value < 0)
                throw std::out_of_range("negative");
        }
    } catch (const std::logic_error&) {
        throw Error(ErrorKind::Usage, std::string(option) + " '" + text + "' is not a threshold",
                    {}, 0, "write a share like 20% or an absolute count like 3");
    }
    return t;
}

// A column option: a header name or a 0-based index that fits the readers (exit 2 otherwise).
inline CLI::Validator columnOption()
{
    return CLI::Validator(
        [](std::string& value) -> std::string {
            try {
                json_util::requireColumn(value, "value");
            } catch (const Error&) {
                return "'" + value +
                       "' is not a column index a file can have: give a header name or a "
                       "0-based index below 2147483648";
            }
            return {};
        },
        "NAME|INDEX");
}

// Options shared by every command that loads a dataset.
struct DatasetOptions
{
    DatasetSpec spec;
    std::string cold = "20%";
    std::string tail = "20%";
    std::optional<double> implicit;

    void add(CLI::App& cmd, bool positional, bool required = true)
    {
        if (positional)
            cmd.add_option("path", spec.path,
                           "Interactions file, or the train file of a pre-split dataset (.gz ok)")
                ->required();
        else
            cmd.add_option("--data", spec.path,
                           "Dataset interactions file, or its train file with --test")
                ->required(required);
        cmd.add_option("--test", spec.testPath, "Test file of a pre-split dataset (split 'given')");
        cmd.add_option("--validation", spec.validationPath,
                       "Validation file of a pre-split dataset");
        cmd.add_option("--items", spec.itemsPath,
                       "Item titles/genres: movies.csv, MovieLens u.item or movies.dat, or a "
                       "RecBole .item");
        cmd.add_option("--item-features", spec.itemFeaturesPath,
                       "Categorical item features: item<TAB>feature ids (e.g. genre_map.tsv)");
        cmd.add_option("--item-feature-names", spec.itemFeatureNamesPath,
                       "Feature names: id<TAB>name (e.g. genre_features.tsv)");
        cmd.add_option("--format", spec.format,
                       "Loader; 'sequences': one line per user, 'user item item ...' in time order")
            ->check(CLI::IsMember({"auto", "movielens-csv", "movielens-dat", "movielens-udata",
                                   "delimited", "recbole", "sequences"}))
            ->capture_default_str();
        cmd.add_option("--encoding", spec.encoding,
                       "Text encoding of the dataset files (read as UTF-8)")
            ->check(CLI::IsMember({"utf-8", "latin1", "cp1252"}))
            ->capture_default_str();
        cmd.add_option("--delimiter", spec.delimiter,
                       "Field delimiter: ',', 'tab', ';', '::' (default: detect)");
        cmd.add_option("--header", spec.header, "Header line")
            ->check(CLI::IsMember({"auto", "yes", "no"}))
            ->capture_default_str();
        cmd.add_option("--user-col", spec.userColumn, "User column: header name or 0-based index")
            ->check(columnOption());
        cmd.add_option("--item-col", spec.itemColumn, "Item column: header name or 0-based index")
            ->check(columnOption());
        cmd.add_option("--rating-col", spec.ratingColumn, "Rating column: name or index")
            ->check(columnOption());
        cmd.add_option("--time-col", spec.timestampColumn, "Timestamp column: name or index")
            ->check(columnOption());
        cmd.add_option("--implicit-threshold", implicit,
                       "Keep interactions with rating >= this (implicit feedback)");
        cmd.add_option("--duplicates", spec.duplicates, "Which repeated (user, item) row is kept")
            ->check(CLI::IsMember({"first", "last"}))
            ->capture_default_str();
        cmd.add_option("--kcore", spec.kcore, "Keep users and items with at least K interactions")
            ->check(CLI::Range(0, 1000000));
        cmd.add_option("--split", spec.split.method,
                       "given (default with --test), leave-one-out, temporal, random")
            ->check(CLI::IsMember({"given", "leave-one-out", "temporal", "random"}));
        cmd.add_option("--test-ratio", spec.split.testRatio,
                       "Test share per user (temporal, random)")
            ->check(CLI::Range(0.0, 0.9))
            ->capture_default_str();
        cmd.add_option("--validation-split", spec.split.validation,
                       "auto, none, last (per user, by time) or ratio (random per user)")
            ->check(CLI::IsMember({"auto", "none", "last", "ratio"}))
            ->capture_default_str();
        cmd.add_option("--validation-ratio", spec.split.validationRatio,
                       "Validation share per user")
            ->check(CLI::Range(0.0, 0.9))
            ->capture_default_str();
        cmd.add_option("--cold", cold, "Cold users: share (20%) or |H(u)| below a count (3)")
            ->capture_default_str();
        cmd.add_option("--tail", tail, "Long-tail items: share (20%) or pop(i) below a count")
            ->capture_default_str();
        cmd.add_option("--buckets", spec.segments.buckets, "Buckets by history and popularity")
            ->check(CLI::Range(1, 100))
            ->capture_default_str();
        cmd.add_option("--seed", spec.seed, "Seed of every random choice")->capture_default_str();
        cmd.add_option("--name", spec.name, "Display name");
    }

    DatasetSpec finish(const CLI::App& cmd)
    {
        DatasetSpec s = spec;
        if (cmd.count("--split") == 0)
            s.split.method = s.testPath.empty() ? "random" : "given";
        s.segments.cold = parseThreshold(cold, "--cold");
        s.segments.tail = parseThreshold(tail, "--tail");
        s.implicitThreshold = implicit;
        if (s.delimiter == "tab")
            s.delimiter = "\t";
        return s;
    }
};

}  // namespace sllmr::cli
