#pragma once
// The GET /products keyset cursor apart from the database: its sort and
// order names and its codec. Used by products_handler.cpp and called as is by
// the fuzz target.

#include <string>
#include <string_view>

#include "catalog/db/products_repository.hpp"

namespace catalog::handlers {

/// numeric(12,2) as PostgreSQL prints it: optional '-', 1..10 digits, '.',
/// 2 digits (a price cursor's value, and every price the API writes).
bool is_price_text(std::string_view s);

/// The `sort_by` / `order` query values ("sku", "name", "price",
/// "updated_at"; "asc", "desc").
const char* sort_name(db::ProductSort sort);
const char* order_name(db::SortOrder order);

/// base64url of the JSON array [version, sort_by, order, value, source, sku],
/// `value` the last row's sort column (null for the sku sort and a NULL
/// price). The sort and order are inside so that a cursor is never silently
/// applied to a different ordering.
std::string encode_product_cursor(const db::ProductCursor& c, db::ProductSort sort, db::SortOrder order);
/// Its inverse for `sort` and `order`; BadRequest for a malformed cursor or
/// one of another ordering. What it returns is valid text without NUL.
db::ProductCursor decode_product_cursor(const std::string& text, db::ProductSort sort, db::SortOrder order);

}  // namespace catalog::handlers
