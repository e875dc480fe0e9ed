// GET /products (filters, sort, opaque keyset cursor) and
// GET /products/{source}/{sku}: parse → repository → serialize.
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/core/json_string.hpp"
#include "catalog/core/utf8.hpp"
#include "catalog/db/products_repository.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/cursor.hpp"
#include "catalog/http/request_helpers.hpp"
#include "handlers/etag.hpp"
#include "handlers/product_cursor.hpp"
#include "handlers/query_params.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;

const std::set<std::string> kListParams = {"source", "sku",     "brand",  "category", "availability", "currency",
                                           "q",      "updated_since", "sort_by", "order", "limit",
                                           "cursor", "include_deleted", "with_count"};
const std::set<std::string> kGetParams = {};

db::ProductSort sort_param(const http::Request& request) {
  const auto text = request.query_param("sort_by");
  if (!text) return db::ProductSort::sku;
  for (auto sort : {db::ProductSort::sku, db::ProductSort::name, db::ProductSort::price, db::ProductSort::updated_at}) {
    if (*text == sort_name(sort)) return sort;
  }
  throw BadRequest("query parameter 'sort_by' must be one of sku, name, price, updated_at, got '" +
                   text->substr(0, 64) + "'");
}

db::SortOrder order_param(const http::Request& request) {
  const auto text = request.query_param("order");
  if (!text || *text == "asc") return db::SortOrder::asc;
  if (*text == "desc") return db::SortOrder::desc;
  throw BadRequest("query parameter 'order' must be asc or desc, got '" + text->substr(0, 64) + "'");
}

/// Money is an exact decimal string with two decimals ("1299.00", "-0.50"),
/// as payment and commerce APIs write it: no client parses it through a
/// binary double. PostgreSQL prints numeric(12,2) in exactly that form.
std::optional<std::string_view> price_text(const std::optional<std::string_view>& price) {
  if (price && !is_price_text(*price)) throw Error("internal error", "bad price " + std::string(*price));
  return price;
}

/// One product as a JSON object, written straight into `out`: a page of 100
/// through nlohmann::json trees (and a parse + dump of every `attributes`)
/// cost more CPU than the query. `attributes` is PostgreSQL's jsonb text,
/// valid JSON that PostgreSQL prints with a space after `:` and `,`; it is
/// copied without the whitespace between tokens, like the rest of the body.
/// Keys come in the order clients have always seen.
void append_product(std::string& out, const db::Product& p) {
  JsonObjectWriter json(out);
  json.string("source", p.source);
  json.string("sku", p.sku);
  json.string("name", p.name);
  json.string("created_at", p.created_at.text());
  json.string("updated_at", p.updated_at.text());
  json.nullable("description", p.description);
  json.nullable("brand", p.brand);
  json.nullable("category", p.category);
  json.nullable("currency", p.currency);
  json.nullable("availability", p.availability);
  json.nullable("deleted_at", p.deleted_at ? std::optional<std::string_view>(p.deleted_at->text()) : std::nullopt);
  json.nullable("last_run_id", p.last_run_id);
  json.nullable("price", price_text(p.price));
  append_compact_json(json.member("attributes"), p.attributes);
  json.close();
}

/// Bytes append_product writes for `p` when nothing needs escaping: the
/// page's buffer is allocated once, not grown and copied as it fills.
std::size_t json_size_hint(const db::Product& p) {
  constexpr std::size_t kFixed = 288;  // keys, punctuation, timestamps, nulls
  std::size_t n = kFixed + p.source.size() + p.sku.size() + p.name.size() + p.attributes.size();
  for (const auto* text : {&p.description, &p.brand, &p.category, &p.price, &p.currency, &p.availability,
                           &p.last_run_id}) {
    if (*text) n += (*text)->size();
  }
  return n;
}

/// A currency filter as the ETL stores currencies: three ASCII letters,
/// trimmed and upper-cased (`usd` → `USD`). Anything else can never match.
std::string currency_code(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  const auto last = text.find_last_not_of(" \t");
  std::string code = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  bool ok = code.size() == 3;
  for (char& c : code) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (!ok) {
    throw BadRequest("query parameter 'currency' must be a 3-letter currency code such as USD, got '" +
                     text.substr(0, 64) + "'");
  }
  return code;
}

