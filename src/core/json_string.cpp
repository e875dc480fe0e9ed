#include "catalog/core/json_string.hpp"

#include <cstdint>
#include <cstring>

#include "catalog/core/utf8.hpp"

namespace catalog {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

/// Non-zero when a byte of `w` is zero (exact for the word as a whole).
constexpr std::uint64_t has_zero_byte(std::uint64_t w) { return (w - kOnes) & ~w & kHighBits; }

bool needs_care(unsigned char b) { return b < 0x20 || b >= 0x80 || b == '"' || b == '\\'; }

/// Length of the prefix of `text` that a JSON string can hold as it is:
/// no control character, '"', '\\' or byte >= 0x80 (which needs a UTF-8
/// check). Eight bytes at a time: most of a page is such text.
std::size_t plain_prefix(std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    const std::uint64_t special = ((w - kOnes * 0x20) & ~w & kHighBits)  // a byte < 0x20
                                  | (w & kHighBits)                      // a byte >= 0x80
                                  | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\'));
    if (special != 0) break;
  }
  while (i < text.size() && !needs_care(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    // Copy the run of bytes that need no escaping in one append.
    const std::size_t plain = i + plain_prefix(text.substr(i));
    out.append(text.data() + i, plain - i);
    i = plain;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const auto n = utf8_sequence_length(text, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(text.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_compact_json(std::string& out, std::string_view json) {
  bool in_string = false;
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped byte cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      out.append(json.data() + run, i - run);
      run = i + 1;
    }
  }
  out.append(json.data() + run, json.size() - run);
}

}  // namespace catalog
