#include "model/mf.h"

#include "common/error.h"
#include "model/layers.h"

namespace sllmr {
namespace {

using model_detail::makeEmbedding;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// s(u,i) = <p_u * dropP, q_i * dropQ> + b_u + b_i + g over B rows, forward and backward written
// out as plain loops. Autograd's version is a dozen small operations each way plus four sparse
// gradients built from them; at batch 128 their fixed cost was most of an MF step. The masks are
// the dropout noise (bernoulli(1 - p) / (1 - p), drawn by the caller exactly as torch::dropout
// draws it) or empty in evaluation mode. The gradients of the four tables are sparse, one
// row per batch row, as torch's sparse Embedding gives them; the global bias's is dense.
struct MfScore : public torch::autograd::Function<MfScore>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& p,
                                 const torch::Tensor& q, const torch::Tensor& bu,
                                 const torch::Tensor& bi, const torch::Tensor& g,
                                 const torch::Tensor& users, const torch::Tensor& items,
                                 const torch::Tensor& dropP, const torch::Tensor& dropQ)
    {
        const auto rows = users.size(0);
        const auto dim = p.size(1);
        const auto* u = users.data_ptr<std::int64_t>();
        const auto* i = items.data_ptr<std::int64_t>();
        checkRows(u, rows, p.size(0));
        checkRows(i, rows, q.size(0));
        const auto* pw = p.data_ptr<float>();
        const auto* qw = q.data_ptr<float>();
        const auto* mp = dropP.numel() > 0 ? dropP.data_ptr<float>() : nullptr;
        const auto* mq = dropQ.numel() > 0 ? dropQ.data_ptr<float>() : nullptr;
        const auto* bup = bu.data_ptr<float>();
        const auto* bip = bi.data_ptr<float>();
        const float gb = g.data_ptr<float>()[0];
        auto out = torch::empty({rows}, p.options());
        auto* s = out.data_ptr<float>();
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* pu = pw + u[r] * dim;
            const float* qi = qw + i[r] * dim;
            float dot = 0.0f;
            for (std::int64_t j = 0; j < dim; ++j) {
                const float a = mp ? pu[j] * mp[r * dim + j] : pu[j];
                const float b = mq ? qi[j] * mq[r * dim + j] : qi[j];
                dot += a * b;
            }
            s[r] = dot + bup[u[r]] + bip[i[r]] + gb;
        }
        ctx->save_for_backward({p, q, users, items, dropP, dropQ});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradOutputs)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& p = saved[0];
        const auto& q = saved[1];
        const auto& users = saved[2];
        const auto& items = saved[3];
        const auto& dropP = saved[4];
        const auto& dropQ = saved[5];
        const auto grad = gradOutputs[0].contiguous();
        const auto rows = users.size(0);
        const auto dim = p.size(1);
        const auto* gs = grad.data_ptr<float>();
        const auto* u = users.data_ptr<std::int64_t>();
        const auto* i = items.data_ptr<std::int64_t>();
        const auto* pw = p.data_ptr<float>();
        const auto* qw = q.data_ptr<float>();
        const auto* mp = dropP.numel() > 0 ? dropP.data_ptr<float>() : nullptr;
        const auto* mq = dropQ.numel() > 0 ? dropQ.data_ptr<float>() : nullptr;
        auto gp = torch::empty({rows, dim}, p.options());
        auto gq = torch::empty({rows, dim}, q.options());
        auto* gpv = gp.data_ptr<float>();
        auto* gqv = gq.data_ptr<float>();
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* pu = pw + u[r] * dim;
            const float* qi = qw + i[r] * dim;
            for (std::int64_t j = 0; j < dim; ++j) {
                const auto at = r * dim + j;
                const float a = mp ? pu[j] * mp[at] : pu[j];
                const float b = mq ? qi[j] * mq[at] : qi[j];
                gpv[at] = mp ? gs[r] * b * mp[at] : gs[r] * b;
                gqv[at] = mq ? gs[r] * a * mq[at] : gs[r] * a;
            }
        }
        const auto userRows = users.unsqueeze(0);
        const auto itemRows = items.unsqueeze(0);
        const auto bias = grad.unsqueeze(1);
        return {at::_sparse_coo_tensor_unsafe(userRows, gp, p.sizes()),
                at::_sparse_coo_tensor_unsafe(itemRows, gq, q.sizes()),
                at::_sparse_coo_tensor_unsafe(userRows, bias, {p.size(0), 1}),
                at::_sparse_coo_tensor_unsafe(itemRows, bias.clone(), {q.size(0), 1}),
                grad.sum().reshape({1}),
                torch::Tensor(),
                torch::Tensor(),
                torch::Tensor(),
                torch::Tensor()};
    }

    static void checkRows(const std::int64_t* index, std::int64_t n, std::int64_t size)
    {
        for (std::int64_t r = 0; r < n; ++r)
            if (index[r] < 0 || index[r] >= size)
                throw Error(ErrorKind::Internal, "MF: index " + std::to_string(index[r]) +
                                                     " outside a table of " + std::to_string(size) +
                                                     " rows");
    }
};

}  // namespace

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
    m_handWritten = sparse && spec.dropout < 1.0;  // dropoutNoise needs p < 1
}

torch::Tensor MFImpl::embedDropout(const torch::Tensor& x)
{
    return model_detail::dropout(m_dropout, x);
}

torch::Tensor MFImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    if (m_handWritten && users.dim() == 1 && users.scalar_type() == torch::kLong &&
        items.scalar_type() == torch::kLong && users.sizes() == items.sizes()) {
        const auto u = users.contiguous();
        const auto i = items.contiguous();
        auto dropP = torch::empty({0});
        auto dropQ = dropP;
        if (!m_dropout.is_empty() && is_training()) {
            // The noise torch::dropout draws, in the same order (user rows, then item rows).
            const double rate = m_dropout->options.p();
            dropP = model_detail::dropoutNoise(u.size(0), m_user->weight.size(1), rate);
            dropQ = model_detail::dropoutNoise(u.size(0), m_item->weight.size(1), rate);
        }
        return MfScore::apply(m_user->weight, m_item->weight, m_userBias->weight,
                              m_itemBias->weight, m_globalBias, u, i, dropP, dropQ);
    }
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
