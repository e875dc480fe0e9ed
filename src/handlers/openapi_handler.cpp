// GET /openapi.json (docs/openapi.json, embedded in the binary at build time:
// the container has no source tree), GET /docs (Swagger UI rendering it) and
// GET /docs/assets/{name} (the Swagger UI files from swagger-ui-dist, also
// embedded: the service runs in private subnets, so no CDN).
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "catalog/core/errors.hpp"
#include "catalog/handlers/routes.hpp"
#include "handlers/docs_assets.hpp"

namespace catalog::handlers {
namespace {

constexpr std::string_view kAssetsPrefix = "/docs/assets/";

// Runs after swagger-ui-bundle.js. A file, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts altogether. The document
// says `servers: [{"url": "/"}]`, so "Try it out" calls this same origin, and
// the Authorize box sends the token the way the API expects (bearerAuth or
// apiKeyAuth). The validator is off: it would send the document to a third party.
constexpr std::string_view kInitScript = R"js("use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    validatorUrl: null
  });
});
)js";

// Scripts and styles only from this origin. Swagger UI sets style attributes
// and uses data: images (icons), and "Try it out" fetches from this origin.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
  std::string content_type;
  std::string etag;  ///< quoted
  std::string_view body;
  std::string_view gzip;   ///< empty: no compressed form
  std::string gzip_etag;   ///< its own validator (RFC 9110 8.8.3: one per representation)
};

using AssetMap = std::map<std::string, Asset, std::less<>>;

/// Strong ETag for text built into the binary: FNV-1a 64 of the bytes (only
/// needs to change when they change).
std::string etag_of(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(hash >> shift) & 0xf];
  return out + "\"";
}

std::string_view unquoted(std::string_view etag) { return etag.substr(1, etag.size() - 2); }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Whether an If-None-Match value names `etag` (weak comparison, RFC 9110 13.1.2).
bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    item = trimmed(item);
    if (item.rfind("W/", 0) == 0) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

/// Whether Accept-Encoding admits gzip: listed, and not with q=0 (RFC 9110 12.5.3).
bool accepts_gzip(const http::Request& request) {
  const auto header = request.header("Accept-Encoding");
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto semicolon = item.find(';');
    if (!http::iequals(trimmed(item.substr(0, semicolon)), "gzip")) continue;
    if (semicolon == std::string_view::npos) return true;
    const auto weight = trimmed(item.substr(semicolon + 1));
    if (weight.size() < 2 || weight.substr(0, 2) != "q=") return true;
    return std::strtod(std::string(weight.substr(2)).c_str(), nullptr) > 0;
  }
  return false;
}

/// One representation of a resource: its bytes and how they are labelled.
struct Representation {
  std::string_view body;
  const std::string& content_type;
  const std::string& etag;
  const char* content_encoding = nullptr;  ///< set for the gzip form
  bool varies = false;                     ///< whether another encoding exists
};

/// 200 with the representation, or 304 when the client already holds it.
http::Response cached(const http::Request& request, const Representation& r, const char* cache_control) {
  http::Response response;
  response.set_header("ETag", r.etag);
  response.set_header("Cache-Control", cache_control);
  if (r.varies) response.set_header("Vary", "Accept-Encoding");
  if (const auto held = request.header("If-None-Match"); held && none_match_hits(*held, r.etag)) {
    response.status = 304;
    return response;
  }
  response.body = std::string(r.body);
  response.set_header("Content-Type", r.content_type);
  if (r.content_encoding != nullptr) response.set_header("Content-Encoding", r.content_encoding);
  response.set_header("X-Content-Type-Options", "nosniff");
  return response;
}

AssetMap load_assets() {
  AssetMap assets;
  for (const auto& a : embedded_docs_assets()) {
    std::string etag(a.etag);
    std::string gzip_etag = etag.substr(0, etag.size() - 1) + "-gz\"";
    assets.emplace(std::string(a.name), Asset{std::string(a.content_type), std::move(etag), a.body, a.gzip,
                                              std::move(gzip_etag)});
  }
  assets.emplace("docs-init.js", Asset{"text/javascript; charset=utf-8", etag_of(kInitScript), kInitScript, {}, {}});
  return assets;
}

/// Asset URLs carry their version (?v=), so a browser may keep them for a
/// year: a new binary with other files links other URLs.
std::string asset_url(const AssetMap& assets, const std::string& name) {
  return std::string(kAssetsPrefix) + name + "?v=" + std::string(unquoted(assets.at(name).etag));
}

std::string docs_page(const AssetMap& assets) {
  return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>catalog-api reference</title>
<link rel="icon" type="image/png" href=")html" +
         asset_url(assets, "favicon-32x32.png") + R"html(">
<link rel="stylesheet" href=")html" +
         asset_url(assets, "swagger-ui.css") + R"html(">
</head>
<body>
<noscript><p>This page needs JavaScript. The API description itself is <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src=")html" +
         asset_url(assets, "swagger-ui-bundle.js") + R"html("></script>
<script src=")html" +
         asset_url(assets, "docs-init.js") + R"html("></script>
</body>
</html>
)html";
}

}  // namespace

void add_openapi_routes(http::Router& router) {
  router.add("GET", "/openapi.json", http::Access::public_read, [](const http::Request&) {
    http::Response response;
    response.body = std::string(openapi_document());
    response.set_header("Content-Type", "application/json; charset=utf-8");
    return response;
  });

  auto assets = std::make_shared<const AssetMap>(load_assets());
  auto page = std::make_shared<const std::string>(docs_page(*assets));
  auto page_etag = std::make_shared<const std::string>(etag_of(*page));
  router.add("GET", "/docs", http::Access::public_read, [page, page_etag](const http::Request& request) {
    // Revalidated on every visit: it names the current asset versions.
    static const std::string kHtml = "text/html; charset=utf-8";
    auto response = cached(request, {*page, kHtml, *page_etag}, "no-cache");
    response.set_header("Content-Security-Policy", kPagePolicy);
    response.set_header("Referrer-Policy", "no-referrer");
    return response;
  });
  router.add("GET", "/docs/assets/{name}", http::Access::public_read, [assets](const http::Request& request) {
    const auto it = assets->find(request.params.at("name"));
    if (it == assets->end()) throw NotFound("no such file under /docs/assets");
    const auto& asset = it->second;
    const auto version = request.query_param("v");
    const bool versioned = version && *version == unquoted(asset.etag);
    const char* cache_control = versioned ? "public, max-age=31536000, immutable" : "no-cache";
    const bool has_gzip = !asset.gzip.empty();
    if (has_gzip && accepts_gzip(request)) {
      return cached(request, {asset.gzip, asset.content_type, asset.gzip_etag, "gzip", true}, cache_control);
    }
    return cached(request, {asset.body, asset.content_type, asset.etag, nullptr, has_gzip}, cache_control);
  });
}

}  // namespace catalog::handlers
