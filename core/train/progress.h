#pragma once
// What training reports while it runs: progress within an epoch, one result per epoch (losses,
// validation AUC, gate activity per segment and bin, gate parameters) and the control block
// (callbacks and the cancel flag) the caller hands in. Plain types, no Torch: the Studio and the
// CLI receive them across threads.
#include "store/experiment_store.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sllmr {

struct BatchProgress
{
    int epoch = 0;
    int epochs = 0;
    std::int64_t batch = 0;
    std::int64_t batches = 0;
    double baseLoss = 0;  // running means over the epoch so far
    double llmLoss = 0;
    double gateLoss = 0;
    double samplesPerSecond = 0;
};

// Gate activity over one epoch, per segment and bins.
struct GateActivity
{
    double sum = 0;     // of a(u,i)
    double active = 0;  // count of a(u,i) > tau_a
    std::int64_t count = 0;
    double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
    double activeShare() const { return count ? active / static_cast<double>(count) : 0.0; }
};

struct EpochResult
{
    int epoch = 0;  // 1-based
    double baseLoss = 0;
    double llmLoss = 0;
    double gateLoss = 0;
    double seconds = 0;
    std::int64_t pairs = 0;         // LLM pairs (or scored items for kd/pointwise) used
    std::int64_t labeledPairs = 0;  // pairs with a reliability label
    std::map<std::string, double> validationAuc;  // by segment ("overall", "cold", "tail", ...)
    std::map<std::string, GateActivity> gate;     // by segment
    std::vector<GateBin> gateBins;                // by history and popularity bucket
    std::array<double, 4> gateParameters{};       // w_cold, w_tail, w_q, b
};

struct TrainControl
{
    std::function<void(const BatchProgress&)> onBatch;  // at most a few times per second
    std::function<void(const EpochResult&)> onEpoch;
    const std::atomic<bool>* cancel = nullptr;
};

}  // namespace sllmr
