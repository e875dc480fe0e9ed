// POST /keys, GET /keys, DELETE /keys/{name}: API key management for admin
// keys (the route table marks all three Access::admin). The secret appears in
// the POST response only; the database and the logs never see it.
#include <nlohmann/json.hpp>

#include "catalog/auth/key_admin.hpp"
#include "catalog/auth/key_store.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::handlers {
namespace {

http::Response create(db::KeysRepository& keys, const http::Request& request) {
  const auto body = http::json_object_body(request);
  for (const auto& [field, value] : body.items()) {
    if (field != "name" && field != "scopes" && field != "expires_in") {
      throw ValidationError(field, "unknown field '" + field + "'");
    }
  }
  if (!body.contains("name") || !body["name"].is_string()) throw ValidationError("name", "name is required (a string)");
  if (!body.contains("scopes") || !body["scopes"].is_array()) {
    throw ValidationError("scopes", "scopes is required (an array of admin, read or feeds:<job-id>)");
  }
  std::vector<std::string> scopes;
  for (const auto& s : body["scopes"]) {
    if (!s.is_string()) throw ValidationError("scopes", "every scope must be a string");
    scopes.push_back(s.get<std::string>());
  }
  std::optional<std::string> expires_in;
  if (body.contains("expires_in") && !body["expires_in"].is_null()) {
    if (!body["expires_in"].is_string()) throw ValidationError("expires_in", "expires_in must be a string like 90d");
    expires_in = body["expires_in"].get<std::string>();
  }
  const auto created = auth::create_key(keys, body["name"].get<std::string>(), scopes, expires_in);
  auto json = auth::key_to_json(created.key);
  json["secret"] = created.secret;
  return http::json_response(201, json);
}

}  // namespace

void add_key_routes(http::Router& router, db::KeysRepository& keys, auth::KeyStore& store) {
  router.add("POST", "/keys", http::Access::admin, [&keys](const http::Request& r) { return create(keys, r); });
  router.add("GET", "/keys", http::Access::admin, [&keys](const http::Request&) {
    auto body = nlohmann::json::array();
    for (const auto& key : keys.list()) body.push_back(auth::key_to_json(key));
    return http::json_response(200, body);
  });
  router.add("DELETE", "/keys/{name}", http::Access::admin, [&keys, &store](const http::Request& r) {
    const auto& name = r.params.at("name");
    if (!keys.revoke(name)) throw NotFound("key '" + name.substr(0, 80) + "' does not exist");
    // This process forgets it at once; other tasks when migration 13's
    // notification reaches them (within their cache TTL if their listener is down).
    store.invalidate(name);
    return http::no_content();
  });
}

}  // namespace catalog::handlers
