#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "catalog/db/pool.hpp"
#include "catalog/handlers/routes.hpp"

namespace catalog::handlers {
namespace {

// /health must never wait for PostgreSQL: ALB and ECS checks time out, and a
// load test or many targets hit it thousands of times a second. A background
// thread asks the database every kInterval (each ask bounded by `timeout`:
// pool wait + statement_timeout + libpq connect_timeout) and publishes the
// answer; the handler only reads it, so it runs on the I/O thread.
constexpr std::chrono::milliseconds kInterval{500};

class DatabaseMonitor {
 public:
  DatabaseMonitor(db::Pool& pool, std::chrono::milliseconds timeout)
      : pool_(pool), timeout_(timeout), thread_([this] { run(); }) {}
  ~DatabaseMonitor() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DatabaseMonitor(const DatabaseMonitor&) = delete;
  DatabaseMonitor& operator=(const DatabaseMonitor&) = delete;

  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      healthy_.store(pool_.ping(timeout_), std::memory_order_relaxed);
      lock.lock();
      wake_.wait_for(lock, kInterval, [this] { return stopping_; });
    }
  }

  db::Pool& pool_;
  const std::chrono::milliseconds timeout_;
  std::atomic<bool> healthy_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace

void add_health_routes(http::Router& router, db::Pool& pool, const std::atomic<bool>& not_serving,
                       const std::atomic<bool>& draining, std::chrono::milliseconds timeout) {
  auto monitor = std::make_shared<DatabaseMonitor>(pool, timeout);
  // Three possible answers, written out once: the hottest route builds no JSON.
  const auto handler = [monitor, &not_serving](const http::Request&) {
    const bool database_ok = monitor->healthy();
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
