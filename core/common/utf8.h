#pragma once
// UTF-8 at the boundaries: text that is stored in the experiment database or printed as JSON must
// be valid UTF-8. Bytes that do not form a valid UTF-8 sequence (a character cut in half, Latin-1
// text, a stray byte) are replaced by U+FFFD, one replacement per maximal invalid subpart as
// Unicode recommends. Never throws.
#include <string>
#include <string_view>

namespace sllmr {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text) noexcept;

// `text` with every invalid sequence replaced by U+FFFD; `text` unchanged when it is valid.
std::string validUtf8(std::string_view text);

}  // namespace sllmr
