#pragma once
// RUN_RETENTION_DAYS (docs/change-log.md "Retention"): finished runs older
// than the retention, with their rejects and change log, are deleted in
// small batches, each its own short transaction, so no run, request or
// other task ever waits long behind it. The last succeeded (not dry) run of
// each job is always kept: the unchanged-source shortcut needs it.

#include <cstddef>
#include <functional>

#include "catalog/db/pool.hpp"

namespace catalog::db {

struct PruneLimits {
  std::size_t runs_per_batch = 50;      ///< runs looked at per transaction
  std::size_t changes_per_batch = 5000;  ///< run_changes rows deleted per transaction
  std::size_t max_batches = 200;         ///< per call; the next call goes on
};

struct PruneResult {
  std::size_t runs = 0;
  std::size_t changes = 0;
  bool more = false;  ///< stopped at max_batches with runs left
};

/// Deletes finished runs older than `days` days (not the last succeeded one
/// of each job) with their rejects and changes. `keep_going` is asked
/// between batches (false: stop now, e.g. shutdown).
PruneResult prune_runs(Pool& pool, int days, const PruneLimits& limits, const std::function<bool()>& keep_going);

}  // namespace catalog::db
