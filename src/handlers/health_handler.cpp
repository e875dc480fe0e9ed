#include <nlohmann/json.hpp>

#include "catalog/db/pool.hpp"
#include "catalog/handlers/routes.hpp"

namespace catalog::handlers {

void add_health_routes(http::Router& router, db::Pool& pool, const std::atomic<bool>& not_serving,
                       std::chrono::milliseconds timeout) {
  router.add("GET", "/health", [&pool, &not_serving, timeout](const http::Request&) {
    // ping() is bounded by `timeout` (pool wait + statement_timeout + libpq
    // connect_timeout), so an ALB check never hangs on a sick database.
    const bool database_ok = pool.ping(timeout);
    const bool healthy = database_ok && !not_serving.load();
    auto response = http::json_response(healthy ? 200 : 503,
                                        {{"status", healthy ? "healthy" : "unhealthy"},
                                         {"database", database_ok ? "connected" : "unreachable"}});
    response.set_header("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace catalog::handlers
