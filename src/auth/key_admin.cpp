#include "catalog/auth/key_admin.hpp"

#include <set>

#include "catalog/auth/key_store.hpp"
#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"

namespace catalog::auth {

CreatedKey create_key(db::KeysRepository& keys, const std::string& name, const std::vector<std::string>& scopes,
                      const std::optional<std::string>& expires_in) {
  validate_key_name(name, "name");
  if (scopes.empty()) throw ValidationError("scopes", "at least one scope is required (admin, read or feeds:<job-id>)");
  std::set<std::string> seen;
  std::vector<std::string> unique, jobs;
  for (const auto& s : scopes) {
    validate_scope(s, "scopes");
    if (!seen.insert(s).second) continue;
    unique.push_back(s);
    if (auto job = feeds_scope_job(s)) jobs.push_back(*job);
  }
  std::optional<long long> lifetime;
  if (expires_in) lifetime = parse_lifetime_seconds(*expires_in, "expires_in");
  CreatedKey created;
  created.secret = generate_secret();
  created.key = keys.create(name, unique, jobs, lifetime, secret_digest_hex(created.secret));
  return created;
}

nlohmann::json key_to_json(const db::ApiKey& key) {
  const auto or_null = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"name", key.name},
          {"scopes", key.scopes},
          {"created_at", key.created_at},
          {"expires_at", or_null(key.expires_at)},
          {"last_used_at", or_null(key.last_used_at)},
          {"revoked_at", or_null(key.revoked_at)}};
}

}  // namespace catalog::auth
