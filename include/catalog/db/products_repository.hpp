#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/result>

#include "catalog/db/pool.hpp"
#include "catalog/db/prepared_statements.hpp"
#include "catalog/db/read_router.hpp"
#include "catalog/db/utc_timestamp.hpp"
#include "catalog/db/version_cache.hpp"

namespace catalog::db {

/// One row of `products`, as the API shows it. The text fields are views
/// into the query's result, which `storage` keeps alive: a page of rows costs
/// no allocation or copy per row, and a Product stays valid when copied.
struct Product {
  std::string_view source;
  std::string_view sku;
  std::string_view name;
  std::optional<std::string_view> description;
  std::optional<std::string_view> brand;
  std::optional<std::string_view> category;
  std::optional<std::string_view> price;  ///< numeric(12,2) as PostgreSQL prints it ("12.50"): exact, shown as is
  std::optional<std::string_view> currency;
  std::optional<std::string_view> availability;
  std::string_view attributes;  ///< jsonb as text (an object)
  UtcTimestamp created_at;
  UtcTimestamp updated_at;
  std::optional<UtcTimestamp> deleted_at;
  std::optional<std::string_view> last_run_id;
  pqxx::result storage;  ///< the result the views point into
};

/// The sort orders of GET /products. Each is a keyset over
/// (<sort column>, source, sku); `sku` is (sku, source).
enum class ProductSort { sku, name, price, updated_at };
enum class SortOrder { asc, desc };

/// Exact-match and range filters; every present field narrows the result.
struct ProductFilter {
  std::optional<std::string> source;
  std::optional<std::string> sku;
  std::optional<std::string> brand;
  std::optional<std::string> category;
  std::optional<std::string> availability;  ///< normalised as the ETL stores it (in_stock)
  std::optional<std::string> currency;      ///< upper-case ISO code, as the ETL stores it
  std::optional<std::string> name_contains;  ///< case-insensitive substring, taken literally
  std::optional<std::string> updated_since;  ///< RFC 3339 timestamp, already validated
  bool include_deleted = false;
};

/// Position after the last row of a page, in the page's sort order.
/// `value` is the sort column of that row as text (the price, the name, the
/// RFC 3339 updated_at; unused for the sku sort); nullopt for a NULL price.
struct ProductCursor {
  std::optional<std::string> value;
  std::string source;
  std::string sku;
};

struct ProductQuery {
  ProductFilter filter;
  ProductSort sort = ProductSort::sku;
  SortOrder order = SortOrder::asc;
  std::size_t limit = 100;
  std::optional<ProductCursor> after;
  bool with_count = false;
};

struct ProductPage {
  std::vector<Product> items;
  std::optional<std::int64_t> count;  ///< rows matching the filter (cursor ignored), when asked
  std::int64_t version = 0;  ///< catalog version of the filter's scope, read in the page's snapshot
};

/// Read side of the catalog. The ETL owns the writes.
class ProductsRepository {
 public:
  explicit ProductsRepository(Pool& pool) : pool_(pool) {}
  /// Reads (find, list) through `reads` (replica or primary); writes on `pool`.
  ProductsRepository(Pool& pool, ReadRouter& reads) : pool_(pool), reads_(&reads) {}
  /// ... and answers cached_version() from `versions` (may be null).
  ProductsRepository(Pool& pool, ReadRouter& reads, const VersionCache* versions)
      : pool_(pool), reads_(&reads), versions_(versions) {}

  /// Catalog version (catalog_versions.hpp) of one source's products, or of
  /// all products: one indexed single-row read, for ETag revalidation.
  std::int64_t version(const std::optional<std::string>& source);
  /// The same from memory, without blocking; nullopt when there is no cache
  /// or it cannot vouch for its content right now (VersionCache).
  std::optional<std::int64_t> cached_version(const std::optional<std::string>& source) const;

  /// The product with this key, soft-deleted or not; `version`, when given,
  /// receives the source's catalog version read just before the row.
  std::optional<Product> find(const std::string& source, const std::string& sku, std::int64_t* version = nullptr);

  /// At most `limit` rows strictly after `after`. Prices sort NULLS LAST in
  /// both directions: descending reverses the priced rows, unpriced ones
  /// still come last (in (source, sku) order of the same direction).
  ProductPage list(const ProductQuery& query);

  /// The cursor that continues after `last` in `sort` order.
  static ProductCursor cursor_after(const Product& last, ProductSort sort);

 private:
  template <typename Fn>
  auto read(Fn&& fn) {
    return reads_ != nullptr ? reads_->with_connection(fn) : pool_.with_connection(fn);
  }

  Pool& pool_;
  ReadRouter* reads_ = nullptr;
  const VersionCache* versions_ = nullptr;
  // Every statement without a filter whose best plan depends on its value:
  // sort orders x directions x first/next page x the few page sizes clients
  // use. A full registry only costs the overflow a plan per request.
  PreparedStatements statements_{"products_", 32};
};

}  // namespace catalog::db
