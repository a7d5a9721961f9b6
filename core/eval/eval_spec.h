#pragma once
// How a run is evaluated (SPEC 6): cutoffs, full ranking or sampled negatives, the share of users,
// and the per-epoch validation protocol. Part of the run config; plain types.
#include <string>
#include <vector>

namespace sllmr {

struct EvalSpec
{
    std::vector<int> ks = {10, 20};
    // "full": every test interaction against all the user's negatives (the paper's protocol);
    // "sampled": against `negatives` seeded random negatives. Reports say which.
    std::string mode = "full";
    int negatives = 99;
    double userShare = 1.0;        // seeded share of test users evaluated (1: all)
    int validationNegatives = 99;  // validation AUC per epoch on sampled negatives (0: full)
};

}  // namespace sllmr
