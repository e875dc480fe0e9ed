#include "handlers/etag.hpp"

namespace catalog::handlers {
namespace {

// Bumped when the JSON of these routes changes shape, so that a deploy does
// not answer 304 to a body written by the previous version.
constexpr std::string_view kBodyFormat = "1";

/// FNV-1a, 64 bits: stable across processes and builds (std::hash is not),
/// so every instance behind a load balancer computes the same ETag.
std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string make_etag(char kind, std::int64_t version, std::string_view canonical_query) {
  const std::uint64_t hash = fnv1a(fnv1a(0xcbf29ce484222325ULL, kBodyFormat), canonical_query);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag = "\"";
  etag += kind;
  etag += std::to_string(version);
  etag += '-';
  for (int shift = 60; shift >= 0; shift -= 4) etag += kHex[(hash >> shift) & 0xf];
  etag += '"';
  return etag;
}

bool has_if_none_match(const http::Request& request) { return request.header("If-None-Match").has_value(); }

bool if_none_match(const http::Request& request, const std::string& etag, bool star_matches) {
  const auto header = request.header("If-None-Match");
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto entry = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (entry == "*") {
      if (star_matches) return true;
      continue;
    }
    if (entry.substr(0, 2) == "W/") entry.remove_prefix(2);
    if (entry == etag) return true;
  }
  return false;
}

http::Response not_modified(const std::string& etag, const std::string& cache_control) {
  http::Response r;
  r.status = 304;
  set_cache_headers(r, etag, cache_control);
  return r;
}

void set_cache_headers(http::Response& response, const std::string& etag, const std::string& cache_control) {
  response.set_header("ETag", etag);
  if (!cache_control.empty()) response.set_header("Cache-Control", cache_control);
}

std::optional<http::Response> fast_list_page(http::ResponseCache* pages, char kind, std::int64_t version,
                                             std::string_view canonical_query, const std::string& cache_control,
                                             const http::Request& request) {
  const auto etag = make_etag(kind, version, canonical_query);
  if (has_if_none_match(request)) {
    if (if_none_match(request, etag, false)) return not_modified(etag, cache_control);
    if (if_none_match(request, etag, true)) return std::nullopt;  // `*`: the pool checks the page exists
  }
  if (pages == nullptr) return std::nullopt;
  const auto page = pages->find(http::ResponseCache::name(kind, canonical_query), version);
  if (!page) return std::nullopt;
  // The headers are copied (the dispatcher adds X-Request-Id); the body is
  // shared with the cache, not copied.
  http::Response hit;
  hit.status = page->status;
  hit.headers = page->headers;
  hit.shared_body = std::shared_ptr<const std::string>(page, &page->body);
  return hit;
}

void keep_list_page(http::ResponseCache* pages, char kind, std::int64_t version, std::string_view canonical_query,
                    const http::Response& page) {
  if (pages != nullptr) pages->insert(http::ResponseCache::name(kind, canonical_query), version, page);
}

void add_canonical_field(std::string& canonical, std::string_view text) {
  canonical += std::to_string(text.size());
  canonical += ':';
  canonical += text;
}

}  // namespace catalog::handlers
