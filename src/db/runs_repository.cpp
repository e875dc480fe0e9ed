#include "catalog/db/runs_repository.hpp"

#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "db/row_reader.hpp"
#include "db/run_rows.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

const std::string kSelect = "SELECT " + run_columns() + " FROM job_runs";

// The job row is locked first (FOR UPDATE, its own statement): enqueues of
// one job take turns, so the "nothing active" check below sees every run
// queued before it, and a DELETE /jobs/{id} either finishes first (no job
// found) or waits for this run. A run pinned to an object (a feed, an S3
// event) queues behind the job's others; a plain trigger needs the job idle.
constexpr const char* kLockJob = "SELECT id FROM jobs WHERE id = $1 FOR UPDATE";
const std::string kInsert =
    "INSERT INTO job_runs (id, job_id, status, force, source_uri, options, worker_id, started_at, heartbeat_at, "
    "triggered_by, pinned, dry_run) "
    "SELECT gen_random_uuid(), job.id, CASE WHEN $4::text IS NULL THEN 'queued' ELSE 'running' END, $2, $3, "
    "job.options, $4, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END, "
    "CASE WHEN $4::text IS NULL THEN NULL ELSE now() END, $5, $3::text IS NOT NULL, $6 FROM jobs AS job "
    "WHERE job.id = $1 AND ($3::text IS NOT NULL OR NOT EXISTS "
    "(SELECT 1 FROM job_runs WHERE job_id = $1 AND status IN ('queued', 'running'))) RETURNING id::text";
constexpr const char* kActiveRun =
    "SELECT id::text, status FROM job_runs WHERE job_id = $1 AND status IN ('queued', 'running') "
    "ORDER BY status = 'running' DESC, queued_at LIMIT 1";
const std::string kSelectOne = kSelect + " WHERE id = $1";
// A cancel waits for a claim in progress to commit, then sees `running`.
// NO KEY UPDATE: a running run's transaction may hold KEY SHARE on its own
// row (a foreign key to job_runs checked by its writes; run_changes had one
// until migration 18), which FOR UPDATE would wait for, so a cancel would
// wait for the very run it is meant to stop.
const std::string kSelectOneForUpdate = kSelect + " WHERE id = $1 FOR NO KEY UPDATE";
const std::string kSelectForJob = kSelect + " WHERE job_id = $1 ORDER BY queued_at DESC, id DESC LIMIT $2";
constexpr const char* kSelectRejects = "SELECT line, reason, coalesce(raw, '') FROM run_rejects WHERE run_id = $1 ORDER BY line";
// The oldest queued run of a job with nothing running: one run per job at a
// time, a job's queued runs in the order they arrived. A run a concurrent
// claim holds is still `queued` in this snapshot, so its job's later runs
// are not taken meanwhile; job_runs_one_running_idx is the backstop.
constexpr const char* kClaim =
    "UPDATE job_runs SET status = 'running', worker_id = $1, started_at = now(), heartbeat_at = now(), phase = NULL "
    "WHERE id = (SELECT q.id FROM job_runs AS q WHERE q.status = 'queued' "
    "AND NOT EXISTS (SELECT 1 FROM job_runs AS r WHERE r.job_id = q.job_id AND r.status = 'running') "
    "AND NOT EXISTS (SELECT 1 FROM job_runs AS o WHERE o.job_id = q.job_id AND o.status = 'queued' "
    "AND (o.queued_at, o.id) < (q.queued_at, q.id)) "
    "ORDER BY q.queued_at FOR UPDATE SKIP LOCKED LIMIT 1) "
    "RETURNING id::text";
constexpr const char* kSetSource =
    "UPDATE job_runs SET source_uri = $2, source_etag = $3, source_size = $4, products_source = $5 WHERE id = $1";
constexpr const char* kHeartbeat =
    "UPDATE job_runs SET heartbeat_at = now(), bytes_read = $3, rows_read = $4 "
    "WHERE id = $1 AND worker_id = $2 AND status = 'running' RETURNING cancel_requested";
