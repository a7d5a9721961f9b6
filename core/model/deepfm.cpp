#include "model/deepfm.h"

#include "common/error.h"
#include "model/item_fields.h"

#include <string>

namespace sllmr {

using namespace model_detail;

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void checkIndices(const std::int64_t* index, std::int64_t n, std::int64_t size, const char* what)
{
    for (std::int64_t r = 0; r < n; ++r)
        if (index[r] < 0 || index[r] >= size)
            throw Error(ErrorKind::Internal, std::string("DeepFM: ") + what + " index " +
                                                 std::to_string(index[r]) + " outside a table of " +
                                                 std::to_string(size) + " rows");
}

// The row kernels of DeepFMFields, over three fields a, b, c of `dim` floats (c all zeros when
// the feature field is absent, which changes no sum). Restrict pointers and an array of terms
// let the loops vectorise; the FM term sums its terms in index order.
float fmTerm(const float* __restrict a, const float* __restrict b, const float* __restrict c,
             float* __restrict terms, std::int64_t dim)
{
    for (std::int64_t j = 0; j < dim; ++j) {
        const float s = a[j] + b[j] + c[j];
        terms[j] = s * s - (a[j] * a[j] + b[j] * b[j] + c[j] * c[j]);
    }
    float sum = 0.0f;
    for (std::int64_t j = 0; j < dim; ++j)
        sum += terms[j];
    return 0.5f * sum;
}

// d FM / d x = g (S - x) for each field x, added to the fields' incoming gradients: ga
// accumulates, gb and gc are written (gbIn, gcIn: the DNN's gradients of b and c).
void fmGradient(float g, const float* __restrict a, const float* __restrict b,
                const float* __restrict c, const float* __restrict gbIn,
                const float* __restrict gcIn, float* __restrict ga, float* __restrict gb,
                float* __restrict gc, std::int64_t dim)
{
    for (std::int64_t j = 0; j < dim; ++j) {
        const float s = a[j] + b[j] + c[j];
        ga[j] += g * (s - a[j]);
        gb[j] = gbIn[j] + g * (s - b[j]);
        gc[j] = gcIn[j] + g * (s - c[j]);
    }
}

// Everything of a training batch before the DNN, forward and backward as plain loops over the
// rows: the fields e_u, e_i and e_f (the mean of the item's feature bag), the first-order sum
// w_u + w_i + w_f and the FM term 0.5 * sum_j (S_j^2 - Q_j) with S = e_u + e_i + e_f and
// Q = e_u^2 + e_i^2 + e_f^2. Autograd's version was some 60 tensor operations and nodes a batch
// (lookups, bag means, squares, sums, a concatenation, six sparse backwards).
// Inputs: the tables E_u, E_i, w_u, w_i, E_f, w_f (the last two empty without the feature field),
// the distinct users of the batch and each row's index into them, the rows' items, and the
// field's CSR (feature ids of item k at csrIds[csrOffsets[k] ..]).
// Outputs: e_u of the distinct users [U, d] (the DNN's shared user block reads it), the item
// columns of the DNN input [B, d] or [B, 2d] (e_i, then e_f), and first order + FM [B].
// Gradients: sparse, as the sparse Embedding and EmbeddingBag give them (E_f's and w_f's one
// row per bag entry, divided by the bag's size), E_u's and w_u's one row per distinct user.
struct DeepFMFields : public torch::autograd::Function<DeepFMFields>
{
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& eu,
                                 const torch::Tensor& ei, const torch::Tensor& wu,
                                 const torch::Tensor& wi, const torch::Tensor& ef,
                                 const torch::Tensor& wf, const torch::Tensor& userValues,
                                 const torch::Tensor& rowOf, const torch::Tensor& items,
                                 const torch::Tensor& csrOffsets, const torch::Tensor& csrIds)
    {
        const bool features = ef.numel() > 0;
        const auto rows = items.size(0);
        const auto dim = eu.size(1);
        const auto numDistinct = userValues.size(0);
        const auto* user = userValues.data_ptr<std::int64_t>();
        const auto* row = rowOf.data_ptr<std::int64_t>();
        const auto* item = items.data_ptr<std::int64_t>();
        checkIndices(user, numDistinct, eu.size(0), "user");
        checkIndices(row, rows, numDistinct, "distinct user");
        checkIndices(item, rows, ei.size(0), "item");
        if (features)
            checkIndices(item, rows, csrOffsets.size(0) - 1, "item feature bag");
        const auto itemWidth = features ? 2 * dim : dim;

        auto users = torch::empty({numDistinct, dim}, eu.options());
        auto itemFields = torch::empty({rows, itemWidth}, eu.options());
        auto out = torch::empty({rows}, eu.options());
        const auto* euw = eu.data_ptr<float>();
        const auto* eiw = ei.data_ptr<float>();
        const auto* wuw = wu.data_ptr<float>();
        const auto* wiw = wi.data_ptr<float>();
        auto* up = users.data_ptr<float>();
        for (std::int64_t k = 0; k < numDistinct; ++k)
            std::copy_n(euw + user[k] * dim, dim, up + k * dim);
        auto* fp = itemFields.data_ptr<float>();
        auto* o = out.data_ptr<float>();
        const std::vector<float> zeros(static_cast<std::size_t>(dim), 0.0f);
        std::vector<float> terms(static_cast<std::size_t>(dim));
        for (std::int64_t r = 0; r < rows; ++r) {
            float* fi = fp + r * itemWidth;
            std::copy_n(eiw + item[r] * dim, dim, fi);
            float first = wuw[user[row[r]]] + wiw[item[r]];
            if (features)
                first += bagMean(ef, wf, csrOffsets, csrIds, item[r], fi + dim);
            o[r] = first + fmTerm(up + row[r] * dim, fi, features ? fi + dim : zeros.data(),
                                  terms.data(), dim);
        }
        ctx->save_for_backward({users, itemFields, userValues, rowOf, items, csrOffsets, csrIds});
        ctx->saved_data["users"] = eu.size(0);
        ctx->saved_data["items"] = ei.size(0);
        ctx->saved_data["vocabulary"] = features ? ef.size(0) : std::int64_t{0};
        return {users, itemFields, out};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& users = saved[0];
        const auto& itemFields = saved[1];
        const auto& userValues = saved[2];
        const auto& rowOf = saved[3];
        const auto& items = saved[4];
        const auto& csrOffsets = saved[5];
        const auto& csrIds = saved[6];
        const auto numUsers = ctx->saved_data["users"].toInt();
        const auto numItems = ctx->saved_data["items"].toInt();
        const auto vocabulary = ctx->saved_data["vocabulary"].toInt();
        const bool features = vocabulary > 0;
        const auto rows = items.size(0);
        const auto dim = users.size(1);
        const auto numDistinct = users.size(0);
        const auto itemWidth = itemFields.size(1);

        // Undefined output gradients are zero (the function materialises them).
        auto gUsers = grads[0].contiguous().clone();  // [U, d], accumulated below
        const auto gItems = grads[1].contiguous();    // [B, itemWidth]
        const auto gOut = grads[2].contiguous();      // [B]
        auto gUserWeight = torch::zeros({numDistinct, 1}, users.options());
        auto gItem = torch::empty({rows, dim}, users.options());

        const auto* row = rowOf.data_ptr<std::int64_t>();
        const auto* item = items.data_ptr<std::int64_t>();
        const auto* off = csrOffsets.data_ptr<std::int64_t>();
        const auto* ids = csrIds.data_ptr<std::int64_t>();
        std::int64_t entries = 0;
        if (features)
            for (std::int64_t r = 0; r < rows; ++r)
                entries += off[item[r] + 1] - off[item[r]];
        auto featureRows = torch::empty({1, entries}, torch::kLong);
        auto gFeature = torch::empty({entries, dim}, users.options());
        auto gFeatureWeight = torch::empty({entries, 1}, users.options());

        const auto* up = users.data_ptr<float>();
        const auto* fp = itemFields.data_ptr<float>();
        const auto* gi = gItems.data_ptr<float>();
        const auto* go = gOut.data_ptr<float>();
        auto* gu = gUsers.data_ptr<float>();
        auto* guw = gUserWeight.data_ptr<float>();
        auto* gei = gItem.data_ptr<float>();
        auto* fr = featureRows.data_ptr<std::int64_t>();
        auto* gf = gFeature.data_ptr<float>();
        auto* gfw = gFeatureWeight.data_ptr<float>();
        const std::vector<float> zeros(static_cast<std::size_t>(dim), 0.0f);
        std::vector<float> gBag(static_cast<std::size_t>(dim));
        std::int64_t entry = 0;
        for (std::int64_t r = 0; r < rows; ++r) {
            const float g = go[r];
            const float* fi = fp + r * itemWidth;
            const float* gir = gi + r * itemWidth;
            guw[row[r]] += g;
            fmGradient(g, up + row[r] * dim, fi, features ? fi + dim : zeros.data(), gir,
                       features ? gir + dim : zeros.data(), gu + row[r] * dim, gei + r * dim,
                       gBag.data(), dim);
            if (!features)
                continue;
            // The bag's mean spreads its gradient evenly over its entries.
            const auto begin = off[item[r]];
            const auto count = off[item[r] + 1] - begin;
            for (std::int64_t k = 0; k < count; ++k, ++entry) {
                fr[entry] = ids[begin + k];
                divideRow(gBag.data(), static_cast<float>(count), gf + entry * dim, dim);
                gfw[entry] = g / static_cast<float>(count);
            }
        }
        const auto userRows = userValues.unsqueeze(0);
        const auto itemRows = items.unsqueeze(0);
        variable_list out(11);
        out[0] = at::_sparse_coo_tensor_unsafe(userRows, gUsers, {numUsers, dim});
        out[1] = at::_sparse_coo_tensor_unsafe(itemRows, gItem, {numItems, dim});
        out[2] = at::_sparse_coo_tensor_unsafe(userRows, gUserWeight, {numUsers, 1});
        out[3] = at::_sparse_coo_tensor_unsafe(itemRows, gOut.unsqueeze(1).clone(), {numItems, 1});
        if (features) {
            out[4] = at::_sparse_coo_tensor_unsafe(featureRows, gFeature, {vocabulary, dim});
            out[5] =
                at::_sparse_coo_tensor_unsafe(featureRows.clone(), gFeatureWeight, {vocabulary, 1});
        }
        return out;
    }

