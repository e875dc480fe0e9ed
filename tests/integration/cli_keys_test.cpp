// `catalog-api keys create|list|revoke` as an operator runs them, and what a
// serving process does with those keys: the access log names the key, never
// the secret, and a CLI revocation reaches the server within its cache TTL.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "support/http_client.hpp"
#include "support/key_secret.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

const std::string kBinary = CATALOG_API_BINARY;

std::string secret_in(const std::string& output) {
  return find_key_secret(output);
}

TEST(CliKeysTest, CreateListRevokeWithClearErrors) {
  const std::map<std::string, std::string> env = {{"DATABASE_URL", create_test_database("clikeys")}};
  auto [code, out] = run_process({kBinary, "keys", "create", "--name", "ops", "--scope", "admin", "--expires-in", "90d"}, env);
  ASSERT_EQ(code, 0) << out;
  const auto secret = secret_in(out);
  ASSERT_FALSE(secret.empty()) << out;

  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "ops", "--scope", "read"}, env);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "Not A Slug", "--scope", "read"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("name"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "x", "--scope", "write"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown scope 'write'"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "x", "--scope", "feeds:nope"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "x"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--scope"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "create", "--name", "x", "--scope", "read", "--expires-in", "7x"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("expires_in"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "frobnicate"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("usage"), std::string::npos) << out;

  std::tie(code, out) = run_process({kBinary, "keys", "list"}, env);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"ops\""), std::string::npos) << out;
  EXPECT_EQ(out.find(secret), std::string::npos) << out;
  EXPECT_EQ(out.find("\"x\""), std::string::npos) << "failed creations leave nothing behind: " << out;

  std::tie(code, out) = run_process({kBinary, "keys", "revoke", "ops"}, env);
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "revoke", "nobody"}, env);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("'nobody' does not exist"), std::string::npos) << out;
  std::tie(code, out) = run_process({kBinary, "keys", "list"}, env);
  EXPECT_NE(nlohmann::json::parse(out.substr(out.find('[')))[0]["revoked_at"], nullptr) << out;
}

TEST(CliKeysTest, AccessLogNamesTheKeyAndCliRevocationReachesTheServer) {
  const std::string bootstrap = "bootstrap-secret-never-logged";
  const auto dsn = create_test_database("clikeyslog");
  const auto port = free_port();
  ChildProcess server({kBinary, "serve"}, {{"DATABASE_URL", dsn}, {"API_TOKEN", bootstrap}, {"LOG_LEVEL", "info"},
                                           {"PORT", std::to_string(port)}, {"BIND_ADDRESS", "127.0.0.1"}});
  HttpClient client(port);
  ASSERT_TRUE(wait_healthy(port, std::chrono::seconds(30))) << server.output();

  auto [code, out] = run_process({kBinary, "keys", "create", "--name", "partner-log", "--scope", "read"},
                                 {{"DATABASE_URL", dsn}});
  ASSERT_EQ(code, 0) << out;
  const auto secret = secret_in(out);
  ASSERT_FALSE(secret.empty()) << out;
  EXPECT_EQ(client.get("/jobs", {"X-API-Key: " + secret}).status, 200);
  EXPECT_EQ(client.get("/jobs", {"Authorization: Bearer " + bootstrap}).status, 200);
  EXPECT_EQ(client.request("PUT", "/jobs/j", "{}", {"X-API-Key: " + secret, "Content-Type: application/json"}).status, 403);

  // The default cache TTL (API_KEY_CACHE_TTL, 5 s) bounds how late this takes effect.
  std::tie(code, out) = run_process({kBinary, "keys", "revoke", "partner-log"}, {{"DATABASE_URL", dsn}});
  ASSERT_EQ(code, 0) << out;
  // Polled: the bound is the TTL plus a margin for a loaded machine (scaled under ASan).
  ASSERT_TRUE(wait_until([&] { return client.get("/jobs", {"X-API-Key: " + secret}).status != 200; },
                         std::chrono::milliseconds(6500), std::chrono::milliseconds(100)))
      << "still accepted";
  EXPECT_EQ(client.get("/jobs", {"X-API-Key: " + secret}).status, 401);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(std::chrono::seconds(30)), 0);
  const auto logs = server.output();
  EXPECT_NE(logs.find("\"key\":\"partner-log\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"key\":\"api_token\""), std::string::npos) << logs;
  EXPECT_EQ(logs.find(secret), std::string::npos) << "the key's secret reached the log";
  EXPECT_EQ(logs.find(secret.substr(4, 20)), std::string::npos);
  EXPECT_EQ(logs.find(bootstrap), std::string::npos) << "the bootstrap token reached the log";
}

}  // namespace
}  // namespace catalog::testing
