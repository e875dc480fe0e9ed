#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "catalog/core/errors.hpp"
#include "catalog/db/pool.hpp"

#include <pqxx/except>

namespace catalog::db {

/// Picks the pool a read runs on: the replica pool while the replica is up
/// and at most `max_lag` behind, else the primary. A background thread
/// measures the replica's lag every `check_interval`; callers only read an
/// atomic, so choosing a pool never waits. Without a replica pool every read
/// goes to the primary and no thread runs.
class ReadRouter {
 public:
  enum class ReplicaState { not_configured, ok, lagging, down };
  struct Options {
    std::chrono::seconds max_lag{5};
    std::chrono::milliseconds check_interval{500};
  };

  ReadRouter(Pool& primary, Pool* replica, Options options);
  ~ReadRouter();
  ReadRouter(const ReadRouter&) = delete;
  ReadRouter& operator=(const ReadRouter&) = delete;

  /// Runs fn(pqxx::connection&) (a read-only, idempotent read) on the replica
  /// when it is usable, else on the primary. When the replica fails under it
  /// (connection gone, every replica connection busy, or a recovery conflict
  /// cancels the query) the read runs again on the primary, and a failed
  /// connection marks the replica down until the next check. A statement
  /// timeout on the replica is the answer (503), not retried.
  template <typename Fn>
  auto with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  ReplicaState replica_state() const noexcept;
  /// Last measured replay lag; nullopt when unknown (down, not configured).
  std::optional<double> replica_lag_seconds() const noexcept;

  struct Counts {
    std::uint64_t replica = 0, primary = 0;
  };
  /// Reads served by each pool since start.
  Counts counts() const noexcept;
  bool has_replica() const noexcept { return replica_ != nullptr; }

 private:
  bool replica_usable() const noexcept;
  void mark_down(const char* reason) noexcept;
  void run_checks();
  void check_once(std::unique_ptr<pqxx::connection>& conn);
  void publish(ReplicaState state, std::optional<double> lag) noexcept;
  static bool is_recovery_conflict(const pqxx::sql_error& e) noexcept;

  Pool& primary_;
  Pool* replica_;
  const Options options_;
  // steady_clock nanoseconds until which the last measurement vouches for
  // the replica: lag can only grow by the time elapsed since it was measured.
  std::atomic<std::int64_t> usable_until_ns_{0};
  std::atomic<int> state_{static_cast<int>(ReplicaState::not_configured)};  // until the first check
  std::atomic<std::int64_t> lag_ms_{-1};
  std::atomic<std::uint64_t> served_replica_{0};
  std::atomic<std::uint64_t> served_primary_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread checker_;  // last: starts once everything it uses exists
};

template <typename Fn>
auto ReadRouter::with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  if (replica_ != nullptr && replica_usable()) {
    try {
      auto result = replica_->with_connection(fn);
      served_replica_.fetch_add(1, std::memory_order_relaxed);
      return result;
    } catch (const DatabaseUnavailable&) {
      mark_down("a read failed on the replica");
    } catch (const Overloaded&) {
      // Every replica connection busy: the primary may have one free.
    } catch (const pqxx::sql_error& e) {
      if (!is_recovery_conflict(e)) throw;
    }
  }
  served_primary_.fetch_add(1, std::memory_order_relaxed);
  return primary_.with_connection(fn);
}

}  // namespace catalog::db
