// GET /products (filters, sort, opaque keyset cursor) and
// GET /products/{source}/{sku}: parse → repository → serialize.
#include <algorithm>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/core/json_string.hpp"
#include "catalog/core/utf8.hpp"
#include "catalog/db/products_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;
constexpr int kCursorVersion = 1;

const std::set<std::string> kListParams = {"source", "sku",     "brand",  "category", "availability",
                                           "q",      "updated_since", "sort_by", "order", "limit",
                                           "cursor", "include_deleted", "with_count"};
const std::set<std::string> kGetParams = {};

/// Clients with a typo in a parameter name would otherwise get an unfiltered
/// list and never know: name every unknown parameter.
void reject_unknown_params(const http::Request& request, const std::set<std::string>& allowed) {
  std::set<std::string> unknown;
  for (const auto& [name, value] : request.query) {
    if (allowed.count(name) == 0) unknown.insert(name);
  }
  if (unknown.empty()) return;
  std::string names;
  for (const auto& name : unknown) names += (names.empty() ? "'" : ", '") + name.substr(0, 64) + "'";
  std::string expected;
  for (const auto& name : allowed) expected += (expected.empty() ? "" : ", ") + name;
  throw BadRequest((unknown.size() == 1 ? "unknown query parameter " : "unknown query parameters ") + names +
                   (allowed.empty() ? "; this route takes none" : "; expected " + expected));
}

/// A text value PostgreSQL can take as a parameter: valid UTF-8, no NUL.
void require_text(const std::string& value, const std::string& what) {
  if (value.find('\0') != std::string::npos || !valid_utf8(value)) {
    throw BadRequest(what + " must be valid UTF-8 text without NUL characters");
  }
}

std::optional<std::string> text_param(const http::Request& request, const std::string& name) {
  auto value = request.query_param(name);
  if (!value) return std::nullopt;
  if (value->empty()) throw BadRequest("query parameter '" + name + "' must not be empty");
  require_text(*value, "query parameter '" + name + "'");
  return value;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return ec == std::errc() && end == s.data() + pos + n && s[pos] != '-' && s[pos] != '+';
}

/// RFC 3339 date-time (https://www.rfc-editor.org/rfc/rfc3339#section-5.6):
/// YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM). Returns it with `T`/`Z` upper-cased
/// for PostgreSQL, or nullopt when malformed or out of range.
std::optional<std::string> rfc3339(std::string text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const auto start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  if (pos == text.size() - 1 && (text[pos] == 'Z' || text[pos] == 'z')) {
    text[pos] = 'Z';
  } else {
    int off_hour, off_minute;
    if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || !digits(text, pos + 1, 2, off_hour) ||
        text[pos + 3] != ':' || !digits(text, pos + 4, 2, off_minute) || off_hour > 23 || off_minute > 59) {
      return std::nullopt;
    }
  }
  text[10] = 'T';
  return text;
}

