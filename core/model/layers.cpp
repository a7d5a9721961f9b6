#include "model/layers.h"

#include "common/error.h"
#include "common/thread_generator.h"
#include "model/item_fields.h"
#include "model/keep_mask.h"
#include "model/mlp_scoring.h"
#include "model/sgemm.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Config.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace sllmr::model_detail {

torch::Tensor inferenceLinear(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias)
{
    const bool oneDnn = at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() &&
                        x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
                        weight.scalar_type() == torch::kFloat && x.dim() == 2 && x.size(0) > 0 &&
                        x.size(1) > 0 && weight.size(0) > 0 && !torch::GradMode::is_enabled();
    if (!oneDnn)
        return bias.defined() ? torch::addmm(bias, x, weight.t()) : torch::mm(x, weight.t());
    return torch::mkldnn_linear(x.contiguous().to_mkldnn(), weight.contiguous(),
                                bias.defined() ? bias.contiguous() : bias)
        .to_dense();
}

float keptValue(double p)
{
    // As torch computes it: a float 1 divided by the keep rate; remembered for the last rate, as
    // the tensor operations cost more than a dropout mask of a few rows.
    thread_local double lastP = -1.0;
    thread_local float lastKept = 1.0F;
    if (p != lastP) {
        lastKept = torch::ones({1}).div_(1.0 - p).item<float>();
        lastP = p;
    }
    return lastKept;
}

torch::Tensor dropoutNoise(std::int64_t rows, std::int64_t cols, double p)
{
    const double keep = 1.0 - p;
    const float kept = keptValue(p);
#if AT_MKL_ENABLED()
    // A LibTorch built with MKL draws bernoulli through MKL's own generator: use its kernel.
    return torch::empty({rows, cols}).bernoulli_(keep, threadGenerator()).div_(keep);
#endif
    auto noise = torch::empty({rows, cols});
    auto generator = threadGenerator();
    auto* impl = at::check_generator<at::CPUGeneratorImpl>(generator);
    std::lock_guard<std::mutex> lock(generator.mutex());
    at::mt19937 engine = impl->engine();
    auto pod = engine.data();
    TwisterState state;
    state.left = pod.left_;
    state.next = pod.next_;
    state.words = pod.state_;
    fillKeepMask(state, noise.data_ptr<float>(), noise.numel(), keep, kept);
    pod.left_ = state.left;
    pod.next_ = state.next;
    pod.state_ = state.words;
    engine.set_data(pod);
    impl->set_engine(engine);
    return noise;
}

torch::Tensor dropout(const torch::nn::Dropout& module, const torch::Tensor& x)
{
    if (module.is_empty() || !module->is_training() || module->options.p() <= 0.0)
        return x;
    const double p = module->options.p();
    if (p >= 1.0 || !x.is_contiguous() || x.scalar_type() != torch::kFloat)
        return module.ptr()->forward(x);  // torch's global generator: no model comes here
    return x * dropoutNoise(1, x.numel(), p).view(x.sizes());
}

torch::nn::Embedding makeEmbedding(std::int64_t rows, std::int64_t dim, bool sparse, double std)
{
    torch::nn::Embedding e(torch::nn::EmbeddingOptions(rows, dim).sparse(sparse));
    torch::NoGradGuard noGrad;
    if (std > 0)
        torch::nn::init::normal_(e->weight, 0.0, std);
    else
        torch::nn::init::zeros_(e->weight);
    return e;
}

torch::nn::Linear makeLinear(std::int64_t in, std::int64_t out, bool bias)
{
    torch::nn::Linear l(torch::nn::LinearOptions(in, out).bias(bias));
    torch::NoGradGuard noGrad;
    torch::nn::init::xavier_uniform_(l->weight);
    if (bias)
        torch::nn::init::zeros_(l->bias);
    return l;
}

torch::Tensor applyLinear(torch::nn::Linear& layer, const torch::Tensor& x)
{
    return torch::GradMode::is_enabled() ? layer(x)
                                         : inferenceLinear(x, layer->weight, layer->bias);
}

