#pragma once
// The `sllmr` command tree. Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input or missing
// file, 4 experiment store unusable, 130 cancelled.
namespace sllmr::cli {

// The commands sllmr-engine runs for the `sllmr` front (sllmr_front.cpp): they train or score a
// model, so they need LibTorch.
inline constexpr const char* kEngineCommands[] = {"run", "sweep", "inspect"};
inline constexpr const char* kInspectDescription =
    "Inspect the gate of a completed run: activation by user and item, drill-downs";

int run(int argc, char** argv);

}  // namespace sllmr::cli
