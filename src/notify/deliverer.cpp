#include "catalog/notify/deliverer.hpp"

#include <nlohmann/json.hpp>

#include <random>

#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::notify {
namespace {

// Longer than one attempt can take (connect + total timeout), so a live
// worker never sees its row claimed by another task mid-attempt.
std::chrono::seconds lease_for(const PostOptions& post) {
  return std::chrono::duration_cast<std::chrono::seconds>(post.total_timeout) + std::chrono::seconds(30);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Deliverer::Deliverer(db::NotificationsRepository& queue, BodyFor body_for, Options options)
    : queue_(queue), body_for_(std::move(body_for)), options_(std::move(options)) {}

Deliverer::~Deliverer() { stop(); }

void Deliverer::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Deliverer::wake() {
  {
    std::lock_guard lock(mutex_);
    wake_pending_ = true;
  }
  wake_.notify_one();
}

void Deliverer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds Deliverer::backoff(const Options& options, int attempts) {
  auto delay = options.retry_base;
  for (int i = 1; i < attempts && delay < options.retry_cap; ++i) delay *= 2;
  return std::min(delay, options.retry_cap);
}

void Deliverer::loop() {
  while (!stopping_.load()) {
    bool worked = false;
    try {
      if (auto n = queue_.claim_due(lease_for(options_.post))) {
        worked = true;
        deliver(*n);
      }
    } catch (const std::exception& e) {
      log::warn("notify", "notification queue error", {{"error", e.what()}});
    }
    if (!worked) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.poll_every, [this] { return wake_pending_ || stopping_.load(); });
      wake_pending_ = false;
    }
  }
}

void Deliverer::deliver(const db::ClaimedNotification& n) {
  auto count = [this](const char* result) {
    if (options_.metrics != nullptr) options_.metrics->record_notification(result);
  };
  if (!options_.secret) {
    queue_.mark_failed(n.id, 0, "NOTIFY_SECRET is not set on the service, so notifications cannot be signed");
    count("failed");
    return;
  }
  const auto body = body_for_(n.run_id);
  if (!body) {
    queue_.mark_failed(n.id, 0, "the run no longer exists");
    count("failed");
    return;
  }
  auto post = options_.post;
  post.abort = &stopping_;
  const auto attempt = post_webhook(n.url, n.id, signature_header(options_.secret->reveal(), unix_now(), *body), *body, post);
  const nlohmann::json fields = {{"run_id", n.run_id}, {"delivery_id", n.id}, {"attempt", n.attempts},
                              {"http_status", attempt.http_status}, {"error", attempt.error}};
  if (attempt.delivered()) {
    queue_.mark_delivered(n.id, attempt.http_status);
    count("delivered");
    log::info("notify", "notification delivered", fields);
    return;
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto base = backoff(options_, n.attempts);
  const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(
      static_cast<double>(base.count()) * std::uniform_real_distribution<double>(0.8, 1.2)(rng)));
  const bool in_time = n.age + std::chrono::duration_cast<std::chrono::seconds>(delay) < options_.give_up_after;
  if (attempt.retryable && in_time) {
    queue_.retry_later(n.id, attempt.http_status, attempt.error, delay);
    count("retry");
    log::info("notify", "notification will be retried", fields);
  } else {
    const auto error = attempt.retryable ? attempt.error + " (gave up: retried for 24 h)" : attempt.error;
    queue_.mark_failed(n.id, attempt.http_status, error);
    count("failed");
    log::warn("notify", "notification failed", fields);
  }
}

}  // namespace catalog::notify
