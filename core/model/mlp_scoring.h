#pragma once
// An Mlp's layers after its first affine map, for scoring without autograd: the full rankings and
// the sampled evaluations of DeepFM, DCNv1, DCNv2, xDeepFM, AutoInt and DIN go through them.
// Rows pass in chunks of kScoreChunkRows that stay in the processor's caches: the ReLU of the first
// map's output, each hidden product with its bias and ReLU, and the last layer's dot product, with
// no tensor in between. Composed of LibTorch operations (relu, mkldnn_linear with the reorders
// into and out of oneDNN's own layout, an add per block), these passes took half of a DeepFM full
// ranking (bench/README.md, "Scoring through the hidden layers in chunks").
//
// The products go to oneDNN's sgemm on plain row-major memory when the LibTorch build carries
// oneDNN (Debian's does; found at run time), to torch::mm otherwise. Chunks are shared among
// LibTorch's threads. A row's arithmetic depends neither on the chunk nor on the thread it falls
// to, so the scores are the same at every thread count.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sllmr::model_detail {

// Rows per chunk: 512 rows of DeepFM's width of 256 are 512 KB, and oneDNN's sgemm reaches its
// full speed from about 256 rows on (bench/README.md).
constexpr std::int64_t kScoreChunkRows = 512;

class MlpScorer
{
public:
    // layers: the Linear layers after the first affine map, in order; the last has one output.
    // Copies each weight transposed ([in, out], the layout the products read fastest).
    explicit MlpScorer(const std::vector<torch::nn::Linear>& layers);

    // The logits [rows] of first [rows, in]: ReLU, then the layers.
    torch::Tensor rows(const torch::Tensor& first) const;

    // The logits [na * nb], a-major, of the rows relu(lead[a] + rest[b]): the first map's output
    // split into a block per user and a block per item (full ranking), never formed as a tensor.
    // lead [na, in], rest [nb, in].
    torch::Tensor crossSum(const torch::Tensor& lead, const torch::Tensor& rest) const;

    // Whether the products go to oneDNN's sgemm (the tests check that they do with Debian's
    // LibTorch).
    static bool usesOneDnnProducts();

private:
    struct Layer
    {
        torch::Tensor weightT;  // [in, out], contiguous
        torch::Tensor bias;     // [out], contiguous
        std::int64_t in = 0;
        std::int64_t out = 0;
    };
    template <class Fill>
    torch::Tensor run(std::int64_t rows, std::int64_t chunks, std::int64_t in, Fill&& fill) const;

    std::vector<Layer> m_layers;
    std::int64_t m_maxWidth = 1;
};

}  // namespace sllmr::model_detail
