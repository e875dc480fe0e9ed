#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/db/keys_repository.hpp"

namespace catalog::auth {

/// A key just created, with its secret: the only moment the secret exists
/// outside the caller's hands. Never log it.
struct CreatedKey {
  db::ApiKey key;
  std::string secret;
};

/// Validates (422 naming `name`, `scopes` or `expires_in`), generates a secret
/// and stores only its digest. Shared by `catalog-api keys create` and POST /keys.
CreatedKey create_key(db::KeysRepository& keys, const std::string& name, const std::vector<std::string>& scopes,
                      const std::optional<std::string>& expires_in);

/// A key as GET /keys and `keys list` show it: never a secret or its digest.
nlohmann::json key_to_json(const db::ApiKey& key);

}  // namespace catalog::auth
