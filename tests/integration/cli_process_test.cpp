// The catalog-api binary as ECS runs it: exit codes, start-up errors, the
// healthcheck command and SIGTERM draining.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "catalog/db/migrations.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

const std::string kBinary = CATALOG_API_BINARY;

TEST(CliTest, VersionAndHelp) {
  auto [code, out] = run_process({kBinary, "--version"}, {});
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.rfind("catalog-api ", 0), 0u) << out;
  std::tie(code, out) = run_process({kBinary, "--help"}, {});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("run-job"), std::string::npos);
  std::tie(code, out) = run_process({kBinary, "frobnicate"}, {});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(CliTest, BadConfigurationStopsStartupWithOneLineNamingTheVariable) {
  auto [code, out] = run_process({kBinary, "serve"}, {{"DATABASE_URL", "host=127.0.0.1"}});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("API_TOKEN"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

  std::tie(code, out) = run_process({kBinary, "serve"}, {{"DATABASE_URL", "host=127.0.0.1"}, {"AUTH_DISABLED", "1"},
                                                          {"PORT", "http"}});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("PORT:"), std::string::npos) << out;

  std::tie(code, out) = run_process({kBinary, "migrate"}, {{"DB_HOST", "127.0.0.1"}, {"DB_USER", "u"},
                                                            {"DB_PASSWORD", "pw-never-shown"}});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("DB_NAME"), std::string::npos) << out;
  EXPECT_EQ(out.find("pw-never-shown"), std::string::npos);
}

TEST(CliTest, MigrateAppliesSchemaAndIsIdempotent) {
  const auto dsn = create_test_database("cli");
  auto [code, out] = run_process({kBinary, "migrate"}, {{"DATABASE_URL", dsn}});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"applied\":" + std::to_string(db::all_migrations().size())), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "migrate"}, {{"DATABASE_URL", dsn}});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"applied\":0"), std::string::npos) << out;
}

TEST(CliTest, MigrateFailsClearlyWhenDatabaseIsUnreachable) {
  const auto port = free_port();
  auto [code, out] = run_process({kBinary, "migrate"},
                                 {{"DATABASE_URL", "host=127.0.0.1 port=" + std::to_string(port) + " user=x password=pw-secret dbname=x"}});
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("127.0.0.1"), std::string::npos) << out;
  EXPECT_EQ(out.find("pw-secret"), std::string::npos) << out;
}

TEST(CliTest, HealthcheckCommandFollowsTheServer) {
  const auto port = free_port();
  const std::map<std::string, std::string> env = {{"PORT", std::to_string(port)}};
  EXPECT_EQ(run_process({kBinary, "healthcheck"}, env).first, 1) << "nothing listens yet";

  ChildProcess server({kBinary, "serve"}, {{"DATABASE_URL", create_test_database("hc")}, {"AUTH_DISABLED", "1"},
                                           {"PORT", std::to_string(port)}, {"BIND_ADDRESS", "127.0.0.1"}});
  ASSERT_TRUE(wait_healthy(port, std::chrono::seconds(30))) << server.output();
  EXPECT_EQ(run_process({kBinary, "healthcheck"}, env).first, 0);
  EXPECT_EQ(run_process({kBinary, "healthcheck", "--deep"}, env).first, 0);
  auto [code, out] = run_process({kBinary, "healthcheck", "--shallow"}, env);
  EXPECT_EQ(code, 2) << "a typo is a configuration error, not a health verdict";
  EXPECT_NE(out.find("--shallow"), std::string::npos) << out;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(std::chrono::seconds(30)), 0) << server.output();
  EXPECT_NE(server.output().find("AUTH_DISABLED=1"), std::string::npos) << "the open mode is announced in the log";
}

// The container health check must not fail because the database does: ECS
// would replace every task during an RDS failover. --deep still sees it.
TEST(CliTest, HealthcheckIsShallowByDefaultAndDeepOnRequest) {
  const auto port = free_port();
  const auto nothing_listens = free_port();
  const std::map<std::string, std::string> env = {{"PORT", std::to_string(port)}};
  ChildProcess server({kBinary, "serve"},
                      {{"DATABASE_URL", "host=127.0.0.1 port=" + std::to_string(nothing_listens) +
                                            " user=x dbname=x connect_timeout=1"},
                       {"AUTH_DISABLED", "1"}, {"PORT", std::to_string(port)}, {"BIND_ADDRESS", "127.0.0.1"},
                       {"SHUTDOWN_TIMEOUT", "5"}});
  EXPECT_TRUE(wait_until([&] { return run_process({kBinary, "healthcheck"}, env).first == 0; }, std::chrono::seconds(30),
                         std::chrono::milliseconds(100)))
      << "alive without a database\n" << server.output();
  auto [deep_code, deep_out] = run_process({kBinary, "healthcheck", "--deep"}, env);
  EXPECT_EQ(deep_code, 1);
  EXPECT_NE(deep_out.find("/health answered 503"), std::string::npos) << deep_out;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(std::chrono::seconds(30)), 0) << server.output();
}

TEST(CliTest, SigtermLetsASlowRequestFinishThenExitsZero) {
  const auto port = free_port();
  ChildProcess server({kBinary, "serve"}, {{"DATABASE_URL", create_test_database("term")}, {"AUTH_DISABLED", "1"},
                                           {"PORT", std::to_string(port)}, {"BIND_ADDRESS", "127.0.0.1"},
                                           {"SHUTDOWN_TIMEOUT", "20"}});
  ASSERT_TRUE(wait_healthy(port, std::chrono::seconds(30))) << server.output();

  // A client in the middle of sending its body when the task is stopped.
  const std::string body = R"({"name":"sent slowly during shutdown"})";
  RawConnection slow(port);
  slow.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
  // A request already read and waiting... the health check on another
  // connection that has started its request shows the draining state.
  RawConnection health(port);
  health.send("GET /health HTTP/1.1\r\nHost: x\r\n");
  RawConnection live(port);
  live.send("GET /health/live HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  server.signal(SIGTERM);
  // The server has taken the signal (it logs it as the drain starts), so an
  // exit that ignored the request in flight had its chance to happen.
  ASSERT_TRUE(wait_until([&] { return server.output().find("shutting down") != std::string::npos; },
                         std::chrono::seconds(10)))
      << server.output();

  // New connections are refused once draining (the listener closes just
  // after the "shutting down" line, so poll for it).
  EXPECT_TRUE(wait_until([&] { return !RawConnection(port).connected(); }, std::chrono::seconds(10)))
      << "a new connection was still accepted while draining\n" << server.output();

  health.send("\r\n");
  const auto health_response = health.read_response();
  EXPECT_EQ(status_of(health_response), 503) << health_response;
  EXPECT_NE(health_response.find("\"unhealthy\""), std::string::npos);
  // The shallow check says the same once draining: the load balancer takes
  // the task out of rotation while the in-flight request finishes.
  live.send("\r\n");
  const auto live_response = live.read_response();
  EXPECT_EQ(status_of(live_response), 503) << live_response;
  EXPECT_NE(live_response.find("\"draining\""), std::string::npos) << live_response;
  // Both answered from the drain: still running while a request is in flight.
  EXPECT_EQ(server.wait(std::chrono::milliseconds(1)), -1) << "exited with a request in flight\n" << server.output();

  slow.send(body.substr(10));
  const auto response = slow.read_response();
  EXPECT_EQ(status_of(response), 201) << response << server.output();
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;

  EXPECT_EQ(server.wait(std::chrono::seconds(25)), 0) << server.output();
}

}  // namespace
}  // namespace catalog::testing
