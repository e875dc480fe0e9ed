#include "handlers/product_cursor.hpp"

#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/cursor.hpp"
#include "handlers/query_params.hpp"

namespace catalog::handlers {

constexpr int kCursorVersion = 1;

bool is_price_text(std::string_view s) {
  const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == start || dot - start > 10 || s.size() != dot + 3) return false;
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

std::string encode_product_cursor(const db::ProductCursor& c, db::ProductSort sort, db::SortOrder order) {
  return http::encode_cursor(kCursorVersion, {sort_name(sort), order_name(order),
                                              c.value ? nlohmann::json(*c.value) : nlohmann::json(nullptr), c.source,
                                              c.sku});
}

db::ProductCursor decode_product_cursor(const std::string& text, db::ProductSort sort, db::SortOrder order) {
  // [sort_by, order, value, source, sku] after the version.
  const auto fields = http::decode_cursor(text, kCursorVersion, 5);
  if (!fields[0].is_string() || !fields[1].is_string() || !fields[3].is_string() || !fields[4].is_string() ||
      !(fields[2].is_string() || fields[2].is_null())) {
    throw BadRequest("malformed cursor");
  }
  const auto cursor_sort = fields[0].get<std::string>();
  const auto cursor_order = fields[1].get<std::string>();
  if (cursor_sort != sort_name(sort) || cursor_order != order_name(order)) {
    throw BadRequest("cursor belongs to sort_by=" + cursor_sort.substr(0, 16) + "&order=" +
                     cursor_order.substr(0, 16) + ", not sort_by=" + sort_name(sort) + "&order=" + order_name(order) +
                     "; start again without a cursor");
  }
  db::ProductCursor cursor{std::nullopt, fields[3].get<std::string>(), fields[4].get<std::string>()};
  if (fields[2].is_string()) cursor.value = fields[2].get<std::string>();
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

}  // namespace catalog::handlers
