#include "common/utf8.h"

#include <cstddef>

namespace sllmr {
namespace {

// Length of the valid UTF-8 sequence starting at `at`, or 0 when the bytes there are invalid.
// `*bad` is set to the number of bytes forming the maximal invalid subpart (at least 1).
std::size_t sequenceLength(std::string_view s, std::size_t at, std::size_t* bad) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(at);
    *bad = 1;
    if (lead < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            lo = 0xA0;  // no overlongs
        if (lead == 0xED)
            hi = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            lo = 0x90;
        if (lead == 0xF4)
            hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        if (at + k >= s.size())
            return 0;
        const unsigned char c = byte(at + k);
        const unsigned char min = k == 1 ? lo : 0x80;
        const unsigned char max = k == 1 ? hi : 0xBF;
        if (c < min || c > max)
            return 0;
        *bad = k + 1;
    }
    return length;
}

}  // namespace

bool isValidUtf8(std::string_view text) noexcept
{
    std::size_t bad = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = sequenceLength(text, at, &bad);
        if (n == 0)
            return false;
        at += n;
    }
    return true;
}

std::string validUtf8(std::string_view text)
{
    if (isValidUtf8(text))
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    std::size_t bad = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = sequenceLength(text, at, &bad);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
            at += bad;
        } else {
            out.append(text.substr(at, n));
            at += n;
        }
    }
    return out;
}

}  // namespace sllmr
