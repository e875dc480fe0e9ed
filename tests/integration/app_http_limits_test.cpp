// The HTTP limits (tests/integration/http_limits_test.cpp tests them on a
// router of its own) on the real application's routes: the service as
// configured from its environment (MAX_BODY_BYTES, BODY_TIMEOUT), in-process,
// against a real PostgreSQL. What a client of POST /items and PUT /jobs sees,
// and that nothing is stored from a request that was refused.

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/app_fixture.hpp"
#include "support/http_client.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class AppHttpLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = base_env(create_test_database("app_limits"));
    env_["MAX_BODY_BYTES"] = "2048";
    env_["BODY_TIMEOUT"] = "2";
    env_["READ_TIMEOUT"] = "30";
    app_ = std::make_unique<RunningApp>(env_);
  }
  const HttpClient& client() { return app_->client(); }
  std::size_t stored_items() { return client().get("/items?limit=100").json().size(); }

  static nlohmann::json error_of(const std::string& raw) { return nlohmann::json::parse(body_of(raw)); }

  std::map<std::string, std::string> env_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(AppHttpLimitsTest, PostItemsOverMaxBodyBytesIs413WhetherDeclaredOrChunked) {
  // Just under the limit is accepted: the limit is MAX_BODY_BYTES, not less.
  // (JSON whitespace pads the bodies: a name is at most 255 characters.)
  const std::string under = R"({"name":"under the limit")" + std::string(1900, ' ') + "}";
  ASSERT_LT(under.size(), 2048u);
  const auto ok = client().request("POST", "/items", under, {"Content-Type: application/json"});
  ASSERT_EQ(ok.status, 201) << ok.body;
  ASSERT_EQ(stored_items(), 1u);

  const std::string over = R"({"name":"over the limit")" + std::string(3000, ' ') + "}";
  {  // Content-Length over the limit: refused before the body is read.
    RawConnection conn(app_->port());
    conn.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(over.size()) + "\r\n\r\n");
    const auto raw = conn.read_response();
    ASSERT_EQ(status_of(raw), 413) << raw;
    EXPECT_EQ(error_of(raw)["error"]["code"], "payload_too_large") << raw;
    EXPECT_NE(error_of(raw)["error"]["message"].get<std::string>().find("2048"), std::string::npos) << raw;
  }
  {  // Chunked, no length announced: refused once the chunks pass the limit.
    RawConnection conn(app_->port());
    std::ostringstream chunked;
    chunked << "POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t i = 0; i < over.size(); i += 500) {
      const std::string piece = over.substr(i, 500);
      chunked << std::hex << piece.size() << "\r\n" << piece << "\r\n";
    }
    chunked << "0\r\n\r\n";
    conn.send(chunked.str());
    const auto raw = conn.read_response();
    ASSERT_EQ(status_of(raw), 413) << raw;
    EXPECT_EQ(error_of(raw)["error"]["code"], "payload_too_large") << raw;
  }
  EXPECT_EQ(stored_items(), 1u) << "nothing stored from a refused body";
}

TEST_F(AppHttpLimitsTest, PutJobsWithOversizedHeadersIs431AndTheServerKeepsServing) {
  RawConnection conn(app_->port());
  const std::string body = R"({"source":"acme","uri":"s3://catalog-raw/feed.csv"})";
  conn.send("PUT /jobs/limits-job HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Big: " +
            std::string(20000, 'a') + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto raw = conn.read_response();
  ASSERT_EQ(status_of(raw), 431) << raw.substr(0, 300);
  EXPECT_EQ(error_of(raw)["error"]["code"], "headers_too_large") << raw.substr(0, 300);
  EXPECT_EQ(client().get("/jobs/limits-job").status, 404) << "the job was not created";
  EXPECT_EQ(client().get("/health/live").status, 200);
}

// A client that sends a POST /items body a byte at a time is cut off at
// BODY_TIMEOUT (2 s here) however regularly the bytes come, not at the 30 s
// READ_TIMEOUT between reads; nothing is stored and others are still served.
TEST_F(AppHttpLimitsTest, TricklingPostItemsBodyIsCutOffAtBodyTimeout) {
  RawConnection c(app_->port());
  ASSERT_TRUE(c.connected());
  c.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"name\":\"");
  const auto start = Clock::now();
  bool closed = false;
  std::string received;
  while (!closed && Clock::now() - start < scaled(20s)) {
    c.try_send("a", 100);
    closed = c.wait_closed(300, &received);
  }
  const auto took = Clock::now() - start;
  EXPECT_TRUE(closed) << "still open after " << scaled(20s).count() << " ms";
  // The bytes kept coming: only the body's total deadline can have ended it.
  EXPECT_GE(took, 2s - 100ms) << "cut before BODY_TIMEOUT";
  EXPECT_LT(took, 2s + scaled(3s)) << "the 2 s BODY_TIMEOUT, not the 30 s READ_TIMEOUT";
  EXPECT_EQ(stored_items(), 0u);
  EXPECT_EQ(client().get("/health/live").status, 200);
}

}  // namespace
}  // namespace catalog::testing
