#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/db/pool.hpp"

namespace catalog::db {

struct RunRejectRow {
  std::uint64_t line = 0;
  std::string reason;
  std::string raw;
};

struct RunCounts {
  std::uint64_t read = 0, inserted = 0, updated = 0, unchanged = 0, rejected = 0, deleted = 0;
};

/// One webhook owed for a run (run_notifications): where, and how it went.
struct RunNotification {
  std::string url;
  std::string status;  ///< pending, sending, delivered, failed
  int attempts = 0;
  std::optional<std::string> last_error;
};

/// One row of job_runs: the durable queue entry and the run's history.
struct Run {
  std::string id;
  std::string job_id;
  std::string status;  ///< queued, running, succeeded, failed, skipped, cancelled
  bool force = false;
  std::optional<std::string> source_uri;
  std::optional<std::string> source_etag;
  std::optional<std::int64_t> source_size;
  nlohmann::json options = nlohmann::json::object();
  std::uint64_t bytes_read = 0;
  std::uint64_t rows_read = 0;
  RunCounts counts;
  std::optional<std::string> error;
  bool cancel_requested = false;
  std::optional<std::string> worker_id;
  std::string queued_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::vector<RunRejectRow> rejects;  ///< filled by find() only
  std::vector<RunNotification> notifications;  ///< filled by find() only
  std::optional<std::string> triggered_by;  ///< key name, "api_token" or "cli"; null when unknown
  bool dry_run = false;                     ///< a preview: writes nothing to products
  bool first_load = false;                  ///< loaded a source with no rows: its change log is only the count
  std::optional<std::string> delete_guard;  ///< a dry run past max_deletes: what the guard would say

  bool finished() const { return status != "queued" && status != "running"; }
};

/// Where a run ended and what it did.
struct RunOutcome {
  std::string status;  ///< succeeded, failed, skipped, cancelled
  RunCounts counts;
  std::uint64_t bytes = 0;  ///< bytes read from the source
  std::optional<std::string> error;
  std::vector<RunRejectRow> rejects;
  /// Webhooks to queue with the outcome, in its transaction (so a crash never
  /// loses one, and a run recorded twice never queues two).
  std::vector<std::string> notify_urls;
  bool first_load = false;
  std::optional<std::string> delete_guard;
};

/// Who hears of the runs a RunsRepository ends by itself, without a worker's
/// finish(): a queued run cancelled (POST /runs/{id}/cancel), a dead worker's
/// run ended by the stale-heartbeat sweep, a run whose cancel was requested
/// handed back by a stopping worker. Their webhooks are queued in the ending
/// transaction, like finish()'s (notify::run_end_notices builds this).
struct RunEndNotices {
  /// The webhook URLs `ended` (as recorded, finished) owes; unset: none.
  std::function<std::vector<std::string>(const Run& ended)> targets;
  /// Called after a transaction that queued any has committed.
  std::function<void()> queued;
};

/// GET /runs: runs across jobs, newest first (queued_at DESC, id DESC),
/// keyset-paged. Every present filter narrows the list.
struct RunListQuery {
  std::optional<std::string> status;  ///< one of Run::status's values, already validated
  std::optional<std::string> job_id;
  std::optional<std::string> since;  ///< RFC 3339, already validated: queued at or after it
  struct After {
    std::string queued_at;  ///< RFC 3339 with microseconds, as Run::queued_at
    std::string id;
  };
  std::optional<After> after;  ///< continue strictly after this run
  std::size_t limit = 100;
};

/// The run queue in PostgreSQL. At most one queued-or-running run per job is
/// enforced by a unique partial index; workers claim with SKIP LOCKED.
class RunsRepository {
 public:
  explicit RunsRepository(Pool& pool, RunEndNotices notices = {}) : pool_(pool), notices_(std::move(notices)) {}

  /// Queues a run of `job_id` (snapshotting its options). `source_uri` pins
  /// the exact object (feed uploads). With `claim_as` the run is created
  /// already running for that worker (the foreground `run-job`).
  /// `triggered_by` names who asked (a key name, "api_token", "cli").
  /// `dry_run`: a preview that writes nothing to products.
  /// Throws NotFound for an unknown job, Conflict naming the active run.
  Run enqueue(const std::string& job_id, bool force, const std::optional<std::string>& source_uri,
              const std::optional<std::string>& claim_as = std::nullopt,
              const std::optional<std::string>& triggered_by = std::nullopt, bool dry_run = false);

  std::optional<Run> find(const std::string& run_id);
  std::vector<Run> list_for_job(const std::string& job_id, std::size_t limit);

  /// Takes the oldest queued run for `worker_id`, if any.
  std::optional<Run> claim_next(const std::string& worker_id);

  /// Records the resolved source object and the products source it loads into.
  void set_source(const std::string& run_id, const std::string& uri, const std::string& etag, std::int64_t size,
                  const std::string& products_source);

  /// The counts of a running run whose rows are committed (it still builds
  /// indexes): GET /runs/{id} shows them before the run ends.
  void record_counts(const std::string& run_id, const std::string& worker_id, const RunCounts& counts);

  /// Heartbeat with live progress; returns whether a cancel was requested.
  /// Returns false and does nothing when the run is no longer ours.
  bool heartbeat(const std::string& run_id, const std::string& worker_id, std::uint64_t bytes,
                 std::uint64_t rows, bool& cancel_requested);

  /// Final state (only if the run is still running under `worker_id`), and
  /// its outcome's notifications queued in the same transaction.
  void finish(const std::string& run_id, const std::string& worker_id, const RunOutcome& outcome);

  /// Puts a running run back in the queue (shutdown of its worker); a run
  /// whose cancel was requested ends cancelled instead (and notifies).
  void requeue(const std::string& run_id, const std::string& worker_id);

  /// Running runs whose heartbeat is older than `stale_after` (their worker
  /// died): re-queued, or ended cancelled when a cancel was requested; one
  /// that had committed its rows (index phase) ends with its recorded counts
  /// (failed, or cancelled) instead, since a re-run would record zeros.
  /// Every run this ends queues the webhooks it owes (RunEndNotices).
  struct StaleRuns {
    std::size_t requeued = 0;   ///< back in the queue for another worker
    std::size_t cancelled = 0;  ///< ended cancelled: a cancel had been asked for
    std::size_t finished = 0;   ///< ended in the index phase, with their counts
  };
  StaleRuns handle_stale(std::chrono::seconds stale_after);

  /// Cancels a queued run at once (queueing the webhooks it owes; the run
  /// returned lists them); flags a running one for its worker, whose finish()
  /// notifies. Throws NotFound, or Conflict when the run has already ended.
  Run request_cancel(const std::string& run_id);

  /// ETag and options of the job's last succeeded run that was not a dry
  /// run (the unchanged-source shortcut).
  struct LastSuccess {
    std::string etag;
    std::string options;
    std::string source_uri;
    std::optional<std::string> products_source;  ///< the job's `source` it loaded into
  };
  std::optional<LastSuccess> last_success(const std::string& job_id);

  /// At most `query.limit` runs of any job, newest first (rejects not loaded).
  std::vector<Run> list(const RunListQuery& query);

 private:
  Pool& pool_;
  RunEndNotices notices_;
};

}  // namespace catalog::db
