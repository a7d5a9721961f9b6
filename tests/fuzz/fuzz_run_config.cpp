// Fuzz target: a run config file (JSON), through loadRunConfig: parsing, every key's type and
// range, paths resolved against the file's folder. Data files are not opened.
#include "fuzz_common.h"

#include "train/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return sllmr::fuzz::refuseOrRead(
        [&] { sllmr::loadRunConfig(sllmr::fuzz::writeInput("run.json", data, size)); });
}
