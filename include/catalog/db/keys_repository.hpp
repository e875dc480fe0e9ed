#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/db/pool.hpp"

namespace catalog::db {

/// One row of api_keys. The secret itself is never stored: only its SHA-256.
struct ApiKey {
  std::string name;
  std::vector<std::string> scopes;
  std::string created_at;                   ///< RFC 3339
  std::optional<std::string> expires_at;    ///< RFC 3339; null = never
  std::optional<std::string> last_used_at;  ///< RFC 3339, updated at most once per cache TTL
  std::optional<std::string> revoked_at;    ///< RFC 3339
  std::string secret_sha256;                ///< lower-case hex; filled by find_by_digest only
  std::optional<double> expires_epoch;      ///< expires_at as Unix seconds (for the cache)
};

/// Channel on which migration 13's trigger announces a change of what a key
/// opens (revoked, scopes, expiry, secret, deleted); the payload is its name.
inline constexpr const char* kApiKeysChannel = "api_keys";

class KeysRepository {
 public:
  explicit KeysRepository(Pool& pool) : pool_(pool) {}

  /// Stores a key with `scopes` as given. Throws Conflict when the name is
  /// taken (revoked names stay taken, for the audit trail) and
  /// ValidationError("scopes") when one of `scoped_jobs` (the jobs its
  /// `feeds:<job>` scopes name: what scopes mean is auth's to say) does not exist.
  ApiKey create(const std::string& name, const std::vector<std::string>& scopes,
                const std::vector<std::string>& scoped_jobs, std::optional<long long> lifetime_seconds,
                const std::string& secret_sha256);
  /// Every key, revoked ones included, oldest first.
  std::vector<ApiKey> list();
  /// Marks the key revoked (idempotent); false when there is no such key.
  bool revoke(const std::string& name);
  /// The key whose secret hashes to `secret_sha256`, revoked or not.
  std::optional<ApiKey> find_by_digest(const std::string& secret_sha256);
  /// Sets last_used_at = now() for these keys.
  void touch(const std::vector<std::string>& names);

 private:
  Pool& pool_;
};

}  // namespace catalog::db
