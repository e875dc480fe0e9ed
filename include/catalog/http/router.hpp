#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/auth/principal.hpp"
#include "catalog/core/secret.hpp"
#include "catalog/http/message.hpp"
#include "catalog/http/request_auth.hpp"
#include "catalog/http/request_id.hpp"

namespace catalog::metrics {
class Registry;
}

namespace catalog::auth {
class Authenticator;
}

namespace catalog::http {

using Handler = std::function<Response(const Request&)>;

/// An optional second handler of a GET route that runs on the connection's
/// I/O thread and answers what it can without waiting for anything (no
/// database, no S3, no lock held for long): a Response, or nullopt to leave
/// the request to the route's Handler on the worker pool, which then sees it
/// exactly as if no fast handler existed. Used for If-None-Match → 304 from
/// the in-memory catalog versions. An exception counts as nullopt (the
/// Handler then gives the error, e.g. the 400 for a bad parameter).
using FastHandler = std::function<std::optional<Response>(const Request&)>;

/// Method + path-pattern table. Patterns are literal segments and `{name}`
/// parameters: "/jobs/{id}/run".
class Router {
 public:
  /// How a handler behaves. Handlers may block (PostgreSQL, S3) unless
  /// registered `nonblocking`: those run on the connection's I/O thread,
  /// skipping two thread hops (the /health fast path). Only literal GET
  /// patterns can be nonblocking, so telling them apart is a string compare.
  enum class Blocking { may_block, nonblocking };

  void add(const std::string& method, const std::string& pattern, Handler handler,
           Blocking blocking = Blocking::may_block, Access access = Access::by_method);
  void add(const std::string& method, const std::string& pattern, Access access, Handler handler) {
    add(method, pattern, std::move(handler), Blocking::may_block, access);
  }
  /// A GET route with a FastHandler in front of its Handler.
  void add(const std::string& method, const std::string& pattern, Handler handler, FastHandler fast,
           Access access = Access::by_method);

  struct Match {
    const Handler* handler = nullptr;  ///< null: no route for this method
    const FastHandler* fast = nullptr;  ///< the route's FastHandler, when it has one
    std::string_view pattern;          ///< the matched route, for logs/metrics (points into the Router)
    Access access = Access::by_method;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  ///< methods the path accepts (for 405)
  };
  /// Finds the handler; when the path exists under other methods only,
  /// `handler` is null and `allowed` lists them; when nothing matches both are empty.
  /// `path` is still percent-encoded: each segment is decoded after splitting.
  Match match(const std::string& method, const std::string& path) const;

  /// Whether `method` + `path` (no query, still percent-encoded) needs no
  /// key: it matches a route registered Access::public_read, or matches no
  /// route and falls under a public route's first segment (an unknown path
  /// under /items is a public 404, not a 401).
  bool is_public(std::string_view method, std::string_view path) const;

  /// Whether `path` (no query) is a nonblocking route for `method` (GET or HEAD).
  bool nonblocking(std::string_view method, std::string_view path) const;
  /// Whether any route has a FastHandler.
  bool has_fast_routes() const { return has_fast_; }

  /// Every (method, pattern) registered, in registration order. HEAD is
  /// implicit for each GET and not listed. The OpenAPI test compares these.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    Access access;
    FastHandler fast;  ///< empty when the route has none
  };
  std::vector<Route> routes_;
  bool has_fast_ = false;
  std::vector<std::string> nonblocking_paths_;  ///< literal GET patterns registered nonblocking
  std::vector<std::string> public_prefixes_;    ///< first segments of public_read routes ("/items")
};

/// Everything around a handler, in that order: request id (request_id.hpp),
/// routing (404/405 + Allow), auth (request_auth.hpp), error mapping, access
/// log and metrics (access_log.hpp). Pure (no Beast): the session calls handle().
class Dispatcher {
 public:
  struct Options {
    std::optional<Secret> api_token;  ///< none = auth disabled; else the bootstrap admin key
    metrics::Registry* metrics = nullptr;  ///< records every request when set
    auth::Authenticator* keys = nullptr;  ///< the api_keys look-up (null: API_TOKEN only)
  };
  Dispatcher(Router router, Options options);

  /// Never throws: every failure becomes a JSON error response.
  Response handle(Request& request, std::chrono::steady_clock::time_point received_at) const;

  /// Whether this method + path needs a token when auth is on (the auth rule
  /// in docs/openapi.json): Router::is_public says no.
  bool requires_auth(std::string_view method, std::string_view path) const {
    return !router_.is_public(method, path);
  }

  /// Whether the request can be handled on the I/O thread: its route is
  /// non-blocking and no token check is involved.
  bool runs_inline(std::string_view method, std::string_view target) const;

  /// The I/O thread's attempt at a request whose path and query are parsed:
  /// for its route's FastHandler, when the route has one, the key needed (if
  /// any) is settled without blocking (API_TOKEN, or a key the KeyStore
  /// holds fresh: Authenticator::try_cached) and the key may use the route,
  /// the answer, with request id, access log and metrics as handle() gives
  /// them. nullopt: nothing was decided or logged; send it to handle() on the
  /// worker pool.
  std::optional<Response> try_fast(Request& request, std::chrono::steady_clock::time_point received_at) const;

  /// The name of the key the request presents when it is known without
  /// waiting (API_TOKEN, or a key the KeyStore remembers valid, fresh or
  /// not); nullopt for no key, an unknown or uncached one, or auth disabled.
  /// The admission gates count a client's share by it (a made-up token
  /// names nobody).
  std::optional<std::string> known_key(const Request& request) const;

  /// The routes served (Router::routes()).
  std::vector<std::pair<std::string, std::string>> routes() const { return router_.routes(); }

 private:
  /// Everything after the handler: HEAD, X-Request-Id, access log, metrics.
  void finish(const Request& request, Response& response, std::string_view route, const std::string& internal_error,
              std::chrono::steady_clock::time_point received_at) const;
  Router router_;
  Options options_;
};

}  // namespace catalog::http