/// numeric(12,2) as PostgreSQL prints it: optional '-', 1..10 digits, '.', 2 digits.
bool is_price_text(const std::string& s) {
  const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  const auto dot = s.find('.');
  if (dot == std::string::npos || dot == start || dot - start > 10 || s.size() != dot + 3) return false;
  for (std::size_t i = start; i < s.size(); ++i) {
    if (i != dot && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

const char* sort_name(db::ProductSort sort) {
  switch (sort) {
    case db::ProductSort::sku: return "sku";
    case db::ProductSort::name: return "name";
    case db::ProductSort::price: return "price";
    case db::ProductSort::updated_at: return "updated_at";
  }
  return "sku";
}

const char* order_name(db::SortOrder order) { return order == db::SortOrder::asc ? "asc" : "desc"; }

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

// Cursor: base64url of the JSON array [version, sort_by, order, value, source, sku]
// where value is the last row's sort column (null for the sku sort and for a
// NULL price). The sort and order are inside so that a cursor is never
// silently applied to a different ordering.
std::string encode_cursor(const db::ProductCursor& c, db::ProductSort sort, db::SortOrder order) {
  const nlohmann::json array = {kCursorVersion, sort_name(sort), order_name(order),
                                c.value ? nlohmann::json(*c.value) : nlohmann::json(nullptr), c.source, c.sku};
  return http::base64url_encode(array.dump());
}

db::ProductCursor decode_cursor(const std::string& text, db::ProductSort sort, db::SortOrder order) {
  nlohmann::json array;
  try {
    array = nlohmann::json::parse(http::base64url_decode(text));
  } catch (const nlohmann::json::exception&) {
    throw BadRequest("malformed cursor");
  }
  if (!array.is_array() || array.size() != 6 || array[0] != kCursorVersion || !array[1].is_string() ||
      !array[2].is_string() || !array[4].is_string() || !array[5].is_string() ||
      !(array[3].is_string() || array[3].is_null())) {
    throw BadRequest("malformed cursor");
  }
  const auto cursor_sort = array[1].get<std::string>();
  const auto cursor_order = array[2].get<std::string>();
  if (cursor_sort != sort_name(sort) || cursor_order != order_name(order)) {
    throw BadRequest("cursor belongs to sort_by=" + cursor_sort.substr(0, 16) + "&order=" +
                     cursor_order.substr(0, 16) + ", not sort_by=" + sort_name(sort) + "&order=" + order_name(order) +
                     "; start again without a cursor");
  }
  db::ProductCursor cursor{std::nullopt, array[4].get<std::string>(), array[5].get<std::string>()};
  if (array[3].is_string()) cursor.value = array[3].get<std::string>();
  require_text(cursor.source, "cursor");
  require_text(cursor.sku, "cursor");
  bool value_ok = false;
  switch (sort) {
    case db::ProductSort::sku: value_ok = !cursor.value; break;
    case db::ProductSort::name: value_ok = cursor.value.has_value(); break;
    case db::ProductSort::price: value_ok = !cursor.value || is_price_text(*cursor.value); break;
    case db::ProductSort::updated_at: value_ok = cursor.value && rfc3339(*cursor.value); break;
  }
  if (!value_ok) throw BadRequest("malformed cursor");
  if (cursor.value) require_text(*cursor.value, "cursor");
  return cursor;
}

/// numeric(12,2) text → JSON number. At most 12 significant digits, so the
/// nearest double prints back (shortest round trip) as the same decimal:
/// "12.50" → 12.5, "0.10" → 0.1, never 12.499999999.
void append_price(std::string& out, const std::optional<std::string>& price) {
  if (!price) {
    out += "null";
    return;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(price->data(), price->data() + price->size(), value);
  if (ec != std::errc() || end != price->data() + price->size()) throw Error("internal error", "bad price " + *price);
  out += nlohmann::json(value).dump();
}

/// One product as a JSON object, written straight into `out`: a page of 100
/// through nlohmann::json trees (and a parse + dump of every `attributes`)
/// cost more CPU than the query. `attributes` is PostgreSQL's jsonb text,
/// valid JSON, copied as is.
void append_product(std::string& out, const db::Product& p) {
  const std::pair<const char*, const std::string*> text[] = {
      {"source", &p.source}, {"sku", &p.sku}, {"name", &p.name}, {"created_at", &p.created_at},
      {"updated_at", &p.updated_at}};
  const std::pair<const char*, const std::optional<std::string>*> nullable_text[] = {
      {"description", &p.description}, {"brand", &p.brand},           {"category", &p.category},
      {"currency", &p.currency},       {"availability", &p.availability}, {"deleted_at", &p.deleted_at},
      {"last_run_id", &p.last_run_id}};
  const auto key = [&out](const char* name) {
    out += out.back() == '{' ? "\"" : ",\"";
    out += name;
    out += "\":";
  };
  out += '{';
  for (const auto& [name, value] : text) {
    key(name);
    append_json_string(out, *value);
  }
  for (const auto& [name, value] : nullable_text) {
    key(name);
    if (*value) append_json_string(out, **value);
    else out += "null";
  }
  key("price");
  append_price(out, p.price);
  key("attributes");
  out += p.attributes;
  out += '}';
}

db::ProductQuery parse_list_query(const http::Request& request) {
  reject_unknown_params(request, kListParams);
  db::ProductQuery q;
  q.filter.source = text_param(request, "source");
  q.filter.sku = text_param(request, "sku");
  q.filter.brand = text_param(request, "brand");
  q.filter.category = text_param(request, "category");
  q.filter.availability = text_param(request, "availability");
  if (auto text = request.query_param("q"); text && !text->empty()) {
    require_text(*text, "query parameter 'q'");
    q.filter.name_contains = std::move(text);
  }
  if (auto text = request.query_param("updated_since")) {
    q.filter.updated_since = rfc3339(*text);
    if (!q.filter.updated_since) {
      throw BadRequest("query parameter 'updated_since' must be an RFC 3339 date-time such as "
                       "2024-05-01T12:00:00Z, got '" + text->substr(0, 64) + "'");
    }
  }
  q.filter.include_deleted = http::flag_param(request, "include_deleted");
  q.with_count = http::flag_param(request, "with_count");
  q.sort = sort_param(request);
  q.order = order_param(request);
  q.limit = http::limit_param(request, kDefaultLimit, kMaxLimit);
  if (auto cursor = request.query_param("cursor")) q.after = decode_cursor(*cursor, q.sort, q.order);
  return q;
}

http::Response list(db::ProductsRepository& products, const http::Request& request) {
  auto query = parse_list_query(request);
  const auto limit = query.limit;
  // One extra row tells whether a next page exists without a count query.
  query.limit = limit + 1;
  auto page = products.list(query);
  const bool more = page.items.size() > limit;
  if (more) page.items.pop_back();
  std::string body = "{\"items\":[";
  body.reserve(page.items.size() * 512);
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) body += ',';
    append_product(body, page.items[i]);
  }
  body += "],\"next_cursor\":";
  if (more) {
    append_json_string(
        body, encode_cursor(db::ProductsRepository::cursor_after(page.items.back(), query.sort), query.sort, query.order));
  } else {
    body += "null";
  }
  if (page.count) body += ",\"count\":" + std::to_string(*page.count);
  body += '}';
  return http::json_text_response(200, std::move(body));
}

http::Response get_one(db::ProductsRepository& products, const http::Request& request) {
  reject_unknown_params(request, kGetParams);
  const auto& source = request.params.at("source");
  const auto& sku = request.params.at("sku");
  // Invalid UTF-8 or NUL cannot be a stored key; the JSON error body
  // replaces bad bytes when it echoes them.
  if (source.find('\0') != std::string::npos || sku.find('\0') != std::string::npos || !valid_utf8(source) ||
      !valid_utf8(sku)) {
    throw NotFound("product '" + source.substr(0, 100) + "/" + sku.substr(0, 100) + "' does not exist");
  }
  auto product = products.find(source, sku);
  if (!product) throw NotFound("product '" + source.substr(0, 100) + "/" + sku.substr(0, 100) + "' does not exist");
  std::string body;
  append_product(body, *product);
  return http::json_text_response(200, std::move(body));
}

}  // namespace

void add_product_routes(http::Router& router, db::ProductsRepository& products) {
  router.add("GET", "/products", [&products](const http::Request& r) { return list(products, r); });
  router.add("GET", "/products/{source}/{sku}", [&products](const http::Request& r) { return get_one(products, r); });
}

}  // namespace catalog::handlers
