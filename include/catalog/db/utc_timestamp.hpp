#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "catalog/core/errors.hpp"

namespace catalog::db {

/// A timestamp as the API shows it: RFC 3339 in UTC with six fraction digits
/// ("2026-11-23T10:00:00.123456Z"), held inline so that the rows of a page
/// need no allocation for their timestamps.
class UtcTimestamp {
 public:
  static constexpr std::size_t kSize = 27;

  UtcTimestamp() = default;
  /// `text` must be RFC 3339 UTC text of exactly kSize bytes; throws
  /// catalog::Error otherwise (an internal error: the text is ours).
  explicit UtcTimestamp(std::string_view text) {
    if (text.size() != kSize || text[4] != '-' || text[10] != 'T' || text[19] != '.' || text[kSize - 1] != 'Z') {
      throw Error("internal error", "not an RFC 3339 UTC timestamp: '" + std::string(text.substr(0, 64)) + "'");
    }
    text.copy(bytes_.data(), kSize);
  }

  std::string_view text() const { return {bytes_.data(), kSize}; }
  std::string str() const { return std::string(text()); }
  char* data() { return bytes_.data(); }

 private:
  std::array<char, kSize> bytes_{};
};

}  // namespace catalog::db