constexpr const char* kFinish =
    "UPDATE job_runs SET status = $3, finished_at = now(), heartbeat_at = now(), inserted = $4, updated = $5, "
    "unchanged = $6, rejected = $7, deleted = $8, rows_read = greatest(rows_read, $9), error = $10, "
    "bytes_read = greatest(bytes_read, $11), first_load = $12, delete_guard = $13 "
    "WHERE id = $1 AND worker_id = $2 AND status = 'running'";
constexpr const char* kSelectNotifications =
    "SELECT url, status, attempts, last_error FROM run_notifications WHERE run_id = $1 ORDER BY created_at, url";
// A run's counts once its rows are committed, while it still builds indexes
// (phase 'indexes': what the stale check needs to know if its worker dies).
constexpr const char* kRecordCounts =
    "UPDATE job_runs SET inserted = $3, updated = $4, unchanged = $5, rejected = $6, deleted = $7, "
    "rows_read = greatest(rows_read, $8), phase = 'indexes' WHERE id = $1 AND worker_id = $2 AND status = 'running'";
constexpr const char* kInsertReject =
    "INSERT INTO run_rejects (run_id, line, reason, raw) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
// A run whose cancel was requested is never put back in the queue: it ends
// cancelled (its transaction rolled back, so products are as before it).
const std::string kRequeueSet =
    "SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, "
    "finished_at = CASE WHEN cancel_requested THEN now() END, "
    "error = CASE WHEN cancel_requested THEN 'cancelled by request; products are unchanged' END, "
    "worker_id = CASE WHEN cancel_requested THEN worker_id END, "
    "started_at = CASE WHEN cancel_requested THEN started_at END, heartbeat_at = NULL ";
// Both return the runs they touched: those that ended cancelled notify.
const std::string kRequeue = "UPDATE job_runs " + kRequeueSet +
                             "WHERE id = $1 AND worker_id = $2 AND status = 'running' RETURNING " + run_columns();
const std::string kRequeueStale = "UPDATE job_runs " + kRequeueSet +
                                  "WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) "
                                  "RETURNING " + run_columns();
// A dead worker's run whose rows were already committed (it was building the
// secondary indexes) is not re-run: the re-run would find every row
// unchanged and record zeros over the load's counts. It ends with the counts
// it recorded, like a run whose index builds failed; the source's next run
// builds the missing indexes.
const std::string kFinishStaleIndexPhase =
    "UPDATE job_runs SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END, "
    "finished_at = now(), error = 'the worker stopped while building the source''s secondary indexes (its heartbeat "
    "went stale); the rows are loaded and served, the source''s next run builds the missing indexes' "
    "WHERE status = 'running' AND phase = 'indexes' AND heartbeat_at < now() - make_interval(secs => $1) "
    "RETURNING " + run_columns();
constexpr const char* kCancelQueued =
    "UPDATE job_runs SET status = 'cancelled', finished_at = now(), error = 'cancelled before it started' "
    "WHERE id = $1 AND status = 'queued'";
constexpr const char* kCancelRunning =
    "UPDATE job_runs SET cancel_requested = true WHERE id = $1 AND status = 'running'";
constexpr const char* kLastSuccess =
    "SELECT coalesce(source_etag, ''), options::text, coalesce(source_uri, ''), products_source FROM job_runs "
    "WHERE job_id = $1 AND status = 'succeeded' AND NOT dry_run ORDER BY finished_at DESC LIMIT 1";

bool is_unique_violation(const pqxx::sql_error& e) { return e.sqlstate() == "23505"; }

}  // namespace

