#include "catalog/http/router.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "catalog/auth/key_store.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/http/error_mapping.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

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

bool Dispatcher::requires_auth(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return true;
  // Prefix match per path segment, without allocating (every request asks).
  static constexpr std::string_view kPublic[] = {"/items", "/products", "/health", "/openapi.json", "/docs"};
  for (const auto p : kPublic) {
    if (path.substr(0, p.size()) == p && (path.size() == p.size() || path[p.size()] == '/')) return false;
  }
  return true;
}

bool token_matches(std::string_view presented, const Secret& expected) {
  // Compare digests, not the strings: equal length inputs for CRYPTO_memcmp,
  // and the time taken reveals neither the token nor its length.
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.reveal().data()), expected.reveal().size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

namespace {

// The token a request presents: `Authorization: Bearer <t>`, else `X-API-Key`.
std::optional<std::string_view> presented_token(const Request& request) {
  if (auto auth = request.header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() && iequals(auth->substr(0, kBearer.size()), kBearer)) {
      return auth->substr(kBearer.size());
    }
    return std::nullopt;
  }
  return request.header("X-API-Key");
}

}  // namespace

std::optional<auth::Principal> Dispatcher::authenticate(const Request& request) const {
  const auto token = presented_token(request);
  if (!token) return std::nullopt;
  if (token_matches(*token, *options_.api_token)) return auth::Principal{"api_token", true, false, {}};
  if (options_.keys != nullptr) return options_.keys->authenticate(*token);
  return std::nullopt;
}

std::optional<auth::Principal> Dispatcher::authenticate_cached(const Request& request) const {
  const auto token = presented_token(request);
  if (!token) return std::nullopt;
  if (token_matches(*token, *options_.api_token)) return auth::Principal{"api_token", true, false, {}};
  if (options_.keys != nullptr) return options_.keys->try_cached(*token);
  return std::nullopt;
}

namespace {

std::string clip(std::string_view text) { return std::string(text.substr(0, 80)); }

// Throws Forbidden naming the scope needed unless `who` may use a route of
// kind `access` (DESIGN.md "Auth": admin, read, feeds:<job-id>).
void authorize(Access access, const auth::Principal& who, const Request& request) {
  if (who.admin) return;
  const bool read_method = request.method == "GET" || request.method == "HEAD";
  switch (access) {
    case Access::by_method:
      if (read_method && who.read) return;
      throw Forbidden(request.method + " " + clip(request.path) + " needs scope '" +
                      (read_method ? "read" : "admin") + "'");
    case Access::admin:
      throw Forbidden(request.method + " " + clip(request.path) + " needs scope 'admin'");
    case Access::feed_upload: {
      const auto job = request.query_param("job");
      // Without ?job= a feeds: key gets the handler's 422 naming the parameter.
      if ((!job || job->empty()) && !who.feed_jobs.empty()) return;
      if (job && who.can_upload_to_job(*job)) return;
      throw Forbidden("uploading a feed needs scope 'admin' or 'feeds:" + clip(job.value_or("<job-id>")) + "'");
    }
    case Access::job_runs: {
      const auto& job = request.params.at("id");
      if (who.can_follow_job(job)) return;
      throw Forbidden("this needs scope 'read' or 'feeds:" + clip(job) + "'");
    }
    case Access::job_lookup:
      if (who.read || !who.feed_jobs.empty()) return;
      throw Forbidden("this needs scope 'read' or a 'feeds:<job-id>' scope");
  }
  throw Forbidden("this needs scope 'admin'");
}

}  // namespace

std::string choose_request_id(std::optional<std::string_view> client_value) {
  if (client_value && !client_value->empty() && client_value->size() <= 128) {
    bool sane = true;
    for (char c : *client_value) sane = sane && c > 32 && c < 127 && c != '"';
    if (sane) return std::string(*client_value);
  }
  // Ids need to be unique, not secret: a per-thread generator seeded once from
  // the OS is ~50x cheaper than RAND_bytes on every request.
  thread_local std::mt19937_64 random(std::random_device{}());
  unsigned char bytes[16];
  const std::uint64_t hi = random(), lo = random();
  std::memcpy(bytes, &hi, 8);
  std::memcpy(bytes + 8, &lo, 8);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 15];
  }
  return id;
}

Response Dispatcher::handle(Request& request, std::chrono::steady_clock::time_point received_at) const {
  request.request_id = choose_request_id(request.header("X-Request-Id"));
  Response response;
  std::string_view route = "unmatched";
  std::string internal_error;
  try {
    // Auth first: an unauthenticated caller learns nothing about which
    // protected routes exist.
    auto match = router_.match(request.method, request.target.substr(0, request.target.find('?')));
    const bool needs_key = options_.api_token && requires_auth(request.method, request.path);
    if (needs_key) request.principal = authenticate(request);
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
    if (options_.api_token && requires_auth(request.method, request.path)) {
      // Only what is settled without a database round trip: anything else
      // (no key, unknown or stale key, a scope that does not allow this
      // route) is handle()'s to answer, with its 401 or 403.
      request.principal = authenticate_cached(request);
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

void Dispatcher::finish(const Request& request, Response& response, std::string_view route,
                        const std::string& internal_error, std::chrono::steady_clock::time_point received_at) const {
  if (request.method == "HEAD") response.head_only = true;
  response.set_header("X-Request-Id", request.request_id);

  const auto latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received_at);
  if (options_.metrics != nullptr) {
    options_.metrics->record_request(route, request.method, response.status, latency.count() / 1000.0);
  }
  const auto level = response.status >= 500 ? spdlog::level::err : spdlog::level::info;
  if (!log::enabled(level)) return;  // LOG_LEVEL=warn: no access log, so build none of it
  nlohmann::json fields = {{"request_id", request.request_id},
                           {"method", request.method},
                           {"route", route},
                           {"path", request.path},
                           {"status", response.status},
                           {"latency_ms", std::round(latency.count() * 1000) / 1000},
                           {"bytes", response.body.size()}};
  if (request.principal) fields["key"] = request.principal->name;  // the key's name, never its secret
  if (auto trace = request.header("X-Amzn-Trace-Id")) fields["trace_id"] = *trace;
  if (!internal_error.empty()) fields["error"] = internal_error;
  log::write(level, "http", "request", fields);
}

}  // namespace catalog::http
