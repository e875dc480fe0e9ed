#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/core/errors.hpp"
#include "catalog/etl/job_options.hpp"

namespace catalog::etl {

/// The feed cannot be processed at all (bad header, corrupt gzip, ...): the
/// run fails with this message.
class FeedError : public catalog::Error {
  using Error::Error;
};

/// Byte limits of product fields (after trimming; availability after
/// normalisation). A longer value rejects the row ("product_name longer than
/// 1000 bytes"). Indexed fields stay well below PostgreSQL's B-tree entry limit
/// (~2700 bytes, which also holds the index's other columns: products_name_idx
/// is (name, source, sku), so 1000 + 255 + 255); without them one over-long value
/// failed the whole run with "index row size ... exceeds btree maximum".
/// docs/etl.md "Field limits".
inline constexpr std::size_t kMaxSkuBytes = 255;
inline constexpr std::size_t kMaxNameBytes = 1000;
inline constexpr std::size_t kMaxDescriptionBytes = 10000;  ///< not indexed
inline constexpr std::size_t kMaxBrandBytes = 255;
inline constexpr std::size_t kMaxCategoryBytes = 500;
inline constexpr std::size_t kMaxAvailabilityBytes = 64;
/// Attribute keys are header column names: a longer one fails the run at the header.
inline constexpr std::size_t kMaxAttributeKeyBytes = 255;
inline constexpr std::size_t kMaxAttributeValueBytes = 2000;

/// One validated, normalised feed row, ready for `products`. Optional text
/// fields use the empty string for NULL (an empty feed value means NULL).
struct ProductRow {
  std::string sku;
  std::string name;
  std::string description;
  std::string brand;
  std::string category;
  bool has_price = false;
  std::int64_t price_cents = 0;  ///< numeric(12,2) as an integer number of cents
  std::string currency;          ///< 3 upper-case letters, or empty
  std::string availability;      ///< e.g. in_stock, or empty
  /// Non-empty extra columns, sorted by (normalised) column name. The keys
  /// point into the RowNormalizer that filled the row.
  std::vector<std::pair<std::string_view, std::string>> attributes;

  /// price as numeric text ("1299.99", "-0.50"); only when has_price.
  std::string price_text() const;
};

/// Maps a feed header onto product fields and turns records into rows.
/// Header names are trimmed and lower-cased; the job's `header` mapping and
/// `key` column are applied; every other column goes to `attributes`.
class RowNormalizer {
 public:
  /// Throws FeedError for a duplicated header (naming it), a header without
  /// the key or the product_name column, or an attribute column whose name is
  /// longer than kMaxAttributeKeyBytes.
  RowNormalizer(const std::vector<std::string_view>& header, const JobOptions& options);

  /// Normalises one data record. Returns false and sets `reason` when the row
  /// must be rejected (wrong field count, empty key, bad price or currency,
  /// NUL byte, a value over its byte limit, ...). `out` is reused between calls to avoid allocations.
  bool normalize(const std::vector<std::string_view>& fields, ProductRow& out, std::string& reason) const;

  /// Normalised names of the columns that go to `attributes`, sorted.
  std::vector<std::string> attribute_columns() const;

 private:
  enum class Target : std::uint8_t { ignore, sku, name, description, brand, category, price, currency, availability, attribute };
  struct Column {
    std::string name;  ///< normalised
    Target target = Target::ignore;
  };
  std::vector<Column> columns_;
  std::vector<std::size_t> attribute_order_;  ///< column indexes, sorted by name
};

/// Parses a feed price: optional sign, optional `$`, digits with optional
/// `,` thousands separators (groups of three), optional decimals (rounded
/// half away from zero to cents, as numeric(12,2) does). Returns false for
/// anything else or for a value outside numeric(12,2).
bool parse_price(std::string_view text, std::int64_t& cents);

/// `In Stock` → `in_stock`: trimmed, lower-cased, runs of spaces, dashes and
/// underscores become one `_`.
std::string normalize_availability(std::string_view text);

/// Stable 64-bit hash of the normalised content (every field but the key,
/// attributes included). Equal hash = unchanged row. `scratch` is reused.
std::uint64_t content_hash(const ProductRow& row, std::string& scratch);
inline std::uint64_t content_hash(const ProductRow& row) {
  std::string scratch;
  return content_hash(row, scratch);
}

/// 64-bit hash of a key, plus an independent 32-bit check value: together
/// they identify a sku in the in-memory key table (96 bits; see docs/etl.md).
std::uint64_t key_hash(std::string_view sku) noexcept;
std::uint32_t key_check(std::string_view sku) noexcept;

}  // namespace catalog::etl
