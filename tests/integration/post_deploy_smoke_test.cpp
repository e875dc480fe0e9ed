// scripts/post-deploy-smoke.sh against the real catalog-api binary (the
// deploy checks run it against a stand-in, tests/deploy/fake_api.py, which
// could drift from what the server answers): all six checks pass on a healthy
// server, and the token check fails with a wrong token.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <tuple>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

TEST(PostDeploySmokeTest, PassesAgainstTheRealServerAndNamesAWrongToken) {
  const std::string token = "smoke-token-" + std::to_string(::getpid());
  const auto port = free_port();
  ChildProcess server({CATALOG_API_BINARY, "serve"},
                      {{"DATABASE_URL", create_test_database("smoke")}, {"PORT", std::to_string(port)},
                       {"BIND_ADDRESS", "127.0.0.1"}, {"API_TOKEN", token}, {"LOG_LEVEL", "warn"}});
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          return HttpClient(port).get("/health").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30)))
      << server.output();

  const std::string script = std::string(CATALOG_SOURCE_DIR) + "/scripts/post-deploy-smoke.sh";
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  auto [code, out] = run_process({"/bin/bash", script, base, token}, env, std::chrono::seconds(120));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("post-deploy smoke: 6 passed, 0 failed"), std::string::npos) << out;

  std::tie(code, out) = run_process({"/bin/bash", script, base, "not-the-token"}, env, std::chrono::seconds(120));
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("FAIL GET /jobs with the token: status 401"), std::string::npos) << out;

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(scaled(std::chrono::seconds(30))), 0) << server.output();
}

}  // namespace
}  // namespace catalog::testing
