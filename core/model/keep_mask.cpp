#include "model/keep_mask.h"

#include "common/vector_clones.h"

#include <algorithm>
#include <array>
#include <cmath>

// The mask is compiled for AVX-512, AVX2 and the baseline (the words and the mask are the same
// integers either way); the helpers are inlined into each.

namespace sllmr {
namespace {

constexpr int kN = 624;
constexpr int kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfu;
constexpr std::uint32_t kUpper = 0x80000000u;
constexpr std::uint32_t kLower = 0x7fffffffu;

SLLMR_INLINE std::uint32_t twist(std::uint32_t u, std::uint32_t v)
{
    return (((u & kUpper) | (v & kLower)) >> 1) ^ ((v & 1u) ? kMatrixA : 0u);
}

// The next block of 624 words, in place (the reference generator's next_state()).
SLLMR_INLINE void regenerate(std::uint32_t* w)
{
    for (int j = 0; j < kN - kM; ++j)
        w[j] = w[j + kM] ^ twist(w[j], w[j + 1]);
    for (int j = kN - kM; j < kN - 1; ++j)
        w[j] = w[j + kM - kN] ^ twist(w[j], w[j + 1]);
    w[kN - 1] = w[kM - 1] ^ twist(w[kN - 1], w[0]);
}

SLLMR_INLINE std::uint32_t temper(std::uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

// `count` tempered words into out, as `count` calls of the generator would return them.
SLLMR_INLINE void draw(TwisterState& s, std::uint32_t* __restrict out, std::int64_t count)
{
    while (count > 0) {
        if (s.left == 1) {
            regenerate(s.words.data());
            s.left = kN + 1;
            s.next = 0;
        }
        const auto take = std::min<std::int64_t>(count, s.left - 1);
        const std::uint32_t* __restrict w = s.words.data() + s.next;
        for (std::int64_t k = 0; k < take; ++k)
            out[k] = temper(w[k]);
        out += take;
        count -= take;
        s.next += static_cast<std::uint32_t>(take);
        s.left -= static_cast<int>(take);
    }
}

}  // namespace

SLLMR_VECTOR_CLONES void fillKeepMask(TwisterState& state, float* out, std::int64_t n, double keep,
                                      float kept)
{
    // uniform = (x & (2^53 - 1)) * 2^-53 < keep  <=>  x & (2^53 - 1) < ceil(keep * 2^53): both
    // sides are exact in double, and x is an integer. The 53-bit comparison is made on the two
    // 32-bit halves, which vectorises without 64-bit compares.
    constexpr int kDigits = 53;
    constexpr std::uint64_t kMask = (std::uint64_t{1} << kDigits) - 1;
    const auto below = static_cast<std::uint64_t>(std::ceil(std::ldexp(keep, kDigits)));
    const auto belowHigh = static_cast<std::uint32_t>(below >> 32);
    const auto belowLow = static_cast<std::uint32_t>(below);
    constexpr std::uint32_t highMask = static_cast<std::uint32_t>(kMask >> 32);
    constexpr std::int64_t kChunk = 2048;  // values per pass; their words stay in L1
    std::array<std::uint32_t, 2 * kChunk> words;
    for (std::int64_t k0 = 0; k0 < n; k0 += kChunk) {
        const auto m = std::min(kChunk, n - k0);
        draw(state, words.data(), 2 * m);
        float* __restrict o = out + k0;
        const std::uint32_t* __restrict w = words.data();
        for (std::int64_t k = 0; k < m; ++k) {
            const std::uint32_t high = w[2 * k] & highMask;
            const std::uint32_t low = w[2 * k + 1];
            o[k] = (high < belowHigh) | ((high == belowHigh) & (low < belowLow)) ? kept : 0.0f;
        }
    }
}

SLLMR_VECTOR_CLONES void reluNoise(const float* __restrict z, const float* __restrict noise,
                                   float* __restrict a, std::int64_t n)
{
    if (noise) {
        for (std::int64_t j = 0; j < n; ++j)
            a[j] = (z[j] <= 0.0f ? 0.0f : z[j]) * noise[j];
    } else {
        for (std::int64_t j = 0; j < n; ++j)
            a[j] = z[j] <= 0.0f ? 0.0f : z[j];
    }
}

SLLMR_VECTOR_CLONES void reluNoiseBackward(const float* __restrict a, float* __restrict g,
                                           std::int64_t n, float kept)
{
    for (std::int64_t j = 0; j < n; ++j) {
        const float scaled = g[j] * kept;
        g[j] = a[j] > 0.0F ? scaled : 0.0F;
    }
}

}  // namespace sllmr
