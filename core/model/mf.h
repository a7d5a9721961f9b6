#pragma once
// Matrix factorisation: s(u,i) = <p_u, q_i> + b_u + b_i + g. The simplest backbone (SPEC 5) and
// the only one that ignores item features.
// - Init: p, q ~ N(0, 0.01) from torch's global generator; b_u, b_i, g = 0.
// - Dropout (spec.dropout > 0) is applied to p_u and q_i in train mode only, so that uncertainty
//   variant (c) (variance over dropout passes) has something to vary.
// - The four tables p, q, b_u, b_i are sparse when spec.sparseEmbeddings; g is dense.
// - With sparse tables, forward() is one hand-written autograd function (loops over the rows, the
//   same dropout noise as torch::dropout); it equals the module version up to the order of the
//   dot product's float additions (tst_models compares them).
#include "model/backbone.h"

#include <torch/torch.h>

namespace sllmr {

class MFImpl : public BackboneImpl
{
public:
    MFImpl(const ModelSpec& spec, const BackboneContext& context);

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;
    // One [U, d] x [d, numItems] matrix product plus the biases. In train mode the dropout masks
    // are drawn per user row and per item row, so they are shared across the product.
    torch::Tensor scoreAll(const torch::Tensor& users) override;
    bool hasDropout() const override { return !m_dropout.is_empty(); }

private:
    torch::Tensor embedDropout(const torch::Tensor& x);

    torch::nn::Embedding m_user{nullptr};
    torch::nn::Embedding m_item{nullptr};
    torch::nn::Embedding m_userBias{nullptr};
    torch::nn::Embedding m_itemBias{nullptr};
    torch::Tensor m_globalBias;  // [1]
    torch::nn::Dropout m_dropout{nullptr};
    bool m_handWritten = false;  // forward() through the hand-written function (sparse tables)
};
TORCH_MODULE(MF);

}  // namespace sllmr
