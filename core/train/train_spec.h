#pragma once
// The training settings of a run config (SPEC 2, 5): the base loss and optimizer settings, and the
// method that adds the LLM's term. Plain types; the choices are enums parsed once where the config
// is read (train/run_config.cpp) and written back under the same names.
#include "common/choice.h"

#include <array>
#include <span>

namespace sllmr {

// Base loss L_rec: BCE with sampled negatives, or BPR.
enum class TrainLoss { Bce, Bpr };
inline std::span<const char* const> choiceNames(TrainLoss)
{
    static constexpr std::array<const char*, 2> names{"bce", "bpr"};
    return names;
}

// How `threads` share a step: LibTorch splits each operation over them ("ops"), or each thread
// takes a share of the batch's rows through forward and backward, and the shares' gradients are
// summed in share order before one optimizer step ("batch"; trainer.cpp). At batch 128 the
// operations are too small to split well; the shares are not.
enum class TrainParallel { Ops, Batch };
inline std::span<const char* const> choiceNames(TrainParallel)
{
    static constexpr std::array<const char*, 2> names{"ops", "batch"};
    return names;
}

struct TrainSpec
{
    TrainLoss loss = TrainLoss::Bce;  // Bce with `negatives` sampled negatives per positive
    int negatives = 4;
    double learningRate = 1e-3;
    int batchSize = 128;
    int epochs = 30;
    int patience = 3;  // epochs without a better validation AUC before stopping; 0: off
    bool restoreBest = true;
    // Intra-op threads; 0: LibTorch's default (one per core). One by default: at batch 128 the
    // matrices are too small to share, and two threads made every backbone measured slower
    // (bench/README.md), more so when another process shares the cores.
    int threads = 1;
    // With "batch", LibTorch itself runs on one thread and `threads` threads share each batch.
    TrainParallel parallel = TrainParallel::Ops;
};

// How the LLM's scores enter the loss: not at all, global distillation, the hinge without the
// gate, pointwise MSE, or the hinge with the gate. MostPop, ItemKnn and Llm are the non-learned
// reference rows (train/reference_scorer.h): evaluated without training.
enum class MethodName { None, Kd, Global, Pointwise, Selective, MostPop, ItemKnn, Llm };
inline std::span<const char* const> choiceNames(MethodName)
{
    static constexpr std::array<const char*, 8> names{
        "none", "kd", "global", "pointwise", "selective", "mostpop", "itemknn", "llm"};
    return names;
}
// The reference rows: the runner evaluates them without training a model.
constexpr bool isReferenceMethod(MethodName m)
{
    return m == MethodName::MostPop || m == MethodName::ItemKnn || m == MethodName::Llm;
}
// Global and Selective train on LLM pairs (the hinge); Kd and Pointwise on scored items.
constexpr bool usesPairs(MethodName m)
{
    return m == MethodName::Global || m == MethodName::Selective;
}
constexpr bool usesScoredItems(MethodName m)
{
    return m == MethodName::Kd || m == MethodName::Pointwise;
}

struct MethodSpec
{
    MethodName name = MethodName::Selective;
    double lambda = 0.1;
    double margin = 1.0;
    int pairsPerUser = 4;      // K: kept pairs per user and batch
    int candidateFactor = 4;   // pairs are the K largest |r_i - r_j| of factor*K random candidates
    double temperature = 1.0;  // kd
    int neighbours = 50;       // itemknn: k nearest items kept per item
};

}  // namespace sllmr