// ---------------------------------------------------------------------------------------------

bool ItemFeatureFieldImpl::available(const ModelSpec& spec, const BackboneContext& context)
{
    return spec.itemFeatures && context.itemInfo && context.itemInfo->hasFeatures() &&
           !context.itemInfo->featureNames.empty();
}

ItemFeatureFieldImpl::ItemFeatureFieldImpl(const BackboneContext& context, std::int64_t dim,
                                           bool sparse, bool withBias)
{
    const ItemInfo& info = *context.itemInfo;
    const auto vocabulary = static_cast<std::int64_t>(info.featureNames.size());
    if (static_cast<std::int64_t>(info.featureOffsets.size()) != context.numItems + 1 ||
        info.featureOffsets.front() != 0 || info.featureOffsets.back() != info.features.size())
        throw Error(
            ErrorKind::Internal,
            "item features do not match the items: " + std::to_string(info.featureOffsets.size()) +
                " offsets for " + std::to_string(context.numItems) + " items");

    m_offsets = torch::empty({context.numItems + 1}, torch::kLong);
    auto* off = m_offsets.data_ptr<std::int64_t>();
    for (std::size_t k = 0; k < info.featureOffsets.size(); ++k) {
        off[k] = info.featureOffsets[k];
        if (k > 0 && off[k] < off[k - 1])
            throw Error(ErrorKind::Internal, "item feature offsets are not sorted");
    }
    m_ids = torch::empty({static_cast<std::int64_t>(info.features.size())}, torch::kLong);
    auto* ids = m_ids.data_ptr<std::int64_t>();
    for (std::size_t k = 0; k < info.features.size(); ++k) {
        if (info.features[k] >= vocabulary)
            throw Error(ErrorKind::Internal, "item feature id " + std::to_string(info.features[k]) +
                                                 " is outside the vocabulary of " +
                                                 std::to_string(vocabulary));
        ids[k] = info.features[k];
    }
    m_offsets = register_buffer("offsets", m_offsets);
    m_ids = register_buffer("ids", m_ids);

    // Same init as the ID embeddings: N(0, 0.01) for the vectors, zero for first-order weights.
    auto bag = [&](std::int64_t width, double std) {
        torch::nn::EmbeddingBag b(
            torch::nn::EmbeddingBagOptions(vocabulary, width).mode(torch::kMean).sparse(sparse));
        torch::NoGradGuard noGrad;
        if (std > 0)
            torch::nn::init::normal_(b->weight, 0.0, std);
        else
            torch::nn::init::zeros_(b->weight);
        return b;
    };
    m_embedding = register_module("embedding", bag(dim, 0.01));
    if (withBias)
        m_bias = register_module("bias", bag(1, 0.0));
}

ItemFeatureFieldImpl::Bags ItemFeatureFieldImpl::bags(const torch::Tensor& items) const
{
    // Each item's slice of the CSR, one after another, and where each bag starts: plain loops
    // (a dozen tensor operations a batch before).
    const auto list = items.to(torch::kLong).contiguous();
    const auto n = list.numel();
    const auto* item = list.data_ptr<std::int64_t>();
    const auto* off = m_offsets.data_ptr<std::int64_t>();
    const auto* ids = m_ids.data_ptr<std::int64_t>();
    const auto numItems = m_offsets.size(0) - 1;
    auto bagOffsets = torch::empty({n}, torch::kLong);
    auto* bag = bagOffsets.data_ptr<std::int64_t>();
    std::int64_t total = 0;
    for (std::int64_t k = 0; k < n; ++k) {
        if (item[k] < 0 || item[k] >= numItems)
            throw Error(ErrorKind::Internal, "item feature bags: item " + std::to_string(item[k]) +
                                                 " outside the " + std::to_string(numItems) +
                                                 " items");
        bag[k] = total;
        total += off[item[k] + 1] - off[item[k]];
    }
    auto flat = torch::empty({total}, torch::kLong);
    auto* out = flat.data_ptr<std::int64_t>();
    for (std::int64_t k = 0; k < n; ++k)
        out = std::copy(ids + off[item[k]], ids + off[item[k] + 1], out);
    return {flat, bagOffsets};
}

