#include "catalog/http/router.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "catalog/core/errors.hpp"
#include "catalog/http/error_mapping.hpp"
#include "catalog/metrics/metrics.hpp"
#include "http/access_log.hpp"

namespace catalog::http {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler, Blocking blocking,
                 Access access) {
  if (blocking == Blocking::nonblocking) {
    if (method != "GET" || pattern.find('{') != std::string::npos) {
      throw std::invalid_argument("only literal GET routes can be nonblocking: " + method + " " + pattern);
    }
    nonblocking_paths_.push_back(pattern);
  }
  if (access == Access::public_read) {
    if (method != "GET") throw std::invalid_argument("only GET routes can be public: " + method + " " + pattern);
    const auto first = pattern.substr(0, pattern.find('/', 1));
    if (std::find(public_prefixes_.begin(), public_prefixes_.end(), first) == public_prefixes_.end()) {
      public_prefixes_.push_back(first);
    }
  }
  routes_.push_back({method, pattern, split_path(pattern), std::move(handler), access, {}});
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler, FastHandler fast,
                 Access access) {
  if (method != "GET") throw std::invalid_argument("only GET routes can have a fast handler: " + pattern);
  add(method, pattern, std::move(handler), Blocking::may_block, access);
  routes_.back().fast = std::move(fast);
  has_fast_ = has_fast_ || routes_.back().fast != nullptr;
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match result;
  if (path.empty() || path.front() != '/') return result;
  // Split before decoding, so an encoded slash (%2F) stays inside its
  // segment: /products/acme/A%2FB is sku "A/B". Segments are views into
  // `path`; only one that needs it (an escape, a non-ASCII byte or NUL,
  // which percent_decode checks) is decoded, into `decoded`, so matching a
  // plain path allocates nothing.
  constexpr std::size_t kMaxSegments = 16;  // far more than any route has
  std::array<std::string_view, kMaxSegments> segments;
  std::array<std::string, kMaxSegments> decoded;
  std::size_t count = 0;
  const std::string_view whole(path);
  for (std::size_t start = 1;;) {
    auto slash = whole.find('/', start);
    if (slash == std::string_view::npos) slash = whole.size();
    if (count == kMaxSegments) return result;  // no route is that deep: 404
    const auto segment = whole.substr(start, slash - start);
    const bool plain = std::all_of(segment.begin(), segment.end(), [](char c) {
      return c != '%' && c != '\0' && static_cast<unsigned char>(c) < 0x80;
    });
    if (plain) {
      segments[count] = segment;
    } else {
      decoded[count] = percent_decode(segment, false);
      segments[count] = decoded[count];
    }
    ++count;
    if (slash == whole.size()) break;
    start = slash + 1;
  }
  const auto matches = [&](const Route& route, std::map<std::string, std::string>* params) {
    if (route.segments.size() != count) return false;
    for (std::size_t i = 0; i < count; ++i) {
      if (is_param(route.segments[i])) {
        if (segments[i].empty()) return false;
        if (params) (*params)[route.segments[i].substr(1, route.segments[i].size() - 2)] = std::string(segments[i]);
      } else if (route.segments[i] != segments[i]) {
        return false;
      }
    }
    return true;
  };
  for (const auto& route : routes_) {
    const bool method_ok = route.method == method || (method == "HEAD" && route.method == "GET");
    if (!method_ok || !matches(route, nullptr)) continue;
    result.handler = &route.handler;
    result.fast = route.fast ? &route.fast : nullptr;
    result.pattern = route.pattern;
    result.access = route.access;
    matches(route, &result.params);
    return result;
  }
  // No route for this method: which methods the path has (405 + Allow).
  for (const auto& route : routes_) {
    if (!matches(route, nullptr)) continue;
    result.allowed.push_back(route.method);
    if (route.method == "GET") result.allowed.push_back("HEAD");
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

Dispatcher::Dispatcher(Router router, Options options) : router_(std::move(router)), options_(std::move(options)) {}

bool Router::is_public(std::string_view method, std::string_view path) const {
  if (method != "GET" && method != "HEAD") return false;
  const auto match = this->match(std::string(method), std::string(path));
  if (match.handler != nullptr) return match.access == Access::public_read;
  if (!match.allowed.empty()) return false;  // a 405 on a path that is not public
  std::string decoded;
  try {
    decoded = percent_decode(path, false);
  } catch (...) {
    return false;  // not a path any route has
  }
  const std::string_view first = std::string_view(decoded).substr(0, decoded.find('/', 1));
  return std::find(public_prefixes_.begin(), public_prefixes_.end(), first) != public_prefixes_.end();
}

bool Router::nonblocking(std::string_view method, std::string_view path) const {
  if (method != "GET" && method != "HEAD") return false;
  for (const auto& p : nonblocking_paths_) {
    if (p == path) return true;
  }
  return false;
}

bool Dispatcher::runs_inline(std::string_view method, std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  return router_.nonblocking(method, path) && !requires_auth(method, path);
}

Response Dispatcher::handle(Request& request, std::chrono::steady_clock::time_point received_at) const {
  request.request_id = choose_request_id(request.header("X-Request-Id"));
  Response response;
  std::string_view route = "unmatched";
  std::string internal_error;
  try {
    // Auth first: an unauthenticated caller learns nothing about which
    // protected routes exist.
    const auto raw_path = request.target.substr(0, request.target.find('?'));
    auto match = router_.match(request.method, raw_path);
    const bool is_public = match.handler != nullptr ? match.access == Access::public_read
                                                    : router_.is_public(request.method, raw_path);
    const bool needs_key = options_.api_token && !is_public;
    if (needs_key) request.principal = authenticate(request, *options_.api_token, options_.keys, KeyLookup::may_block);
    if (needs_key && !request.principal) {
      response = error_response(401, "unauthorized", "missing, invalid, revoked or expired API key", request.request_id);
      response.set_header("WWW-Authenticate", "Bearer");
    } else if (match.handler == nullptr && match.allowed.empty()) {
      response = error_response(404, "not_found", "no route for " + request.path, request.request_id);
    } else if (match.handler == nullptr) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      response = error_response(405, "method_not_allowed",
                                "method " + request.method + " is not allowed on " + request.path,
                                request.request_id);
      response.set_header("Allow", allow);
    } else {
      route = match.pattern;
      request.params = std::move(match.params);
      if (request.principal) authorize(match.access, *request.principal, request);
      response = (*match.handler)(request);
    }
  } catch (...) {
    const auto mapped = map_exception(std::current_exception());
    internal_error = mapped.internal;
    response = error_response(mapped.status, mapped.code, mapped.message, request.request_id, mapped.field);
  }
  finish(request, response, route, internal_error, received_at);
  return response;
}

std::optional<Response> Dispatcher::try_fast(Request& request,
                                             std::chrono::steady_clock::time_point received_at) const {
  if (!router_.has_fast_routes() || (request.method != "GET" && request.method != "HEAD")) return std::nullopt;
  std::optional<Response> response;
  Router::Match match;
  try {
    match = router_.match(request.method, request.target.substr(0, request.target.find('?')));
    if (match.fast == nullptr) return std::nullopt;
    if (options_.api_token && match.access != Access::public_read) {
      // Only what is settled without a database round trip: anything else
      // (no key, unknown or stale key, a scope that does not allow this
      // route) is handle()'s to answer, with its 401 or 403.
      request.principal = authenticate(request, *options_.api_token, options_.keys, KeyLookup::cached_only);
      if (!request.principal) return std::nullopt;
      authorize(match.access, *request.principal, request);
    }
    request.params = std::move(match.params);
    response = (*match.fast)(request);
  } catch (...) {
    response.reset();
  }
  if (!response) {
    request.principal.reset();
    request.params.clear();
    return std::nullopt;
  }
  request.request_id = choose_request_id(request.header("X-Request-Id"));
  finish(request, *response, match.pattern, std::string(), received_at);
  if (options_.metrics != nullptr) options_.metrics->record_fast_response();
  return response;
}

std::optional<std::string> Dispatcher::known_key(const Request& request) const {
  if (!options_.api_token) return std::nullopt;
  try {
    if (auto who = authenticate(request, *options_.api_token, options_.keys, KeyLookup::remembered)) {
      return std::move(who->name);
    }
  } catch (...) {
  }
  return std::nullopt;
}

void Dispatcher::finish(const Request& request, Response& response, std::string_view route,
                        const std::string& internal_error, std::chrono::steady_clock::time_point received_at) const {
  if (request.method == "HEAD") response.head_only = true;
  response.set_header("X-Request-Id", request.request_id);

  record_request(request, response, route, internal_error, received_at, options_.metrics);
}

}  // namespace catalog::http
