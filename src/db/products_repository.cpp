#include "catalog/db/products_repository.hpp"

#include <pqxx/pqxx>

#include "catalog/db/catalog_versions.hpp"
#include "db/row_reader.hpp"
#include "db/timestamp_text.hpp"

namespace catalog::db {
namespace {

// Output columns, plain: PostgreSQL's own text output of each type is what
// the API shows (timestamps are converted to RFC 3339 UTC in C++), so the
// database does no formatting work (to_char and casts tripled its cost per
// row, docs/performance.md). Callers ORDER BY qualified input columns.
constexpr const char* kColumns =
    "p.source, p.sku, p.name, p.description, p.brand, p.category, p.price, p.currency, p.availability, "
    "p.attributes, p.created_at, p.updated_at, p.deleted_at, p.last_run_id";

const std::string kSelectOneVersioned = std::string("SELECT ") + kColumns +
                                        ", (SELECT cv.version FROM catalog_versions cv WHERE cv.scope = $3) "
                                        "FROM products p WHERE p.source = $1 AND p.sku = $2";

// Filter fragments; values always travel as parameters.
constexpr const char* kNotDeleted = " AND p.deleted_at IS NULL";
constexpr const char* kSourceIs = " AND p.source = ";
constexpr const char* kSkuIs = " AND p.sku = ";
constexpr const char* kBrandIs = " AND p.brand = ";
constexpr const char* kCategoryIs = " AND p.category = ";
constexpr const char* kAvailabilityIs = " AND p.availability = ";
constexpr const char* kCurrencyIs = " AND p.currency = ";
constexpr const char* kNameLike = " AND p.name ILIKE ";  // backslash is LIKE's default escape
constexpr const char* kUpdatedSince = " AND p.updated_at >= ";

/// The keyset of one sort order, from a fixed table: input text never reaches
/// the ORDER BY. `value_cast` types the cursor's sort value parameter.
struct SortSpec {
  std::vector<const char*> columns;  ///< the keyset, most significant first
  const char* value_cast;            ///< nullptr: the keyset has no separate sort value (sku)
};

const SortSpec& spec_of(ProductSort sort) {
  static const SortSpec kSku{{"p.sku", "p.source"}, nullptr};
  static const SortSpec kName{{"p.name", "p.source", "p.sku"}, "::text"};
  static const SortSpec kPrice{{"p.price", "p.source", "p.sku"}, "::numeric"};
  static const SortSpec kUpdatedAt{{"p.updated_at", "p.source", "p.sku"}, "::timestamptz"};
  switch (sort) {
    case ProductSort::sku: return kSku;
    case ProductSort::name: return kName;
    case ProductSort::price: return kPrice;
    case ProductSort::updated_at: return kUpdatedAt;
  }
  return kSku;
}

class Params {
 public:
  std::string add(std::string value) {
    values_.push_back(std::move(value));
    return "$" + std::to_string(values_.size());
  }
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
};

/// `text` as an ILIKE pattern that matches it literally anywhere in the name.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

std::string where_clause(const ProductFilter& f, Params& params) {
  std::string sql = " WHERE TRUE";
  if (!f.include_deleted) sql += kNotDeleted;
  if (f.source) sql += kSourceIs + params.add(*f.source);
  if (f.sku) sql += kSkuIs + params.add(*f.sku);
  if (f.brand) sql += kBrandIs + params.add(*f.brand);
  if (f.category) sql += kCategoryIs + params.add(*f.category);
  if (f.availability) sql += kAvailabilityIs + params.add(*f.availability);
  if (f.currency) sql += kCurrencyIs + params.add(*f.currency);
  if (f.name_contains) sql += kNameLike + params.add(contains_pattern(*f.name_contains));
  if (f.updated_since) sql += kUpdatedSince + params.add(*f.updated_since) + "::timestamptz";
  return sql;
}

std::string join_columns(const std::vector<const char*>& columns, std::size_t from, const char* suffix) {
  std::string out;
  for (std::size_t i = from; i < columns.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += columns[i];
    out += suffix;
  }
  return out;
}

/// " AND (a, b, c) > ($1, $2, $3)" over columns[from..]: a row comparison, so
/// that one btree range scan on the matching index serves it.
std::string keyset_after(const SortSpec& spec, std::size_t from, const ProductCursor& after, SortOrder order,
                         Params& params) {
  std::string values;
  for (std::size_t i = from; i < spec.columns.size(); ++i) {
    if (!values.empty()) values += ", ";
    const std::string column = spec.columns[i];
    if (column == "p.source") values += params.add(after.source);
    else if (column == "p.sku") values += params.add(after.sku);
    else values += params.add(after.value.value_or("")) + spec.value_cast;
  }
  return " AND (" + join_columns(spec.columns, from, "") + (order == SortOrder::asc ? ") > (" : ") < (") + values +
         ")";
}

std::string order_by(const SortSpec& spec, std::size_t from, SortOrder order) {
  return " ORDER BY " + join_columns(spec.columns, from, order == SortOrder::asc ? " ASC" : " DESC");
}

std::string version_column(const std::string& scope_param) {
  return "(SELECT cv.version FROM catalog_versions cv WHERE cv.scope = " + scope_param + ")";
}

/// The page query. Sorts other than price are one keyset range scan. Price is
/// nullable and its NULLs come last in both directions, which no single row
/// comparison expresses, so the page is the priced rows after the cursor
/// followed by the unpriced ones (ordered by source, sku), each branch its own
/// index range scan, merged under an outer ORDER BY of at most 2*limit rows.
std::string page_sql(const ProductQuery& q, Params& params) {
  const auto& spec = spec_of(q.sort);
  const std::string where = where_clause(q.filter, params);
  // The limit is part of the text, not a parameter: PostgreSQL plans a
  // generic plan for an unknown LIMIT as if it returned a tenth of the
  // table, finds it far costlier than a plan for 101 rows and so re-plans
  // the prepared statement for every execution (docs/performance.md). The
  // value is a number we format, never request text.
  const std::string limit = " LIMIT " + std::to_string(q.limit);
  // The scope's catalog version rides along as a last column (an InitPlan,
  // run once): one statement, one snapshot, one round trip for page + version.
  const std::string select = std::string("SELECT ") + kColumns + ", " + version_column(params.add(products_scope(q.filter.source))) + " FROM ";

  if (q.sort != ProductSort::price) {
    std::string sql = select + "products p" + where;
    if (q.after) sql += keyset_after(spec, 0, *q.after, q.order, params);
    return sql + order_by(spec, 0, q.order) + limit;
  }

  // After a NULL price only unpriced rows remain: (source, sku) continues.
  if (q.after && !q.after->value) {
    return select + "products p" + where + " AND p.price IS NULL" + keyset_after(spec, 1, *q.after, q.order, params) +
           order_by(spec, 1, q.order) + limit;
  }
  const std::string nulls = "SELECT * FROM products p" + where + " AND p.price IS NULL" + order_by(spec, 1, q.order) + limit;
  std::string priced = "SELECT * FROM products p" + where + " AND p.price IS NOT NULL";
  if (q.after) priced += keyset_after(spec, 0, *q.after, q.order, params);
  priced += order_by(spec, 0, q.order) + limit;
  const char* direction = q.order == SortOrder::asc ? " ASC" : " DESC";
  return select + "((" + priced + ") UNION ALL (" + nulls + ")) p ORDER BY p.price" + direction +
         " NULLS LAST, p.source" + direction + ", p.sku" + direction + limit;
}

/// True when the best plan for this filter does not depend on the values.
/// products is partitioned by source, and planning a query across every
/// partition's nine indexes costs more than running a page (0.2 of 0.5 ms for
/// the default page, docs/performance.md), so such statements are prepared
/// and planned once per connection. A brand, category, availability,
/// currency, `q` or `updated_since` value can match a handful of rows or most
/// of the catalog: those queries keep a plan made for their values.
bool plan_is_value_independent(const ProductFilter& f) {
  return !f.brand && !f.category && !f.availability && !f.currency && !f.name_contains && !f.updated_since;
}

/// A version column: NULL (0) while nothing was ever written to the scope.
std::int64_t version_of(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }

/// The row as views into `result`, which it keeps alive.
Product to_product(const pqxx::result& result, const pqxx::row& row) {
  RowReader r(row);
  Product p;
  p.source = r.text(0);
  p.sku = r.text(1);
  p.name = r.text(2);
  p.description = r.nullable(3);
  p.brand = r.nullable(4);
  p.category = r.nullable(5);
  p.price = r.nullable(6);
  p.currency = r.nullable(7);
  p.availability = r.nullable(8);
  p.attributes = r.text(9);
  p.created_at = utc_timestamp(r.text(10));
  p.updated_at = utc_timestamp(r.text(11));
  if (const auto deleted_at = r.nullable(12)) p.deleted_at = utc_timestamp(*deleted_at);
  p.last_run_id = r.nullable(13);
  p.storage = result;
  return p;
}

}  // namespace

std::int64_t ProductsRepository::version(const std::optional<std::string>& source) {
  return read([&](pqxx::connection& c) {
    // One statement: no BEGIN/COMMIT round trips on the revalidation path.
    pqxx::nontransaction tx(c);
    return read_version(tx, products_scope(source));
  });
}

std::optional<std::int64_t> ProductsRepository::cached_version(const std::optional<std::string>& source) const {
  return versions_ != nullptr ? versions_->version(products_scope(source)) : std::nullopt;
}

std::optional<Product> ProductsRepository::find(const std::string& source, const std::string& sku,
                                                std::int64_t* version) {
  return read([&](pqxx::connection& c) -> std::optional<Product> {
    // One statement reads the row and the version in one snapshot.
    pqxx::nontransaction tx(c);
    const auto result = statements_.exec(c, tx, kSelectOneVersioned, {source, sku, products_scope(source)});
    if (result.empty()) return std::nullopt;
    if (version) *version = version_of(result[0][14]);
    return to_product(result, result[0]);
  });
}

ProductPage ProductsRepository::list(const ProductQuery& query) {
  Params page_params;
  const auto sql = page_sql(query, page_params);
  const auto page_rows = [&](pqxx::connection& c, pqxx::transaction_base& tx) {
    return plan_is_value_independent(query.filter)
               ? statements_.exec(c, tx, sql, page_params.values())
               : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(page_params.values()));
  };
  const auto fill = [](ProductPage& page, const pqxx::result& result) {
    page.items.reserve(result.size());
    const auto end = result.end();
    for (auto row = result.begin(); row != end; ++row) page.items.push_back(to_product(result, *row));
  };
  return read([&](pqxx::connection& c) {
    ProductPage page;
    if (!query.with_count) {
      // The common case: one statement, no BEGIN/COMMIT round trips. The
      // version column comes with the rows; an empty page has no row to
      // carry it and takes the transaction below.
      pqxx::nontransaction tx(c);
      const auto result = page_rows(c, tx);
      if (!result.empty()) {
        page.version = version_of(result[0][14]);
        fill(page, result);
        return page;
      }
    }
    // One snapshot for the version, the page and its count, so that they agree.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    page.version = read_version(tx, products_scope(query.filter.source));
    fill(page, page_rows(c, tx));
    if (query.with_count) {
      Params count_params;
      const auto count_sql = "SELECT count(*) FROM products p" + where_clause(query.filter, count_params);
      page.count = tx.exec_params1(count_sql, pqxx::prepare::make_dynamic_params(count_params.values()))[0]
                       .as<std::int64_t>();
    }
    return page;
  });
}

ProductCursor ProductsRepository::cursor_after(const Product& last, ProductSort sort) {
  ProductCursor cursor{std::nullopt, std::string(last.source), std::string(last.sku)};
  switch (sort) {
    case ProductSort::sku: break;
    case ProductSort::name: cursor.value = std::string(last.name); break;
    case ProductSort::price:
      if (last.price) cursor.value = std::string(*last.price);
      break;
    case ProductSort::updated_at: cursor.value = last.updated_at.str(); break;
  }
  return cursor;
}

}  // namespace catalog::db
