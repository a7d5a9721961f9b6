// Fuzz target: an items file (titles and genres). The first input byte picks the layout the
// reader expects from the name: movies.csv or a RecBole .item file; the rest is the file.
#include "fuzz_common.h"

#include "data/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    return sllmr::fuzz::refuseOrRead([&] {
        const bool recbole = (data[0] & 1) != 0;
        const std::string path =
            sllmr::fuzz::writeInput(recbole ? "data.item" : "movies.csv", data + 1, size - 1);
        sllmr::DatasetSpec spec;
        spec.itemsPath = path;
        sllmr::IdMap items(recbole ? sllmr::IdMap::Kind::Token : sllmr::IdMap::Kind::Integer);
        for (int id = 1; id <= 8; ++id) {
            if (recbole)
                items.intern(std::to_string(id));
            else
                items.intern(static_cast<std::uint64_t>(id));
        }
        sllmr::ItemInfo info;
        std::vector<sllmr::FileReport> reports;
        sllmr::readItemInfo(spec, items, info, reports);
    });
}
