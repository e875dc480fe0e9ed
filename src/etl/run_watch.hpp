#pragma once
// A run's watch while it executes (private to src/etl): the heartbeat on its
// own connection (the engine's is busy in COPY), which carries live progress
// to GET /runs/{id} and brings back cancel requests, and the engine's
// connection, so that a cancel or a shutdown can interrupt the statement the
// engine is in (it only checks for cancellation between rows and statements).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include "catalog/core/periodic_thread.hpp"
#include <string>

#include <pqxx/pqxx>

#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"

namespace catalog::etl {

class RunWatch {
 public:
  /// `stopping` is the runner's shutdown flag: a stopping runner interrupts too.
  RunWatch(db::RunsRepository& runs, const db::Run& run, std::string worker_id, std::chrono::milliseconds every,
           const std::atomic<bool>& stopping, std::function<void(const LiveProgress&)> on_progress);
  ~RunWatch();
  RunWatch(const RunWatch&) = delete;
  RunWatch& operator=(const RunWatch&) = delete;

  /// Beats every `every` until stop_heartbeat(): records progress, reads the
  /// cancel request, interrupts the engine's statement on cancel or shutdown.
  void start_heartbeat();
  void stop_heartbeat();

  /// Asks the queue once now (a cancel that raced the claim, or arrived
  /// before the first beat); throws RunCancelled on a cancel or a shutdown.
  void check_cancel();
  /// A cancel was requested (not a shutdown).
  bool cancel_requested() const { return cancel_.load(); }
  /// What the engine polls between rows: a cancel or a shutdown.
  bool should_stop() const { return cancel_.load() || stopping_.load(); }

  /// Interrupts the engine's current statement, once.
  void interrupt_statement();
  /// The engine's error came from interrupt_statement(): a cancel, not a failure.
  bool interrupted() const { return interrupted_.load(); }

  /// Registers the engine's connection while the guard lives.
  class Attached {
   public:
    explicit Attached(RunWatch& watch) : watch_(watch) {}
    ~Attached();
    Attached(const Attached&) = delete;
    Attached& operator=(const Attached&) = delete;

   private:
    RunWatch& watch_;
  };
  [[nodiscard]] Attached attach(pqxx::connection& engine);

  std::atomic<std::uint64_t> bytes{0};  ///< read from S3 so far
  std::atomic<std::uint64_t> rows{0};   ///< parsed so far
  std::atomic<std::uint64_t> total{0};  ///< the object's size

 private:
  void beat();

  db::RunsRepository& runs_;
  const db::Run& run_;
  const std::string worker_id_;
  const std::chrono::milliseconds every_;
  const std::atomic<bool>& stopping_;
  const std::function<void(const LiveProgress&)> on_progress_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> interrupted_{false};
  std::mutex conn_mutex_;
  pqxx::connection* engine_ = nullptr;  ///< guarded by conn_mutex_
  PeriodicThread heartbeat_;
};

}  // namespace catalog::etl
