#pragma once
// DIN (Zhou et al. 2018, "Deep Interest Network"). The user's behaviour is the
// spec.historyLength most recent items of the user's training interactions (time order, taken
// from BackboneContext::train at construction); an item is represented by r(i) = [e_i, e_f]
// (item id and mean-pooled item features when available). For a target item t:
//   a_j = LAU([h_j, r_t, h_j - r_t, h_j * r_t])      local activation unit, per history item h_j
//   v_u = sum_j a_j h_j                               weighted sum pooling (no softmax, as in DIN)
//   s(u,t) = DNN([e_u, v_u, r_t])                     hidden ReLU + dropout, linear to 1
// The LAU is an MLP with spec.dinAttention hidden sizes and PReLU activations (one slope per unit,
// initialised to 0.25; the paper's Dice is not used) and a linear output. Users with a shorter
// history use what they have; a history entry equal to the target item is masked out, so a
// training positive cannot attend to itself (the evaluation never ranks training items).
// - Init: embeddings N(0, 0.01); LAU and DNN Xavier-uniform, bias 0; global generator.
// - Dropout only in the DNN. Throws Error(Usage) without training interactions in the context
//   and Error(Internal) when an interaction is outside the user or item range.
#include "model/backbone.h"
#include "model/layers.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace sllmr {

class DINImpl : public BackboneImpl
{
public:
    DINImpl(const ModelSpec& spec, const BackboneContext& context);

    // The LAU's first layer splits into W_h h + W_t r_t + W_p (h * r_t) (the h - r_t block folds
    // into the other two): the h part is computed once per user history, the r_t part once per
    // item (scoreAll) or row (forward), and only the elementwise product runs per (user, item,
    // history entry). The DNN's first layer splits into user, pooled-interest and item columns.
    // The same sums as the concatenated layer, in another order.
    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor scoreAll(const torch::Tensor& users) override;

    bool hasDropout() const override { return m_dnn->hasDropout(); }

    // The history of a user (item indices, oldest first), for tests.
    std::vector<std::int64_t> history(std::int64_t user) const;

private:
    // The first LAU layer's weight as {W_h + W_d, W_t - W_d, W_p} (see scoreAll), each [a1, I].
    std::array<torch::Tensor, 3> splitFirstAttention(std::int64_t width);

    // LAU layers after the first affine map: [R, a1] -> [R].
    torch::Tensor attentionFrom(const torch::Tensor& firstOutput);

    model_detail::FieldEmbeddings m_fields{nullptr};
    torch::Tensor m_history;  // [numUsers, L] item indices (0 where unused)
    torch::Tensor m_valid;    // [numUsers, L] bool
    std::vector<torch::nn::Linear> m_attention;
    std::vector<torch::nn::PReLU> m_activations;
    model_detail::Mlp m_dnn{nullptr};
};
TORCH_MODULE(DIN);

}  // namespace sllmr
