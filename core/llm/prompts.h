#pragma once
// The offline LLM scoring pipeline's pure parts (paper section 4.3, SPEC 7): which candidates each
// user is offered, how the prompt is rendered from a user-editable template, and how an answer is
// read back. No network and no state: the same dataset, settings and seed give the same plans and
// prompts. Bad templates are Error(BadInput) naming the template file; answers are never thrown
// at: parseAnswer() reports what it could not read.
#include "data/dataset.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sllmr {

struct CandidateSpec
{
    int history = 10;       // L: the user's most recent training interactions shown as text
    int candidates = 20;    // N: sampled from the top-M popular items the user has not seen
    int popularPool = 200;  // M
    int coldExtra = 10;     // extra popular candidates for cold users (|H(u)| < tau_u)
    int tailExtra = 5;      // extra candidates from the long tail (pop(i) < tau_i) for every user
    double tauUser = 0;     // the dataset's cold threshold (from computeSegments)
    double tauItem = 0;     // the dataset's tail threshold
    // Which users are scored: "all", "cold" or "warm"; then at most `maxUsers` of them in id
    // order (0: no limit).
    std::string users = "all";
    int maxUsers = 0;
    std::uint64_t seed = 42;
};

// One user's request: the history shown and the candidates offered (item indices).
struct UserPlan
{
    std::uint32_t user = 0;
    bool cold = false;
    std::vector<std::uint32_t> history;     // oldest first
    std::vector<std::uint32_t> candidates;  // offered order
};

// Seeded per user (not per position), so a plan for a subset of users matches the full plan.
std::vector<UserPlan> planCandidates(const Dataset& dataset, const CandidateSpec& spec);

// A prompt template: text with placeholders {{history}}, {{history_count}}, {{candidates}},
// {{candidate_count}}, {{output_format}} and {{user_id}}. {{candidates}} and {{output_format}}
// must appear (an answer cannot be read back otherwise).
struct PromptTemplate
{
    std::string path;
    std::string text;
    std::string hash;  // of the text

    static PromptTemplate load(const std::string& path);
    static PromptTemplate fromText(std::string text, std::string name);
    // The shipped template: resources/prompts/score-candidates.txt (or the installed copy).
    static std::string defaultPath();
};

// The answer format the prompt asks for (the {{output_format}} text).
std::string outputFormatText();

std::string renderPrompt(const PromptTemplate& tmpl, const Dataset& dataset, const UserPlan& plan);

// One read answer. `scores` holds (item index, score clipped to [0,1]) for candidates the answer
// named; `unknownIds` items it named that were not offered; `clipped` scores outside [0,1].
struct ParsedAnswer
{
    bool ok = false;    // a JSON score list was found
    std::string error;  // why not, when !ok
    std::vector<std::pair<std::uint32_t, double>> scores;
    int unknownIds = 0;
    int clipped = 0;
    int duplicates = 0;
};

// Reads the assistant's text: JSON, possibly inside prose or ```json fences, shaped
// {"scores":[{"item_id":..,"score":..}]}, a bare array of such objects, {"<id>": score, ...}, or
// with the keys "id"/"item"/"itemId" and "relevance"/"probability"/"rating" (ids as numbers or
// strings). Ids are the dataset's original ids.
ParsedAnswer parseAnswer(std::string_view text, const Dataset& dataset, const UserPlan& plan);

// Rough token count of `text` (about 4 characters per token) for estimates when the API reports
// no usage.
std::int64_t estimateTokens(std::string_view text);

}  // namespace sllmr