ItemFeatureFieldImpl::Bags ItemFeatureFieldImpl::allBags() const
{
    return {m_ids, m_offsets.narrow(0, 0, m_offsets.size(0) - 1)};
}

torch::Tensor ItemFeatureFieldImpl::embed(const Bags& bags)
{
    return m_embedding(bags.ids, bags.offsets);
}

torch::Tensor ItemFeatureFieldImpl::bias(const Bags& bags)
{
    return m_bias(bags.ids, bags.offsets).squeeze(1);
}

// ---------------------------------------------------------------------------------------------

MlpImpl::MlpImpl(std::int64_t in, const std::vector<int>& hidden, double dropout)
{
    std::int64_t width = in;
    m_maxWidth = in;
    for (std::size_t k = 0; k < hidden.size(); ++k) {
        m_maxWidth = std::max<std::int64_t>(m_maxWidth, hidden[k]);
        m_layers.push_back(
            register_module("linear" + std::to_string(k), makeLinear(width, hidden[k])));
        width = hidden[k];
    }
    m_layers.push_back(register_module("output", makeLinear(width, 1)));
    if (dropout > 0 && !hidden.empty())
        m_dropout = register_module("dropout", torch::nn::Dropout(dropout));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A Linear layer in training with its products through model/sgemm.h: y = x W^T + b, and back
// the calls autograd makes for Linear (g W, g^T x, the row sum of g).
struct AffineLayer : public torch::autograd::Function<AffineLayer>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight, const torch::Tensor& bias)
    {
        ctx->save_for_backward({x, weight});
        return productPlus(bias, x, weight.t());
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto g = grads[0].contiguous();
        variable_list out(3);
        if (ctx->needs_input_grad(0))
            out[0] = product(g, saved[1]);
        if (ctx->needs_input_grad(1))
            out[1] = product(g.t(), saved[0]);
        if (ctx->needs_input_grad(2))
            out[2] = g.sum(0);
        return out;
    }
};

}  // namespace

torch::Tensor MlpImpl::forward(const torch::Tensor& x)
{
    auto& first = m_layers.front();
    if (!torch::GradMode::is_enabled())
        return forwardFrom(inferenceLinear(x, first->weight, first->bias));
    if (isFloatRows(x))
        return forwardFrom(AffineLayer::apply(x, first->weight, first->bias));
    return forwardFrom(first(x));
}

namespace {

// forwardSharedLead's first layer in training, as one autograd node:
// pre = addmm(b, lead, W_lead^T)[rowOf] + rest W_rest^T, the product added into the gathered rows.
// Backward makes the calls autograd makes for those operations (the row gradients of the lead
// block gathered by index_add_ into zeros, each block of W's gradient from its own product), and
// writes both blocks of W's gradient in place into one tensor where autograd added two
// zero-padded ones. The products go through model/sgemm.h:
// the same numbers up to their float rounding.
struct SharedLeadLinear : public torch::autograd::Function<SharedLeadLinear>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& lead,
                                 const torch::Tensor& rowOf, const torch::Tensor& rest,
                                 const torch::Tensor& weight, const torch::Tensor& bias)
    {
        const auto leadWidth = lead.size(1);
        const auto wLead = weight.narrow(1, 0, leadWidth);
        const auto wRest = weight.narrow(1, leadWidth, weight.size(1) - leadWidth);
        const auto leadBlock = productPlus(bias, lead, wLead.t());
        ctx->save_for_backward({lead, rowOf, rest, weight});
        auto pre = leadBlock.index_select(0, rowOf);
        productInto(pre, rest, wRest.t(), /*add=*/true);
        return pre;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& lead = saved[0];
        const auto& rowOf = saved[1];
        const auto& rest = saved[2];
        const auto& weight = saved[3];
        const auto leadWidth = lead.size(1);
        const auto wLead = weight.narrow(1, 0, leadWidth);
        const auto wRest = weight.narrow(1, leadWidth, weight.size(1) - leadWidth);
        const auto& g = grads[0];
        variable_list out(5);
        if (ctx->needs_input_grad(2))
            out[2] = product(g, wRest);
        const auto gLead =
            torch::zeros({lead.size(0), g.size(1)}, g.options()).index_add_(0, rowOf, g);
        if (ctx->needs_input_grad(0))
            out[0] = product(gLead, wLead);
        if (ctx->needs_input_grad(3)) {
            auto gw = torch::empty_like(weight);
            auto gwLead = gw.narrow(1, 0, leadWidth);
            auto gwRest = gw.narrow(1, leadWidth, weight.size(1) - leadWidth);
            productInto(gwLead, gLead.t(), lead, /*add=*/false);
            productInto(gwRest, g.t(), rest, /*add=*/false);
            out[3] = gw;
        }
        if (ctx->needs_input_grad(4))
            out[4] = gLead.sum(0, true).view({weight.size(0)});
        return out;
    }
};

}  // namespace

