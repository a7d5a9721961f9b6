#include "model/din.h"

#include "common/error.h"

#include <array>
#include <string>

namespace sllmr {

using namespace model_detail;

DINImpl::DINImpl(const ModelSpec& spec, const BackboneContext& context)
{
    m_numItems = context.numItems;
    if (!context.train)
        throw Error(ErrorKind::Usage,
                    "the DIN backbone needs the training interactions for its user histories", {},
                    0, "build it with the dataset's training split (the trainer does this)");
    const std::int64_t length = spec.historyLength;
    m_history = torch::zeros({context.numUsers, length}, torch::kLong);
    m_valid = torch::zeros({context.numUsers, length}, torch::kBool);
    {
        // train is sorted by (user, time, order): a user's last `length` rows are the most recent.
        auto history = m_history.accessor<std::int64_t, 2>();
        auto valid = m_valid.accessor<bool, 2>();
        const auto& rows = *context.train;
        std::size_t begin = 0;
        while (begin < rows.size()) {
            const auto user = rows[begin].user;
            std::size_t end = begin;
            while (end < rows.size() && rows[end].user == user)
                ++end;
            if (user >= context.numUsers)
                throw Error(ErrorKind::Internal, "training interaction of user " +
                                                     std::to_string(user) + " outside the " +
                                                     std::to_string(context.numUsers) + " users");
            const auto take = std::min<std::size_t>(end - begin, static_cast<std::size_t>(length));
            for (std::size_t k = 0; k < take; ++k) {
                const auto item = rows[end - take + k].item;
                if (item >= context.numItems)
                    throw Error(ErrorKind::Internal,
                                "training interaction of item " + std::to_string(item) +
                                    " outside the " + std::to_string(context.numItems) + " items");
                history[user][static_cast<std::int64_t>(k)] = item;
                valid[user][static_cast<std::int64_t>(k)] = true;
            }
            begin = end;
        }
    }
    m_history = register_buffer("history", m_history);
    m_valid = register_buffer("valid", m_valid);

    m_fields = register_module("fields", FieldEmbeddings(spec, context, /*withFirstOrder=*/false));
    const auto itemWidth = m_fields->itemWidth();
    std::int64_t in = 4 * itemWidth;
    for (std::size_t k = 0; k < spec.dinAttention.size(); ++k) {
        const std::int64_t width = spec.dinAttention[k];
        m_attention.push_back(
            register_module("attention" + std::to_string(k), makeLinear(in, width)));
        m_activations.push_back(register_module(
            "prelu" + std::to_string(k),
            torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(width).init(0.25))));
        in = width;
    }
    m_attention.push_back(register_module("attention_out", makeLinear(in, 1)));
    m_dnn = register_module("dnn", Mlp(spec.dim + 2 * itemWidth, spec.hidden, spec.dropout));
}

std::vector<std::int64_t> DINImpl::history(std::int64_t user) const
{
    std::vector<std::int64_t> out;
    for (std::int64_t k = 0; k < m_history.size(1); ++k)
        if (m_valid[user][k].item<bool>())
            out.push_back(m_history[user][k].item<std::int64_t>());
    return out;
}

torch::Tensor DINImpl::attentionFrom(const torch::Tensor& firstOutput)
{
    auto x = m_activations.front()(firstOutput);
    for (std::size_t k = 1; k < m_attention.size(); ++k) {
        x = applyLinear(m_attention[k], x);
        if (k < m_activations.size())
            x = m_activations[k](x);
    }
    return x.squeeze(-1);
}

std::array<torch::Tensor, 3> DINImpl::splitFirstAttention(std::int64_t width)
{
    // [h, t, h - t, h * t] W^T = h (W_h + W_d)^T + t (W_t - W_d)^T + (h * t) W_p^T.
    const auto& w = m_attention.front()->weight;  // [a1, 4 I]
    return {w.narrow(1, 0, width) + w.narrow(1, 2 * width, width),
            w.narrow(1, width, width) - w.narrow(1, 2 * width, width),
            w.narrow(1, 3 * width, width)};
}

