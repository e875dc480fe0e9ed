#include "catalog/db/run_retention.hpp"

#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace catalog::db {
namespace {

// Candidates: finished before the cut-off (job_runs_finished_idx), never the
// last succeeded non-dry run of their job. Tasks pruning at once may pick
// the same runs: deleting one twice deletes nothing, and the last succeeded
// run of a job is never a candidate for any of them.
constexpr const char* kCandidates = R"sql(
SELECT r.id::text FROM job_runs AS r
WHERE r.finished_at < now() - make_interval(days => $1)
  AND r.status IN ('succeeded', 'failed', 'skipped', 'cancelled')
  AND NOT (r.status = 'succeeded' AND NOT r.dry_run AND NOT EXISTS (
    SELECT 1 FROM job_runs AS l WHERE l.job_id = r.job_id AND l.status = 'succeeded' AND NOT l.dry_run
      AND (l.finished_at, l.id) > (r.finished_at, r.id)))
ORDER BY r.finished_at
LIMIT $2
)sql";
// A chunk of one run's changes by the primary key's order.
constexpr const char* kDeleteChanges = R"sql(
DELETE FROM run_changes WHERE run_id = $1::uuid AND sku IN (
  SELECT sku FROM run_changes WHERE run_id = $1::uuid ORDER BY sku LIMIT $2)
)sql";
// The run itself (its rejects and notifications go by ON DELETE CASCADE,
// at most a hundred rows; feeds keep their record with run_id NULL).
constexpr const char* kDeleteRun = "DELETE FROM job_runs WHERE id = $1::uuid";

}  // namespace

PruneResult prune_runs(Pool& pool, int days, const PruneLimits& limits, const std::function<bool()>& keep_going) {
  PruneResult result;
  std::size_t batches = 0;
  while (batches < limits.max_batches && keep_going()) {
    std::vector<std::string> ids;
    pool.with_connection([&](pqxx::connection& c) {
      pqxx::work tx(c);
      for (const auto& row : tx.exec_params(kCandidates, days, limits.runs_per_batch)) ids.push_back(row[0].as<std::string>());
      tx.commit();
    });
    ++batches;
    if (ids.empty()) return result;
    for (const auto& id : ids) {
      // Changes first, a chunk per transaction: a million-row log never
      // becomes one long DELETE.
      while (batches < limits.max_batches && keep_going()) {
        const auto n = pool.with_connection([&](pqxx::connection& c) {
          pqxx::work tx(c);
          const auto deleted = tx.exec_params(kDeleteChanges, id, limits.changes_per_batch).affected_rows();
          tx.commit();
          return deleted;
        });
        ++batches;
        result.changes += n;
        if (n < limits.changes_per_batch) break;
      }
      if (batches >= limits.max_batches || !keep_going()) {
        result.more = true;
        return result;
      }
      result.runs += pool.with_connection([&](pqxx::connection& c) {
        pqxx::work tx(c);
        const auto deleted = tx.exec_params(kDeleteRun, id).affected_rows();
        tx.commit();
        return deleted;
      });
    }
  }
  result.more = batches >= limits.max_batches;
  return result;
}

}  // namespace catalog::db
