#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "catalog/http/router.hpp"
#include "catalog/notify/notify_url.hpp"

namespace catalog::db {
class Pool;
class HealthMonitor;
class ItemsRepository;
class ProductsRepository;
class JobsRepository;
class RunsRepository;
class FeedsRepository;
class ChangesRepository;
class ReadRouter;
class KeysRepository;
}  // namespace catalog::db

namespace catalog::auth {
class KeyStore;
}

namespace catalog::s3 {
class ObjectStore;
}

namespace catalog::etl {
class JobRunner;
}

namespace catalog::metrics {
class Registry;
}

namespace catalog::http {
class ResponseCache;
}

namespace catalog::handlers {

/// GET/HEAD /health (deep): 200 when the monitor last heard PostgreSQL answer,
/// 503 when it did not, and while `not_serving` is set (before migrations, draining).
/// GET/HEAD /health/live (shallow): 200 while the process serves HTTP, 503
/// once `draining` is set; never touches the database.
void add_health_routes(http::Router& router, const db::HealthMonitor& monitor, const std::atomic<bool>& not_serving,
                       const std::atomic<bool>& draining);

/// /items CRUD. GET answers carry an ETag (304 to a matching If-None-Match)
/// and `cache_control` (CACHE_CONTROL) when not empty; list pages are kept in
/// `pages` (when given) and answered from it while the items are unchanged.
void add_item_routes(http::Router& router, db::ItemsRepository& items, const std::string& cache_control = "no-cache",
                     http::ResponseCache* pages = nullptr);

/// What PUT /jobs/{id} checks options.notify against.
struct JobNotifyRules {
  notify::UrlPolicy policy;   ///< NOTIFY_ALLOW_HTTP / NOTIFY_ALLOW_PRIVATE
  bool can_sign = false;      ///< NOTIFY_SECRET is set
};

/// /jobs definitions, POST /jobs/{id}/run (`?wait=true` waits at most
/// `wait_timeout`), GET /jobs/{id}/runs.
void add_job_routes(http::Router& router, db::JobsRepository& jobs, db::RunsRepository& runs,
                    etl::JobRunner& runner, const std::string& raw_bucket, std::chrono::milliseconds wait_timeout,
                    const JobNotifyRules& notify_rules = {});

/// GET /runs (every job, newest first, keyset-paged), GET /runs/{id}, POST /runs/{id}/cancel.
void add_run_routes(http::Router& router, db::RunsRepository& runs);

/// GET /runs/{run_id}/changes (kind filter, keyset cursor; a feeds:<job> key
/// its own job's runs) and GET /products/{source}/{sku}/history (scope read).
void add_change_routes(http::Router& router, db::RunsRepository& runs, db::ChangesRepository& changes);

/// POST /feeds?job={id} (body streamed to S3 at raw/partners/<source>/feeds/<feed_id>/<file name>,
/// then a run of the job on that object), GET /feeds, GET /feeds/{feed_id}.
void add_feed_routes(http::Router& router, db::FeedsRepository& feeds, db::JobsRepository& jobs,
                     db::RunsRepository& runs, etl::JobRunner& runner, s3::ObjectStore& store,
                     const std::string& raw_bucket);

/// What the routes that run jobs on one object need.
struct ObjectRunDeps {
  db::JobsRepository& jobs;
  db::RunsRepository& runs;
  db::FeedsRepository& feeds;
  etl::JobRunner& runner;
  std::string raw_bucket;                ///< S3_RAW_BUCKET: where bare-key job uris live
  metrics::Registry* metrics = nullptr;  ///< counts the runs queued, by trigger
};

/// POST /events/s3 (EventBridge "Object Created": a run of every job that
/// takes the object, on that object; 202 with them, 200 with none) and
/// POST /feeds/{feed_id}/run (`?force=true`: the uploaded feed's object again).
void add_object_run_routes(http::Router& router, const ObjectRunDeps& deps);

/// POST /keys, GET /keys, DELETE /keys/{name} (admin keys only); a revoke
/// drops the key from `store`'s cache at once.
void add_key_routes(http::Router& router, db::KeysRepository& keys, auth::KeyStore& store);

/// GET /products (filters, sort, keyset cursor) and GET /products/{source}/{sku},
/// with ETags, `cache_control` and list pages kept in `pages` as for the items.
void add_product_routes(http::Router& router, db::ProductsRepository& products,
                        const std::string& cache_control = "no-cache", http::ResponseCache* pages = nullptr);

/// The OpenAPI document (docs/openapi.json), embedded at build time.
std::string_view openapi_document() noexcept;

/// GET /openapi.json, GET /docs (Swagger UI rendering it) and GET /docs/assets/{name}
/// (the Swagger UI files, embedded at build time).
void add_openapi_routes(http::Router& router);

/// GET /metrics: Prometheus text from `registry`, pool gauges read at scrape time,
/// and (when given) which pool served the reads and the response cache's figures.
void add_metrics_routes(http::Router& router, const metrics::Registry& registry, db::Pool& pool,
                        const db::ReadRouter* reads = nullptr, const http::ResponseCache* pages = nullptr);

}  // namespace catalog::handlers
