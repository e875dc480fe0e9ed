#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/transaction_base>

namespace catalog::db {

/// Versions of the rows behind GET /items* and GET /products* (table
/// catalog_versions): what their ETags are made of. Every transaction that
/// changes rows of a scope sets that scope's version to a fresh sequence value
/// before it commits, so a reader that sees a version sees at least the rows
/// of the write that set it, and an unchanged version means unchanged rows.

/// Scope of every item.
inline constexpr const char* kItemsScope = "items";

/// Scope of one source's products, or of all products when `source` is empty.
std::string products_scope(const std::optional<std::string>& source);

/// The scope's current version; 0 when nothing was ever written to it.
std::int64_t read_version(pqxx::transaction_base& tx, const std::string& scope);

/// Gives the items scope a new version (call in the writing transaction,
/// last, so that the row lock is held only until the commit).
void bump_items_version(pqxx::transaction_base& tx);

/// Gives the source's scope and the all-products scope new versions (call in
/// the transaction that makes the changed rows visible, last).
void bump_products_version(pqxx::transaction_base& tx, const std::string& source);

}  // namespace catalog::db