torch::Tensor DINImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    // A batch repeats its users (a positive, its negatives, the pair sides): the history
    // embeddings and the LAU's history part run once per distinct user, as in scoreAll; only the
    // target part and the elementwise products run per row.
    const auto user = distinctIds(users);
    const auto b = users.size(0);
    const auto numDistinct = user.values.size(0);
    const auto length = m_history.size(1);
    const auto histDistinct = m_history.index_select(0, user.values);  // [U, L]
    const auto hist = histDistinct.index_select(0, user.rowOf);        // [B, L]
    const auto mask = m_valid.index_select(0, users).logical_and(hist.ne(items.unsqueeze(1)));
    const auto target = m_fields->items(items);  // [B, I]
    const auto width = target.size(1);
    const auto hDistinct =
        m_fields->items(histDistinct.reshape({-1})).view({numDistinct * length, width});
    const auto h = hDistinct.view({numDistinct, length, width}).index_select(0, user.rowOf);

    const auto split = splitFirstAttention(width);
    const auto &wH = split[0], &wT = split[1], &wP = split[2];
    const auto a1 = wH.size(0);
    const auto histPart = torch::addmm(m_attention.front()->bias, hDistinct, wH.t())
                              .view({numDistinct, length, a1})
                              .index_select(0, user.rowOf);          // [B, L, a1]
    const auto targetPart = torch::mm(target, wT.t()).unsqueeze(1);  // [B, 1, a1]
    const auto productPart = torch::mm((h * target.unsqueeze(1)).view({b * length, width}), wP.t())
                                 .view({b, length, a1});
    const auto weights = attentionFrom((histPart + productPart + targetPart).view({b * length, a1}))
                             .view({b, length}) *
                         mask.to(h.scalar_type());
    const auto interest = torch::matmul(weights.unsqueeze(1), h).squeeze(1);  // [B, I]
    return m_dnn->forwardSharedLead(m_fields->users(user.values), user.rowOf,
                                    torch::cat({interest, target}, 1));
}

torch::Tensor DINImpl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);
    const auto length = m_history.size(1);
    const auto eu = m_fields->users(u);  // [U, d]
    const auto d = eu.size(1);
    const auto items = m_fields->allItems();  // [N, I]
    const auto width = items.size(1);
    const auto hist = m_history.index_select(0, u);  // [U, L]
    const auto valid = m_valid.index_select(0, u);
    const auto h = items.index_select(0, hist.reshape({-1})).view({numUsers, length, width});

    const auto split = splitFirstAttention(width);
    const auto &wH = split[0], &wT = split[1], &wP = split[2];
    const auto a1 = wH.size(0);
    const auto histPart =
        inferenceLinear(h.view({numUsers * length, width}), wH, m_attention.front()->bias)
            .view({numUsers, length, a1});
    const auto itemPart = inferenceLinear(items, wT);  // [N, a1]

    auto& dnnFirst = m_dnn->first();
    const auto w1 = dnnFirst->weight;  // [H1, d + 2 I]
    const auto h1 = w1.size(0);
    const auto userPart = inferenceLinear(eu, w1.narrow(1, 0, d), dnnFirst->bias);
    const auto targetPart = inferenceLinear(items, w1.narrow(1, d + width, width));
    const auto wInterest = w1.narrow(1, d, width);

    const auto allItems = torch::arange(m_numItems, u.options());
    auto out = torch::empty({numUsers, m_numItems}, eu.options());
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto hb = h.narrow(0, ub, uc);  // [uc, L, I]
            const auto products =
                (hb.unsqueeze(1) * items.narrow(0, ib, ic).unsqueeze(0).unsqueeze(2))
                    .view({uc * ic * length, width});
            const auto pre = (inferenceLinear(products, wP).view({uc, ic, length, a1}) +
                              histPart.narrow(0, ub, uc).unsqueeze(1) +
                              itemPart.narrow(0, ib, ic).unsqueeze(0).unsqueeze(2))
                                 .view({uc * ic * length, a1});
            const auto mask = valid.narrow(0, ub, uc).unsqueeze(1).logical_and(
                hist.narrow(0, ub, uc).unsqueeze(1).ne(
                    allItems.narrow(0, ib, ic).unsqueeze(0).unsqueeze(2)));  // [uc, ic, L]
            const auto weights =
                attentionFrom(pre).view({uc, ic, length}) * mask.to(hb.scalar_type());
            const auto interest = torch::matmul(weights, hb).view({uc * ic, width});
            const auto dnnPre = (inferenceLinear(interest, wInterest).view({uc, ic, h1}) +
                                 userPart.narrow(0, ub, uc).unsqueeze(1) +
                                 targetPart.narrow(0, ib, ic).unsqueeze(0))
                                    .view({uc * ic, h1});
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(
                m_dnn->forwardFrom(dnnPre).view({uc, ic}));
        },
        rowsForWidth(length * std::max(width, a1) +
                     std::max<std::int64_t>(m_dnn->maxWidth(), width)));
    return out;
}

}  // namespace sllmr