torch::Tensor MlpImpl::forwardSharedLead(const torch::Tensor& lead, const torch::Tensor& rowOfLead,
                                         const torch::Tensor& rest)
{
    auto& layer = first();
    const auto& w = layer->weight;  // [out, lead | rest]
    const auto leadWidth = lead.size(1);
    if (torch::GradMode::is_enabled() && isFloatRows(lead) && isFloatRows(rest))
        return forwardFrom(SharedLeadLinear::apply(lead, rowOfLead, rest, w, layer->bias));
    const auto leadBlock = torch::addmm(layer->bias, lead, w.narrow(1, 0, leadWidth).t());
    return forwardFrom(leadBlock.index_select(0, rowOfLead) +
                       torch::mm(rest, w.narrow(1, leadWidth, w.size(1) - leadWidth).t()));
}

DistinctIds distinctIds(const torch::Tensor& ids)
{
    auto [values, rowOf] = at::_unique(ids.reshape({-1}), /*sorted=*/true, /*return_inverse=*/true);
    return {values, rowOf};
}

namespace {

// The rows of a [B, 1] output gradient that are not zero, as an index, when at most 90% of them
// are (else undefined: every row). In an S-LLMR batch a pair side whose pairs all meet the margin
// gets no gradient: about a quarter of a DeepFM batch's rows on the demo. Such a row adds exact
// zeros to every gradient below it, so MlpTail's backward leaves it out.
torch::Tensor rowsWithGradient(const torch::Tensor& g)
{
    const auto rows = g.size(0);
    const auto* v = g.data_ptr<float>();
    std::vector<std::int64_t> keep;
    keep.reserve(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
        if (v[r] != 0.0F)
            keep.push_back(r);
    }
    const auto n = static_cast<std::int64_t>(keep.size());
    if (n == 0 || n * 10 > rows * 9)
        return {};
    return torch::from_blob(keep.data(), {n}, torch::kLong).clone();
}

// Mlp::forwardFrom in training: the layers after the first affine map, [ReLU, Dropout, Linear]
// per hidden layer then the output, as one autograd node. params holds weight and bias of each of
// those Linear layers; the noise is drawn (dropoutNoise) when p > 0, layer by layer as Dropout
// draws it. ReLU and the noise are one pass each way (reluNoise, model/keep_mask.h), backward
// from the activations a alone. Backward makes the calls autograd makes for these modules (the
// weight's gradient as grad^T a, the bias's as a row sum, the input's as grad W, then the noise's
// and ReLU's factors), with the products through model/sgemm.h, so the numbers are the same up to
// the products' float rounding; what goes is some thirty tensor operations and autograd nodes a
// batch. Rows whose output gradient is zero are left out of backward (rowsWithGradient): the sums
// lose only zero terms, and those rows' input gradients are zero.
struct MlpTail : public torch::autograd::Function<MlpTail>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& first,
                                 at::TensorList params, double p)
    {
        const auto layers = params.size() / 2;
        std::vector<torch::Tensor> a;
        auto h = first.contiguous();
        for (std::size_t k = 0; k < layers; ++k) {
            const auto noise = p > 0 ? dropoutNoise(1, h.numel(), p) : torch::Tensor();
            a.push_back(torch::empty_like(h));
            reluNoise(h.data_ptr<float>(), p > 0 ? noise.data_ptr<float>() : nullptr,
                      a.back().data_ptr<float>(), h.numel());
            h = productPlus(params[2 * k + 1], a.back(), params[2 * k].t());
        }
        ctx->saved_data["a"] = a;
        ctx->saved_data["kept"] = p > 0 ? static_cast<double>(keptValue(p)) : 1.0;
        ctx->saved_data["weights"] = std::vector<torch::Tensor>(params.begin(), params.end());
        return h.squeeze_(-1);  // in place: the node's output is no view
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        auto a = ctx->saved_data["a"].toTensorVector();
        const auto kept = static_cast<float>(ctx->saved_data["kept"].toDouble());
        const auto params = ctx->saved_data["weights"].toTensorVector();
        const auto layers = a.size();
        variable_list out(1 + params.size());
        auto g = grads[0].contiguous().unsqueeze(1);  // [B, 1]
        const auto rows = g.size(0);
        const auto active = rowsWithGradient(g);
        if (active.defined()) {
            g = g.index_select(0, active);
            for (auto& ak : a)
                ak = ak.index_select(0, active);
        }
        for (std::size_t k = layers; k-- > 0;) {
            const auto& w = params[2 * k];
            if (ctx->needs_input_grad(1 + 2 * k))
                out[1 + 2 * k] = product(g.t(), a[k]);
            if (ctx->needs_input_grad(2 + 2 * k))
                out[2 + 2 * k] = g.sum(0, true).view({w.size(0)});
            if (k == 0 && !ctx->needs_input_grad(0))
                break;
            auto ga = product(g, w);
            reluNoiseBackward(a[k].data_ptr<float>(), ga.data_ptr<float>(), ga.numel(), kept);
            g = ga;
        }
        if (ctx->needs_input_grad(0))
            out[0] = active.defined()
                         ? torch::zeros({rows, g.size(1)}, g.options()).index_copy_(0, active, g)
                         : g;
        out.push_back(torch::Tensor());  // p
        ctx->saved_data.clear();         // freed now, as autograd frees what it saved
        return out;
    }
};

}  // namespace

