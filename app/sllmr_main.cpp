// sllmr: the headless command line over the same engine and experiments.db as the Studio.
#include "cli_commands.h"

int main(int argc, char** argv)
{
    return sllmr::cli::run(argc, argv);
}
