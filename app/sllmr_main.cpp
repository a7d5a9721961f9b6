// sllmr: the headless command line over the same engine and experiments.db as the Studio.
#include "cli_commands.h"
#include "common/torch_runtime.h"

int main(int argc, char** argv)
{
    sllmr::installTensorBlockCache();  // before any other thread
    return sllmr::cli::run(argc, argv);
}
