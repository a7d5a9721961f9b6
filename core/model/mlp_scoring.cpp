#include "model/mlp_scoring.h"

#include "common/error.h"
#include "common/vector_clones.h"
#include "model/sgemm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <utility>

namespace sllmr::model_detail {

namespace {

// y[j] = max(0, y[j] + bias[j]) over rows of width n.
SLLMR_VECTOR_CLONES void biasRelu(float* __restrict y, const float* __restrict bias,
                                  std::int64_t rows, std::int64_t n)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        float* row = y + r * n;
        for (std::int64_t j = 0; j < n; ++j)
            row[j] = std::max(row[j] + bias[j], 0.0F);
    }
}

// bias + x . w in a fixed order: 16 running sums over the lanes, then added pairwise.
SLLMR_VECTOR_CLONES float dotPlus(const float* __restrict x, const float* __restrict w,
                                  std::int64_t n, float bias)
{
    constexpr std::int64_t kLanes = 16;
    std::array<float, kLanes> sums{};
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (std::int64_t l = 0; l < kLanes; ++l)
            sums[static_cast<std::size_t>(l)] += x[j + l] * w[j + l];
    }
    for (std::int64_t l = 0; j + l < n; ++l)
        sums[static_cast<std::size_t>(l)] += x[j + l] * w[j + l];
    for (std::int64_t width = kLanes / 2; width > 0; width /= 2) {
        for (std::int64_t l = 0; l < width; ++l)
            sums[static_cast<std::size_t>(l)] += sums[static_cast<std::size_t>(l + width)];
    }
    return bias + sums[0];
}

// d[j] = max(0, a[j] + b[j]).
SLLMR_VECTOR_CLONES void sumRelu(const float* __restrict a, const float* __restrict b,
                                 float* __restrict d, std::int64_t n)
{
    for (std::int64_t j = 0; j < n; ++j)
        d[j] = std::max(a[j] + b[j], 0.0F);
}

SLLMR_VECTOR_CLONES void relu(const float* __restrict s, float* __restrict d, std::int64_t n)
{
    for (std::int64_t j = 0; j < n; ++j)
        d[j] = std::max(s[j], 0.0F);
}

torch::Tensor floatContiguous(const torch::Tensor& t)
{
    return t.to(torch::kFloat).contiguous();
}

}  // namespace

bool MlpScorer::usesOneDnnProducts()
{
    return productsUseOneDnn();
}

MlpScorer::MlpScorer(const std::vector<torch::nn::Linear>& layers)
{
    torch::NoGradGuard noGrad;
    for (const auto& layer : layers) {
        Layer l;
        l.weightT = floatContiguous(layer->weight.t());
        l.bias = floatContiguous(layer->bias);
        l.in = layer->weight.size(1);
        l.out = layer->weight.size(0);
        m_maxWidth = std::max({m_maxWidth, l.in, l.out});
        m_layers.push_back(std::move(l));
    }
    if (m_layers.empty() || m_layers.back().out != 1)
        throw Error(ErrorKind::Internal, "MlpScorer: the last layer must have one output");
    for (std::size_t k = 1; k < m_layers.size(); ++k) {
        if (m_layers[k].in != m_layers[k - 1].out)
            throw Error(ErrorKind::Internal, "MlpScorer: layer widths do not chain");
    }
}

