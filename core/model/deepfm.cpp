#include "model/deepfm.h"

namespace sllmr {

using namespace model_detail;

DeepFMImpl::DeepFMImpl(const ModelSpec& spec, const BackboneContext& context) : m_dim(spec.dim)
{
    m_numItems = context.numItems;
    const bool sparse = spec.sparseEmbeddings;
    m_user = register_module("user", makeEmbedding(context.numUsers, spec.dim, sparse, 0.01));
    m_item = register_module("item", makeEmbedding(context.numItems, spec.dim, sparse, 0.01));
    m_userWeight = register_module("user_weight", makeEmbedding(context.numUsers, 1, sparse, 0.0));
    m_itemWeight = register_module("item_weight", makeEmbedding(context.numItems, 1, sparse, 0.0));
    std::int64_t fields = 2;
    if (ItemFeatureFieldImpl::available(spec, context)) {
        m_features = register_module(
            "features", ItemFeatureField(context, spec.dim, sparse, /*withBias=*/true));
        ++fields;
    }
    m_dnn = register_module("dnn", Mlp(fields * spec.dim, spec.hidden, spec.dropout));
}

torch::Tensor DeepFMImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    // The user block of the DNN's first layer once per distinct user (forwardSharedLead).
    const auto user = distinctIds(users);
    const auto euDistinct = m_user(user.values);
    std::vector<torch::Tensor> fields = {euDistinct.index_select(0, user.rowOf), m_item(items)};
    auto first = m_userWeight(users).squeeze(1) + m_itemWeight(items).squeeze(1);
    if (!m_features.is_empty()) {
        const auto bags = m_features->bags(items);
        fields.push_back(m_features->embed(bags));
        first = first + m_features->bias(bags);
    }
    auto sum = fields[0];
    auto squares = fields[0] * fields[0];
    for (std::size_t f = 1; f < fields.size(); ++f) {
        sum = sum + fields[f];
        squares = squares + fields[f] * fields[f];
    }
    const auto fm = 0.5 * (sum * sum - squares).sum(1);
    const auto itemFields =
        torch::cat(std::vector<torch::Tensor>(fields.begin() + 1, fields.end()), 1);
    return first + fm + m_dnn->forwardSharedLead(euDistinct, user.rowOf, itemFields);
}

DeepFMImpl::ItemSide DeepFMImpl::itemSide()
{
    // e_I = e_i + e_f, w_I = w_i + w_f, the item-only FM term, and the item columns of the DNN
    // input.
    auto ei = m_item->weight;
    ItemSide side{ei, m_itemWeight->weight.squeeze(1), {}};
    auto fmItem = torch::zeros({m_numItems}, ei.options());
    auto itemInput = ei;
    if (!m_features.is_empty()) {
        const auto bags = m_features->allBags();
        const auto ef = m_features->embed(bags);
        side.embedding = ei + ef;
        side.firstOrder = side.firstOrder + m_features->bias(bags);
        fmItem = (ei * ef).sum(1);
        itemInput = torch::cat({ei, ef}, 1);
    }
    side.firstOrder = side.firstOrder + fmItem;
    const auto w1 = m_dnn->first()->weight;  // [H1, fields * d]
    side.firstLayer = inferenceLinear(itemInput, w1.narrow(1, m_dim, w1.size(1) - m_dim));
    return side;
}

torch::Tensor DeepFMImpl::userFirstLayer(const torch::Tensor& userEmbeddings)
{
    auto& first = m_dnn->first();
    return inferenceLinear(userEmbeddings, first->weight.narrow(1, 0, m_dim), first->bias);
}

torch::Tensor DeepFMImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);

    // User side: [U, d] and [U].
    const auto eu = m_user(u);
    const auto wu = m_userWeight(u).squeeze(1);
    const ItemSide items = itemSide();
    // Everything but the DNN: [U, N].
    auto out = inferenceLinear(eu, items.embedding, items.firstOrder) + wu.unsqueeze(1);

    // DNN first layer split by columns into the user block and the item block.
    const auto userPart = userFirstLayer(eu);  // [U, H1]
    const auto h1 = userPart.size(1);
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto pre = (userPart.narrow(0, ub, uc).unsqueeze(1) +
                              items.firstLayer.narrow(0, ib, ic).unsqueeze(0))
                                 .view({uc * ic, h1});
            out.narrow(0, ub, uc).narrow(1, ib, ic).add_(m_dnn->forwardFrom(pre).view({uc, ic}));
        },
        rowsForWidth(m_dnn->maxWidth()));
    return out;
}

BackboneImpl::RowScorer DeepFMImpl::rowScorer()
{
    torch::NoGradGuard noGrad;
    auto items = std::make_shared<const ItemSide>(itemSide());
    return [this, items](const torch::Tensor& users, const torch::Tensor& rowsItems) {
        torch::NoGradGuard noGradInCall;
        // The user side once per run of equal users (evaluation passes a user's candidates
        // together), spread to the rows.
        const auto [distinct, row, counts] = torch::unique_consecutive(users, true, false);
        const auto eu = m_user(distinct);
        const auto perUser = [&row](const torch::Tensor& t) { return t.index_select(0, row); };
        const auto pre = perUser(userFirstLayer(eu)) + items->firstLayer.index_select(0, rowsItems);
        const auto fm = (perUser(eu) * items->embedding.index_select(0, rowsItems)).sum(1);
        return perUser(m_userWeight(distinct).squeeze(1)) +
               items->firstOrder.index_select(0, rowsItems) + fm + m_dnn->forwardFrom(pre);
    };
}

}  // namespace sllmr
