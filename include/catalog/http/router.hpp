#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/core/secret.hpp"
#include "catalog/http/message.hpp"

namespace catalog::metrics {
class Registry;
}

namespace catalog::http {

using Handler = std::function<Response(const Request&)>;

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
           Blocking blocking = Blocking::may_block);

  struct Match {
    const Handler* handler = nullptr;  ///< null: no route for this method
    std::string pattern;               ///< the matched route, for logs/metrics
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  ///< methods the path accepts (for 405)
  };
  /// Finds the handler; when the path exists under other methods only,
  /// `handler` is null and `allowed` lists them; when nothing matches both are empty.
  /// `path` is still percent-encoded: each segment is decoded after splitting.
  Match match(const std::string& method, const std::string& path) const;

  /// Whether `path` (no query) is a nonblocking route for `method` (GET or HEAD).
  bool nonblocking(const std::string& method, std::string_view path) const;

  /// Every (method, pattern) registered, in registration order. HEAD is
  /// implicit for each GET and not listed. The OpenAPI test compares these.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::vector<std::string> nonblocking_paths_;  ///< literal GET patterns registered nonblocking
};

/// Everything around a handler: request id, auth, routing (404/405 + Allow),
/// error mapping, access log. Pure (no Beast): the session calls handle().
class Dispatcher {
 public:
  struct Options {
    std::optional<Secret> api_token;  ///< none = auth disabled
    metrics::Registry* metrics = nullptr;  ///< records every request when set
  };
  Dispatcher(Router router, Options options);

  /// Never throws: every failure becomes a JSON error response.
  Response handle(Request& request, std::chrono::steady_clock::time_point received_at) const;

  /// Whether this method + path needs a token (the auth rule in docs/openapi.json).
  static bool requires_auth(const std::string& method, const std::string& path);

  /// Whether the request can be handled on the I/O thread: its route is
  /// non-blocking and no token check is involved.
  bool runs_inline(const std::string& method, std::string_view target) const;

  /// The routes served (Router::routes()).
  std::vector<std::pair<std::string, std::string>> routes() const { return router_.routes(); }

 private:
  bool authorized(const Request& request) const;
  Router router_;
  Options options_;
};

/// A request id to echo (a client's, when sane) or a fresh random one.
std::string choose_request_id(std::optional<std::string_view> client_value);

/// Constant-time comparison of a presented token with the configured one.
bool token_matches(std::string_view presented, const Secret& expected);

}  // namespace catalog::http