db::ProductQuery parse_list_query(const http::Request& request) {
  reject_unknown_params(request, kListParams);
  db::ProductQuery q;
  q.filter.source = text_param(request, "source");
  q.filter.sku = text_param(request, "sku");
  q.filter.brand = text_param(request, "brand");
  q.filter.category = text_param(request, "category");
  // Stored availability and currency are what the ETL normalised them to:
  // the filters accept what feeds accept and normalise the same way.
  if (auto text = text_param(request, "availability")) {
    q.filter.availability = etl::normalize_availability(*text);
    if (q.filter.availability->empty()) throw BadRequest("query parameter 'availability' must not be blank");
  }
  if (auto text = text_param(request, "currency")) q.filter.currency = currency_code(*text);
  if (auto text = request.query_param("q"); text && !text->empty()) {
    require_text(*text, "query parameter 'q'");
    q.filter.name_contains = std::move(text);
  }
  q.filter.updated_since = rfc3339_param(request, "updated_since");
  q.filter.include_deleted = http::flag_param(request, "include_deleted");
  q.with_count = http::flag_param(request, "with_count");
  q.sort = sort_param(request);
  q.order = order_param(request);
  q.limit = http::limit_param(request, kDefaultLimit, kMaxLimit);
  if (auto cursor = request.query_param("cursor")) q.after = decode_product_cursor(*cursor, q.sort, q.order);
  return q;
}

void add_optional(std::string& canonical, const std::optional<std::string>& value) {
  if (value) add_canonical_field(canonical, *value);
  else canonical += '-';
}

/// Everything of a parsed list query that shapes the page, as one string:
/// two requests that parse alike share their ETags.
std::string canonical_query(const db::ProductQuery& q) {
  std::string canonical = "products?";
  const auto& f = q.filter;
  for (const auto* value : {&f.source, &f.sku, &f.brand, &f.category, &f.availability, &f.currency, &f.name_contains,
                            &f.updated_since}) {
    add_optional(canonical, *value);
  }
  canonical += f.include_deleted ? 'd' : '-';
  canonical += q.with_count ? 'c' : '-';
  add_canonical_field(canonical, sort_name(q.sort));
  add_canonical_field(canonical, order_name(q.order));
  add_canonical_field(canonical, std::to_string(q.limit));
  if (q.after) {
    add_optional(canonical, q.after->value);
    add_canonical_field(canonical, q.after->source);
    add_canonical_field(canonical, q.after->sku);
  }
  return canonical;
}

http::Response list(db::ProductsRepository& products, http::ResponseCache* pages, const std::string& cache_control,
                    const http::Request& request) {
  auto query = parse_list_query(request);
  const auto canonical = canonical_query(query);
  // A revalidation costs one single-row read: the page query runs only when
  // the catalog version of the filter's scope moved.
  if (has_if_none_match(request)) {
    const auto etag = make_etag('p', products.version(query.filter.source), canonical);
    if (if_none_match(request, etag, true)) return not_modified(etag, cache_control);
  }
  const auto limit = query.limit;
  // One extra row tells whether a next page exists without a count query.
  query.limit = limit + 1;
  auto page = products.list(query);
  const bool more = page.items.size() > limit;
  if (more) page.items.pop_back();
  std::size_t size_hint = 512;  // the envelope and a cursor
  for (const auto& product : page.items) size_hint += json_size_hint(product);
  std::string body;
  body.reserve(size_hint);
  JsonObjectWriter json(body);
  json.member("items") += '[';
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) body += ',';
    append_product(body, page.items[i]);
  }
  body += ']';
  const auto cursor =
      more ? std::optional<std::string>(encode_product_cursor(
                 db::ProductsRepository::cursor_after(page.items.back(), query.sort), query.sort, query.order))
           : std::nullopt;
  json.nullable("next_cursor", cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
  if (page.count) json.member("count") += std::to_string(*page.count);
  json.close();
  auto response = http::json_text_response(200, std::move(body));
  set_cache_headers(response, make_etag('p', page.version, canonical), cache_control);
  keep_list_page(pages, 'p', page.version, canonical, response);
  return response;
}

