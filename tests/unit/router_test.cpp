#include "catalog/http/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/auth/key_store.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/metrics/metrics.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::http {
namespace {

Request make(const std::string& method, const std::string& path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = method;
  r.path = path;
  r.target = path;
  r.headers = std::move(headers);
  return r;
}

Router sample_router() {
  Router router;
  router.add("GET", "/jobs/{id}", [](const Request& r) { return json_response(200, {{"id", r.params.at("id")}}); });
  router.add("PUT", "/jobs/{id}", [](const Request&) { return json_response(200, nlohmann::json::object()); });
  router.add("POST", "/jobs/{id}/run", [](const Request&) -> Response { throw Conflict("job 'x' is already running"); });
  router.add("POST", "/items", [](const Request&) -> Response { throw ValidationError("name", "name is required"); });
  router.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("secret internals"); });
  return router;
}

nlohmann::json body(const Response& r) { return nlohmann::json::parse(r.body); }

TEST(RouterTest, MatchesPathParameters) {
  const Dispatcher d(sample_router(), {});
  auto req = make("GET", "/jobs/acme-daily");
  const auto r = d.handle(req, std::chrono::steady_clock::now());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["id"], "acme-daily");

  // Segments are decoded after splitting: %2F is data, not a separator.
  auto encoded = make("GET", "/jobs/a%2Fb%20c");
  EXPECT_EQ(body(d.handle(encoded, std::chrono::steady_clock::now()))["id"], "a/b c");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  const Dispatcher d(sample_router(), {});
  auto req = make("GET", "/jobs/a/b/c");
  EXPECT_EQ(d.handle(req, {}).status, 404);
  req = make("GET", "/jobs/");
  EXPECT_EQ(d.handle(req, {}).status, 404) << "an empty parameter does not match";
  req = make("DELETE", "/jobs/a");
  const auto r = d.handle(req, {});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, PUT");
  EXPECT_EQ(body(r)["error"]["code"], "method_not_allowed");
}

TEST(RouterTest, DomainErrorsMapToStatusAndJsonShape) {
  const Dispatcher d(sample_router(), {});
  auto req = make("POST", "/jobs/x/run");
  auto r = d.handle(req, {});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(body(r)["error"]["message"], "job 'x' is already running");
  EXPECT_EQ(body(r)["error"]["request_id"], r.header("X-Request-Id").value());

  req = make("POST", "/items");
  r = d.handle(req, {});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(body(r)["error"]["field"], "name");

  req = make("GET", "/boom");
  r = d.handle(req, {});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret internals"), std::string::npos) << "internals stay in the log";
}

TEST(RouterTest, PublicIsAPropertyOfTheRoute) {
  const auto ok = [](const Request&) { return json_response(200, nlohmann::json::object()); };
  Router router;
  router.add("GET", "/items", ok, Router::Blocking::may_block, Access::public_read);
  router.add("GET", "/items/{id}", ok, Router::Blocking::may_block, Access::public_read);
  router.add("DELETE", "/items/{id}", ok);
  router.add("GET", "/health", ok, Router::Blocking::nonblocking, Access::public_read);
  router.add("GET", "/products/{source}/{sku}", Access::public_read, ok);
  router.add("GET", "/jobs", ok);
  router.add("GET", "/runs/{id}", Access::job_lookup, ok);
  const Dispatcher d(std::move(router), {});
  EXPECT_FALSE(d.requires_auth("GET", "/items"));
  EXPECT_FALSE(d.requires_auth("GET", "/items/abc"));
  EXPECT_FALSE(d.requires_auth("HEAD", "/health"));
  EXPECT_FALSE(d.requires_auth("GET", "/products/acme/sku-1"));
  EXPECT_FALSE(d.requires_auth("GET", "/items/a/b")) << "an unknown path under a public resource is a public 404";
  EXPECT_TRUE(d.requires_auth("POST", "/items"));
  EXPECT_TRUE(d.requires_auth("DELETE", "/items/abc"));
  EXPECT_TRUE(d.requires_auth("GET", "/jobs"));
  EXPECT_TRUE(d.requires_auth("GET", "/runs/abc"));
  EXPECT_TRUE(d.requires_auth("GET", "/feeds"));
  EXPECT_TRUE(d.requires_auth("GET", "/itemsx")) << "the public prefix is a whole path segment";
  EXPECT_THROW(Router().add("POST", "/items", Access::public_read, ok), std::invalid_argument) << "only reads are public";
}

