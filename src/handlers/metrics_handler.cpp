// GET /metrics: the registry's counters and histograms plus the pool and
// response-cache gauges, read at scrape time, in the Prometheus text
// exposition format.
#include "catalog/db/pool.hpp"
#include "catalog/db/read_router.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/response_cache.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::handlers {
namespace {

// Which pool served the list/detail reads, and the replica's state as the
// read path sees it (the replica gauges only when DATABASE_READ_URL is set).
std::string render_reads(const db::ReadRouter& reads) {
  const auto counts = reads.counts();
  std::string out =
      "# HELP catalog_db_read_requests_total Reads of GET /products* and /items* by the pool that served them.\n"
      "# TYPE catalog_db_read_requests_total counter\n";
  out += "catalog_db_read_requests_total{pool=\"replica\"} " + std::to_string(counts.replica) + "\n";
  out += "catalog_db_read_requests_total{pool=\"primary\"} " + std::to_string(counts.primary) + "\n";
  if (!reads.has_replica()) return out;
  const bool usable = reads.replica_state() == db::ReadRouter::ReplicaState::ok;
  out +=
      "# HELP catalog_db_replica_usable 1 while reads go to the read replica (up, within READ_MAX_LAG), else 0.\n"
      "# TYPE catalog_db_replica_usable gauge\n";
  out += std::string("catalog_db_replica_usable ") + (usable ? "1" : "0") + "\n";
  if (const auto lag = reads.replica_lag_seconds()) {
    out +=
        "# HELP catalog_db_replica_lag_seconds Replay lag of the read replica at its last check.\n"
        "# TYPE catalog_db_replica_lag_seconds gauge\n";
    out += "catalog_db_replica_lag_seconds " + metrics::format_value(*lag) + "\n";
  }
  return out;
}

}  // namespace

void add_metrics_routes(http::Router& router, const metrics::Registry& registry, db::Pool& pool,
                        const db::ReadRouter* reads, const http::ResponseCache* pages) {
  router.add("GET", "/metrics", [&registry, &pool, reads, pages](const http::Request&) {
    const auto stats = pool.stats();
    http::Response response;
    response.status = 200;
    response.body = registry.render(metrics::PoolGauges{stats.open, stats.idle, stats.in_use, stats.waiting});
    if (reads != nullptr) response.body += render_reads(*reads);
    if (pages != nullptr) response.body += pages->render_metrics();
    response.set_header("Content-Type", metrics::kContentType);
    response.set_header("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace catalog::handlers
