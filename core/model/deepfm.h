#pragma once
// DeepFM (Guo et al. 2017) over the fields [user id, item id, item categorical features]:
//   s(u,i) = w_u + w_i + w_f(i)                               first order
//          + sum_{a<b} <e_a, e_b>                             FM second order over the fields
//          + DNN([e_u, e_i, e_f])                             hidden ReLU + dropout, linear to 1
// e_f (and w_f) is the mean over the item's feature embeddings (zero for an item without
// features); the field is absent when the dataset has no item features or spec.itemFeatures is
// false. The DNN output bias doubles as the global bias. spec.hidden may be empty (FM only plus a
// linear term over the field embeddings).
// - Init: field embeddings N(0, 0.01); first-order weights 0; DNN Xavier-uniform, bias 0; all from
//   torch's global generator.
// - Embedding tables (incl. the first-order ones and the feature bags) are sparse when
//   spec.sparseEmbeddings.
#include "model/backbone.h"
#include "model/layers.h"

#include <torch/torch.h>

namespace sllmr {

class DeepFMImpl : public BackboneImpl
{
public:
    DeepFMImpl(const ModelSpec& spec, const BackboneContext& context);

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override;

    // Precomputes the user side once for the given users and the item side once for all items,
    // then combines them per block of the cross product:
    // - first order: w_u + (w_i + w_f);
    // - FM: with e_I = e_i + e_f, sum_{a<b} <e_a, e_b> = <e_u, e_I> + <e_i, e_f>, i.e. one
    //   [U, d] x [d, N] matrix product plus an item-only term;
    // - DNN: the first layer splits by columns, W1 = [W_u | W_i | W_f], so
    //   h1 = (W_u e_u + b1) + (W_i e_i + W_f e_f) is a broadcast sum of a [U, H1] and a [N, H1]
    //   table; only the layers after it run per (user, item) row.
    torch::Tensor scoreAll(const torch::Tensor& users) override;
    // The same split for sampled rows: the item side of every item once, the user side once per
    // run of equal users, the layers after the first per row.
    RowScorer rowScorer() override;

    bool hasDropout() const override { return m_dnn->hasDropout(); }

private:
    // Item-only parts over all items: e_I [N, d], w_I + <e_i, e_f> [N], and the DNN's first-layer
    // item block [N, H1].
    struct ItemSide
    {
        torch::Tensor embedding;
        torch::Tensor firstOrder;
        torch::Tensor firstLayer;
    };
    ItemSide itemSide();
    // The user block of the first layer, W_u e_u + b1: [U, H1].
    torch::Tensor userFirstLayer(const torch::Tensor& userEmbeddings);

    std::int64_t m_dim = 0;
    torch::nn::Embedding m_user{nullptr};
    torch::nn::Embedding m_item{nullptr};
    torch::nn::Embedding m_userWeight{nullptr};          // first order, [numUsers, 1]
    torch::nn::Embedding m_itemWeight{nullptr};          // first order, [numItems, 1]
    model_detail::ItemFeatureField m_features{nullptr};  // null when the field is absent
    model_detail::Mlp m_dnn{nullptr};
    // forward() through the hand-written fields and FM (deepfm.cpp, DeepFMFields): sparse tables.
    bool m_handWritten = false;
};
TORCH_MODULE(DeepFM);

}  // namespace sllmr
