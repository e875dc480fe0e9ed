#pragma once
// Soft-delete's input (private to src/etl): the source's live rows that the
// feed did not name, counted for the max_deletes guard and then read back as
// COPY text for stage_gone. The sku strings are never in memory: a candidate
// is a key slot, and its text comes from one more read of the live keys.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "catalog/etl/job_options.hpp"
#include "etl/key_partitions.hpp"
#include "etl/key_table.hpp"
#include "etl/spill_buffer.hpp"

namespace catalog::etl {

class DeleteCandidates {
 public:
  /// `max_keys`: the keys the budget holds in one table (collect() reads the
  /// live keys once per that many candidates).
  DeleteCandidates(std::string temp_dir, std::size_t max_keys) : temp_dir_(std::move(temp_dir)), max_keys_(max_keys) {}

  /// A partitioned run counts partition by partition and frees each table:
  /// from now on the candidates' keys are kept on disk for collect().
  void keep_keys_on_disk();
  /// Adds the live rows of `table` (all keys of a partition, or of the
  /// source) and those the feed did not name (line 0).
  void count(const KeyTable& table);

  std::uint64_t live() const noexcept { return live_; }
  std::uint64_t candidates() const noexcept { return candidates_; }
  std::uint64_t spilled_bytes() const noexcept { return on_disk_ ? on_disk_->bytes() : 0; }

  /// The guard's message when max_deletes does not allow soft-deleting the
  /// candidates; nullopt when it does.
  std::optional<std::string> over_limit(const MaxDeletes& limit) const;

  /// Appends the COPY text of every candidate to `gone`: `in_memory` is the
  /// whole source's key table, or null when the keys were kept on disk.
  void collect(pqxx::work& tx, const KeyTable* in_memory, SpillBuffer& gone);

 private:
  static void collect_from(pqxx::work& tx, const KeyTable& table, SpillBuffer& gone);

  const std::string temp_dir_;
  const std::size_t max_keys_;
  std::unique_ptr<PartitionFiles> on_disk_;  ///< partitioned: the candidates' keys (partition 1)
  std::uint64_t live_ = 0;
  std::uint64_t candidates_ = 0;
};

}  // namespace catalog::etl