Run RunsRepository::enqueue(const std::string& job_id, bool force, const std::optional<std::string>& source_uri,
                            const std::optional<std::string>& claim_as,
                            const std::optional<std::string>& triggered_by, bool dry_run) {
  return pool_.with_connection([&](pqxx::connection& c) {
    std::string id;
    bool conflict = false;
    try {
      pqxx::work tx(c);
      if (tx.exec_params(kLockJob, job_id).empty()) throw NotFound("job '" + job_id + "' does not exist");
      auto result = tx.exec_params(kInsert, job_id, force, source_uri, claim_as, triggered_by, dry_run);
      if (result.empty()) {
        conflict = true;
      } else {
        id = result[0][0].as<std::string>();
        tx.commit();
      }
    } catch (const pqxx::sql_error& e) {
      if (!is_unique_violation(e)) throw;
      conflict = true;
    }
    if (conflict) {
      pqxx::read_transaction tx(c);
      auto active = tx.exec_params(kActiveRun, job_id);
      if (active.empty()) throw Conflict("job '" + job_id + "' already has an active run");
      throw Conflict("job '" + job_id + "' already has a " + active[0][1].as<std::string>() + " run " +
                     active[0][0].as<std::string>());
    }
    pqxx::read_transaction tx(c);
    return to_run(tx.exec_params1(kSelectOne, id));
  });
}

std::optional<Run> RunsRepository::find(const std::string& run_id) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Run> {
    pqxx::read_transaction tx(c);
    auto result = tx.exec_params(kSelectOne, run_id);
    if (result.empty()) return std::nullopt;
    Run run = to_run(result[0]);
    for (const auto& row : tx.exec_params(kSelectRejects, run_id)) {
      run.rejects.push_back({row[0].as<std::uint64_t>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
    for (const auto& row : tx.exec_params(kSelectNotifications, run_id)) {
      run.notifications.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                                   optional_field<std::string>(row[3])});
    }
    return run;
  });
}

std::vector<Run> RunsRepository::list_for_job(const std::string& job_id, std::size_t limit) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<Run> runs;
    for (const auto& row : tx.exec_params(kSelectForJob, job_id, limit)) runs.push_back(to_run(row));
    return runs;
  });
}

std::optional<Run> RunsRepository::claim_next(const std::string& worker_id) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Run> {
    try {
      pqxx::work tx(c);
      auto claimed = tx.exec_params(kClaim, worker_id);
      if (claimed.empty()) return std::nullopt;
      auto run = to_run(tx.exec_params1(kSelectOne, claimed[0][0].as<std::string>()));
      tx.commit();
      return run;
    } catch (const pqxx::sql_error& e) {
      // Another worker (or run-object) started this job's run meanwhile: the
      // run stays queued for the next poll.
      if (is_unique_violation(e)) return std::nullopt;
      throw;
    }
  });
}

void RunsRepository::set_source(const std::string& run_id, const std::string& uri, const std::string& etag,
                                std::int64_t size, const std::string& products_source) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kSetSource, run_id, uri, etag, size, products_source);
    tx.commit();
  });
}

void RunsRepository::record_counts(const std::string& run_id, const std::string& worker_id, const RunCounts& c) {
  pool_.with_connection([&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    tx.exec_params(kRecordCounts, run_id, worker_id, c.inserted, c.updated, c.unchanged, c.rejected, c.deleted, c.read);
    tx.commit();
  });
}

bool RunsRepository::heartbeat(const std::string& run_id, const std::string& worker_id, std::uint64_t bytes,
                               std::uint64_t rows, bool& cancel_requested) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto result = tx.exec_params(kHeartbeat, run_id, worker_id, bytes, rows);
    tx.commit();
    if (result.empty()) return false;
    cancel_requested = result[0][0].as<bool>();
    return true;
  });
}

void RunsRepository::finish(const std::string& run_id, const std::string& worker_id, const RunOutcome& o) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto finished = tx.exec_params(kFinish, run_id, worker_id, o.status, o.counts.inserted, o.counts.updated,
                                         o.counts.unchanged, o.counts.rejected, o.counts.deleted, o.counts.read,
                                         o.error, o.bytes, o.first_load, o.delete_guard);
    for (const auto& r : o.rejects) tx.exec_params(kInsertReject, run_id, r.line, r.reason, r.raw);
    if (finished.affected_rows() > 0) {
      for (const auto& url : o.notify_urls) queue_notification(tx, run_id, url);
    }
    tx.commit();
  });
}

