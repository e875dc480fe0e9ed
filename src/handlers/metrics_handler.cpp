// GET /metrics: the registry's counters and histograms plus the pool gauges,
// read at scrape time, in the Prometheus text exposition format.
#include "catalog/db/pool.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::handlers {

void add_metrics_routes(http::Router& router, const metrics::Registry& registry, db::Pool& pool) {
  router.add("GET", "/metrics", [&registry, &pool](const http::Request&) {
    const auto stats = pool.stats();
    http::Response response;
    response.status = 200;
    response.body = registry.render(metrics::PoolGauges{stats.open, stats.idle, stats.in_use, stats.waiting});
    response.set_header("Content-Type", metrics::kContentType);
    response.set_header("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace catalog::handlers
