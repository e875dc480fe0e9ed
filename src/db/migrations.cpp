#include "catalog/db/migrations.hpp"

#include <pqxx/pqxx>

#include "catalog/log/logging.hpp"

namespace catalog::db {
namespace {

// Arbitrary constant shared by every catalog-api process: "catalog" in ASCII.
constexpr long long kMigrationLockKey = 0x636174616c6f67LL;

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

}  // namespace

int migrate(pqxx::connection& conn) {
  {
    pqxx::nontransaction tx(conn);
    tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  }
  int applied = 0;
  try {
    {
      pqxx::work tx(conn);
      tx.exec(kCreateMigrationsTable);
      tx.commit();
    }
    int current = 0;
    {
      pqxx::read_transaction tx(conn);
      current = tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
    }
    for (const auto& m : all_migrations()) {
      if (m.version <= current) continue;
      pqxx::work tx(conn);
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
      tx.commit();
      ++applied;
      log::info("db", "migration applied", {{"version", m.version}, {"name", m.name}});
    }
  } catch (...) {
    pqxx::nontransaction tx(conn);
    tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    throw;
  }
  pqxx::nontransaction tx(conn);
  tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  return applied;
}

}  // namespace catalog::db
