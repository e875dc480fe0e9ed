#include "catalog/db/catalog_versions.hpp"

#include <pqxx/pqxx>

namespace catalog::db {
namespace {

constexpr const char* kSelectVersion = "SELECT version FROM catalog_versions WHERE scope = $1";

constexpr const char* kSelectAll = "SELECT scope, version FROM catalog_versions";

// nextval, not version + 1: a scope whose row is ever removed and written
// again still never shows a version it had before. The update draws its own
// nextval under the row lock instead of reusing EXCLUDED.version (drawn
// before the lock was granted): two writers of one scope would otherwise
// commit 11 then 10, and a cache that keeps the larger of what it hears
// (VersionCache) would miss the second write for good.
constexpr const char* kBumpOne =
    "INSERT INTO catalog_versions (scope, version) VALUES ($1, nextval('catalog_version_seq')) "
    "ON CONFLICT (scope) DO UPDATE SET version = nextval('catalog_version_seq') RETURNING scope, version";
constexpr const char* kBumpTwo =
    "INSERT INTO catalog_versions (scope, version) "
    "VALUES ($1, nextval('catalog_version_seq')), ($2, nextval('catalog_version_seq')) "
    "ON CONFLICT (scope) DO UPDATE SET version = nextval('catalog_version_seq') RETURNING scope, version";

constexpr const char* kProductsScope = "products";

}  // namespace

std::string products_scope(const std::optional<std::string>& source) {
  if (!source) return kProductsScope;
  return std::string(kProductsScope) + ":" + *source;
}

std::int64_t read_version(pqxx::transaction_base& tx, const std::string& scope) {
  const auto result = tx.exec_params(kSelectVersion, scope);
  return result.empty() ? 0 : result[0][0].as<std::int64_t>();
}

namespace {
ScopeVersions to_versions(const pqxx::result& result) {
  ScopeVersions out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>()});
  return out;
}
}  // namespace

ScopeVersions read_all_versions(pqxx::transaction_base& tx) { return to_versions(tx.exec(kSelectAll)); }

ScopeVersions bump_items_version(pqxx::transaction_base& tx) {
  return to_versions(tx.exec_params(kBumpOne, std::string(kItemsScope)));
}

ScopeVersions bump_products_version(pqxx::transaction_base& tx, const std::string& source) {
  // Always the global scope first: concurrent runs lock the two rows in the
  // same order and cannot deadlock on them.
  return to_versions(tx.exec_params(kBumpTwo, std::string(kProductsScope), products_scope(source)));
}

}  // namespace catalog::db
