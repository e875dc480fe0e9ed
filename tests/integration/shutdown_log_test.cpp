// What an operator reads in the log when a task is stopped normally (SIGTERM,
// as ECS sends it, with nothing running): no warning. Warnings on every
// deploy teach operators to ignore warnings.
#include <gtest/gtest.h>

#include <signal.h>

#include <sstream>
#include <thread>

#include <pqxx/pqxx>

#include "catalog/db/version_cache.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;

TEST(ShutdownLogTest, ANormalShutdownLogsNoWarning) {
  const auto dsn = create_test_database("shutdown_log");
  const auto port = free_port();
  const std::map<std::string, std::string> env{{"DATABASE_URL", dsn},     {"PORT", std::to_string(port)},
                                               {"BIND_ADDRESS", "127.0.0.1"}, {"AUTH_DISABLED", "1"},
                                               {"DB_POOL_SIZE", "4"},     {"LOG_LEVEL", "info"}};
  ChildProcess server({CATALOG_API_BINARY, "serve"}, env);
  HttpClient client(port);
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          return client.get("/health").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      30s))
      << server.output();
  // The catalog version listener is connected (it is the one that warned).
  pqxx::connection probe(dsn);
  ASSERT_TRUE(wait_until(
      [&] {
        pqxx::read_transaction tx(probe);
        return tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND "
                               "datname = current_database()",
                               std::string(db::VersionCache::kListenerApplicationName))[0]
                   .as<int>() == 1;
      },
      10s));
  ASSERT_EQ(client.get("/items").status, 200);

  const auto before_stop = server.output().size();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(15s), 0) << server.output();
  std::istringstream lines(server.output().substr(before_stop));
  int lines_after_stop = 0;
  for (std::string line; std::getline(lines, line);) {
    ++lines_after_stop;
    EXPECT_EQ(line.find("\"level\":\"warn\""), std::string::npos) << line;
    EXPECT_EQ(line.find("\"level\":\"error\""), std::string::npos) << line;
  }
  EXPECT_GT(lines_after_stop, 0) << "the shutdown is logged (at info)";
}

}  // namespace
}  // namespace catalog::testing
