#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "catalog/core/secret.hpp"
#include "catalog/db/notifications_repository.hpp"
#include "catalog/notify/webhook.hpp"

namespace catalog::metrics {
class Registry;
}

namespace catalog::notify {

/// The delivery worker: one thread per process that claims due notifications
/// from PostgreSQL and POSTs them, so a slow or dead receiver never holds up a
/// run (runs only queue rows). Retries 5xx/timeouts/connection errors with
/// exponential backoff (retry_base doubling, capped at an hour, ±20% jitter)
/// until give_up_after since the run ended; other answers are final.
class Deliverer {
 public:
  struct Options {
    PostOptions post;
    std::optional<Secret> secret;  ///< NOTIFY_SECRET; without it every delivery fails (and says so)
    std::chrono::milliseconds retry_base{30000};
    std::chrono::milliseconds retry_cap{3600000};
    std::chrono::hours give_up_after{24};
    std::chrono::milliseconds poll_every{1000};
    metrics::Registry* metrics = nullptr;
  };
  /// The JSON body for a run's notification; nullopt when the run is gone.
  using BodyFor = std::function<std::optional<std::string>(const std::string& run_id)>;

  Deliverer(db::NotificationsRepository& queue, BodyFor body_for, Options options);
  ~Deliverer();

  void start();
  /// A run just ended here: look at the queue now rather than at the next poll.
  void wake();
  /// Aborts an attempt in flight (retried later, by any task) and joins.
  void stop();

  /// Delay before attempt `attempts + 1`, before jitter.
  static std::chrono::milliseconds backoff(const Options& options, int attempts);

 private:
  void loop();
  void deliver(const db::ClaimedNotification& n);

  db::NotificationsRepository& queue_;
  BodyFor body_for_;
  Options options_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool wake_pending_ = false;
  std::thread thread_;
};

}  // namespace catalog::notify
