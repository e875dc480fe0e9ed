// Scopes, key secrets and the per-route access decision of the Dispatcher,
// with a fake key look-up (the real one is tested against PostgreSQL in
// tests/integration/api_keys_test.cpp).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "catalog/auth/key_store.hpp"
#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"
#include "support/key_secret.hpp"
#include "catalog/http/router.hpp"

namespace catalog::auth {
namespace {

TEST(KeyScopesTest, LifetimesParseAndBadOnesNameTheField) {
  EXPECT_EQ(parse_lifetime_seconds("90d", "expires_in"), 90LL * 86400);
  EXPECT_EQ(parse_lifetime_seconds("12h", "expires_in"), 12LL * 3600);
  EXPECT_EQ(parse_lifetime_seconds("30m", "expires_in"), 1800);
  EXPECT_EQ(parse_lifetime_seconds("3600s", "expires_in"), 3600);
  for (const char* bad : {"", "d", "0d", "-1d", "1.5d", "90", "90y", "soon", "99999999999d"}) {
    try {
      parse_lifetime_seconds(bad, "expires_in");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "expires_in");
    }
  }
}

TEST(KeyScopesTest, ScopesAndNamesAreValidated) {
  for (const char* ok : {"admin", "read", "feeds:acme-daily", "feeds:a"}) EXPECT_NO_THROW(validate_scope(ok, "scopes")) << ok;
  for (const char* bad : {"", "write", "Admin", "feeds:", "feeds:Acme", "feeds:-x", "feeds:a/b", "feeds:*"}) {
    EXPECT_THROW(validate_scope(bad, "scopes"), ValidationError) << bad;
  }
  EXPECT_NO_THROW(validate_key_name("acme-feeds-2026", "name"));
  for (const auto& bad : std::vector<std::string>{"", "-x", "Acme", "a b", "a_b", std::string(64, 'a')}) {
    EXPECT_THROW(validate_key_name(bad, "name"), ValidationError) << bad;
  }
  const auto p = principal_from_scopes("k", {"feeds:a", "feeds:b", "bogus"});
  EXPECT_TRUE(p.feeds_only());
  EXPECT_TRUE(p.can_upload_to_job("a"));
  EXPECT_FALSE(p.can_upload_to_job("c"));
  EXPECT_FALSE(principal_from_scopes("r", {"read"}).can_upload_to_job("a"));
  EXPECT_TRUE(principal_from_scopes("r", {"read"}).can_follow_job("a"));
}

TEST(KeyScopesTest, SecretsAreRecognisableRandomAndHashed) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto s = generate_secret();
    EXPECT_TRUE(catalog::testing::is_key_secret(s)) << s;
    EXPECT_TRUE(looks_like_key_secret(s));
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_FALSE(looks_like_key_secret("cat_short"));
  EXPECT_FALSE(looks_like_key_secret("xyz_" + std::string(43, 'a')));
  EXPECT_FALSE(looks_like_key_secret("cat_" + std::string(42, 'a') + "="));
  EXPECT_EQ(secret_digest_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Keys by token: "a" admin, "r" read, "fa" feeds:job-a.
class FakeKeys : public Authenticator {
 public:
  std::optional<Principal> authenticate(std::string_view token) override {
    if (token == "a") return principal_from_scopes("k-admin", {"admin"});
    if (token == "r") return principal_from_scopes("k-read", {"read"});
    if (token == "fa") return principal_from_scopes("k-fa", {"feeds:job-a"});
    return std::nullopt;
  }
};

http::Router access_router() {
  using http::Access;
  http::Router router;
  const auto ok = [](const http::Request& r) {
    return http::json_response(200, {{"who", r.principal ? r.principal->name : "-"}});
  };
  router.add("GET", "/items", Access::public_read, ok);
  router.add("POST", "/items", ok);
  router.add("GET", "/jobs", ok);
  router.add("POST", "/feeds", Access::feed_upload, ok);
  router.add("GET", "/jobs/{id}/runs", Access::job_runs, ok);
  router.add("GET", "/runs/{run_id}", Access::job_lookup, [](const http::Request& r) {
    require_follow(r.principal ? &*r.principal : nullptr, "job-b");  // as if the run were job B's
    return http::json_response(200, nlohmann::json::object());
  });
  router.add("GET", "/keys", Access::admin, ok);
  return router;
}

int status(const http::Dispatcher& d, const std::string& method, const std::string& target, const std::string& token) {
  http::Request r;
  r.method = method;
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  if (target.find("?job=") != std::string::npos) r.query.emplace("job", target.substr(target.find("?job=") + 5));
  if (!token.empty()) r.headers.emplace_back("X-API-Key", token);
  return d.handle(r, std::chrono::steady_clock::now()).status;
}

TEST(KeyScopesTest, DispatcherDecidesAccessFromTheRouteTable) {
  FakeKeys keys;
  http::Dispatcher d(access_router(), {Secret("boot"), nullptr, &keys});
  struct Case {
    std::string method, target;
    int none, admin, read, feeds_a, bootstrap;
  };
  const std::vector<Case> cases = {
      {"GET", "/items", 200, 200, 200, 200, 200},
      {"POST", "/items", 401, 200, 403, 403, 200},
      {"GET", "/jobs", 401, 200, 200, 403, 200},
      {"POST", "/feeds?job=job-a", 401, 200, 403, 200, 200},
      {"POST", "/feeds?job=job-b", 401, 200, 403, 403, 200},
      {"GET", "/jobs/job-a/runs", 401, 200, 200, 200, 200},
      {"GET", "/jobs/job-b/runs", 401, 200, 200, 403, 200},
      {"GET", "/runs/1", 401, 200, 200, 403, 200},
      {"GET", "/keys", 401, 200, 403, 403, 200},
      {"GET", "/nowhere", 401, 404, 404, 404, 404},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(status(d, c.method, c.target, ""), c.none) << c.method << " " << c.target << " without a key";
    EXPECT_EQ(status(d, c.method, c.target, "nope"), c.none) << c.method << " " << c.target << " unknown key";
    EXPECT_EQ(status(d, c.method, c.target, "a"), c.admin) << c.method << " " << c.target << " admin";
    EXPECT_EQ(status(d, c.method, c.target, "r"), c.read) << c.method << " " << c.target << " read";
    EXPECT_EQ(status(d, c.method, c.target, "fa"), c.feeds_a) << c.method << " " << c.target << " feeds:job-a";
    EXPECT_EQ(status(d, c.method, c.target, "boot"), c.bootstrap) << c.method << " " << c.target << " API_TOKEN";
  }
  // With auth disabled (no API_TOKEN) nothing is checked.
  http::Dispatcher open(access_router(), {std::nullopt, nullptr, &keys});
  EXPECT_EQ(status(open, "GET", "/keys", ""), 200);
  EXPECT_EQ(status(open, "GET", "/runs/1", ""), 200);
}

}  // namespace
}  // namespace catalog::auth