    // Writes the mean of item's bag of E_f rows to out [dim] (zeros for an empty bag) and returns
    // the mean of its w_f entries.
    static float bagMean(const torch::Tensor& ef, const torch::Tensor& wf,
                         const torch::Tensor& csrOffsets, const torch::Tensor& csrIds,
                         std::int64_t item, float* out)
    {
        const auto* off = csrOffsets.data_ptr<std::int64_t>();
        const auto* ids = csrIds.data_ptr<std::int64_t>();
        bagMeanRow(ef.data_ptr<float>(), ef.size(1), off, ids, item, out);
        float weight = 0.0f;
        bagMeanRow(wf.data_ptr<float>(), 1, off, ids, item, &weight);
        return weight;
    }
};

}  // namespace

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
    m_handWritten = sparse;
}

torch::Tensor DeepFMImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    // The hand-written function reads the tables' floats in place: contiguous float CPU tables
    // (the embeddings this class makes always are).
    if (m_handWritten && users.dim() == 1 && users.scalar_type() == torch::kLong &&
        items.scalar_type() == torch::kLong && users.sizes() == items.sizes() &&
        m_user->weight.scalar_type() == torch::kFloat && m_user->weight.device().is_cpu()) {
        const auto user = distinctIds(users);
        const auto none = torch::empty({0}, m_user->weight.options());
        const auto noIds = torch::empty({0}, torch::kLong);
        const bool features = !m_features.is_empty();
        const auto outputs = DeepFMFields::apply(
            m_user->weight, m_item->weight, m_userWeight->weight, m_itemWeight->weight,
            features ? m_features->embeddingWeight() : none,
            features ? m_features->biasWeight() : none, user.values, user.rowOf, items.contiguous(),
            features ? m_features->csrOffsets() : noIds, features ? m_features->csrIds() : noIds);
        return outputs[2] + m_dnn->forwardSharedLead(outputs[0], user.rowOf, outputs[1]);
    }
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
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            out.narrow(0, ub, uc).narrow(1, ib, ic).add_(
                m_dnn
                    ->forwardFromSum(userPart.narrow(0, ub, uc), items.firstLayer.narrow(0, ib, ic))
                    .view({uc, ic}));
        },
        m_dnn->sumBlockRows());
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