/// The parameters of GET /products/{source}/{sku}, validated, as the
/// canonical string of its ETag.
std::string one_canonical(const http::Request& request) {
  reject_unknown_params(request, kGetParams);
  const auto& source = request.params.at("source");
  const auto& sku = request.params.at("sku");
  // Invalid UTF-8 or NUL cannot be a stored key; the JSON error body
  // replaces bad bytes when it echoes them.
  if (source.find('\0') != std::string::npos || sku.find('\0') != std::string::npos || !valid_utf8(source) ||
      !valid_utf8(sku)) {
    throw NotFound("product '" + source.substr(0, 100) + "/" + sku.substr(0, 100) + "' does not exist");
  }
  std::string canonical = "product/";
  add_canonical_field(canonical, source);
  add_canonical_field(canonical, sku);
  return canonical;
}

// The I/O thread's half of the two GET routes (http::FastHandler): a 304
// when If-None-Match names the page's ETag at the catalog version held in
// memory, or a list page kept at that version. Parameters are parsed exactly
// as below (a bad one throws, and the pool answers the 400); `*`, a mismatch
// or an unusable cache decline.
std::optional<http::Response> list_fast(const db::ProductsRepository& products, http::ResponseCache* pages,
                                        const std::string& cache_control, const http::Request& request) {
  if (pages == nullptr && !has_if_none_match(request)) return std::nullopt;
  const auto query = parse_list_query(request);
  const auto version = products.cached_version(query.filter.source);
  if (!version) return std::nullopt;
  return fast_list_page(pages, 'p', *version, canonical_query(query), cache_control, request);
}

std::optional<http::Response> get_one_fast(const db::ProductsRepository& products, const std::string& cache_control,
                                           const http::Request& request) {
  if (!has_if_none_match(request)) return std::nullopt;
  const auto canonical = one_canonical(request);
  const auto version = products.cached_version(request.params.at("source"));
  if (!version) return std::nullopt;
  const auto etag = make_etag('p', *version, canonical);
  if (!if_none_match(request, etag, false)) return std::nullopt;
  return not_modified(etag, cache_control);
}

http::Response get_one(db::ProductsRepository& products, const std::string& cache_control,
                       const http::Request& request) {
  const auto canonical = one_canonical(request);
  const auto& source = request.params.at("source");
  const auto& sku = request.params.at("sku");
  if (has_if_none_match(request)) {
    // `*` needs the row to exist: that takes the query, below.
    const auto etag = make_etag('p', products.version(source), canonical);
    if (if_none_match(request, etag, false)) return not_modified(etag, cache_control);
  }
  std::int64_t version = 0;
  auto product = products.find(source, sku, &version);
  if (!product) throw NotFound("product '" + source.substr(0, 100) + "/" + sku.substr(0, 100) + "' does not exist");
  const auto etag = make_etag('p', version, canonical);
  if (if_none_match(request, etag, true)) return not_modified(etag, cache_control);
  std::string body;
  body.reserve(json_size_hint(*product));
  append_product(body, *product);
  auto response = http::json_text_response(200, std::move(body));
  set_cache_headers(response, etag, cache_control);
  return response;
}

}  // namespace

void add_product_routes(http::Router& router, db::ProductsRepository& products, const std::string& cache_control,
                        http::ResponseCache* pages) {
  router.add(
      "GET", "/products",
      [&products, pages, cache_control](const http::Request& r) { return list(products, pages, cache_control, r); },
      [&products, pages, cache_control](const http::Request& r) {
        return list_fast(products, pages, cache_control, r);
      },
      http::Access::public_read);
  router.add(
      "GET", "/products/{source}/{sku}",
      [&products, cache_control](const http::Request& r) { return get_one(products, cache_control, r); },
      [&products, cache_control](const http::Request& r) { return get_one_fast(products, cache_control, r); },
      http::Access::public_read);
}

}  // namespace catalog::handlers
