#pragma once

#include <string>

namespace catalog {

/// Holds a secret (password, token, AWS secret key). It has no implicit
/// conversion and no stream/format operator that shows the value, so it can
/// only reach a log by someone calling reveal() on purpose.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  /// What logs and error messages show instead of the value.
  static constexpr const char* kRedacted = "***";

 private:
  std::string value_;
};

}  // namespace catalog
