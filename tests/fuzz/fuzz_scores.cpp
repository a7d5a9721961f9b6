// Fuzz target: an LLM score file (rank, pointwise or rating; kind auto-detected from the header)
// read against a small fixed dataset, through loadScores.
#include "fuzz_common.h"

#include "data/loaders.h"
#include "llm/scores.h"

#include <nlohmann/json.hpp>

namespace {

// Users 1..6 and items 10..19 with a given split: enough for scores to match and to miss.
const sllmr::Dataset& dataset()
{
    static const sllmr::Dataset ds = [] {
        std::string train = "user\titem\trating\n";
        std::string test = train;
        for (int u = 1; u <= 6; ++u)
            for (int i = 10; i < 20; ++i)
                ((i + u) % 5 == 0 ? test : train) += std::to_string(u) + "\t" + std::to_string(i) +
                                                     "\t" + std::to_string(1 + (u * i) % 5) + "\n";
        sllmr::DatasetSpec spec;
        spec.path = sllmr::fuzz::writeInput(
            "train.tsv", reinterpret_cast<const std::uint8_t*>(train.data()), train.size());
        spec.testPath = sllmr::fuzz::writeInput(
            "test.tsv", reinterpret_cast<const std::uint8_t*>(test.data()), test.size());
        spec.split.method = "given";
        spec.split.validation = "none";
        return sllmr::loadDataset(spec);
    }();
    return ds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const sllmr::Dataset& ds = dataset();
    return sllmr::fuzz::refuseOrRead([&] {
        sllmr::ScoreFileSpec spec;
        spec.path = sllmr::fuzz::writeInput("scores.tsv", data, size);
        spec.kind = "auto";
        const sllmr::ScoreSet set = sllmr::loadScores(spec, ds);
        // The report goes out as JSON (scores inspect --json, the store): its text, excerpts of
        // the file included, must be valid UTF-8. dump() throws on anything else.
        (void)sllmr::scoreReportJson(set.report).dump();
    });
}
