#include "train/losses.h"

namespace sllmr {

torch::Tensor bceLoss(const torch::Tensor& logits, std::int64_t nPos, std::int64_t nNeg)
{
    const auto targets = torch::cat({torch::ones({nPos}), torch::zeros({nNeg})});
    return torch::binary_cross_entropy_with_logits(logits.slice(0, 0, nPos + nNeg), targets);
}

torch::Tensor bprLoss(const torch::Tensor& sPos, const torch::Tensor& sNeg)
{
    const auto diff = sPos.unsqueeze(1) - sNeg.view({sPos.size(0), -1});
    return -torch::log_sigmoid(diff).mean();
}

torch::Tensor baseLoss(TrainLoss loss, const torch::Tensor& logits, std::int64_t nPos,
                       std::int64_t nNeg)
{
    if (loss == TrainLoss::Bpr)
        return bprLoss(logits.slice(0, 0, nPos), logits.slice(0, nPos, nPos + nNeg));
    return bceLoss(logits, nPos, nNeg);
}

torch::Tensor pairHinge(const torch::Tensor& sHigher, const torch::Tensor& sLower, double margin)
{
    return torch::relu(margin - (sHigher - sLower));
}

torch::Tensor hingeLoss(const torch::Tensor& weight, const torch::Tensor& hinge)
{
    return (weight * hinge).mean();
}

torch::Tensor distillationLoss(const torch::Tensor& logits, const torch::Tensor& r,
                               double temperature)
{
    return torch::binary_cross_entropy(torch::sigmoid(logits / temperature).clamp(1e-6, 1.0 - 1e-6),
                                       r);
}

torch::Tensor pointwiseLoss(const torch::Tensor& logits, const torch::Tensor& r)
{
    return (torch::sigmoid(logits) - r).pow(2).mean();
}

}  // namespace sllmr
