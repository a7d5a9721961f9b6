#include "model/dcnv2.h"

#include "model/item_fields.h"
#include "model/sgemm.h"

#include <string>

namespace sllmr {

using namespace model_detail;

DCNv2Impl::DCNv2Impl(const ModelSpec& spec, const BackboneContext& context) : m_dim(spec.dim)
{
    m_numItems = context.numItems;
    const bool sparse = spec.sparseEmbeddings;
    m_user = register_module("user", makeEmbedding(context.numUsers, spec.dim, sparse, 0.01));
    m_item = register_module("item", makeEmbedding(context.numItems, spec.dim, sparse, 0.01));
    std::int64_t fields = 2;
    if (ItemFeatureFieldImpl::available(spec, context)) {
        m_features = register_module(
            "features", ItemFeatureField(context, spec.dim, sparse, /*withBias=*/false));
        ++fields;
    }
    const std::int64_t width = fields * spec.dim;
    for (int l = 0; l < spec.crossLayers; ++l)
        m_cross.push_back(register_module("cross" + std::to_string(l), makeLinear(width, width)));
    m_dnn = register_module("dnn", Mlp(width, spec.hidden, spec.dropout));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One cross layer's elementwise gradients in one pass over contiguous [B, w] floats: gz = g * x0,
// and gx0 += g * z when gx0 is given (each product rounded, then added, as the tensor operations
// round them).
void crossGradients(const torch::Tensor& g, const torch::Tensor& x0, const torch::Tensor& z,
                    torch::Tensor& gz, torch::Tensor* gx0)
{
    const auto n = g.numel();
    const float* __restrict gp = g.data_ptr<float>();
    const float* __restrict xp = x0.data_ptr<float>();
    const float* __restrict zp = z.data_ptr<float>();
    float* __restrict out = gz.data_ptr<float>();
    if (gx0 == nullptr) {
        for (std::int64_t j = 0; j < n; ++j)
            out[j] = gp[j] * xp[j];
        return;
    }
    float* __restrict acc = gx0->data_ptr<float>();
    for (std::int64_t j = 0; j < n; ++j) {
        out[j] = gp[j] * xp[j];
        const float term = gp[j] * zp[j];
        acc[j] += term;
    }
}

// The cross layers in training as one autograd node: x_{l+1} = x_l + x0 * (x_l W_l^T + b_l).
// Forward and backward make the calls autograd makes for Linear and addcmul, with the products
// through model/sgemm.h; the gradient of x0 gathers its terms (one per layer, and x_0 itself) in
// another order than autograd's. What goes is three autograd nodes a layer and their bookkeeping.
// params holds W_l and b_l of each layer.
struct CrossNetwork : public torch::autograd::Function<CrossNetwork>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x0In,
                                 at::TensorList params)
    {
        const auto x0 = x0In.contiguous();
        std::vector<torch::Tensor> xs;
        std::vector<torch::Tensor> zs;
        auto x = x0;
        for (std::size_t l = 0; l < params.size() / 2; ++l) {
            auto z = productPlus(params[2 * l + 1], x, params[2 * l].t());
            xs.push_back(x);
            x = torch::addcmul(x, x0, z);
            zs.push_back(std::move(z));
        }
        ctx->saved_data["x0"] = x0;
        ctx->saved_data["x"] = xs;
        ctx->saved_data["z"] = zs;
        ctx->saved_data["weights"] = std::vector<torch::Tensor>(params.begin(), params.end());
        return x;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto x0 = ctx->saved_data["x0"].toTensor();
        const auto xs = ctx->saved_data["x"].toTensorVector();
        const auto zs = ctx->saved_data["z"].toTensorVector();
        const auto params = ctx->saved_data["weights"].toTensorVector();
        variable_list out(1 + params.size());
        auto g = grads[0].clone(
            torch::MemoryFormat::Contiguous);  // x_{l+1}'s gradient, added to in place
        auto gx0 = torch::zeros_like(x0);
        auto gz = torch::empty_like(g);
        const bool wantX0 = ctx->needs_input_grad(0);
        for (std::size_t l = xs.size(); l-- > 0;) {
            crossGradients(g, x0, zs[l], gz, wantX0 ? &gx0 : nullptr);
            if (ctx->needs_input_grad(1 + 2 * l))
                out[1 + 2 * l] = product(gz.t(), xs[l]);
            if (ctx->needs_input_grad(2 + 2 * l))
                out[2 + 2 * l] = gz.sum(0);
            if (l == 0 && !wantX0)
                break;  // the gradient of x_0 serves x0's alone
            productInto(g, gz, params[2 * l], /*add=*/true);
        }
        if (wantX0)
            out[0] = gx0.add_(g);
        ctx->saved_data.clear();
        return out;
    }
};

}  // namespace

