#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/db/items_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;
constexpr std::size_t kMaxNameLength = 255;

nlohmann::json to_json(const db::Item& item) {
  return {{"id", item.id},
          {"name", item.name},
          {"description", item.description ? nlohmann::json(*item.description) : nlohmann::json(nullptr)},
          {"created_at", item.created_at}};
}

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

std::string encode_cursor(const db::Item& last) { return http::base64url_encode(last.created_at + "|" + last.id); }

db::ItemCursor decode_cursor(const std::string& text) {
  const auto raw = http::base64url_decode(text);
  const auto bar = raw.find('|');
  if (bar == std::string::npos || !http::is_uuid(raw.substr(bar + 1)) || bar != 27) {
    throw BadRequest("malformed cursor");
  }
  return {raw.substr(0, bar), raw.substr(bar + 1)};
}

http::Response create(db::ItemsRepository& items, const http::Request& request) {
  const auto body = http::json_object_body(request);
  reject_unknown_fields(body);
  if (!body.contains("name")) throw ValidationError("name", "name is required");
  const auto name = validated_name(body["name"]);
  const auto description = body.contains("description") ? validated_description(body["description"]) : std::nullopt;
  const auto item = items.create(name, description);
  auto response = http::json_response(201, to_json(item));
  response.set_header("Location", "/items/" + item.id);
  return response;
}

http::Response list(db::ItemsRepository& items, const http::Request& request) {
  const auto limit = http::limit_param(request, kDefaultLimit, kMaxLimit);
  std::optional<db::ItemCursor> after;
  if (auto cursor = request.query_param("cursor")) after = decode_cursor(*cursor);
  // One extra row tells whether a next page exists without a count query.
  auto page = items.list(limit + 1, after);
  const bool more = page.size() > limit;
  if (more) page.pop_back();
  auto body = nlohmann::json::array();
  for (const auto& item : page) body.push_back(to_json(item));
  auto response = http::json_response(200, body);
  if (more) {
    response.set_header("Link", "</items?limit=" + std::to_string(limit) + "&cursor=" + encode_cursor(page.back()) +
                                    ">; rel=\"next\"");
  }
  return response;
}

http::Response get_one(db::ItemsRepository& items, const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  auto item = items.find(id);
  if (!item) throw NotFound("item '" + id + "' does not exist");
  return http::json_response(200, to_json(*item));
}

http::Response patch(db::ItemsRepository& items, const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  const auto body = http::json_object_body(request);
  reject_unknown_fields(body);
  std::optional<std::string> name;
  if (body.contains("name")) name = validated_name(body["name"]);
  std::optional<std::optional<std::string>> description;
  if (body.contains("description")) description = validated_description(body["description"]);
  auto item = items.update(id, name, description);
  if (!item) throw NotFound("item '" + id + "' does not exist");
  return http::json_response(200, to_json(*item));
}

http::Response remove(db::ItemsRepository& items, const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  if (!items.remove(id)) throw NotFound("item '" + id + "' does not exist");
  return http::no_content();
}

}  // namespace

void add_item_routes(http::Router& router, db::ItemsRepository& items) {
  router.add("POST", "/items", [&items](const http::Request& r) { return create(items, r); });
  router.add("GET", "/items", [&items](const http::Request& r) { return list(items, r); });
  router.add("GET", "/items/{id}", [&items](const http::Request& r) { return get_one(items, r); });
  router.add("PATCH", "/items/{id}", [&items](const http::Request& r) { return patch(items, r); });
  router.add("DELETE", "/items/{id}", [&items](const http::Request& r) { return remove(items, r); });
}

}  // namespace catalog::handlers