TEST(RouterTest, TokenViaBearerOrApiKey) {
  const Dispatcher d(sample_router(), {Secret("tok")});
  auto req = make("PUT", "/jobs/a");
  EXPECT_EQ(d.handle(req, {}).status, 401);
  req = make("PUT", "/jobs/a", {{"authorization", "bearer tok"}});
  EXPECT_EQ(d.handle(req, {}).status, 200) << "scheme is case-insensitive";
  req = make("PUT", "/jobs/a", {{"X-API-Key", "tok"}});
  EXPECT_EQ(d.handle(req, {}).status, 200);
  req = make("PUT", "/jobs/a", {{"X-API-Key", "to"}});
  EXPECT_EQ(d.handle(req, {}).status, 401);
  EXPECT_TRUE(token_matches("tok", Secret("tok")));
  EXPECT_FALSE(token_matches("", Secret("tok")));
}

TEST(RouterTest, OnlyNonblockingPublicRoutesRunOnTheIoThread) {
  Router router = sample_router();
  router.add("GET", "/health", [](const Request&) { return json_response(200, {{"status", "healthy"}}); },
             Router::Blocking::nonblocking, Access::public_read);
  router.add("GET", "/metrics", [](const Request&) { return json_response(200, {}); }, Router::Blocking::nonblocking);
  const Dispatcher d(std::move(router), {});
  EXPECT_TRUE(d.runs_inline("GET", "/health"));
  EXPECT_TRUE(d.runs_inline("HEAD", "/health?verbose=1"));
  EXPECT_FALSE(d.runs_inline("DELETE", "/health")) << "405 is answered by a worker like any other";
  EXPECT_FALSE(d.runs_inline("GET", "/jobs/acme")) << "may block: registered without the flag";
  EXPECT_FALSE(d.runs_inline("GET", "/metrics")) << "needs the token check, which stays off the I/O thread";
  EXPECT_FALSE(d.runs_inline("GET", "/nope"));
}

// Keys the way the KeyStore sees them: "cached-*" answered from its cache,
// "slow-*" only after a database look-up; "-noread" keys lack the read scope.
class FakeKeys : public auth::Authenticator {
 public:
  std::optional<auth::Principal> authenticate(std::string_view token) override {
    ++lookups;
    return principal(token);
  }
  std::optional<auth::Principal> try_cached(std::string_view token) override {
    return token.rfind("cached-", 0) == 0 ? principal(token) : std::nullopt;
  }
  int lookups = 0;

 private:
  static std::optional<auth::Principal> principal(std::string_view token) {
    const bool known = token.rfind("cached-", 0) == 0 || token.rfind("slow-", 0) == 0;
    if (!known || token.find("revoked") != std::string_view::npos) return std::nullopt;
    const bool read = token.find("-noread") == std::string_view::npos;
    return auth::Principal{std::string(token.substr(0, 20)), false, read, {}};
  }
};

// A GET route whose fast handler answers 304 for If-None-Match: "v1" and
// throws for a bad parameter, as the list routes do.
Router fast_router(int& slow_calls) {
  Router router;
  const auto check = [](const Request& r) {
    if (r.query.count("limit") && r.query.find("limit")->second == "0") throw BadRequest("limit must be 1..1000");
  };
  router.add(
      "GET", "/things/{id}",
      [&slow_calls, check](const Request& r) {
        ++slow_calls;
        check(r);
        return json_response(200, {{"id", r.params.at("id")}});
      },
      [check](const Request& r) -> std::optional<Response> {
        check(r);
        if (r.header("If-None-Match") != std::optional<std::string_view>("\"v1\"")) return std::nullopt;
        Response not_modified;
        not_modified.status = 304;
        not_modified.set_header("ETag", "\"v1\"");
        return not_modified;
      });
  return router;
}

Request parsed(const std::string& method, const std::string& target,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto r = make(method, target.substr(0, target.find('?')), std::move(headers));
  r.target = target;
  if (target.find('?') != std::string::npos) r.query = parse_query(target.substr(target.find('?') + 1));
  return r;
}

