// Fuzz target: an interactions file with format auto-detection (MovieLens csv/dat/u.data,
// delimited with header detection), through readInteractions.
#include "fuzz_common.h"

#include "data/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return sllmr::fuzz::refuseOrRead([&] {
        const std::string path = sllmr::fuzz::writeInput("ratings.csv", data, size);
        sllmr::DatasetSpec spec;
        spec.path = path;
        sllmr::IdMap users(sllmr::detectIdKind(path, spec));
        sllmr::IdMap items(users.kind());
        sllmr::readInteractions(path, spec, users, items, "interactions");
    });
}
