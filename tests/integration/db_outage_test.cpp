// PostgreSQL goes away under a running server and comes back: /health and the
// API say 503 meanwhile, /health/live (what the load balancer and the
// container check ask) stays 200, and the server recovers without a restart.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "support/timing.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

void run_command(const std::string& env_name) {
  const auto command = required_env(env_name.c_str()) + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(DatabaseOutageTest, HealthFlipsTo503AndBackWithoutRestart) {
  const std::string dsn = required_env("CATALOG_TEST_PG_OUTAGE_DSN");
  RunningApp app(base_env(dsn));
  const auto& c = app.client();
  ASSERT_EQ(c.get("/health").status, 200);
  ASSERT_EQ(c.get("/health/live").status, 200);
  ASSERT_EQ(c.post_json("/items", {{"name", "before outage"}}).status, 201);

  run_command("CATALOG_TEST_PG_OUTAGE_STOP");
  // /health reports a monitor that pings every 500 ms, so it may take that long to notice.
  HttpResult down;
  const auto stop_deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(15));
  while (std::chrono::steady_clock::now() < stop_deadline) {
    const auto started = std::chrono::steady_clock::now();
    down = c.get("/health");
    EXPECT_LT(std::chrono::steady_clock::now() - started, scaled(std::chrono::seconds(4))) << "health never hangs";
    if (down.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.json(), nlohmann::json({{"status", "unhealthy"}, {"database", "unreachable"}}));
  const auto started = std::chrono::steady_clock::now();
  const auto live = c.get("/health/live");
  // A load balancer's health check times out after a few seconds.
  EXPECT_LT(std::chrono::steady_clock::now() - started, scaled(std::chrono::seconds(2))) << "the shallow check never waits";
  EXPECT_EQ(live.status, 200) << "the task stays in service while its database is down";
  EXPECT_EQ(live.json(), nlohmann::json({{"status", "alive"}}));
  EXPECT_EQ(c.request("HEAD", "/health/live").status, 200);
  const auto items = c.get("/items");
  EXPECT_EQ(items.status, 503);
  EXPECT_EQ(items.json()["error"]["code"], "database_unavailable");
  EXPECT_EQ(c.post_json("/items", {{"name", "during outage"}}).status, 503);

  run_command("CATALOG_TEST_PG_OUTAGE_START");
  long status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && (status = c.get("/health").status) != 200) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status, 200);
  const auto after = c.get("/items");
  ASSERT_EQ(after.status, 200);
  ASSERT_GE(after.json().size(), 1u);
  EXPECT_EQ(after.json()[0]["name"], "before outage");
}

}  // namespace
}  // namespace catalog::testing
