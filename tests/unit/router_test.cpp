#include "catalog/http/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
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

TEST(RouterTest, AuthPolicyFollowsDesign) {
  EXPECT_FALSE(Dispatcher::requires_auth("GET", "/items"));
  EXPECT_FALSE(Dispatcher::requires_auth("GET", "/items/abc"));
  EXPECT_FALSE(Dispatcher::requires_auth("HEAD", "/health"));
  EXPECT_FALSE(Dispatcher::requires_auth("GET", "/products/acme/sku-1"));
  EXPECT_FALSE(Dispatcher::requires_auth("GET", "/openapi.json"));
  EXPECT_TRUE(Dispatcher::requires_auth("POST", "/items"));
  EXPECT_TRUE(Dispatcher::requires_auth("DELETE", "/items/abc"));
  EXPECT_TRUE(Dispatcher::requires_auth("GET", "/jobs"));
  EXPECT_TRUE(Dispatcher::requires_auth("GET", "/runs/abc"));
  EXPECT_TRUE(Dispatcher::requires_auth("GET", "/feeds"));
  EXPECT_TRUE(Dispatcher::requires_auth("GET", "/itemsx")) << "prefix match is per path segment";
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
             Router::Blocking::nonblocking);
  router.add("GET", "/metrics", [](const Request&) { return json_response(200, {}); }, Router::Blocking::nonblocking);
  const Dispatcher d(std::move(router), {});
  EXPECT_TRUE(d.runs_inline("GET", "/health"));
  EXPECT_TRUE(d.runs_inline("HEAD", "/health?verbose=1"));
  EXPECT_FALSE(d.runs_inline("DELETE", "/health")) << "405 is answered by a worker like any other";
  EXPECT_FALSE(d.runs_inline("GET", "/jobs/acme")) << "may block: registered without the flag";
  EXPECT_FALSE(d.runs_inline("GET", "/metrics")) << "needs the token check, which stays off the I/O thread";
  EXPECT_FALSE(d.runs_inline("GET", "/nope"));
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
