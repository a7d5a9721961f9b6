// Fuzz target: a sequence-per-line interactions file ('user item item ...' in time order),
// through readInteractions with format "sequences".
#include "fuzz_common.h"

#include "data/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return sllmr::fuzz::refuseOrRead([&] {
        const std::string path = sllmr::fuzz::writeInput("sequences.txt", data, size);
        sllmr::DatasetSpec spec;
        spec.path = path;
        spec.format = "sequences";
        sllmr::IdMap users(sllmr::detectIdKind(path, spec));
        sllmr::IdMap items(users.kind());
        sllmr::readInteractions(path, spec, users, items, "interactions");
    });
}
