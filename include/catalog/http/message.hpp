#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "catalog/auth/principal.hpp"

namespace catalog::http {

/// A parsed HTTP request as handlers see it: no Beast types, so handler code
/// compiles without Asio/Beast headers.
struct Request {
  std::string method;  ///< upper-case, e.g. "GET"
  std::string target;  ///< raw request-target, e.g. "/items?limit=5"
  std::string path;    ///< percent-decoded path without the query
  std::multimap<std::string, std::string> query;        ///< decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received
  std::string body;
  /// Set instead of `body` for streamed uploads (POST /feeds): fills the
  /// buffer with up to `capacity` bytes of the body and returns how many; 0
  /// at the end. Throws when the client breaks off, times out or exceeds the
  /// route's size limit. Not calling it leaves the body unread (the server
  /// then closes the connection after the response).
  std::function<std::size_t(char* buffer, std::size_t capacity)> body_stream;
  std::map<std::string, std::string> params;  ///< path parameters, e.g. {"id": "..."}
  std::string request_id;
  /// Who sent it (set by the Dispatcher when the route needs a key; empty on
  /// public routes and with AUTH_DISABLED=1).
  std::optional<auth::Principal> principal;

  /// First header with this name, compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
  /// A single query parameter; throws BadRequest if it is repeated.
  std::optional<std::string> query_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Instead of `body`: bytes shared with the response cache, written to the
  /// socket without a copy (a cached page is often 40-100 KB; copying it per
  /// hit cost more than the rest of the hit together).
  std::shared_ptr<const std::string> shared_body;
  /// For HEAD: headers of the GET answer, but no body on the wire.
  bool head_only = false;

  void set_header(std::string name, std::string value);
  std::optional<std::string_view> header(std::string_view name) const;
  /// The body, whichever of `body` and `shared_body` holds it.
  std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

/// 200 (or `status`) with a JSON body and the JSON content type.
Response json_response(int status, const nlohmann::json& body);
/// 200 (or `status`) with `body`, which is already serialized JSON.
Response json_text_response(int status, std::string body);
/// 204 No Content.
Response no_content();

/// Splits "a=1&b=%20x" into decoded pairs. Throws BadRequest on bad escapes.
std::multimap<std::string, std::string> parse_query(std::string_view query);
/// Percent-decodes a path or query component. `plus_is_space` for query strings.
std::string percent_decode(std::string_view in, bool plus_is_space);
/// Percent-encodes a query value (RFC 3986 unreserved kept).
std::string percent_encode(std::string_view in);

bool iequals(std::string_view a, std::string_view b);

}  // namespace catalog::http