// Chunk c of `chunks` holds the rows fill(c, dst, where) wrote into dst [count, in] (each the ReLU
// of a first-map output) and returns the count of; where[t] is the logit index of row t.
template <class Fill>
torch::Tensor MlpScorer::run(std::int64_t rows, std::int64_t chunks, std::int64_t in,
                             Fill&& fill) const
{
    if (in != m_layers.front().in)
        throw Error(ErrorKind::Internal, "MlpScorer: the input width does not match the layers");
    auto logits = torch::empty({rows}, torch::kFloat);
    auto* out = logits.data_ptr<float>();
    at::parallel_for(0, chunks, 1, [&](std::int64_t c0, std::int64_t c1) {
        std::vector<float> bufferA(static_cast<std::size_t>(kScoreChunkRows * m_maxWidth));
        std::vector<float> bufferB(bufferA.size());
        std::vector<std::int64_t> where(static_cast<std::size_t>(kScoreChunkRows));
        for (std::int64_t c = c0; c < c1; ++c) {
            float* x = bufferA.data();
            float* y = bufferB.data();
            const std::int64_t n = fill(c, x, where.data());
            // A one-row chunk goes through the products as two copies of its row (product()).
            const std::int64_t m = std::max<std::int64_t>(n, 2);
            if (n == 1)
                std::copy(x, x + in, x + in);
            for (std::size_t k = 0; k + 1 < m_layers.size(); ++k) {
                const auto& layer = m_layers[k];
                rowMajorProduct(m, layer.out, layer.in, x, layer.weightT.data_ptr<float>(), y);
                biasRelu(y, layer.bias.data_ptr<float>(), m, layer.out);
                std::swap(x, y);
            }
            const auto& last = m_layers.back();
            const float* w = last.weightT.data_ptr<float>();  // [in, 1]: one row of weights
            const float b = last.bias.data_ptr<float>()[0];
            for (std::int64_t t = 0; t < n; ++t)
                out[where[static_cast<std::size_t>(t)]] = dotPlus(x + t * last.in, w, last.in, b);
        }
    });
    return logits;
}

torch::Tensor MlpScorer::rows(const torch::Tensor& first) const
{
    const auto f = floatContiguous(first);
    const auto rows = f.size(0);
    const auto in = f.size(1);
    const float* src = f.data_ptr<float>();
    const auto chunks = (rows + kScoreChunkRows - 1) / kScoreChunkRows;
    return run(rows, chunks, in, [&](std::int64_t c, float* dst, std::int64_t* where) {
        const auto r0 = c * kScoreChunkRows;
        const auto n = std::min(kScoreChunkRows, rows - r0);
        relu(src + r0 * in, dst, n * in);
        for (std::int64_t t = 0; t < n; ++t)
            where[t] = r0 + t;
        return n;
    });
}

// A chunk is a tile of up to kTileLeads rows of lead by as many rows of rest as fit, so that each
// rest row is read once per tile of leads rather than once per lead (rest is the item table in a
// full ranking: 18 MB at DeepFM's width on Amazon Sports, beyond the caches). Consecutive chunks
// take the lead tiles in turn over one rest tile, which stays in the cache while they pass.
torch::Tensor MlpScorer::crossSum(const torch::Tensor& lead, const torch::Tensor& rest) const
{
    constexpr std::int64_t kTileLeads = 8;
    const auto l = floatContiguous(lead);
    const auto r = floatContiguous(rest);
    const auto in = l.size(1);
    if (r.size(1) != in)
        throw Error(ErrorKind::Internal, "MlpScorer::crossSum: the blocks differ in width");
    const auto na = l.size(0);
    const auto nb = r.size(0);
    const auto ta = std::min(na, kTileLeads);
    const auto tb =
        std::max<std::int64_t>(1, std::min(nb, kScoreChunkRows / std::max<std::int64_t>(ta, 1)));
    const auto leadTiles = (na + ta - 1) / std::max<std::int64_t>(ta, 1);
    const auto restTiles = (nb + tb - 1) / tb;
    const float* leadData = l.data_ptr<float>();
    const float* restData = r.data_ptr<float>();
    return run(na * nb, leadTiles * restTiles, in,
               [&](std::int64_t c, float* dst, std::int64_t* where) {
                   const auto a0 = (c % leadTiles) * ta;
                   const auto b0 = (c / leadTiles) * tb;
                   const auto ca = std::min(ta, na - a0);
                   const auto cb = std::min(tb, nb - b0);
                   std::int64_t t = 0;
                   for (std::int64_t a = a0; a < a0 + ca; ++a) {
                       for (std::int64_t b = b0; b < b0 + cb; ++b, ++t) {
                           sumRelu(leadData + a * in, restData + b * in, dst + t * in, in);
                           where[t] = a * nb + b;
                       }
                   }
                   return t;
               });
}

}  // namespace sllmr::model_detail
