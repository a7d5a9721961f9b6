// Fuzz target: gzip input. The bytes are written as ratings.csv.gz, so the reader's gzip path
// sees damaged streams, concatenated members and trailing bytes as well as valid ones.
#include "fuzz_common.h"

#include "data/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return sllmr::fuzz::refuseOrRead([&] {
        const std::string path = sllmr::fuzz::writeInput("ratings.csv.gz", data, size);
        sllmr::DatasetSpec spec;
        spec.path = path;
        sllmr::IdMap users(sllmr::detectIdKind(path, spec));
        sllmr::IdMap items(users.kind());
        sllmr::readInteractions(path, spec, users, items, "interactions");
    });
}
