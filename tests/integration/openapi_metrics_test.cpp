// GET /openapi.json and /metrics on the real server (/docs: docs_ui_test.cpp): the document
// describes exactly the routes served, and the metrics count real requests.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "catalog/http/router.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

using RouteSet = std::set<std::pair<std::string, std::string>>;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string describe(const RouteSet& routes) {
  std::string out;
  for (const auto& [method, path] : routes) out += "  " + method + " " + path + "\n";
  return out.empty() ? "  (none)\n" : out;
}

const nlohmann::json* resolve_ref(const nlohmann::json& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const nlohmann::json* node = &doc;
  std::istringstream parts(ref.substr(2));
  for (std::string part; std::getline(parts, part, '/');) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return node;
}

/// Names of the `{param}` segments of a path template (no <regex>: GCC 12
/// warns inside it under the sanitizers).
std::set<std::string> path_params(const std::string& path) {
  std::set<std::string> out;
  for (auto open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    out.insert(path.substr(open + 1, path.find('}', open) - open - 1));
  }
  return out;
}

/// The template with every `{param}` replaced by "x".
std::string concrete_path(const std::string& path) {
  std::string out;
  bool in_param = false;
  for (char c : path) {
    if (c == '{') in_param = true, out += 'x';
    else if (c == '}') in_param = false;
    else if (!in_param) out += c;
  }
  return out;
}

void collect_refs(const nlohmann::json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) out.push_back(value);
      else collect_refs(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& value : node) collect_refs(value, out);
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override { app_ = std::make_unique<RunningApp>(base_env(create_test_database("openapi"))); }
  nlohmann::json document() {
    const auto r = app_->client().get("/openapi.json");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    return r.json();
  }
  std::unique_ptr<RunningApp> app_;
};

TEST_F(OpenApiTest, ServesTheOpenApi3DocumentFromDocs) {
  const auto doc = document();
  ASSERT_TRUE(doc.contains("openapi"));
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u) << doc["openapi"];
  EXPECT_TRUE(doc["info"].contains("title"));
  EXPECT_TRUE(doc["info"].contains("version"));
  ASSERT_TRUE(doc["paths"].is_object());
  EXPECT_TRUE(doc["components"]["securitySchemes"].contains("bearerAuth"));
  EXPECT_EQ(doc["components"]["securitySchemes"]["apiKeyAuth"]["name"], "X-API-Key");

  // The binary embeds docs/openapi.json at build time: it must be the current file.
  std::ifstream file(std::string(CATALOG_SOURCE_DIR) + "/docs/openapi.json");
  ASSERT_TRUE(file.good());
  EXPECT_EQ(doc, nlohmann::json::parse(file)) << "rebuild: the embedded document is stale";

  std::vector<std::string> refs;
  collect_refs(doc, refs);
  for (const auto& ref : refs) EXPECT_NE(resolve_ref(doc, ref), nullptr) << "dangling $ref " << ref;
}

// A route added to the server without documentation (or documented but not
// served) fails here.
TEST_F(OpenApiTest, DocumentedOperationsEqualServedRoutes) {
  const auto doc = document();
  RouteSet served;
  for (const auto& route : app_->app().routes()) served.insert(route);

  RouteSet documented;
  static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [key, op] : item.items()) {
      if (kMethods.count(key) == 0) continue;
      if (key == "head") {
        // HEAD is implicit for every GET route.
        EXPECT_TRUE(served.count({"GET", path})) << "HEAD " << path << " documented but no GET " << path;
        continue;
      }
      documented.insert({upper(key), path});
    }
  }
  RouteSet undocumented, not_served;
  for (const auto& r : served) {
    if (!documented.count(r)) undocumented.insert(r);
  }
  for (const auto& r : documented) {
    if (!served.count(r)) not_served.insert(r);
  }
  EXPECT_TRUE(undocumented.empty()) << "served but missing from docs/openapi.json:\n" << describe(undocumented);
  EXPECT_TRUE(not_served.empty()) << "in docs/openapi.json but not served:\n" << describe(not_served);
}

