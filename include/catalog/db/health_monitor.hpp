#pragma once
// Whether PostgreSQL answers, known without asking it on the request path:
// GET /health reads this (ALB and ECS checks time out, and many targets hit
// it thousands of times a second). A background thread asks every interval,
// each ask bounded by `timeout` (pool wait + statement_timeout + libpq
// connect_timeout).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace catalog::db {

class Pool;

class HealthMonitor {
 public:
  HealthMonitor(Pool& pool, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// The last answer; false until the first ask has returned.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  /// Asks now, on the caller's thread, and publishes the answer. The app
  /// calls it before it says it is ready, so /health never answers
  /// "unreachable" for a database it has just migrated.
  bool check_now();

 private:
  void run();

  Pool& pool_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> healthy_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace catalog::db
