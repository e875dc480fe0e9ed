#include "catalog/app/app.hpp"

#include <condition_variable>
#include <mutex>

#include <pqxx/pqxx>

#include "catalog/core/clock.hpp"
#include "catalog/db/feeds_repository.hpp"
#include "catalog/db/items_repository.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/products_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/router.hpp"
#include "catalog/http/server.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::app {
namespace {

constexpr std::chrono::milliseconds kHealthTimeout{1500};

etl::RunnerOptions runner_options(const config::Config& c, metrics::Registry& metrics) {
  etl::RunnerOptions o;
  o.metrics = &metrics;
  o.workers = c.job_workers;
  o.raw_bucket = c.s3_raw_bucket;
  o.stale_after = c.run_stale_after;
  return o;
}

}  // namespace

struct App::Impl {
  Impl(config::Config c, const config::EnvLookup& env)
      : config(std::move(c)),
        pool(db::Pool::Options{config.database_dsn, static_cast<std::size_t>(config.db_pool_size)}),
        items(pool),
        jobs(pool),
        runs(pool),
        products(pool),
        feeds(pool),
        credentials(s3::default_credentials_chain(env, clock)),
        store(config.s3, credentials, clock),
        runner(pool, jobs, runs, store, runner_options(config, metrics)),
        dispatcher(build_router(),
                   http::Dispatcher::Options{config.auth_disabled ? std::nullopt : config.api_token, &metrics}),
        server(http::Server::Options{config.bind_address, config.port, config.http_threads,
                                     std::max(4, config.db_pool_size), config.max_body_bytes, 16 * 1024,
                                     config.read_timeout, config.idle_timeout, config.max_feed_bytes},
               dispatcher) {}

  http::Router build_router() {
    http::Router router;
    handlers::add_health_routes(router, pool, not_serving, kHealthTimeout);
    handlers::add_item_routes(router, items);
    handlers::add_product_routes(router, products);
    handlers::add_job_routes(router, jobs, runs, runner, config.s3_raw_bucket);
    handlers::add_run_routes(router, runs);
    handlers::add_feed_routes(router, feeds, jobs, runs, runner, store, config.s3_raw_bucket);
    handlers::add_openapi_routes(router);
    handlers::add_metrics_routes(router, metrics, pool);
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
        {
          std::lock_guard lock(mutex);
          ready = true;
        }
        not_serving.store(false);
        ready_cv.notify_all();
        runner.start();
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
  std::atomic<bool> stopping{false};
  metrics::Registry metrics;  // before runner and dispatcher, which record into it
  db::Pool pool;
  db::ItemsRepository items;
  db::JobsRepository jobs;
  db::RunsRepository runs;
  db::ProductsRepository products;
  db::FeedsRepository feeds;
  SystemClock clock;
  std::shared_ptr<s3::CredentialsChain> credentials;
  s3::CurlS3Client store;
  etl::JobRunner runner;
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
                                 {"auth", impl_->config.auth_disabled ? "disabled" : "token"}});
  return port;
}

bool App::wait_ready(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->ready_cv.wait_for(lock, timeout, [this] { return impl_->ready; });
}

std::vector<std::pair<std::string, std::string>> App::routes() const { return impl_->dispatcher.routes(); }

void App::shutdown(std::chrono::steady_clock::time_point deadline) {
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->not_serving.store(true);
  impl_->stopping.store(true);
  impl_->ready_cv.notify_all();
  impl_->server.begin_drain();
  const bool drained = impl_->server.wait_drained(deadline);
  if (!drained) {
    log::warn("app", "shutdown deadline reached with connections open",
              {{"open_connections", impl_->server.open_connections()}});
  }
  impl_->server.stop();
  if (impl_->migrator.joinable()) impl_->migrator.join();
  // Running ETL is cancelled (rolled back) and re-queued for another task.
  impl_->runner.stop();
}

}  // namespace catalog::app
