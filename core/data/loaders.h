#pragma once
// Dataset loaders: MovieLens (ratings.csv, ratings.dat with '::', u.data with tabs), generic
// delimited files with a column mapping and RFC 4180 quoting, RecBole atomic files (.inter,
// including the token_seq history layout), sequence-per-line files ('user item item ...' in time
// order, as SASRec, S3-Rec and ICLRec distribute their data), pre-split train/test(/validation)
// files, each plain or gzip-compressed, in UTF-8, Latin-1 or Windows-1252. Item files: movies.csv,
// MovieLens 100K u.item, MovieLens 1M movies.dat, RecBole .item. Files are streamed with
// fixed-size buffers. Every problem is an Error naming file, line and what to do; nothing is
// dropped silently (see Dataset::report and FileReport::notes).
#include "data/dataset.h"

#include <string>
#include <string_view>
#include <vector>

namespace sllmr {

// Loads, preprocesses, splits and indexes the dataset `spec` describes.
Dataset loadDataset(const DatasetSpec& spec, const LoadControl& control = {});

// One interactions file as read, before preprocessing.
struct RawFile
{
    std::vector<Interaction> rows;  // file order; time = row position when there is none
    FileReport report;
    bool hasRatings = false;
    bool hasTimestamps = false;
};

// Reads one interactions file with the loader and mapping of `spec`, interning ids into `users`
// and `items` (which must be of the kind the loader uses: see idKindFor()).
RawFile readInteractions(const std::string& path, const DatasetSpec& spec, IdMap& users,
                         IdMap& items, const std::string& role, const LoadControl& control = {});

// The loader "auto" resolves to for this file: decided from the name and the first two lines
// ("sequences" when they are space-separated numbers, more than four on a line or a different
// count on each).
std::string detectFormat(const std::string& path, std::string_view firstLine,
                         std::string_view secondLine = {});
// The id kind `spec.idType` resolves to for the file at `path` (see DatasetSpec::idType).
IdMap::Kind detectIdKind(const std::string& path, const DatasetSpec& spec);

// The first `n` lines of a file (decoded from `encoding` to UTF-8, without terminators) for a
// mapping preview.
std::vector<std::string> previewLines(const std::string& path, int n,
                                      const std::string& encoding = "utf-8");

// Reads titles (movies.csv, u.item, movies.dat or a RecBole .item file; genres become categorical
// item features unless a feature file is given) and categorical item features
// (item<TAB>feature ids, with an optional id<TAB>name file) for the items in `items`.
void readItemInfo(const DatasetSpec& spec, const IdMap& items, ItemInfo& info,
                  std::vector<FileReport>& reports);

}  // namespace sllmr
