#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/db/version_cache.hpp"

namespace catalog::s3 {
class ObjectStore;
}

namespace catalog::metrics {
class Registry;
}

namespace catalog::etl {

class RunWatch;
struct JobOptions;
struct RunResult;

struct RunnerOptions {
  int workers = 2;                                ///< JOB_WORKERS; 0 = this process runs no queued runs
  std::string raw_bucket;                         ///< S3_RAW_BUCKET, for jobs whose uri is a bare key
  std::chrono::milliseconds heartbeat_every{2000};
  std::chrono::seconds stale_after{30};           ///< a running run silent this long is re-queued
  std::chrono::milliseconds poll_every{1000};     ///< queue poll when idle (other tasks enqueue too)
  metrics::Registry* metrics = nullptr;           ///< counts finished runs and their rows when set
  db::VersionCache* versions = nullptr;           ///< told of the versions a run commits when set
  std::vector<std::string> notify_urls;           ///< NOTIFY_URLS: called for every job's runs
  std::function<void()> on_recorded;              ///< a run's outcome is recorded (wakes the notifier)
  int retention_days = 30;                        ///< RUN_RETENTION_DAYS (db/run_retention)
  std::chrono::minutes prune_every{10};           ///< how often worker 0 prunes old runs (first: at start)
};

/// Live progress of a run, for the CLI's progress bar.
struct LiveProgress {
  std::uint64_t bytes = 0, rows = 0, total_bytes = 0;
};

/// Executes queued runs: workers claim them from PostgreSQL (SKIP LOCKED),
/// resolve the S3 object, take the unchanged-source shortcut when allowed,
/// stream the feed through the engine, heartbeat, honour cancel requests and
/// record the outcome. Every process of the service runs one.
class JobRunner {
 public:
  JobRunner(db::Pool& pool, db::JobsRepository& jobs, db::RunsRepository& runs, s3::ObjectStore& store,
            RunnerOptions options);
  ~JobRunner();

  void start();
  /// A run was queued here: wake a worker now instead of at the next poll.
  void notify();
  /// Shutdown, first step: no new claims; running runs are cancelled at once
  /// (their statements interrupted, rolled back) and put back in the queue for
  /// another task. Waits until they are re-queued or `deadline` passes, then
  /// releases every wait_finished() so that it answers with the run's state.
  void begin_stop(std::chrono::steady_clock::time_point deadline);
  /// begin_stop (at once, if not done yet), then joins the workers.
  void stop();

  /// Runs one claimed run to its end under `worker_id` and records it.
  db::RunOutcome execute(const db::Run& run, const std::string& worker_id,
                         const std::function<void(const LiveProgress&)>& on_progress = {});

  /// Blocks until the run has ended, `timeout` passes or shutdown releases
  /// waiters (begin_stop); returns the run as `reader` sees it then. `reader`
  /// is the caller's repository (a request's pool, not the background one).
  std::optional<db::Run> wait_finished(db::RunsRepository& reader, const std::string& run_id,
                                       std::chrono::milliseconds timeout);

  /// A process-unique worker id: host/pid/n.
  static std::string make_worker_id(int n);

 private:
  void worker_loop(int n);
  /// Worker 0's housekeeping: old runs pruned in small batches
  /// (db/run_retention); true when some are left for the next call.
  bool prune_old_runs();
  struct Attempt;
  /// One attempt at `run`: the unchanged-source shortcut or a load, and how
  /// it ended; never throws.
  Attempt attempt_run(const db::Run& run, const std::string& worker_id, RunWatch& watch);
  /// Streams s3://bucket/key (as HEAD saw it: `etag`) through the engine on a
  /// connection `watch` can interrupt.
  RunResult load(const db::Run& run, const std::string& worker_id, const db::Job& job, const JobOptions& options,
                 const std::string& bucket, const std::string& key, const std::string& etag, RunWatch& watch);
  /// Records how the attempt ended (or hands the run back), logs and counts it.
  void record(const db::Run& run, const std::string& worker_id, Attempt& attempt,
              std::chrono::steady_clock::duration elapsed);
  /// A run executing here, as begin_stop reaches it: interrupts its statement.
  struct Active {
    std::function<void()> interrupt;
  };

  db::Pool& pool_;
  db::JobsRepository& jobs_;
  db::RunsRepository& runs_;
  s3::ObjectStore& store_;
  RunnerOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool wake_pending_ = false;  ///< guarded by mutex_: a notify() no worker has taken yet
  std::condition_variable finished_;
  std::uint64_t finished_count_ = 0;  ///< guarded by mutex_: runs finished by this process
  std::vector<Active*> active_;       ///< guarded by mutex_: runs executing in this process
  std::condition_variable idle_;      ///< signalled when active_ shrinks
  bool waiters_released_ = false;     ///< guarded by mutex_: shutdown answers every wait now
  std::vector<std::thread> threads_;
};

}  // namespace catalog::etl
