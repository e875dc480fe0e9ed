#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/result>

#include "catalog/db/pool.hpp"
#include "catalog/db/prepared_statements.hpp"
#include "catalog/db/read_router.hpp"
#include "catalog/db/utc_timestamp.hpp"
#include "catalog/db/version_cache.hpp"

namespace catalog::db {

/// One item. The text fields are views into the query's result, which
/// `storage` keeps alive (no allocation or copy per row of a page).
struct Item {
  std::string_view id;
  std::string_view name;
  std::optional<std::string_view> description;
  UtcTimestamp created_at;
  pqxx::result storage;  ///< the result the views point into
};

/// Position after the last item of a page (newest first: created_at, id).
struct ItemCursor {
  std::string created_at;
  std::string id;
};

class ItemsRepository {
 public:
  explicit ItemsRepository(Pool& pool) : pool_(pool) {}
  /// Reads (find, list) through `reads` (replica or primary); writes on `pool`.
  ItemsRepository(Pool& pool, ReadRouter& reads) : pool_(pool), reads_(&reads) {}
  /// ... and tells `versions` (may be null) of every version it commits.
  ItemsRepository(Pool& pool, ReadRouter& reads, VersionCache* versions)
      : pool_(pool), reads_(&reads), versions_(versions) {}

  Item create(const std::string& name, const std::optional<std::string>& description);
  /// Catalog version of the items (catalog_versions.hpp): one indexed
  /// single-row read, for ETag revalidation.
  std::int64_t version();
  /// The items' version from memory, without blocking; nullopt when there is
  /// no cache or it cannot vouch for its content right now (VersionCache).
  std::optional<std::int64_t> cached_version() const;
  /// `version`, when given, receives the items' catalog version read in the
  /// same transaction just before the row(s).
  std::optional<Item> find(const std::string& id, std::int64_t* version = nullptr);
  /// Newest first, at most `limit`, strictly after `after` when given.
  std::vector<Item> list(std::size_t limit, const std::optional<ItemCursor>& after, std::int64_t* version = nullptr);
  /// Changes the given fields; `description` holding nullopt clears it.
  std::optional<Item> update(const std::string& id, const std::optional<std::string>& name,
                             const std::optional<std::optional<std::string>>& description);
  bool remove(const std::string& id);

 private:
  template <typename Fn>
  auto read(Fn&& fn) {
    return reads_ != nullptr ? reads_->with_connection(fn) : pool_.with_connection(fn);
  }

  Pool& pool_;
  ReadRouter* reads_ = nullptr;
  VersionCache* versions_ = nullptr;
  // The one-row read and the first and next pages, for each page size used.
  PreparedStatements statements_{"items_", 16};
};

}  // namespace catalog::db
