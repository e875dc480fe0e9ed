// GET /docs and /docs/assets/{name} on the real server: Swagger UI from the
// binary, nothing from another origin, public even when a token is configured,
// cacheable with ETags. (tests/docs/docs_ui_browser_test.sh renders it.)
#include <gtest/gtest.h>

#include <zlib.h>

#include <fstream>
#include <sstream>

#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

/// Every value of `attribute="..."` in `html`, in order.
std::vector<std::string> attribute_values(const std::string& html, const std::string& attribute) {
  std::vector<std::string> out;
  const std::string key = " " + attribute + "=\"";
  for (auto at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
    const auto start = at + key.size();
    out.push_back(html.substr(start, html.find('"', start) - start));
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The bytes a gzip stream decompresses to; throws on a broken stream.
std::string gunzip(const std::string& compressed) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("not a complete gzip stream");
  return out;
}

class DocsUiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A token is configured: the docs must load without one all the same.
    app_ = std::make_unique<RunningApp>(token_env(create_test_database("docsui"), "docs-ui-token"));
  }
  const HttpClient& client() const { return app_->client(); }

  /// The /docs page, checked for status and type.
  std::string page() {
    const auto r = client().get("/docs");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    return r.body;
  }
  /// The asset URL of `name` that /docs links (with its ?v= version).
  std::string linked(const std::string& name) {
    const auto body = page();
    for (const auto* attribute : {"src", "href"}) {
      for (const auto& url : attribute_values(body, attribute)) {
        if (url.rfind("/docs/assets/" + name + "?v=", 0) == 0) return url;
      }
    }
    ADD_FAILURE() << "/docs does not link " << name << ":\n" << body;
    return "/docs/assets/" + name;
  }
  std::unique_ptr<RunningApp> app_;
};

TEST_F(DocsUiTest, PageLoadsSwaggerUiFromThisServerOnly) {
  const auto r = client().get("/docs");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& body = r.body;
  EXPECT_NE(body.find("<div id=\"swagger-ui\">"), std::string::npos) << body;
  // Private subnets: nothing may come from another origin, and the policy
  // tells the browser so (no inline scripts, this origin only).
  EXPECT_EQ(body.find("http://"), std::string::npos) << body;
  EXPECT_EQ(body.find("https://"), std::string::npos) << body;
  const auto policy = r.header("content-security-policy");
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("script-src 'self';"), std::string::npos) << policy;
  EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos) << policy;
  EXPECT_EQ(count(body, "<script"), count(body, "<script src=\"/docs/assets/")) << "inline script:\n" << body;

  std::vector<std::string> urls = attribute_values(body, "src");
  for (const auto& href : attribute_values(body, "href")) {
    if (href != "/openapi.json") urls.push_back(href);
  }
  ASSERT_EQ(urls.size(), 4u) << body;  // favicon, stylesheet, bundle, initialiser
  for (const auto& url : urls) {
    EXPECT_EQ(url.rfind("/docs/assets/", 0), 0u) << url;
    const auto asset = client().get(url);  // no token
    EXPECT_EQ(asset.status, 200) << url << ": " << asset.body;
    EXPECT_GT(asset.body.size(), 100u) << url;
    EXPECT_FALSE(asset.header("etag").empty()) << url;
    EXPECT_EQ(asset.header("x-content-type-options"), "nosniff") << url;
  }
}

TEST_F(DocsUiTest, AssetsHaveTheirTypesAndAreTheFilesFromSwaggerUiDist) {
  const std::string dist = std::string(CATALOG_SOURCE_DIR) + "/docs/ui/node_modules/swagger-ui-dist/";
  struct Expected {
    const char* name;
    const char* type;
    const char* file;  ///< in swagger-ui-dist, or null for our own
  };
  for (const auto& e : {Expected{"swagger-ui-bundle.js", "text/javascript; charset=utf-8", "swagger-ui-bundle.js"},
                        Expected{"swagger-ui.css", "text/css; charset=utf-8", "swagger-ui.css"},
                        Expected{"favicon-32x32.png", "image/png", "favicon-32x32.png"},
                        Expected{"LICENSE.txt", "text/plain; charset=utf-8", "LICENSE"},
                        Expected{"docs-init.js", "text/javascript; charset=utf-8", nullptr}}) {
    const auto asset = client().get(std::string("/docs/assets/") + e.name);
    ASSERT_EQ(asset.status, 200) << e.name;
    EXPECT_EQ(asset.header("content-type"), e.type) << e.name;
    if (e.file != nullptr) {
      // The binary embeds the locked version: a stale build fails here.
      EXPECT_TRUE(asset.body == read_file(dist + e.file)) << e.name << " differs from " << dist << e.file;
    }
  }
  const auto init = client().get(linked("docs-init.js")).body;
  EXPECT_NE(init.find("url: \"/openapi.json\""), std::string::npos) << init;
  EXPECT_NE(init.find("validatorUrl: null"), std::string::npos) << "the validator would send the document away";
}

