#include "catalog/app/app.hpp"

#include <condition_variable>
#include <mutex>

#include <pqxx/pqxx>

#include "catalog/auth/key_store.hpp"
#include "catalog/core/clock.hpp"
#include "catalog/db/changes_repository.hpp"
#include "catalog/db/feeds_repository.hpp"
#include "catalog/db/health_monitor.hpp"
#include "catalog/db/items_repository.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/db/products_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/db/read_router.hpp"
#include "catalog/db/version_cache.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/db/notifications_repository.hpp"
#include "catalog/notify/deliverer.hpp"
#include "catalog/notify/targets.hpp"
#include "catalog/http/response_cache.hpp"
#include "catalog/http/router.hpp"
#include "catalog/http/server.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::app {
namespace {

constexpr std::chrono::milliseconds kHealthTimeout{1500};
// Queue statements (claim, heartbeat, finish) are tiny; one that takes this
// long is stuck behind a lock and is better retried than waited for.
constexpr std::chrono::milliseconds kBackgroundStatementTimeout{15000};

// Request traffic: bounded wait for a connection, DB_STATEMENT_TIMEOUT on
// every statement.
db::Pool::Options request_pool_options(const config::Config& c) {
  db::Pool::Options o{c.database_dsn, static_cast<std::size_t>(c.db_pool_size)};
  o.acquire_timeout = c.db_acquire_timeout;
  o.statement_timeout = c.db_statement_timeout;
  return o;
}

// Heartbeats, the health monitor and the run queue: their own connections,
// so request traffic that holds every request connection cannot starve them.
db::Pool::Options background_pool_options(const config::Config& c) {
  db::Pool::Options o{c.database_dsn, static_cast<std::size_t>(c.db_background_pool_size)};
  o.statement_timeout = kBackgroundStatementTimeout;
  return o;
}

etl::RunnerOptions runner_options(const config::Config& c, metrics::Registry& metrics, db::VersionCache& versions) {
  etl::RunnerOptions o;
  o.metrics = &metrics;
  o.versions = &versions;
  o.workers = c.job_workers;
  o.raw_bucket = c.s3_raw_bucket;
  o.stale_after = c.run_stale_after;
  o.retention_days = c.run_retention_days;
  o.notify_urls = c.notify_urls;
  return o;
}

notify::Deliverer::Options deliverer_options(const config::Config& c, metrics::Registry& metrics) {
  notify::Deliverer::Options o;
  o.post.policy = c.notify_policy;
  o.secret = c.notify_secret;
  o.retry_base = c.notify_retry_base;
  o.metrics = &metrics;
  return o;
}

http::Server::Options server_options(const config::Config& c, metrics::Registry& metrics) {
  http::Server::Options o{c.bind_address, c.port, c.http_threads, std::max(4, c.db_pool_size), c.max_body_bytes,
                          16 * 1024, c.read_timeout, c.idle_timeout, c.max_feed_bytes};
  o.body_timeout = c.body_timeout;
  o.feed_body_timeout = c.feed_body_timeout;
  o.max_connections = c.max_connections;
  o.max_buffered_body_bytes = c.max_buffered_body_bytes;
  o.worker_queue_limit = c.worker_queue_limit;
  o.expensive_workers = c.expensive_workers;
  o.upload_workers = c.upload_workers;
  o.client_slots = c.admission_client_slots;
  o.trust_forwarded_for = c.trust_forwarded_for;
  o.expensive_queue_limit = c.expensive_queue_limit;
  o.admission_max_wait = c.admission_max_wait;
  o.metrics = &metrics;
  return o;
}

// The replica serves request traffic too: the request pool's size and
// timeouts, its own connections.
std::unique_ptr<db::Pool> replica_pool(const config::Config& c) {
  if (!c.database_read_dsn) return nullptr;
  auto o = request_pool_options(c);
  o.dsn = *c.database_read_dsn;
  return std::make_unique<db::Pool>(std::move(o));
}

}  // namespace