torch::Tensor DCNv2Impl::cross(const torch::Tensor& x0, torch::Tensor x, std::size_t fromLayer)
{
    const bool inference = !torch::GradMode::is_enabled();
    if (!inference && fromLayer == 0 && !m_cross.empty() && isFloatRows(x0) && x.is_same(x0)) {
        std::vector<torch::Tensor> params;
        for (auto& layer : m_cross) {
            params.push_back(layer->weight);
            params.push_back(layer->bias);
        }
        return CrossNetwork::apply(x0, at::TensorList(params));
    }
    for (std::size_t l = fromLayer; l < m_cross.size(); ++l) {
        auto& layer = m_cross[l];
        const auto wx = inference ? inferenceLinear(x, layer->weight, layer->bias) : layer(x);
        x = torch::addcmul(x, x0, wx);
    }
    return x;
}

torch::Tensor DCNv2Impl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto x0 = torch::cat({m_user(users), itemColumns(m_item, m_features, items)}, 1);
    return m_dnn(cross(x0, x0, 0));
}

torch::Tensor DCNv2Impl::scoreAll(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto u = users.to(torch::kLong).reshape({-1});
    const auto numUsers = u.size(0);

    const auto eu = m_user(u);         // [U, d]
    auto itemFields = m_item->weight;  // [N, d] or [N, 2d] with the feature field
    if (!m_features.is_empty())
        itemFields = torch::cat({itemFields, m_features->embed(m_features->allBags())}, 1);
    const auto itemWidth = itemFields.size(1);
    const auto width = m_dim + itemWidth;

    // The first affine map of x0, split by columns: W [u | I] x0 + b = (W_u e_u + b) + W_I e_I.
    auto& first = m_cross.empty() ? m_dnn->first() : m_cross.front();
    const auto w = first->weight;  // [out, width]
    const auto userPart = inferenceLinear(eu, w.narrow(1, 0, m_dim), first->bias);
    const auto itemPart = inferenceLinear(itemFields, w.narrow(1, m_dim, itemWidth));
    const auto outWidth = w.size(0);

    auto out = torch::empty({numUsers, m_numItems}, eu.options());
    forEachBlock(
        numUsers, m_numItems,
        [&](std::int64_t ub, std::int64_t uc, std::int64_t ib, std::int64_t ic) {
            const auto pre =
                (userPart.narrow(0, ub, uc).unsqueeze(1) + itemPart.narrow(0, ib, ic).unsqueeze(0))
                    .view({uc * ic, outWidth});
            torch::Tensor logits;
            if (m_cross.empty()) {
                logits = m_dnn->forwardFrom(pre);
            } else {
                const auto x0 =
                    torch::cat(
                        {eu.narrow(0, ub, uc).unsqueeze(1).expand({uc, ic, m_dim}),
                         itemFields.narrow(0, ib, ic).unsqueeze(0).expand({uc, ic, itemWidth})},
                        2)
                        .view({uc * ic, width});
                logits = m_dnn(cross(x0, torch::addcmul(x0, x0, pre), 1));
            }
            out.narrow(0, ub, uc).narrow(1, ib, ic).copy_(logits.view({uc, ic}));
        },
        rowsForWidth(std::max(width, m_dnn->maxWidth())));
    return out;
}

}  // namespace sllmr
