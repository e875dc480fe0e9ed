#include "catalog/db/keys_repository.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

const std::string kColumns = "name, array_to_json(scopes)::text, " + rfc3339("created_at") + ", " +
                             rfc3339("expires_at") + ", " + rfc3339("last_used_at") + ", " + rfc3339("revoked_at") +
                             ", secret_sha256, extract(epoch FROM expires_at)::float8";
// Scopes travel as a JSON array: no hand-built array literal to escape.
const std::string kInsert =
    "INSERT INTO api_keys (name, scopes, expires_at, secret_sha256) "
    "VALUES ($1, ARRAY(SELECT json_array_elements_text($2::json)), "
    "CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() + make_interval(secs => $3::bigint) END, $4) "
    "RETURNING " + kColumns;
const std::string kList = "SELECT " + kColumns + " FROM api_keys ORDER BY created_at, name";
const std::string kFindByDigest = "SELECT " + kColumns + " FROM api_keys WHERE secret_sha256 = $1";
constexpr const char* kRevoke =
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1 RETURNING name";
constexpr const char* kTouch =
    "UPDATE api_keys SET last_used_at = now() WHERE name IN (SELECT json_array_elements_text($1::json))";
constexpr const char* kMissingJobs =
    "SELECT j FROM json_array_elements_text($1::json) AS j WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = j)";

std::optional<std::string> optional_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

ApiKey to_key(const pqxx::row& r) {
  ApiKey k;
  k.name = r[0].as<std::string>();
  k.scopes = nlohmann::json::parse(r[1].as<std::string>()).get<std::vector<std::string>>();
  k.created_at = r[2].as<std::string>();
  k.expires_at = optional_text(r[3]);
  k.last_used_at = optional_text(r[4]);
  k.revoked_at = optional_text(r[5]);
  k.secret_sha256 = r[6].as<std::string>();
  if (!r[7].is_null()) k.expires_epoch = r[7].as<double>();
  return k;
}

}  // namespace

ApiKey KeysRepository::create(const std::string& name, const std::vector<std::string>& scopes,
                              const std::vector<std::string>& scoped_jobs, std::optional<long long> lifetime_seconds,
                              const std::string& secret_sha256) {
  const nlohmann::json jobs = scoped_jobs;
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto missing = tx.exec_params(kMissingJobs, jobs.dump());
    if (!missing.empty()) {
      throw ValidationError("scopes", "scope 'feeds:" + missing[0][0].as<std::string>() +
                                          "' names a job that does not exist: create the job first");
    }
    try {
      auto row = tx.exec_params1(kInsert, name, nlohmann::json(scopes).dump(), lifetime_seconds, secret_sha256);
      auto key = to_key(row);
      tx.commit();
      key.secret_sha256.clear();
      return key;
    } catch (const pqxx::unique_violation&) {
      throw Conflict("a key named '" + name + "' already exists (names of revoked keys stay taken)");
    }
  });
}

std::vector<ApiKey> KeysRepository::list() {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<ApiKey> out;
    for (const auto& row : tx.exec(kList)) {
      out.push_back(to_key(row));
      out.back().secret_sha256.clear();
    }
    return out;
  });
}

bool KeysRepository::revoke(const std::string& name) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const bool found = !tx.exec_params(kRevoke, name).empty();
    tx.commit();
    return found;
  });
}

std::optional<ApiKey> KeysRepository::find_by_digest(const std::string& secret_sha256) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<ApiKey> {
    pqxx::read_transaction tx(c);
    const auto result = tx.exec_params(kFindByDigest, secret_sha256);
    if (result.empty()) return std::nullopt;
    return to_key(result[0]);
  });
}

void KeysRepository::touch(const std::vector<std::string>& names) {
  if (names.empty()) return;
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kTouch, nlohmann::json(names).dump());
    tx.commit();
  });
}

}  // namespace catalog::db
