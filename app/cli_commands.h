#pragma once
// The `sllmr` command tree. Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input or missing
// file, 4 experiment store unusable, 130 cancelled.
namespace sllmr::cli {

int run(int argc, char** argv);

}  // namespace sllmr::cli
