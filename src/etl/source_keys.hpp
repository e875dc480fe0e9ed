#pragma once
// The keys a run decides against (private to src/etl): the source's products
// and the feed's rows, in one in-memory table while the key-table budget
// holds them, else split by key hash (docs/etl.md "Large sources"):
// partition 0 stays in memory, the others wait on disk for replay().

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "etl/existing_keys.hpp"
#include "etl/key_partitions.hpp"
#include "etl/key_table.hpp"

namespace catalog::etl {

class SourceKeys {
 public:
  /// `on_partitioned` runs once, when the keys are first split.
  SourceKeys(std::string temp_dir, std::size_t budget_bytes, std::function<void()> on_partitioned);

  /// Keys one table may hold within the budget.
  std::size_t max_keys() const noexcept { return max_keys_; }
  bool partitioned() const noexcept { return parts_ != nullptr; }
  std::uint32_t partitions() const noexcept { return parts_ ? parts_->count() : 1; }
  std::uint64_t spilled_bytes() const noexcept { return parts_ ? parts_->bytes() : 0; }

  /// Sizes the table for the planner's estimate. A wrong estimate must not
  /// cost much memory (huge pages make even a sparse table resident), so an
  /// estimate past the budget partitions at once instead.
  void expect(std::uint64_t estimate);
  /// Where `key` lives: 0 = in table(), else the partition to defer its row
  /// to. Splits the keys first if the table is full and growing it would
  /// pass the budget.
  std::uint32_t place(std::uint64_t key);
  /// The in-memory table: every key, or partition 0's.
  KeyTable& table() noexcept { return keys_; }

  /// One of the source's products, wherever its key lives.
  void add_existing(const ExistingKey& e);
  /// A feed row whose key lives in partition `p` (from place()).
  void defer(std::uint32_t p, const DeferredRow& row) { parts_->add_row(p, row); }

  /// After the feed (partitioned runs only): `on_table` gets partition 0's
  /// table, which is then freed; then each other partition's table is
  /// rebuilt from its keys, `on_row` decides its rows in arrival order, and
  /// `on_table` gets the table. `between` runs before each partition.
  void replay(const std::function<void(KeyTable&, const DeferredRow&)>& on_row,
              const std::function<void(const KeyTable&)>& on_table, const std::function<void()>& between);

 private:
  bool growth_over_budget() const;
  void start_partitioning(std::uint64_t expected_keys);

  const std::string temp_dir_;
  const std::size_t budget_bytes_;
  const std::size_t max_keys_;
  std::function<void()> on_partitioned_;
  KeyTable keys_;
  std::unique_ptr<PartitionFiles> parts_;  ///< null: every key in keys_
};

}  // namespace catalog::etl
