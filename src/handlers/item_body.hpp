#pragma once
// The request side of /items apart from the database: the JSON bodies of
// POST /items and PATCH /items/{id}, and the GET /items cursor. Used by
// items_handler.cpp and called as is by the fuzz targets.

#include <optional>
#include <string>

#include "catalog/db/items_repository.hpp"
#include "catalog/http/message.hpp"

namespace catalog::handlers {

/// What a body asks to set. `description` holding nullopt means "set to null".
struct ItemFields {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> description;
};

/// A POST /items body (`name_required`) or a PATCH /items/{id} body (every
/// field optional): a JSON object of `name` (1-255 characters) and
/// `description` (string or null). Throws BadRequest (not JSON, not an
/// object) or ValidationError naming the field.
ItemFields parse_item_body(const http::Request& request, bool name_required);

/// The GET /items cursor after `last`: base64url of "<created_at>|<id>".
std::string encode_item_cursor(const db::Item& last);
/// Its inverse; BadRequest("malformed cursor") for anything else.
db::ItemCursor decode_item_cursor(const std::string& text);

}  // namespace catalog::handlers
