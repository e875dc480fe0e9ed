#pragma once

#include <cstdint>
#include <memory>
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

/// What a feed column (or a keyed record's field) fills. `category_fallback`
/// is google_merchant's google_product_category: the category only when the
/// row has no product_type, an attribute otherwise.
enum class FieldTarget : std::uint8_t {
  ignore, sku, name, description, brand, category, category_fallback, price, currency, availability, attribute
};

/// Which field a (trimmed, lower-cased) column name fills under a job's
/// options: its `header` mapping first, then its `key`, then the profile's
/// names (google_merchant: id, title, product_type, ...), then our own names
/// (sku, product_name, ...) for the fields nothing else claimed; every other
/// name is an attribute. docs/formats.md has the table.
class FieldRules {
 public:
  explicit FieldRules(const JobOptions& options);
  FieldTarget target_of(const std::string& name) const;
  /// The column name expected for a field, for messages ("title", "product_name").
  std::string name_of(FieldTarget target) const;

 private:
  JobOptions options_;
  std::vector<std::string> claimed_;  ///< fields filled through the header mapping or key option
};

/// Turns one feed's records into rows: a delimited feed's header fixes its
/// columns (RowNormalizer); a keyed feed's records name their own fields
/// (KeyedRowNormalizer). Both apply the same FieldRules and value rules, so
/// the same product hashes the same whatever the format.
class RowMapper {
 public:
  virtual ~RowMapper() = default;
  /// Normalises one data record. Returns false and sets `reason` when the row
  /// must be rejected. `out` is reused between calls to avoid allocations;
  /// its attribute names stay valid until the next call.
  virtual bool normalize(const std::vector<std::string_view>& fields, ProductRow& out,
                         std::string& reason) const = 0;
  /// The record as text for a stored reject (not cut, not sanitised).
  virtual std::string raw_text(const std::vector<std::string_view>& fields, std::size_t max) const = 0;
};

/// Maps a feed header onto product fields and turns records into rows.
/// Header names are trimmed and lower-cased; the job's `header` mapping and
/// `key` column are applied; every other column goes to `attributes`.
class RowNormalizer : public RowMapper {
 public:
  /// Throws FeedError for a duplicated header (naming it), a header without
  /// the key or the product_name column, or an attribute column whose name is
  /// longer than kMaxAttributeKeyBytes.
  RowNormalizer(const std::vector<std::string_view>& header, const JobOptions& options);

  /// Normalises one data record. Returns false and sets `reason` when the row
  /// must be rejected (wrong field count, empty key, bad price or currency,
  /// NUL byte, a value over its byte limit, ...). `out` is reused between calls to avoid allocations.
  bool normalize(const std::vector<std::string_view>& fields, ProductRow& out, std::string& reason) const override;
  /// The fields joined with the job's delimiter.
  std::string raw_text(const std::vector<std::string_view>& fields, std::size_t max) const override;

  /// Normalised names of the columns that go to `attributes`, sorted.
  std::vector<std::string> attribute_columns() const;

 private:
  struct Column {
    std::string name;  ///< normalised
    FieldTarget target = FieldTarget::ignore;
  };
  std::vector<Column> columns_;
  std::vector<std::size_t> attribute_order_;  ///< column indexes, sorted by name
  char delimiter_ = ',';
};

/// Records of name/value pairs (NDJSON objects, XML items): each name is
/// matched like a CSV header; a name given twice rejects the row, an absent
/// key or product name rejects it like an empty one.
class KeyedRowNormalizer : public RowMapper {
 public:
  explicit KeyedRowNormalizer(const JobOptions& options);
  ~KeyedRowNormalizer() override;
  bool normalize(const std::vector<std::string_view>& fields, ProductRow& out, std::string& reason) const override;
  /// `name=value` pairs joined with ", ".
  std::string raw_text(const std::vector<std::string_view>& fields, std::size_t max) const override;

 private:
  struct Names;
  FieldRules rules_;
  std::unique_ptr<Names> names_;  ///< normalised names and their targets, cached
};

/// Parses a feed price: optional sign, optional `$`, digits with optional
/// `,` thousands separators (groups of three), optional decimals (rounded
/// half away from zero to cents, as numeric(12,2) does). Returns false for
/// anything else or for a value outside numeric(12,2).
bool parse_price(std::string_view text, std::int64_t& cents);

/// parse_price, plus an optional ISO 4217 code before or after the amount,
/// separated by spaces (`15.00 USD`, `USD 15.00`, `1,299.99 usd`): `currency`
/// is then its upper-case code, else empty.
bool parse_price_with_currency(std::string_view text, std::int64_t& cents, std::string& currency);

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