struct App::Impl {
  Impl(config::Config c, const config::EnvLookup& env)
      : config(std::move(c)),
        pool(request_pool_options(config)),
        background_pool(background_pool_options(config)),
        read_pool(replica_pool(config)),
        health(background_pool, kHealthTimeout),
        reads(pool, read_pool.get(), db::ReadRouter::Options{config.read_max_lag}),
        versions(db::VersionCache::Options{pool.dsn()}),
        pages(config.response_cache_bytes),
        items(pool, reads, &versions),
        jobs(pool, notify::run_end_notices(config.notify_urls, [this] { deliverer.wake(); })),
        runs(pool, notify::run_end_notices(config.notify_urls, [this] { deliverer.wake(); })),
        products(pool, reads, &versions),
        feeds(pool),
        changes(pool),
        queue_jobs(background_pool),
        queue_runs(background_pool, notify::run_end_notices(config.notify_urls, [this] { deliverer.wake(); })),
        keys(pool),
        key_store(keys, auth::KeyStore::Options{config.api_key_cache_ttl, 10000,
                                                [this] { return versions.live_epoch(); }}),
        credentials(s3::default_credentials_chain(env, clock)),
        store(config.s3, credentials, clock),
        runner(background_pool, queue_jobs, queue_runs, store, with_notifier(runner_options(config, metrics, versions))),
        notifications(background_pool),
        notify_runs(background_pool),
        deliverer(notifications, [this](const std::string& run_id) { return notification_body(run_id); },
                  deliverer_options(config, metrics)),
        dispatcher(build_router(),
                   http::Dispatcher::Options{config.auth_disabled ? std::nullopt : config.api_token, &metrics,
                                              &key_store}),
        server(server_options(config, metrics), dispatcher) {
    // Revocations made on other tasks or with the CLI reach this task's key
    // cache over the version listener's connection (migration 13).
    versions.subscribe(db::kApiKeysChannel, [this](const std::string& name) { key_store.invalidate(name); });
  }

  etl::RunnerOptions with_notifier(etl::RunnerOptions o) {
    o.on_recorded = [this] { deliverer.wake(); };
    return o;
  }

  // {"event":"run.finished","run":{…as GET /runs/{id} shows it…}}, without
  // the run's own notification states (they change with every attempt).
  std::optional<std::string> notification_body(const std::string& run_id) {
    auto run = notify_runs.find(run_id);
    if (!run) return std::nullopt;
    auto json = handlers::run_to_json(*run);
    json.erase("notifications");
    return nlohmann::json{{"event", "run.finished"}, {"run", std::move(json)}}.dump();
  }

  http::Router build_router() {
    http::Router router;
    handlers::add_health_routes(router, health, not_serving, stopping);
    handlers::add_item_routes(router, items, config.cache_control, &pages);
    handlers::add_product_routes(router, products, config.cache_control, &pages);
    handlers::add_job_routes(router, jobs, runs, runner, config.s3_raw_bucket, config.wait_timeout,
                             handlers::JobNotifyRules{config.notify_policy, config.notify_secret.has_value()});
    handlers::add_run_routes(router, runs);
    handlers::add_change_routes(router, runs, changes);
    handlers::add_feed_routes(router, feeds, jobs, runs, runner, store, config.s3_raw_bucket);
    handlers::add_object_run_routes(router, {jobs, runs, feeds, runner, config.s3_raw_bucket, &metrics});
    handlers::add_openapi_routes(router);
    handlers::add_metrics_routes(router, metrics, pool, &reads, &pages);
    handlers::add_key_routes(router, keys, key_store);
    return router;
  }