void RunsRepository::requeue(const std::string& run_id, const std::string& worker_id) {
  const auto queued = pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto notices = queue_end_notices(tx, notices_, tx.exec_params(kRequeue, run_id, worker_id));
    tx.commit();
    return notices;
  });
  if (queued > 0 && notices_.queued) notices_.queued();
}

RunsRepository::StaleRuns RunsRepository::handle_stale(std::chrono::seconds stale_after) {
  std::size_t queued = 0;
  const auto result = pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    StaleRuns stale;
    const auto finished = tx.exec_params(kFinishStaleIndexPhase, static_cast<double>(stale_after.count()));
    const auto requeued = tx.exec_params(kRequeueStale, static_cast<double>(stale_after.count()));
    stale.finished = finished.size();
    queued = queue_end_notices(tx, notices_, finished);
    for (const auto& row : requeued) {
      const Run run = to_run(row);
      // A run asked to cancel ends instead, and owes its webhooks.
      ++(run.finished() ? stale.cancelled : stale.requeued);
      queued += queue_end_notices(tx, notices_, run);
    }
    tx.commit();
    return stale;
  });
  if (queued > 0 && notices_.queued) notices_.queued();
  return result;
}

Run RunsRepository::request_cancel(const std::string& run_id) {
  std::size_t queued = 0;
  auto cancelled = pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto current = tx.exec_params(kSelectOneForUpdate, run_id);
    if (current.empty()) throw NotFound("run '" + run_id + "' does not exist");
    const auto status = current[0][2].as<std::string>();
    if (status == "queued") tx.exec_params(kCancelQueued, run_id);
    else if (status == "running") tx.exec_params(kCancelRunning, run_id);
    else throw Conflict("run '" + run_id + "' has already ended (" + status + ")");
    auto run = to_run(tx.exec_params1(kSelectOne, run_id));
    // A queued run ended here; a running one ends (and notifies) in its worker's finish().
    queued = queue_end_notices(tx, notices_, run);
    for (const auto& row : tx.exec_params(kSelectNotifications, run_id)) {
      run.notifications.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                                   optional_field<std::string>(row[3])});
    }
    tx.commit();
    return run;
  });
  if (queued > 0 && notices_.queued) notices_.queued();
  return cancelled;
}

std::optional<RunsRepository::LastSuccess> RunsRepository::last_success(const std::string& job_id) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<LastSuccess> {
    pqxx::read_transaction tx(c);
    auto result = tx.exec_params(kLastSuccess, job_id);
    if (result.empty()) return std::nullopt;
    return LastSuccess{result[0][0].as<std::string>(), result[0][1].as<std::string>(), result[0][2].as<std::string>(),
                       optional_field<std::string>(result[0][3])};
  });
}

namespace {

// GET /runs. Indexes (migration 5): (queued_at DESC, id DESC) for the plain
// list, (status, queued_at DESC, id DESC) for a status; a job uses
// job_runs_job_queued_idx. The keyset is one row comparison.
constexpr const char* kListStatusIs = " AND status = ";
constexpr const char* kListJobIs = " AND job_id = ";
constexpr const char* kListSince = " AND queued_at >= ";
constexpr const char* kListOrder = " ORDER BY queued_at DESC, id DESC LIMIT ";

}  // namespace

std::vector<Run> RunsRepository::list(const RunListQuery& query) {
  std::vector<std::string> params;
  const auto param = [&params](std::string value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  std::string sql = kSelect + " WHERE TRUE";
  if (query.status) sql += kListStatusIs + param(*query.status);
  if (query.job_id) sql += kListJobIs + param(*query.job_id);
  if (query.since) sql += kListSince + param(*query.since) + "::timestamptz";
  if (query.after) {
    sql += " AND (queued_at, id) < (" + param(query.after->queued_at) + "::timestamptz, ";
    sql += param(query.after->id) + "::uuid)";
  }
  sql += kListOrder + param(std::to_string(query.limit)) + "::bigint";
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<Run> runs;
    for (const auto& row : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params))) runs.push_back(to_run(row));
    return runs;
  });
}

}  // namespace catalog::db
