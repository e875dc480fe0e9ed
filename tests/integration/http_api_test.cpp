// The real server over real HTTP against a real PostgreSQL: /health, /items,
// errors, auth, limits.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = base_env(create_test_database("http"));
    env_["MAX_BODY_BYTES"] = "4096";
    app_ = std::make_unique<RunningApp>(env_);
  }
  const HttpClient& client() { return app_->client(); }

  // Every error has {"error":{"code","message","request_id"}} and the id
  // matches the X-Request-Id header.
  static void expect_error(const HttpResult& r, long status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto body = r.json();
    ASSERT_TRUE(body.contains("error")) << r.body;
    EXPECT_EQ(body["error"]["code"], code) << r.body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(body["error"]["request_id"], r.header("x-request-id"));
  }

  std::map<std::string, std::string> env_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(HttpApiTest, HealthIsHealthyWhenDatabaseAnswers) {
  const auto r = client().get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json(), nlohmann::json({{"status", "healthy"}, {"database", "connected"}}));
  EXPECT_FALSE(r.header("x-request-id").empty());

  const auto head = client().request("HEAD", "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

// Ready means /health already knows the database answers: its monitor's
// first ask used to run on its own thread after start-up, so a check right
// after "ready" on a busy machine could read "unreachable" (a 503 for a
// database the app had just migrated). Several starts give the race its chances.
TEST(HealthStartTest, HealthIsHealthyTheMomentTheAppIsReady) {
  const auto env = base_env(create_test_database("health_start"));
  for (int start = 0; start < 5; ++start) {
    RunningApp app(env);
    const auto r = app.client().get("/health");
    EXPECT_EQ(r.status, 200) << "start " << start << ": " << r.body;
  }
}

TEST_F(HttpApiTest, ItemLifecycle) {
  const auto created = client().post_json("/items", {{"name", "Widget"}, {"description", "blue"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto item = created.json();
  const std::string id = item["id"];
  EXPECT_EQ(item["name"], "Widget");
  EXPECT_EQ(item["description"], "blue");
  EXPECT_EQ(created.header("location"), "/items/" + id);
  EXPECT_EQ(item["created_at"].get<std::string>().size(), 27u) << "RFC 3339 UTC with microseconds";

  EXPECT_EQ(client().get("/items/" + id).json(), item);

  const auto patched = client().request("PATCH", "/items/" + id, R"({"description":null,"name":"Gadget"})",
                                        {"Content-Type: application/json"});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["name"], "Gadget");
  EXPECT_TRUE(patched.json()["description"].is_null());
  EXPECT_EQ(patched.json()["created_at"], item["created_at"]);

  EXPECT_EQ(client().request("DELETE", "/items/" + id).status, 204);
  expect_error(client().get("/items/" + id), 404, "not_found");
  expect_error(client().request("DELETE", "/items/" + id), 404, "not_found");
  expect_error(client().request("PATCH", "/items/" + id, R"({"name":"x"})", {"Content-Type: application/json"}), 404,
               "not_found");
}

TEST_F(HttpApiTest, ItemValidationNamesTheField) {
  auto r = client().post_json("/items", {{"description", "no name"}});
  expect_error(r, 422, "validation_failed");
  EXPECT_EQ(r.json()["error"]["field"], "name");

  r = client().post_json("/items", {{"name", ""}});
  expect_error(r, 422, "validation_failed");
  EXPECT_EQ(r.json()["error"]["field"], "name");

  r = client().post_json("/items", {{"name", std::string(256, 'x')}});
  expect_error(r, 422, "validation_failed");

  // 255 multi-byte characters are 255 characters, not 510.
  std::string accents;
  for (int i = 0; i < 255; ++i) accents += "é";
  EXPECT_EQ(client().post_json("/items", {{"name", accents}}).status, 201);

  r = client().post_json("/items", {{"name", 42}});
  expect_error(r, 422, "validation_failed");
  EXPECT_EQ(r.json()["error"]["field"], "name");

  r = client().post_json("/items", {{"name", "ok"}, {"description", 7}});
  EXPECT_EQ(r.json()["error"]["field"], "description");

  r = client().post_json("/items", {{"name", "ok"}, {"colour", "red"}});
  expect_error(r, 422, "validation_failed");
  EXPECT_EQ(r.json()["error"]["field"], "colour");
}

TEST_F(HttpApiTest, MalformedBodiesAndIdsAreClientErrors) {
  expect_error(client().request("POST", "/items", R"({"name": "x")", {"Content-Type: application/json"}), 400,
               "bad_request");
  expect_error(client().request("POST", "/items", R"(["name"])", {"Content-Type: application/json"}), 400,
               "bad_request");
  expect_error(client().request("POST", "/items", "name=x", {"Content-Type: application/x-www-form-urlencoded"}),
               415, "unsupported_media_type");
  expect_error(client().request("POST", "/items", "{\"name\":\"\xff\"}", {"Content-Type: application/json"}), 400,
               "bad_request");
  expect_error(client().get("/items/not-a-uuid"), 400, "bad_request");
  EXPECT_EQ(client().get("/items").status, 200) << "nothing was written by the bad requests";
  EXPECT_EQ(client().get("/items").json().size(), 0u);
}

TEST_F(HttpApiTest, ListIsNewestFirstAndPagesWithLinkHeader) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(client().post_json("/items", {{"name", "item " + std::to_string(i)}}).json()["id"]);

  std::vector<std::string> seen;
  std::string next = "/items?limit=3";
  int pages = 0;
  while (!next.empty()) {
    const auto r = client().get(next);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& item : r.json()) seen.push_back(item["id"]);
    const auto link = r.header("link");
    next.clear();
    if (!link.empty()) {
      ASSERT_NE(link.find("rel=\"next\""), std::string::npos) << link;
      next = link.substr(1, link.find('>') - 1);
    }
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);

  EXPECT_EQ(client().get("/items").json().size(), 7u);
  EXPECT_TRUE(client().get("/items").header("link").empty());
  expect_error(client().get("/items?limit=0"), 400, "bad_request");
  expect_error(client().get("/items?limit=1001"), 400, "bad_request");
  expect_error(client().get("/items?limit=ten"), 400, "bad_request");
  expect_error(client().get("/items?cursor=%%%"), 400, "bad_request");
  expect_error(client().get("/items?cursor=bm9wZQ"), 400, "bad_request");
}

TEST_F(HttpApiTest, UnknownRouteAndWrongMethod) {
  expect_error(client().get("/nope"), 404, "not_found");
  const auto r = client().request("DELETE", "/health");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  EXPECT_EQ(client().request("PUT", "/items").header("allow"), "POST, GET, HEAD");
}

TEST_F(HttpApiTest, RequestIdIsEchoedOrGenerated) {
  EXPECT_EQ(client().get("/health", {"X-Request-Id: abc-123"}).header("x-request-id"), "abc-123");
  const auto a = client().get("/health").header("x-request-id");
  const auto b = client().get("/health").header("x-request-id");
  EXPECT_EQ(a.size(), 36u);
  EXPECT_NE(a, b);
}

TEST_F(HttpApiTest, BodyOverTheLimitIs413) {
  RawConnection conn(app_->port());
  conn.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
  const auto raw = conn.read_response();
  EXPECT_EQ(status_of(raw), 413) << raw;
  const auto body = nlohmann::json::parse(body_of(raw));
  EXPECT_EQ(body["error"]["code"], "payload_too_large");
  EXPECT_EQ(client().get("/items").json().size(), 0u);
}

TEST_F(HttpApiTest, OversizedHeadersAre431) {
  RawConnection conn(app_->port());
  conn.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  const auto raw = conn.read_response();
  EXPECT_EQ(status_of(raw), 431) << raw.substr(0, 200);
}

TEST_F(HttpApiTest, MalformedRequestLineIs400Json) {
  RawConnection conn(app_->port());
  conn.send("THIS IS NOT HTTP\r\n\r\n");
  const auto raw = conn.read_response();
  EXPECT_EQ(status_of(raw), 400) << raw;
  EXPECT_EQ(nlohmann::json::parse(body_of(raw))["error"]["code"], "bad_request");
}

TEST_F(HttpApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  RawConnection conn(app_->port());
  for (int i = 0; i < 3; ++i) {
    conn.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of(conn.read_response()), 200);
  }
}

