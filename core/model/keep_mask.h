#pragma once
// The dropout keep mask from a Mersenne Twister state, in bulk: the arithmetic of LibTorch 1.13's
// CPU bernoulli kernel (model/layers.h, dropoutNoise) as plain loops over whole blocks of the
// generator's words, without Torch, so that it can be compiled for vector units (see
// core/CMakeLists.txt). The state layout is at::mt19937's (ATen/core/MT19937RNGEngine.h).
#include <array>
#include <cstdint>

namespace sllmr {

struct TwisterState
{
    // at::mt19937_data_pod's draw state: words left before the next twist (+ 1) and the next
    // word's index.
    int left = 1;
    std::uint32_t next = 0;
    std::array<std::uint32_t, 624> words{};
};

// out[k] = kept when the k-th 53-bit uniform (two 32-bit draws, the first the high half) is below
// `keep`, else 0; advances `state` by 2 * n draws, exactly as n calls of random64() would.
// 0 < keep <= 1.
void fillKeepMask(TwisterState& state, float* out, std::int64_t n, double keep, float kept);

// A hidden layer's ReLU and dropout as one pass, for Mlp's training forward (model/layers.h):
// a = relu(z) * noise, or relu(z) when noise is null. The same values as torch::relu then the
// product, NaN passed on as Torch passes it (a zero's sign aside).
void reluNoise(const float* z, const float* noise, float* a, std::int64_t n);

// Their backward in place from the output a alone: g = a > 0 ? g * kept : 0, with `kept` the
// noise's kept value (1 without dropout). The noise is 0 or `kept` and a = relu(z) * noise, so
// a > 0 exactly where z > 0 and the noise kept the element: the same numbers as the product's then
// ReLU's backward (threshold_backward on relu(z)) for every finite z, without z or the noise.
void reluNoiseBackward(const float* a, float* g, std::int64_t n, float kept);

}  // namespace sllmr