torch::Tensor MlpImpl::forwardFrom(const torch::Tensor& firstOutput)
{
    const bool inference = !torch::GradMode::is_enabled();
    const bool noDropout = !dropoutActive();
    if (!inference && m_layers.size() > 1 && (noDropout || m_dropout->options.p() < 1.0) &&
        isFloatRows(firstOutput)) {
        std::vector<torch::Tensor> params;
        for (std::size_t k = 1; k < m_layers.size(); ++k) {
            params.push_back(m_layers[k]->weight);
            params.push_back(m_layers[k]->bias);
        }
        return MlpTail::apply(firstOutput, at::TensorList(params),
                              noDropout ? 0.0 : m_dropout->options.p());
    }
    if (scoresInChunks() && takesFirstOutput(firstOutput))
        return MlpScorer({m_layers.begin() + 1, m_layers.end()}).rows(firstOutput);
    auto h = firstOutput;
    for (std::size_t k = 1; k < m_layers.size(); ++k) {
        h = torch::relu(h);
        h = dropout(m_dropout, h);
        h = inference ? inferenceLinear(h, m_layers[k]->weight, m_layers[k]->bias) : m_layers[k](h);
    }
    return h.squeeze(-1);
}

bool MlpImpl::dropoutActive() const
{
    return !m_dropout.is_empty() && m_dropout->is_training() && m_dropout->options.p() > 0.0;
}

std::int64_t MlpImpl::sumBlockRows() const
{
    return scoresInChunks() ? kMaxScoreRows : rowsForWidth(m_maxWidth);
}

