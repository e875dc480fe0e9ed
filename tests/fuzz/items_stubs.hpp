#pragma once

// ItemsRepository without a database, for the targets that compile
// src/handlers/items_handler.cpp (see handler_stubs.hpp).

#include "catalog/db/items_repository.hpp"
#include "handler_stubs.hpp"

namespace catalog::db {
Item ItemsRepository::create(const std::string& name, const std::optional<std::string>& description) {
  catalog::fuzz::require_storable(name);
  if (description) catalog::fuzz::require_storable(*description);
  // Views into the caller's arguments and literals, which outlive the item.
  return {"00000000-0000-4000-8000-000000000000", name,
          description ? std::optional<std::string_view>(*description) : std::nullopt,
          UtcTimestamp("2024-01-01T00:00:00.000000Z"), {}};
}
std::int64_t ItemsRepository::version() { return 1; }
std::optional<std::int64_t> ItemsRepository::cached_version() const { return std::nullopt; }
std::optional<Item> ItemsRepository::find(const std::string&, std::int64_t*) { return std::nullopt; }
std::vector<Item> ItemsRepository::list(std::size_t, const std::optional<ItemCursor>&, std::int64_t*) { return {}; }
std::optional<Item> ItemsRepository::update(const std::string& id, const std::optional<std::string>& name,
                                            const std::optional<std::optional<std::string>>& description) {
  if (name) catalog::fuzz::require_storable(*name);
  if (description && *description) catalog::fuzz::require_storable(**description);
  return Item{id, name ? std::string_view(*name) : std::string_view("unchanged"),
              description && *description ? std::optional<std::string_view>(**description) : std::nullopt,
              UtcTimestamp("2024-01-01T00:00:00.000000Z"), {}};
}
bool ItemsRepository::remove(const std::string&) { return true; }

}  // namespace catalog::db
