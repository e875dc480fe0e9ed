// The schema, as ordered migrations. Never edit a released migration: add a
// new one. Each runs in its own transaction.
#include "catalog/db/migrations.hpp"

namespace catalog::db {

const std::vector<Migration>& all_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "items", R"sql(
CREATE TABLE items (
  id          uuid PRIMARY KEY,
  name        varchar(255) NOT NULL,
  description text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- newest-first keyset paging: ORDER BY created_at DESC, id DESC
CREATE INDEX items_created_at_id_idx ON items (created_at DESC, id DESC);
)sql"},
  };
  return migrations;
}

}  // namespace catalog::db
