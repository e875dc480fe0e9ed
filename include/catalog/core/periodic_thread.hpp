#pragma once
// A background thread that calls one task every period until stopped: the
// run heartbeat (etl::RunWatch) and the api-key last_used_at writer
// (auth::KeyStore). stop() wakes the thread at once instead of waiting out
// the period, and joins it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace catalog {

class PeriodicThread {
 public:
  /// What happens when stop() wakes the thread: `skip` ends it at once,
  /// `run_once_more` calls the task a last time first (writes what is pending).
  enum class OnStop { skip, run_once_more };

  PeriodicThread() = default;
  ~PeriodicThread() { stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  /// Starts calling `task` every `period` (first after one period). A
  /// second start() while running does nothing.
  void start(std::chrono::milliseconds period, std::function<void()> task, OnStop on_stop = OnStop::skip) {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this, period, task = std::move(task), on_stop] {
      std::unique_lock lock(mutex_);
      for (;;) {
        const bool stopped = wake_.wait_for(lock, period, [this] { return stopping_; });
        if (stopped && on_stop == OnStop::skip) break;
        lock.unlock();
        task();
        lock.lock();
        if (stopped) break;  // the last run, even when stop() came before the first wait
      }
    });
  }

  /// Wakes the thread and waits for it to end; safe to call twice or
  /// before start().
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  ///< guarded by mutex_
  std::thread thread_;
};

}  // namespace catalog
