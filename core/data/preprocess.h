#pragma once
// Preprocessing and splitting, all seeded and recorded in Dataset::report: rating-to-implicit
// threshold, duplicate (user, item) handling, k-core filtering, id compaction (original ids kept),
// then the split (given files, leave-one-out by time, temporal ratio, random ratio per user) and a
// validation slice carved from train when the split has none. Works in place on the loaded
// arrays: peak memory stays near one copy of them.
#include "data/dataset.h"
#include "data/loaders.h"

#include <vector>

namespace sllmr {

// Takes the raw files of a dataset (for split "given": train, test[, validation]; otherwise one
// file) and returns the finished dataset. Item side files are read here too.
Dataset buildDataset(const DatasetSpec& spec, IdMap users, IdMap items, std::vector<RawFile> parts,
                     const LoadControl& control = {});

}  // namespace sllmr
