#include <mutex>

#include <nlohmann/json.hpp>

#include "catalog/db/pool.hpp"
#include "catalog/handlers/routes.hpp"

namespace catalog::handlers {
namespace {

// ALB and ECS check every few seconds per task, but a load test or many
// targets can hit /health thousands of times a second: ask PostgreSQL at most
// once per kMaxAge and share the answer. One caller refreshes; the others use
// the previous answer meanwhile instead of queueing behind it.
constexpr std::chrono::milliseconds kMaxAge{500};

class DatabaseProbe {
 public:
  DatabaseProbe(db::Pool& pool, std::chrono::milliseconds timeout) : pool_(pool), timeout_(timeout) {}

  bool healthy() {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return last_.load();  // a refresh is in flight
    const auto now = std::chrono::steady_clock::now();
    if (checked_ && now - checked_at_ < kMaxAge) return last_.load();
    // ping() is bounded by `timeout` (pool wait + statement_timeout + libpq
    // connect_timeout), so an ALB check never hangs on a sick database.
    last_ = pool_.ping(timeout_);
    checked_at_ = std::chrono::steady_clock::now();
    checked_ = true;
    return last_.load();
  }

 private:
  db::Pool& pool_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::atomic<bool> last_{false};
  bool checked_ = false;
  std::chrono::steady_clock::time_point checked_at_;
};

}  // namespace

void add_health_routes(http::Router& router, db::Pool& pool, const std::atomic<bool>& not_serving,
                       std::chrono::milliseconds timeout) {
  auto probe = std::make_shared<DatabaseProbe>(pool, timeout);
  router.add("GET", "/health", [probe, &not_serving](const http::Request&) {
    const bool database_ok = probe->healthy();
    const bool healthy = database_ok && !not_serving.load();
    auto response = http::json_response(healthy ? 200 : 503,
                                        {{"status", healthy ? "healthy" : "unhealthy"},
                                         {"database", database_ok ? "connected" : "unreachable"}});
    response.set_header("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace catalog::handlers
