#pragma once
// The per-run change log (private to src/etl): what a run changed, or would
// change for a dry run, recorded set-based in SQL inside the run's own
// transaction into run_changes (docs/change-log.md). A failed or cancelled
// run rolls its records back with its rows; an unchanged re-run records
// nothing and runs no statement.

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "etl/spill_buffer.hpp"

namespace catalog::etl {

class ChangeLog {
 public:
  /// Records for `run_id` (uuid text) in `source`. A disabled log (no run id,
  /// or a source's first load, which records only its count) records nothing.
  ChangeLog(pqxx::work& tx, const std::string& source, const std::string& run_id, bool enabled,
            const std::string& temp_dir, std::size_t spill_after_bytes);

  bool enabled() const { return enabled_; }

  /// An inserted key (key only). Buffered (spilled past the limit) and
  /// written by one COPY in flush_inserted().
  void add_inserted(std::string_view sku);
  /// COPYs the inserted keys into run_changes; returns how many.
  std::uint64_t flush_inserted();

  /// Changed and revived rows: etl_matched (the new content beside the
  /// values before), before the apply. Each row's kind and the fields
  /// that differ with their before/after. Returns how many.
  std::uint64_t record_staged();

  /// Soft-deletes: the live keys of etl_gone, before the soft delete. Returns how many.
  std::uint64_t record_gone();

  /// Rows recorded so far.
  std::uint64_t recorded() const { return recorded_; }
  /// Seconds spent in the log's own statements (RunResult::Timings::changes).
  double seconds() const { return seconds_; }

 private:
  /// One INSERT ... SELECT into run_changes, timed and counted.
  template <typename... Params>
  std::uint64_t record(const std::string& insert_select, const Params&... params);

  pqxx::work& tx_;
  const std::string& source_;
  const std::string& run_id_;
  const bool enabled_;
  std::string prefix_;  ///< "run_id\tsource\t" in COPY text
  SpillBuffer inserted_;
  std::uint64_t recorded_ = 0;
  double seconds_ = 0;
};

}  // namespace catalog::etl
