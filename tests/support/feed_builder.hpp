#pragma once

// CSV feeds for tests: a header, then rows. Fields holding a comma, a quote or
// a line break are quoted the way partners' exports quote them.

#include <functional>
#include <string>
#include <vector>

namespace catalog::testing {

/// The columns of a typical partner export (no `color`).
inline const std::vector<std::string> kPartnerColumns = {"sku",   "product_name", "description", "brand",
                                                         "category", "price",     "currency",    "availability"};

class FeedBuilder {
 public:
  explicit FeedBuilder(const std::vector<std::string>& columns = kPartnerColumns) { line(columns); }

  FeedBuilder& row(const std::vector<std::string>& fields) {
    line(fields);
    return *this;
  }
  /// Rows `first`..`last` (inclusive), row i being `make(i)`.
  FeedBuilder& rows(int first, int last, const std::function<std::vector<std::string>(int)>& make) {
    for (int i = first; i <= last; ++i) line(make(i));
    return *this;
  }
  const std::string& csv() const { return csv_; }
  operator std::string() const { return csv_; }  // NOLINT: a feed is its text

  /// One CSV field, quoted when it has to be.
  static std::string field(const std::string& value) {
    if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
    std::string out = "\"";
    for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }

 private:
  void line(const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) csv_ += (i ? "," : "") + field(fields[i]);
    csv_ += '\n';
  }
  std::string csv_;
};

/// `rows` partner rows SKU-1..SKU-rows whose name and price change with
/// `version` ("Product 3 v2", "$1,102.50"), so each version updates every row.
inline std::string versioned_feed(int rows, int version, const std::string& description = "desc") {
  return FeedBuilder().rows(1, rows, [&](int i) -> std::vector<std::string> {
    return {"SKU-" + std::to_string(i), "Product " + std::to_string(i) + " v" + std::to_string(version), description,
            "Acme", "Tools", "$1," + std::to_string(100 + version) + ".50", "usd", "In Stock"};
  });
}

}  // namespace catalog::testing
