#pragma once
// A job_runs row as a Run, and the end notifications a run that just ended
// owes: shared by the repositories that end runs (RunsRepository, and
// JobsRepository when a deleted job's queued run is cancelled).

#include <cstddef>
#include <string>

#include <pqxx/pqxx>

#include "catalog/db/runs_repository.hpp"

namespace catalog::db {

/// The job_runs columns to_run() reads, in its order: SELECT or RETURNING them.
/// A function, not a constant: other files' constants are built from it.
const std::string& run_columns();

/// One row of run_columns().
Run to_run(const pqxx::row& r);

/// Queues, in `tx`, one webhook to `url` for run `run_id` (once: a second
/// time is a no-op). Whether it was new.
bool queue_notification(pqxx::work& tx, const std::string& run_id, const std::string& url);

/// Queues, in `tx`, the webhooks `ended` owes by `notices`; a run that did
/// not end (re-queued) owes none. How many.
std::size_t queue_end_notices(pqxx::work& tx, const RunEndNotices& notices, const Run& ended);
/// The same for each run of `ended` (rows of run_columns()).
std::size_t queue_end_notices(pqxx::work& tx, const RunEndNotices& notices, const pqxx::result& ended);

}  // namespace catalog::db
