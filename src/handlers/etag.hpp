#pragma once
// ETags of GET /items* and GET /products*: a catalog version (the scope's
// catalog_versions row) and a hash of the request's normalised query, so a
// client revalidating an unchanged page costs one single-row read and no
// page query (docs/products-api.md "Caching").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/http/message.hpp"
#include "catalog/http/response_cache.hpp"

namespace catalog::handlers {

/// Strong ETag, e.g. "\"p42-9f86d081884c7d65\"": `kind` names the route,
/// `version` the rows' catalog version, `canonical_query` everything else in
/// the request that shapes the body.
std::string make_etag(char kind, std::int64_t version, std::string_view canonical_query);

/// True when the request's If-None-Match lists `etag` (weak comparison, as
/// RFC 9110 asks for If-None-Match), or is `*` and `star_matches`.
bool if_none_match(const http::Request& request, const std::string& etag, bool star_matches);

/// True when the request carries If-None-Match at all.
bool has_if_none_match(const http::Request& request);

/// 304 Not Modified: ETag and Cache-Control, no body.
http::Response not_modified(const std::string& etag, const std::string& cache_control);

/// Sets ETag and Cache-Control on a 200.
void set_cache_headers(http::Response& response, const std::string& etag, const std::string& cache_control);

/// The I/O thread's answer to a GET of a list page whose catalog version
/// the version cache vouches for (`version`): 304 when If-None-Match names
/// its ETag, else the page from `pages` if it holds it at that version. A `*`
/// or a miss declines (nullopt) to the pool.
std::optional<http::Response> fast_list_page(http::ResponseCache* pages, char kind, std::int64_t version,
                                             std::string_view canonical_query, const std::string& cache_control,
                                             const http::Request& request);

/// Keeps a list page the pool computed at `version` in `pages` (when given).
void keep_list_page(http::ResponseCache* pages, char kind, std::int64_t version, std::string_view canonical_query,
                    const http::Response& page);

/// Appends `text` to a canonical query with its length, so that no two
/// different field lists produce the same string.
void add_canonical_field(std::string& canonical, std::string_view text);

}  // namespace catalog::handlers
