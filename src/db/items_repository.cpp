#include "catalog/db/items_repository.hpp"

#include <pqxx/pqxx>

#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

const std::string kColumns = "id::text, name, description, " + rfc3339("created_at");

const std::string kInsert = "INSERT INTO items (id, name, description) VALUES (gen_random_uuid(), $1, $2) RETURNING " + kColumns;
const std::string kSelectOne = std::string("SELECT ") + kColumns + " FROM items WHERE id = $1";
const std::string kSelectFirstPage =
    std::string("SELECT ") + kColumns + " FROM items ORDER BY created_at DESC, id DESC LIMIT $1";
const std::string kSelectNextPage = std::string("SELECT ") + kColumns +
                                    " FROM items WHERE (created_at, id) < ($1::timestamptz, $2::uuid)"
                                    " ORDER BY created_at DESC, id DESC LIMIT $3";
const std::string kUpdate = std::string(
                                "UPDATE items SET name = coalesce($2, name), "
                                "description = CASE WHEN $3 THEN $4 ELSE description END "
                                "WHERE id = $1 RETURNING ") + kColumns;
constexpr const char* kDelete = "DELETE FROM items WHERE id = $1";

Item to_item(const pqxx::row& r) {
  Item item;
  item.id = r[0].as<std::string>();
  item.name = r[1].as<std::string>();
  if (!r[2].is_null()) item.description = r[2].as<std::string>();
  item.created_at = r[3].as<std::string>();
  return item;
}

}  // namespace

Item ItemsRepository::create(const std::string& name, const std::optional<std::string>& description) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto row = tx.exec_params1(kInsert, name, description);
    tx.commit();
    return to_item(row);
  });
}

std::optional<Item> ItemsRepository::find(const std::string& id) {
  return read([&](pqxx::connection& c) -> std::optional<Item> {
    pqxx::read_transaction tx(c);
    auto result = tx.exec_params(kSelectOne, id);
    if (result.empty()) return std::nullopt;
    return to_item(result[0]);
  });
}

std::vector<Item> ItemsRepository::list(std::size_t limit, const std::optional<ItemCursor>& after) {
  return read([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    const auto result = after ? tx.exec_params(kSelectNextPage, after->created_at, after->id, limit)
                              : tx.exec_params(kSelectFirstPage, limit);
    std::vector<Item> items;
    items.reserve(result.size());
    for (const auto& row : result) items.push_back(to_item(row));
    return items;
  });
}

std::optional<Item> ItemsRepository::update(const std::string& id, const std::optional<std::string>& name,
                                            const std::optional<std::optional<std::string>>& description) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Item> {
    pqxx::work tx(c);
    const std::optional<std::string> new_description = description ? *description : std::nullopt;
    auto result = tx.exec_params(kUpdate, id, name, description.has_value(), new_description);
    tx.commit();
    if (result.empty()) return std::nullopt;
    return to_item(result[0]);
  });
}

bool ItemsRepository::remove(const std::string& id) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto result = tx.exec_params(kDelete, id);
    tx.commit();
    return result.affected_rows() > 0;
  });
}

}  // namespace catalog::db
