#include "etl/source_keys.hpp"

#include <algorithm>

namespace catalog::etl {

SourceKeys::SourceKeys(std::string temp_dir, std::size_t budget_bytes, std::function<void()> on_partitioned)
    : temp_dir_(std::move(temp_dir)),
      budget_bytes_(budget_bytes),
      max_keys_(KeyTable::max_keys_within(budget_bytes)),
      on_partitioned_(std::move(on_partitioned)) {}

void SourceKeys::expect(std::uint64_t estimate) {
  if (estimate > max_keys_) {
    start_partitioning(estimate);
  } else {
    keys_ = KeyTable(estimate);
  }
}

std::uint32_t SourceKeys::place(std::uint64_t key) {
  if (!parts_ && growth_over_budget()) start_partitioning(0);
  return parts_ ? parts_->partition(key) : 0;
}

void SourceKeys::add_existing(const ExistingKey& e) {
  if (const std::uint32_t p = place(e.key); p != 0) {
    parts_->add_key(p, KeyTable::Slot{e.key, e.content, e.check, KeyTable::kUsed | e.meta});
    return;
  }
  KeyTable::Slot& slot = keys_.find_or_insert(e.key, e.check);
  slot.content = e.content;
  slot.meta |= e.meta;
}

// True when the in-memory table is full and doubling it (old and new slots
// together) would pass the budget.
bool SourceKeys::growth_over_budget() const {
  return keys_.full() && keys_.capacity() * 3 * sizeof(KeyTable::Slot) > budget_bytes_;
}

// `expected_keys` is the planner's estimate, or 0 when the table filled up (a
// first load, or a low estimate). Keys already in the table keep their state:
// partition 0's stay, the others move to their partition's file.
void SourceKeys::start_partitioning(std::uint64_t expected_keys) {
  parts_ = std::make_unique<PartitionFiles>(temp_dir_, partition_bits(expected_keys, max_keys_));
  if (on_partitioned_) on_partitioned_();
  // Partition 0's share of the keys, plus 1/8 for new ones (it grows if need be).
  const std::uint64_t share = std::max<std::uint64_t>(expected_keys, keys_.size()) >> parts_->bits();
  KeyTable zero(std::min<std::uint64_t>(share + share / 8, max_keys_));
  keys_.for_each([&](const KeyTable::Slot& s) {
    const std::uint32_t p = parts_->partition(s.key);
    if (p != 0) {
      parts_->add_key(p, s);
      return;
    }
    KeyTable::Slot& d = zero.find_or_insert(s.key, s.check);
    d.content = s.content;
    d.meta = s.meta;
  });
  keys_ = std::move(zero);
}

void SourceKeys::replay(const std::function<void(KeyTable&, const DeferredRow&)>& on_row,
                        const std::function<void(const KeyTable&)>& on_table, const std::function<void()>& between) {
  on_table(keys_);
  keys_ = KeyTable();
  for (std::uint32_t p = 1; p < parts_->count(); ++p) {
    between();
    // Distinct keys are between max(keys, rows) and keys + rows: size for
    // the usual case (most rows name existing keys, or all are new) and grow
    // if the partition brought many new keys.
    const std::uint64_t keys = parts_->keys(p);
    const std::uint64_t rows = parts_->rows(p);
    KeyTable table(std::min<std::uint64_t>(std::max(keys, rows) + (keys + rows) / 16, max_keys_));
    parts_->replay(
        p,
        [&](const KeyTable::Slot& s) {
          KeyTable::Slot& d = table.find_or_insert(s.key, s.check);
          d.content = s.content;
          d.meta = s.meta;
        },
        [&](const DeferredRow& r) { on_row(table, r); });
    on_table(table);
  }
}

}  // namespace catalog::etl
