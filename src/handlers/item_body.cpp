#include "handlers/item_body.hpp"

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kMaxNameLength = 255;

void reject_unknown_fields(const nlohmann::json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "description") throw ValidationError(key, "unknown field '" + key + "'");
  }
}

std::string validated_name(const nlohmann::json& value) {
  if (!value.is_string()) throw ValidationError("name", "name must be a string");
  const auto name = value.get<std::string>();
  const auto length = http::utf8_length(name);
  if (length < 1 || length > kMaxNameLength) {
    throw ValidationError("name", "name must be 1 to 255 characters, got " + std::to_string(length));
  }
  return name;
}

std::optional<std::string> validated_description(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_string()) throw ValidationError("description", "description must be a string or null");
  return value.get<std::string>();
}

}  // namespace

ItemFields parse_item_body(const http::Request& request, bool name_required) {
  const auto body = http::json_object_body(request);
  reject_unknown_fields(body);
  if (name_required && !body.contains("name")) throw ValidationError("name", "name is required");
  ItemFields fields;
  if (body.contains("name")) fields.name = validated_name(body["name"]);
  if (body.contains("description")) fields.description = validated_description(body["description"]);
  return fields;
}

std::string encode_item_cursor(const db::Item& last) {
  std::string raw(last.created_at.text());
  raw += '|';
  raw += last.id;
  return http::base64url_encode(raw);
}

db::ItemCursor decode_item_cursor(const std::string& text) {
  const auto raw = http::base64url_decode(text);
  const auto bar = raw.find('|');
  if (bar == std::string::npos || !http::is_uuid(raw.substr(bar + 1)) || bar != 27) {
    throw BadRequest("malformed cursor");
  }
  return {raw.substr(0, bar), raw.substr(bar + 1)};
}

}  // namespace catalog::handlers
