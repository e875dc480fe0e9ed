#include "support/test_env.hpp"

#include <atomic>
#include <chrono>
#include <random>

#include <unistd.h>

#include <pqxx/pqxx>

#include "catalog/db/migrations.hpp"

namespace catalog::testing {

std::string create_test_database(const std::string& prefix) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  const std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                           std::to_string(rd() % 100000);
  pqxx::connection admin(admin_dsn());
  pqxx::nontransaction tx(admin);
  // Identifier built from digits and a fixed prefix only, never from input.
  tx.exec("CREATE DATABASE " + admin.quote_name(name) + " TEMPLATE template0 ENCODING 'UTF8'");
  std::string dsn = admin_dsn();
  const auto pos = dsn.find("dbname=");
  if (pos != std::string::npos) {
    const auto end = dsn.find(' ', pos);
    dsn.replace(pos, end == std::string::npos ? std::string::npos : end - pos, "dbname=" + name);
  } else {
    dsn += " dbname=" + name;
  }
  return dsn;
}

std::string create_migrated_database(const std::string& prefix) {
  auto dsn = create_test_database(prefix);
  pqxx::connection c(dsn);
  db::migrate(c);
  return dsn;
}

}  // namespace catalog::testing