torch::Tensor MlpImpl::forwardFromSum(const torch::Tensor& lead, const torch::Tensor& rest)
{
    if (scoresInChunks() && takesFirstOutput(lead) && takesFirstOutput(rest))
        return MlpScorer({m_layers.begin() + 1, m_layers.end()}).crossSum(lead, rest);
    // The rows formed, a few leads at a time: sumBlockRows() may have promised a block of up to
    // kMaxScoreRows rows, too many to form at once.
    if (lead.size(0) == 0)
        return forwardFrom((lead.unsqueeze(1) + rest.unsqueeze(0)).view({-1, lead.size(1)}));
    const auto nb = std::max<std::int64_t>(rest.size(0), 1);
    const auto step = std::max<std::int64_t>(1, rowsForWidth(m_maxWidth) / nb);
    std::vector<torch::Tensor> parts;
    for (std::int64_t a = 0; a < lead.size(0); a += step) {
        const auto group = lead.narrow(0, a, std::min(step, lead.size(0) - a));
        parts.push_back(
            forwardFrom((group.unsqueeze(1) + rest.unsqueeze(0)).view({-1, lead.size(1)})));
    }
    return torch::cat(parts);
}

bool MlpImpl::scoresInChunks() const
{
    return !torch::GradMode::is_enabled() && !dropoutActive() && m_layers.size() > 1;
}

bool MlpImpl::takesFirstOutput(const torch::Tensor& t) const
{
    return isFloatRows(t) && t.size(1) == m_layers.front()->weight.size(0);
}

// ---------------------------------------------------------------------------------------------

FieldEmbeddingsImpl::FieldEmbeddingsImpl(const ModelSpec& spec, const BackboneContext& context,
                                         bool withFirstOrder)
    : m_dim(spec.dim)
{
    const bool sparse = spec.sparseEmbeddings;
    m_user = register_module("user", makeEmbedding(context.numUsers, spec.dim, sparse, 0.01));
    m_item = register_module("item", makeEmbedding(context.numItems, spec.dim, sparse, 0.01));
    if (withFirstOrder) {
        m_userWeight =
            register_module("user_weight", makeEmbedding(context.numUsers, 1, sparse, 0.0));
        m_itemWeight =
            register_module("item_weight", makeEmbedding(context.numItems, 1, sparse, 0.0));
    }
    if (ItemFeatureFieldImpl::available(spec, context))
        m_features = register_module("features",
                                     ItemFeatureField(context, spec.dim, sparse, withFirstOrder));
}

torch::Tensor FieldEmbeddingsImpl::users(const torch::Tensor& users)
{
    return m_user(users);
}

torch::Tensor FieldEmbeddingsImpl::items(const torch::Tensor& items)
{
    return itemColumns(m_item, m_features, items);
}

torch::Tensor FieldEmbeddingsImpl::allItems()
{
    if (m_features.is_empty())
        return m_item->weight;
    return torch::cat({m_item->weight, m_features->embed(m_features->allBags())}, 1);
}

torch::Tensor FieldEmbeddingsImpl::stacked(const torch::Tensor& users, const torch::Tensor& items)
{
    const auto b = users.size(0);
    return torch::cat({m_user(users), this->items(items)}, 1).view({b, numFields(), m_dim});
}

torch::Tensor FieldEmbeddingsImpl::userWeight(const torch::Tensor& users)
{
    return m_userWeight(users).squeeze(1);
}

torch::Tensor FieldEmbeddingsImpl::itemWeight(const torch::Tensor& items)
{
    auto w = m_itemWeight(items).squeeze(1);
    if (!m_features.is_empty())
        w = w + m_features->bias(m_features->bags(items));
    return w;
}

torch::Tensor FieldEmbeddingsImpl::allItemWeights()
{
    auto w = m_itemWeight->weight.squeeze(1);
    if (!m_features.is_empty())
        w = w + m_features->bias(m_features->allBags());
    return w;
}

}  // namespace sllmr::model_detail