  // Applies migrations, retrying while the database is unreachable, so a task
  // that starts before its database still comes up and turns healthy.
  void migrate_until_done() {
    auto backoff = std::chrono::milliseconds(250);
    while (!stopping.load()) {
      try {
        pqxx::connection conn(pool.dsn());
        db::migrate(conn);
        // /health's answer is fresh before anyone is told the app is ready:
        // its monitor's first ask may still be queued behind this start-up.
        health.check_now();
        {
          std::lock_guard lock(mutex);
          ready = true;
        }
        not_serving.store(false);
        ready_cv.notify_all();
        runner.start();
        deliverer.start();
        key_store.start();
        versions.start();  // needs migration 9's trigger
        log::info("app", "database schema is up to date");
        return;
      } catch (const std::exception& e) {
        log::warn("app", "migrations not applied yet, retrying", {{"error", e.what()}, {"retry_in_ms", backoff.count()}});
      }
      std::unique_lock lock(mutex);
      ready_cv.wait_for(lock, backoff, [this] { return stopping.load(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  config::Config config;
  std::atomic<bool> not_serving{true};  // true until migrated, and again while draining
  std::atomic<bool> stopping{false};     // set when shutdown starts: /health/live answers 503
  metrics::Registry metrics;  // before runner and dispatcher, which record into it
  db::Pool pool;             // request traffic (DB_POOL_SIZE)
  db::Pool background_pool;  // heartbeats, health monitor, run queue (DB_BACKGROUND_POOL_SIZE)
  std::unique_ptr<db::Pool> read_pool;  // DATABASE_READ_URL, else null
  db::HealthMonitor health;             // GET /health's view of the primary
  db::ReadRouter reads;                 // GET /products*, /items*: replica or primary
  db::VersionCache versions;            // catalog versions in memory (LISTEN on the primary)
  http::ResponseCache pages;            // list pages at those versions (RESPONSE_CACHE_BYTES)
  db::ItemsRepository items;
  db::JobsRepository jobs;
  db::RunsRepository runs;
  db::ProductsRepository products;
  db::FeedsRepository feeds;
  db::ChangesRepository changes;  // GET /runs/{id}/changes, product history
  db::JobsRepository queue_jobs;  // the runner's, on the background pool
  db::RunsRepository queue_runs;
  db::KeysRepository keys;
  auth::KeyStore key_store;  // before dispatcher, which authenticates through it
  SystemClock clock;
  std::shared_ptr<s3::CredentialsChain> credentials;
  s3::CurlS3Client store;
  etl::JobRunner runner;
  db::NotificationsRepository notifications;  // the webhook queue, on the background pool
  db::RunsRepository notify_runs;             // reads the run a webhook describes
  notify::Deliverer deliverer;
  http::Dispatcher dispatcher;
  http::Server server;
  std::thread migrator;
  mutable std::mutex mutex;
  mutable std::condition_variable ready_cv;
  bool ready = false;
  bool shut_down = false;
};

App::App(config::Config config, const config::EnvLookup& env)
    : impl_(std::make_unique<Impl>(std::move(config), env)) {}

App::~App() { shutdown(std::chrono::steady_clock::now()); }

std::uint16_t App::start() {
  const auto port = impl_->server.start();
  impl_->migrator = std::thread([this] { impl_->migrate_until_done(); });
  log::info("app", "listening", {{"address", impl_->config.bind_address}, {"port", port},
                                 {"auth", impl_->config.auth_disabled ? "disabled" : "keys"}});
  return port;
}

bool App::wait_ready(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->ready_cv.wait_for(lock, timeout, [this] { return impl_->ready; });
}

std::vector<std::pair<std::string, std::string>> App::routes() const { return impl_->dispatcher.routes(); }

bool App::requires_auth(const std::string& method, const std::string& path) const {
  return impl_->dispatcher.requires_auth(method, path);
}

void App::shutdown(std::chrono::steady_clock::time_point deadline) {
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  const auto started = std::chrono::steady_clock::now();
  // 1. /health → 503, no new connections, idle keep-alive connections closed.
  impl_->not_serving.store(true);
  impl_->stopping.store(true);
  impl_->ready_cv.notify_all();
  impl_->server.begin_drain();
  // 2. Running ETL is cancelled at once (rolled back) and re-queued for
  //    another task; then ?wait=true requests are answered with the run's
  //    state (202). Most of the budget stays for the requests that follow.
  const auto runs_deadline = started + (std::max(deadline, started) - started) * 3 / 4;
  impl_->runner.begin_stop(runs_deadline);
  // 3. Other requests in flight finish (statement_timeout bounds their
  //    database work) until the deadline.
  const bool drained = impl_->server.wait_drained(deadline);
  if (!drained) {
    log::warn("app", "shutdown deadline reached with connections open",
              {{"open_connections", impl_->server.open_connections()}});
  }
  impl_->server.stop();
  if (impl_->migrator.joinable()) impl_->migrator.join();
  impl_->runner.stop();
  impl_->deliverer.stop();
  impl_->key_store.stop();
  impl_->versions.stop();
}

}  // namespace catalog::app
