#include "catalog/db/health_monitor.hpp"
#include "catalog/handlers/routes.hpp"

namespace catalog::handlers {

// /health must never wait for PostgreSQL: the handler only reads what the
// monitor last heard, so it runs on the I/O thread.
void add_health_routes(http::Router& router, const db::HealthMonitor& monitor, const std::atomic<bool>& not_serving,
                       const std::atomic<bool>& draining) {
  // Three possible answers, written out once: the hottest route builds no JSON.
  const auto handler = [&monitor, &not_serving](const http::Request&) {
    const bool database_ok = monitor.healthy();
    const bool healthy = database_ok && !not_serving.load();
    auto response = http::json_text_response(
        healthy ? 200 : 503,
        healthy       ? R"({"database":"connected","status":"healthy"})"
        : database_ok ? R"({"database":"connected","status":"unhealthy"})"
                      : R"({"database":"unreachable","status":"unhealthy"})");
    response.set_header("Cache-Control", "no-store");
    return response;
  };
  router.add("GET", "/health", handler, http::Router::Blocking::nonblocking, http::Access::public_read);

  // /health/live is what the load balancer and the container health check
  // ask. It never looks at the database: during an RDS failover or
  // maintenance every task would fail /health at once, and ECS would replace
  // them all (cancelling running ETL) for a fault no new task can fix. It only
  // says "this process serves HTTP", so it fails once draining starts and the
  // load balancer stops sending new requests here. Not tied to migrations
  // either: a task that starts while its database is down stays alive.
  const auto live = [&draining](const http::Request&) {
    const bool alive = !draining.load();
    auto response = http::json_text_response(alive ? 200 : 503,
                                             alive ? R"({"status":"alive"})" : R"({"status":"draining"})");
    response.set_header("Cache-Control", "no-store");
    return response;
  };
  router.add("GET", "/health/live", live, http::Router::Blocking::nonblocking, http::Access::public_read);
}

}  // namespace catalog::handlers
