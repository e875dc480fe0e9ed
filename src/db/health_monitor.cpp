#include "catalog/db/health_monitor.hpp"

#include "catalog/db/pool.hpp"

namespace catalog::db {

HealthMonitor::HealthMonitor(Pool& pool, std::chrono::milliseconds timeout, std::chrono::milliseconds interval)
    : pool_(pool), timeout_(timeout), interval_(interval), thread_([this] { run(); }) {}

HealthMonitor::~HealthMonitor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool HealthMonitor::check_now() {
  const bool ok = pool_.ping(timeout_);
  healthy_.store(ok, std::memory_order_relaxed);
  return ok;
}

void HealthMonitor::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    check_now();
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace catalog::db
