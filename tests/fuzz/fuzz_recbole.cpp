// Fuzz target: a RecBole atomic interactions file (.inter, "name:type" header, token ids and the
// token_seq history layout), detected from the extension. The first input byte picks the id type
// (auto, integer, token); the rest is the file.
#include "fuzz_common.h"

#include "data/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    return sllmr::fuzz::refuseOrRead([&] {
        const std::string path = sllmr::fuzz::writeInput("data.inter", data + 1, size - 1);
        sllmr::DatasetSpec spec;
        spec.path = path;
        static const char* const kIdTypes[] = {"auto", "integer", "token"};
        spec.idType = kIdTypes[data[0] % 3];
        sllmr::IdMap users(sllmr::detectIdKind(path, spec));
        sllmr::IdMap items(users.kind());
        sllmr::readInteractions(path, spec, users, items, "interactions");
    });
}
