#pragma once
// UTF-8 well-formedness (RFC 3629), defined once for every place that checks
// or repairs text: CSV fields, API parameters, JSON output, stored rejects.
// PostgreSQL refuses anything else in a text column.

#include <cstddef>
#include <string_view>

namespace catalog {

/// Length (2 to 4) of the well-formed sequence that starts at `s[i]`, a byte
/// >= 0x80, or 0 when there is none: a stray continuation byte, an overlong
/// form, a UTF-16 surrogate, a code point above U+10FFFF, a truncated sequence.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogate
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

/// Is all of `s` well-formed? ASCII runs are skipped 16 bytes at a time.
bool valid_utf8(std::string_view s) noexcept;

}  // namespace catalog