TEST(RouterTest, FastHandlerAnswersOnlyWhatItCanWithoutBlocking) {
  int slow_calls = 0;
  metrics::Registry registry;
  FakeKeys keys;
  // /things is not public: a key with the read scope is needed.
  const Dispatcher d(fast_router(slow_calls), {Secret("tok"), &registry, &keys});
  const auto etag = std::vector<std::pair<std::string, std::string>>{{"If-None-Match", "\"v1\""}};
  const auto with = [&](const std::string& key) {
    auto h = etag;
    h.emplace_back("X-API-Key", key);
    return h;
  };

  auto req = parsed("GET", "/things/a", with("cached-key"));
  auto fast = d.try_fast(req, std::chrono::steady_clock::now());
  ASSERT_TRUE(fast.has_value()) << "a cached key and a matching ETag: answered here";
  EXPECT_EQ(fast->status, 304);
  EXPECT_EQ(fast->header("ETag"), "\"v1\"");
  EXPECT_TRUE(fast->header("X-Request-Id").has_value());
  EXPECT_EQ(keys.lookups, 0) << "no blocking look-up on the I/O thread";
  req = parsed("HEAD", "/things/a", with("tok"));
  fast = d.try_fast(req, {});
  ASSERT_TRUE(fast.has_value()) << "API_TOKEN needs no look-up either";
  EXPECT_TRUE(fast->head_only);
  EXPECT_NE(registry.render(std::nullopt).find("catalog_http_fast_responses_total 2"), std::string::npos);

  // Everything else declines, and handle() answers as it always did.
  struct Case {
    const char* what;
    Request request;
    int status;
  };
  Case cases[] = {
      {"no key", parsed("GET", "/things/a", etag), 401},
      {"revoked key", parsed("GET", "/things/a", with("cached-revoked")), 401},
      {"wrong key", parsed("GET", "/things/a", with("nope")), 401},
      {"key without the read scope", parsed("GET", "/things/a", with("cached-noread")), 403},
      {"key not cached yet", parsed("GET", "/things/a", with("slow-key")), 304},
      {"bad parameter", parsed("GET", "/things/a?limit=0", with("cached-key")), 400},
      {"other ETag", parsed("GET", "/things/a", {{"X-API-Key", "cached-key"}, {"If-None-Match", "\"v0\""}}), 200},
      {"no If-None-Match", parsed("GET", "/things/a", {{"X-API-Key", "cached-key"}}), 200},
      {"not a GET", parsed("DELETE", "/things/a", with("cached-key")), 405},
      {"no such route", parsed("GET", "/nothing", with("cached-key")), 404},
  };
  for (auto& c : cases) {
    const int before = slow_calls;
    EXPECT_FALSE(d.try_fast(c.request, {}).has_value()) << c.what;
    EXPECT_FALSE(c.request.principal.has_value()) << c.what << ": nothing left behind for handle()";
    auto again = c.request;
    const auto r = d.handle(again, {});
    if (c.status == 304) {
      // handle() runs the ordinary handler, which knows no ETags here.
      EXPECT_EQ(r.status, 200) << c.what;
      EXPECT_EQ(slow_calls, before + 1) << c.what;
    } else {
      EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    }
  }
}

TEST(RouterTest, FastHandlersOnlyOnGetRoutes) {
  Router router;
  const auto ok = [](const Request&) { return json_response(200, {}); };
  const auto fast = [](const Request&) -> std::optional<Response> { return std::nullopt; };
  EXPECT_THROW(router.add("POST", "/items", ok, FastHandler(fast)), std::invalid_argument);
  EXPECT_FALSE(router.has_fast_routes());
  router.add("GET", "/items", ok, FastHandler(fast));
  EXPECT_TRUE(router.has_fast_routes());
  EXPECT_NE(router.match("GET", "/items").fast, nullptr);
  EXPECT_NE(router.match("HEAD", "/items").fast, nullptr);
}

TEST(RouterTest, OnlyLiteralGetRoutesCanBeNonblocking) {
  Router router;
  const auto ok = [](const Request&) { return json_response(200, {}); };
  EXPECT_THROW(router.add("GET", "/jobs/{id}", ok, Router::Blocking::nonblocking), std::invalid_argument);
  EXPECT_THROW(router.add("POST", "/items", ok, Router::Blocking::nonblocking), std::invalid_argument);
  EXPECT_TRUE(router.routes().empty());
}

TEST(RouterTest, RequestIdSanitised) {
  EXPECT_EQ(choose_request_id(std::string_view("abc")), "abc");
  EXPECT_EQ(choose_request_id(std::string_view("bad id with spaces")).size(), 36u);
  EXPECT_EQ(choose_request_id(std::string(200, 'a')).size(), 36u);
}

TEST(RequestHelpersTest, QueryParsingAndCursorCodec) {
  const auto q = parse_query("a=1&b=x%20y&c=&d&e=a+b");
  EXPECT_EQ(q.find("b")->second, "x y");
  EXPECT_EQ(q.find("c")->second, "");
  EXPECT_EQ(q.find("d")->second, "");
  EXPECT_EQ(q.find("e")->second, "a b");
  EXPECT_THROW(parse_query("a=%zz"), BadRequest);
  EXPECT_THROW(parse_query("a=%4"), BadRequest);
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "2026-11-23T10:00:00.123456Z|x", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_THROW(base64url_decode("a+b/"), BadRequest);
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
}

TEST(RequestHelpersTest, RepeatedQueryParameterIsRejected) {
  Request r;
  r.query = parse_query("limit=1&limit=2");
  EXPECT_THROW(limit_param(r, 100, 1000), BadRequest);
}

}  // namespace
}  // namespace catalog::http
