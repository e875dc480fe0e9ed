#pragma once

// Shared by the libFuzzer targets: input splitting and the one rule every
// target enforces for hostile input — a client error is fine, anything the
// server would answer with a 5xx (or an exception outside catalog::Error) is
// a finding, reported by aborting so libFuzzer saves the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "catalog/http/error_mapping.hpp"

namespace catalog::fuzz {

/// Reads the input front to back: a few control bytes, then text pieces.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(reinterpret_cast<const char*>(data), size) {}

  /// One control byte (0 once the input is used up).
  std::uint8_t byte() {
    if (data_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }
  /// Text up to the next `separator` (consumed), or the rest.
  std::string_view until(char separator) {
    const auto at = data_.find(separator);
    const auto piece = data_.substr(0, at);
    data_.remove_prefix(at == std::string_view::npos ? data_.size() : at + 1);
    return piece;
  }
  std::string_view rest() {
    const auto piece = data_;
    data_ = {};
    return piece;
  }
  bool empty() const { return data_.empty(); }

 private:
  std::string_view data_;
};

/// Aborts when the exception would make the server answer 5xx.
inline void require_client_error(std::exception_ptr error, const char* what) {
  const auto mapped = http::map_exception(error);
  if (mapped.status >= 500) {
    std::fprintf(stderr, "FINDING: %s answered %d %s: %s\n", what, mapped.status, mapped.code.c_str(),
                 mapped.internal.c_str());
    std::abort();
  }
}

/// Aborts with a message: an invariant the code promises does not hold.
[[noreturn]] inline void finding(const std::string& message) {
  std::fprintf(stderr, "FINDING: %s\n", message.c_str());
  std::abort();
}

}  // namespace catalog::fuzz
