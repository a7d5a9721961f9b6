#pragma once
// The in-memory dataset: dense user/item indices (original ids kept in IdMaps), the train,
// validation and test interactions, item side information, and the load report. Built by
// loadDataset() (data/loaders.h); immutable afterwards and cheap to share by const reference.
#include "data/dataset_spec.h"
#include "data/id_map.h"

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sllmr {

// 24 bytes: `order` is the row's position in its file and breaks ties in time.
struct Interaction
{
    std::int64_t time = 0;  // Unix time, or the row position when the file has no timestamps
    std::uint32_t user = 0;
    std::uint32_t item = 0;
    float rating = 1.0f;
    std::uint32_t order = 0;
};

struct ItemInfo
{
    std::vector<std::string> titles;            // by item index; empty when unknown
    std::vector<std::string> featureNames;      // categorical feature id -> name
    std::vector<std::uint32_t> featureOffsets;  // CSR by item index (size items + 1), or empty
    std::vector<std::uint32_t> features;
    bool hasTitles() const noexcept { return !titles.empty(); }
    bool hasFeatures() const noexcept { return !featureOffsets.empty(); }
};

// What one input file contributed.
struct FileReport
{
    std::string role;  // "interactions", "train", "test", "validation", "items", ...
    std::string path;
    std::string format;  // resolved loader
    std::string delimiter;
    bool header = false;
    bool compressed = false;
    std::string encoding;            // the text encoding it was decoded from
    std::vector<std::string> notes;  // decisions the reader took, e.g. why line 1 is a header
    std::int64_t lines = 0;
    std::int64_t rows = 0;  // data rows read
    std::int64_t blankLines = 0;
    std::uint64_t bytes = 0;  // uncompressed text bytes
    std::string contentHash;
};

struct PreprocessReport
{
    std::int64_t rowsRead = 0;
    std::int64_t belowThreshold = 0;          // dropped by the implicit threshold
    std::int64_t duplicates = 0;              // repeated (user, item) within a file, dropped
    std::int64_t crossSplitDuplicates = 0;    // validation/test pairs also in train, dropped there
    std::int64_t kcoreRemoved = 0;            // interactions removed by k-core filtering
    std::int64_t validationCarved = 0;        // moved from train to validation
    std::int64_t testItemsUnseenInTrain = 0;  // test interactions whose item has no train row
    std::int64_t testUsersUnseenInTrain = 0;
};

struct Dataset
{
    DatasetSpec spec;
    IdMap users;
    IdMap items;
    std::vector<Interaction> train;       // sorted by (user, time, order)
    std::vector<Interaction> validation;  // sorted by (user, time, order)
    std::vector<Interaction> test;        // sorted by (user, time, order)
    ItemInfo itemInfo;
    std::vector<FileReport> files;
    PreprocessReport report;
    bool hasRatings = false;
    bool hasTimestamps = false;
    std::string contentHash;  // input bytes + spec

    // Training counts: |H(u)| and pop(i).
    std::vector<std::uint32_t> historyLength;
    std::vector<std::uint32_t> popularity;

    std::uint32_t numUsers() const noexcept { return users.size(); }
    std::uint32_t numItems() const noexcept { return items.size(); }
    std::size_t numInteractions() const noexcept
    {
        return train.size() + validation.size() + test.size();
    }
    // Offsets into `train` per user (size numUsers()+1): train is grouped by user.
    std::vector<std::uint32_t> trainOffsets() const;
};

// Progress and cancellation for long loads. `progress` receives a fraction in [0,1] and a stage
// label; `cancel` is polled between chunks of rows and aborts with Error(Cancelled).
struct LoadControl
{
    std::function<void(double, const std::string&)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

}  // namespace sllmr
