#include "model/mf.h"

#include "model/layers.h"

namespace sllmr {

using model_detail::makeEmbedding;

MFImpl::MFImpl(const ModelSpec& spec, const BackboneContext& context)
{
    m_numItems = context.numItems;
    const bool sparse = spec.sparseEmbeddings;
    m_user = register_module("user", makeEmbedding(context.numUsers, spec.dim, sparse, 0.01));
    m_item = register_module("item", makeEmbedding(context.numItems, spec.dim, sparse, 0.01));
    m_userBias = register_module("user_bias", makeEmbedding(context.numUsers, 1, sparse, 0.0));
    m_itemBias = register_module("item_bias", makeEmbedding(context.numItems, 1, sparse, 0.0));
    m_globalBias = register_parameter("global_bias", torch::zeros({1}));
    if (spec.dropout > 0)
        m_dropout = register_module("dropout", torch::nn::Dropout(spec.dropout));
}

torch::Tensor MFImpl::embedDropout(const torch::Tensor& x)
{
    return m_dropout.is_empty() ? x : m_dropout(x);
}

torch::Tensor MFImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto p = embedDropout(m_user(users));
    const auto q = embedDropout(m_item(items));
    return (p * q).sum(1) + m_userBias(users).squeeze(1) + m_itemBias(items).squeeze(1) +
           m_globalBias;
}

torch::Tensor MFImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto p = embedDropout(m_user(u));
    const auto q = embedDropout(m_item->weight);
    return model_detail::inferenceLinear(p, q, m_itemBias->weight.squeeze(1)) + m_userBias(u) +
           m_globalBias;
}

}  // namespace sllmr
