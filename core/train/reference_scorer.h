#pragma once
// Non-learned reference methods (SPEC 6.4): the rows every recommender paper reports beside the
// learned ones, scored by the same evaluator on the same segments and stored as runs.
// - "mostpop": s(u, i) = pop(i), the item's number of training interactions (the same for every
//   user; ties are ties).
// - "itemknn": item-based collaborative filtering with cosine similarity over the binary training
//   interactions, sim(i, j) = |U(i) n U(j)| / sqrt(|U(i)| |U(j)|). Each item keeps its k most
//   similar items N_k(i) (ties by item index), and s(u, i) = sum of sim(i, j) over the training
//   items j of u that are in N_k(i). Memory is O(interactions + items * k): co-occurrences are
//   counted one item at a time, never as an items x items matrix; building costs
//   O(sum over users of |H(u)|^2).
// - "llm": s(u, i) = r(u, i) where the score file has a score, else the score of an item without
//   an answer (scores.candidate_default, 0.5 by default): "the LLM alone" as a ranking.
// No Torch, no I/O; immutable after construction (safe to share between threads).
#include "data/dataset.h"
#include "llm/scores.h"
#include "train/train_spec.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sllmr {

// True for "mostpop", "itemknn" and "llm" (a method name as stored): methods the runner evaluates
// without training (train_spec.h has the enum's).
bool isReferenceMethod(const std::string& method);

class ReferenceScorer
{
public:
    static ReferenceScorer mostPop(const Dataset& dataset);
    // Throws Error(Usage) for neighbours < 1.
    static ReferenceScorer itemKnn(const Dataset& dataset, int neighbours);
    // Keeps a pointer to `scores`, which must outlive the scorer.
    static ReferenceScorer llm(const Dataset& dataset, const ScoreSet& scores);

    const std::string& method() const noexcept { return m_method; }
    std::uint32_t numItems() const noexcept { return m_numItems; }
    // Scores of every item for `user` into `out` (size numItems()). Throws Error(Usage) for a
    // user index out of range or a wrong size.
    void scoreUser(std::uint32_t user, std::span<float> out) const;

    // ItemKNN: the kept neighbours of `item` with their similarities, most similar first.
    std::vector<std::pair<std::uint32_t, float>> neighbours(std::uint32_t item) const;

private:
    std::string m_method;
    std::uint32_t m_numItems = 0;
    std::uint32_t m_numUsers = 0;
    std::vector<float> m_popularity;  // mostpop
    // itemknn: training items per user (CSR) and, per item j, the items i with j in N_k(i) and
    // sim(i, j) (CSR): one user's scores add the rows of the user's items.
    std::vector<std::uint32_t> m_userOffsets;
    std::vector<std::uint32_t> m_userItems;
    std::vector<std::uint64_t> m_reverseOffsets;
    std::vector<std::uint32_t> m_reverseItems;
    std::vector<float> m_reverseSims;
    // llm
    const ScoreSet* m_scores = nullptr;
    float m_missing = 0.5f;
};

}  // namespace sllmr
