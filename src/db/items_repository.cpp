#include "catalog/db/items_repository.hpp"

#include <string_view>

#include <pqxx/pqxx>

#include "catalog/db/catalog_versions.hpp"
#include "db/row_reader.hpp"
#include "db/timestamp_text.hpp"

namespace catalog::db {
namespace {

// Plain columns: created_at is converted to RFC 3339 in C++ (see
// products_repository.cpp), the uuid's text output is the API's.
constexpr const char* kColumns = "id, name, description, created_at";

const std::string kInsert = std::string("INSERT INTO items (id, name, description) VALUES (gen_random_uuid(), $1, $2) RETURNING ") + kColumns;
// Reads carry the items' catalog version as a last column (an InitPlan, run
// once): rows and version in one statement, one snapshot, one round trip.
constexpr const char* kVersionColumn = ", (SELECT cv.version FROM catalog_versions cv WHERE cv.scope = 'items')";
const std::string kSelectOne = std::string("SELECT ") + kColumns + kVersionColumn + " FROM items WHERE id = $1";
const std::string kSelectFirstPage =
    std::string("SELECT ") + kColumns + kVersionColumn + " FROM items ORDER BY created_at DESC, id DESC LIMIT ";
const std::string kSelectNextPage = std::string("SELECT ") + kColumns + kVersionColumn +
                                    " FROM items WHERE (created_at, id) < ($1::timestamptz, $2::uuid)"
                                    " ORDER BY created_at DESC, id DESC LIMIT ";

std::int64_t version_of(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }
const std::string kUpdate = std::string(
                                "UPDATE items SET name = coalesce($2, name), "
                                "description = CASE WHEN $3 THEN $4 ELSE description END "
                                "WHERE id = $1 RETURNING ") + kColumns;
constexpr const char* kDelete = "DELETE FROM items WHERE id = $1";

/// The row as views into `result`, which it keeps alive.
Item to_item(const pqxx::result& result, const pqxx::row& row) {
  RowReader r(row);
  Item item;
  item.id = r.text(0);
  item.name = r.text(1);
  item.description = r.nullable(2);
  item.created_at = utc_timestamp(r.text(3));
  item.storage = result;
  return item;
}

Item only_item(const pqxx::result& result) { return to_item(result, result[0]); }

}  // namespace

Item ItemsRepository::create(const std::string& name, const std::optional<std::string>& description) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto result = tx.exec_params(kInsert, name, description);
    const auto bumped = bump_items_version(tx);
    tx.commit();
    if (versions_) versions_->observe(bumped);
    return only_item(result);
  });
}

std::int64_t ItemsRepository::version() {
  return read([&](pqxx::connection& c) {
    // One statement: no BEGIN/COMMIT round trips on the revalidation path.
    pqxx::nontransaction tx(c);
    return read_version(tx, kItemsScope);
  });
}

std::optional<std::int64_t> ItemsRepository::cached_version() const {
  return versions_ != nullptr ? versions_->version(kItemsScope) : std::nullopt;
}

std::optional<Item> ItemsRepository::find(const std::string& id, std::int64_t* version) {
  return read([&](pqxx::connection& c) -> std::optional<Item> {
    pqxx::nontransaction tx(c);
    auto result = statements_.exec(c, tx, kSelectOne, {id});
    if (result.empty()) return std::nullopt;
    if (version) *version = version_of(result[0][4]);
    return only_item(result);
  });
}

std::vector<Item> ItemsRepository::list(std::size_t limit, const std::optional<ItemCursor>& after,
                                        std::int64_t* version) {
  return read([&](pqxx::connection& c) {
    // The limit is in the text, not a parameter, so that the statement's
    // generic plan is used (see page_sql in products_repository.cpp).
    const auto page = [&](pqxx::transaction_base& tx) {
      return after ? statements_.exec(c, tx, kSelectNextPage + std::to_string(limit), {after->created_at, after->id})
                   : statements_.exec(c, tx, kSelectFirstPage + std::to_string(limit), {});
    };
    pqxx::result result;
    {
      pqxx::nontransaction tx(c);
      result = page(tx);
    }
    if (!result.empty()) {
      if (version) *version = version_of(result[0][4]);
    } else if (version) {
      // No row carries the version: read it first, then the page, in one
      // snapshot (never a version newer than the rows).
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
      *version = read_version(tx, kItemsScope);
      result = page(tx);
    }
    std::vector<Item> items;
    items.reserve(result.size());
    const auto end = result.end();
    for (auto row = result.begin(); row != end; ++row) items.push_back(to_item(result, *row));
    return items;
  });
}

std::optional<Item> ItemsRepository::update(const std::string& id, const std::optional<std::string>& name,
                                            const std::optional<std::optional<std::string>>& description) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Item> {
    pqxx::work tx(c);
    const std::optional<std::string> new_description = description ? *description : std::nullopt;
    auto result = tx.exec_params(kUpdate, id, name, description.has_value(), new_description);
    if (result.empty()) return std::nullopt;
    const auto bumped = bump_items_version(tx);
    tx.commit();
    if (versions_) versions_->observe(bumped);
    return only_item(result);
  });
}

bool ItemsRepository::remove(const std::string& id) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto result = tx.exec_params(kDelete, id);
    if (result.affected_rows() == 0) return false;
    const auto bumped = bump_items_version(tx);
    tx.commit();
    if (versions_) versions_->observe(bumped);
    return true;
  });
}

}  // namespace catalog::db
