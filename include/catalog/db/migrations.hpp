#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

namespace catalog::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

/// Every schema migration, in version order (src/db/schema.cpp).
const std::vector<Migration>& all_migrations();

/// Applies the migrations the database has not seen yet, each in its own
/// transaction, under a session advisory lock so that several tasks starting
/// together do not race. Returns how many were applied.
int migrate(pqxx::connection& conn);

}  // namespace catalog::db