TEST_F(DocsUiTest, VersionedAssetsAreCachedForAYearAndRevalidateWithEtags) {
  const auto url = linked("swagger-ui-bundle.js");
  auto r = client().get(url);
  ASSERT_EQ(r.status, 200);
  const auto etag = r.header("etag");
  ASSERT_GE(etag.size(), 10u);
  EXPECT_EQ(url.substr(url.find("?v=") + 3), etag.substr(1, etag.size() - 2)) << "the link names this version";
  EXPECT_EQ(r.header("cache-control"), "public, max-age=31536000, immutable");

  // Unversioned or another version: the client must revalidate.
  EXPECT_EQ(client().get("/docs/assets/swagger-ui-bundle.js").header("cache-control"), "no-cache");
  EXPECT_EQ(client().get("/docs/assets/swagger-ui-bundle.js?v=old").header("cache-control"), "no-cache");

  r = client().get(url, {"If-None-Match: " + etag});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("etag"), etag);
  EXPECT_EQ(client().get(url, {"If-None-Match: \"other\", W/" + etag}).status, 304);
  EXPECT_EQ(client().get(url, {"If-None-Match: \"other\""}).status, 200);

  // The page is revalidated on every visit, cheaply.
  r = client().get("/docs");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  const auto page_etag = r.header("etag");
  ASSERT_FALSE(page_etag.empty());
  r = client().get("/docs", {"If-None-Match: " + page_etag});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(DocsUiTest, TextAssetsAreGzippedForClientsThatAcceptIt) {
  const auto url = linked("swagger-ui-bundle.js");
  const auto plain = client().get(url);
  ASSERT_EQ(plain.status, 200);
  EXPECT_TRUE(plain.header("content-encoding").empty());
  EXPECT_EQ(plain.header("vary"), "Accept-Encoding");

  const auto zipped = client().get(url, {"Accept-Encoding: br, gzip, deflate"});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.header("vary"), "Accept-Encoding");
  EXPECT_EQ(zipped.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(zipped.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_LT(zipped.body.size(), plain.body.size() / 2) << "the 1.7 MB bundle should shrink a lot";
  EXPECT_TRUE(gunzip(zipped.body) == plain.body) << "gzip form differs from the file";
  // Each form has its own validator, and revalidates against it.
  const auto gz_etag = zipped.header("etag");
  EXPECT_NE(gz_etag, plain.header("etag"));
  EXPECT_EQ(client().get(url, {"Accept-Encoding: gzip", "If-None-Match: " + gz_etag}).status, 304);
  EXPECT_EQ(client().get(url, {"If-None-Match: " + gz_etag}).status, 200);

  // gzip refused (q=0), or an image (already compressed): the plain bytes.
  for (const auto& [target, accept] : {std::pair<std::string, std::string>{url, "gzip;q=0, identity"},
                                       {"/docs/assets/favicon-32x32.png", "gzip"}}) {
    const auto r = client().get(target, {"Accept-Encoding: " + accept});
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_TRUE(r.header("content-encoding").empty()) << target << " with " << accept;
  }
  EXPECT_TRUE(client().get("/docs/assets/favicon-32x32.png").header("vary").empty());
}

TEST_F(DocsUiTest, UnknownAssetsAre404WithTheErrorShape) {
  for (const std::string target : {"/docs/assets/nope.js", "/docs/assets/..%2Fopenapi.json",
                                   "/docs/assets/swagger-ui-bundle.js.map", "/docs/assets/index.html"}) {
    const auto r = client().get(target);
    EXPECT_EQ(r.status, 404) << target;
    ASSERT_EQ(r.header("content-type").rfind("application/json", 0), 0u) << target;
    EXPECT_EQ(r.json()["error"]["code"], "not_found") << target;
  }
}

}  // namespace
}  // namespace catalog::testing