// Path parameters are declared, responses exist, and an operation is public
// in the document exactly when the server lets it through without a token.
TEST_F(OpenApiTest, OperationsDeclareParametersAndMatchTheAuthRule) {
  const auto doc = document();
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      const std::string where = upper(method) + " " + path;
      std::set<std::string> declared;
      for (const auto* list : {&item, &op}) {
        if (!list->contains("parameters")) continue;
        for (auto p : (*list)["parameters"]) {
          if (p.contains("$ref")) p = *resolve_ref(doc, p["$ref"]);
          if (p["in"] == "path") {
            declared.insert(p["name"].get<std::string>());
            EXPECT_EQ(p["required"], true) << where << " path parameter " << p["name"];
          }
        }
      }
      EXPECT_EQ(declared, path_params(path)) << where;
      EXPECT_FALSE(op["responses"].empty()) << where;

      const std::string concrete = concrete_path(path);
      const bool is_public = op.contains("security") && op["security"].empty();
      EXPECT_EQ(is_public, !app_->app().requires_auth(upper(method), concrete)) << where;
    }
  }
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

/// The value of the first sample line starting with `prefix` + ' ', or -1.
double sample_value(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix + " ", 0) == 0) return std::stod(l.substr(prefix.size() + 1));
  }
  return -1;
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override { app_ = std::make_unique<RunningApp>(base_env(create_test_database("metrics"))); }
  std::unique_ptr<RunningApp> app_;
};

TEST_F(MetricsEndpointTest, CountsRequestsByRouteAndShowsPoolGauges) {
  const auto& c = app_->client();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.get("/items").status, 200);
  ASSERT_EQ(c.post_json("/items", {{"name", "metered"}}).status, 201);
  ASSERT_EQ(c.get("/items/00000000-0000-4000-8000-000000000000").status, 404);
  ASSERT_EQ(c.get("/no/such/route").status, 404);
  ASSERT_EQ(c.request("DELETE", "/items").status, 405);

  auto r = c.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u) << r.header("content-type");
  const auto& t = r.body;
  EXPECT_TRUE(has_line(t, R"(catalog_http_requests_total{route="/items",method="GET",status="200"} 3)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_requests_total{route="/items",method="POST",status="201"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_requests_total{route="/items/{id}",method="GET",status="404"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_requests_total{route="unmatched",method="GET",status="404"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_requests_total{route="unmatched",method="DELETE",status="405"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_request_duration_seconds_count{route="/items"} 4)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_http_request_duration_seconds_bucket{route="/items",le="+Inf"} 4)")) << t;
  EXPECT_TRUE(has_line(t, "# TYPE catalog_http_request_duration_seconds histogram")) << t;

  const auto open = sample_value(t, R"(catalog_db_pool_connections{state="open"})");
  const auto idle = sample_value(t, R"(catalog_db_pool_connections{state="idle"})");
  const auto in_use = sample_value(t, R"(catalog_db_pool_connections{state="in_use"})");
  EXPECT_GE(open, 1) << "the requests above used a pooled connection\n" << t;
  EXPECT_EQ(open, idle + in_use) << t;
  EXPECT_GE(sample_value(t, "catalog_db_pool_waiting"), 0) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_etl_runs_total{status="succeeded",dry_run="false"} 0)")) << t;
  EXPECT_TRUE(has_line(t, R"(catalog_etl_rows_total{kind="read"} 0)")) << t;

  // A scrape is itself a request, seen by the next scrape.
  r = c.get("/metrics");
  EXPECT_TRUE(has_line(r.body, R"(catalog_http_requests_total{route="/metrics",method="GET",status="200"} 1)"))
      << r.body;
}

class MetricsAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<RunningApp>(token_env(create_test_database("metricsauth"), "metrics-token"));
  }
  std::unique_ptr<RunningApp> app_;
};

TEST_F(MetricsAuthTest, MetricsNeedTheTokenDocsArePublic) {
  const auto& c = app_->client();
  auto r = c.get("/metrics");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["error"]["code"], "unauthorized");
  EXPECT_EQ(c.get("/metrics", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(c.get("/metrics", {"Authorization: Bearer metrics-token"}).status, 200);
  EXPECT_EQ(c.get("/metrics", {"X-API-Key: metrics-token"}).status, 200);
  EXPECT_EQ(c.get("/openapi.json").status, 200);
  EXPECT_EQ(c.get("/docs").status, 200);
}

}  // namespace
}  // namespace catalog::testing
