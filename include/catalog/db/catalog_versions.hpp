#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

namespace catalog::db {

/// Versions of the rows behind GET /items* and GET /products* (table
/// catalog_versions): what their ETags are made of. Every transaction that
/// changes rows of a scope sets that scope's version to a fresh sequence value
/// before it commits, so a reader that sees a version sees at least the rows
/// of the write that set it, and an unchanged version means unchanged rows.

/// A scope's version as a committed write left it.
struct ScopeVersion {
  std::string scope;
  std::int64_t version = 0;
};
using ScopeVersions = std::vector<ScopeVersion>;

/// Channel of the NOTIFY that migration 9's trigger sends for every change
/// of a catalog_versions row: payload "<version> <scope>", or "" when the
/// scope is too long for a payload (listeners then re-read the table).
inline constexpr const char* kVersionsChannel = "catalog_versions";

/// Scope of every item.
inline constexpr const char* kItemsScope = "items";

/// Scope of one source's products, or of all products when `source` is empty.
std::string products_scope(const std::optional<std::string>& source);

/// The scope's current version; 0 when nothing was ever written to it.
std::int64_t read_version(pqxx::transaction_base& tx, const std::string& scope);

/// Every scope's version (a small table: two rows plus one per source).
ScopeVersions read_all_versions(pqxx::transaction_base& tx);

/// Gives the items scope a new version (call in the writing transaction,
/// last, so that the row lock is held only until the commit). Returns what
/// it set, for VersionCache::observe once the transaction has committed.
/// A scope's versions grow in commit order: the new value is drawn while
/// the row is locked, so a later commit always carries a larger version.
ScopeVersions bump_items_version(pqxx::transaction_base& tx);

/// Gives the source's scope and the all-products scope new versions (call in
/// the transaction that makes the changed rows visible, last). Returns them.
ScopeVersions bump_products_version(pqxx::transaction_base& tx, const std::string& source);

}  // namespace catalog::db