TEST_F(HttpApiTest, ConcurrentCreatesAllLand) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (client().post_json("/items", {{"name", "c" + std::to_string(t * 10 + i)}}).status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 80);
  std::set<std::string> names;
  for (const auto& item : client().get("/items?limit=1000").json()) names.insert(item["name"].get<std::string>());
  EXPECT_EQ(names.size(), 80u);
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<RunningApp>(token_env(create_test_database("auth"), "s3cret-token"));
  }
  std::unique_ptr<RunningApp> app_;
};

TEST_F(AuthTest, WritesNeedTheTokenReadsArePublic) {
  const auto& c = app_->client();
  auto r = c.post_json("/items", {{"name", "x"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["error"]["code"], "unauthorized");
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(c.post_json("/items", {{"name", "x"}}, {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(c.post_json("/items", {{"name", "x"}}, {"Authorization: Bearer s3cret-token-and-more"}).status, 401);
  EXPECT_EQ(c.post_json("/items", {{"name", "x"}}, {"Authorization: Basic czNjcmV0LXRva2Vu"}).status, 401);
  EXPECT_EQ(c.post_json("/items", {{"name", "bearer"}}, {"Authorization: Bearer s3cret-token"}).status, 201);
  EXPECT_EQ(c.post_json("/items", {{"name", "key"}}, {"X-API-Key: s3cret-token"}).status, 201);
  EXPECT_EQ(c.get("/items").status, 200);
  EXPECT_EQ(c.get("/items").json().size(), 2u);
  EXPECT_EQ(c.get("/health").status, 200);
  // Routes under /jobs and /runs are private even for GET.
  EXPECT_EQ(c.get("/jobs").status, 401);
}

}  // namespace
}  // namespace catalog::testing
