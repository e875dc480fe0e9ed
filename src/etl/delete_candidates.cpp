#include "etl/delete_candidates.hpp"

#include <algorithm>

#include "catalog/db/product_loader.hpp"
#include "catalog/etl/normalizer.hpp"

namespace catalog::etl {
namespace {

constexpr const char* kCopyLiveKeys =
    "COPY (SELECT sku FROM products WHERE source = (SELECT current_setting('catalog.etl_source')) "
    "AND deleted_at IS NULL) TO STDOUT";

}  // namespace

void DeleteCandidates::keep_keys_on_disk() { on_disk_ = std::make_unique<PartitionFiles>(temp_dir_, 1); }

void DeleteCandidates::count(const KeyTable& table) {
  table.for_each([&](const KeyTable::Slot& s) {
    if ((s.meta & KeyTable::kInDb) == 0 || (s.meta & KeyTable::kDeleted) != 0) return;
    ++live_;
    if (KeyTable::line_of(s) != 0) return;
    ++candidates_;
    if (on_disk_) on_disk_->add_key(1, KeyTable::Slot{s.key, 0, s.check, KeyTable::kUsed});
  });
}

std::optional<std::string> DeleteCandidates::over_limit(const MaxDeletes& limit) const {
  if (!limit.exceeded(candidates_, live_)) return std::nullopt;
  return "would soft-delete " + std::to_string(candidates_) + " of " + std::to_string(live_) +
         " live rows, more than max_deletes=" + limit.describe() +
         (limit.is_ratio ? " (" + std::to_string(limit.allowed(live_)) + ")" : std::string());
}

void DeleteCandidates::collect(pqxx::work& tx, const KeyTable* in_memory, SpillBuffer& gone) {
  if (candidates_ == 0) return;
  if (in_memory != nullptr) return collect_from(tx, *in_memory, gone);
  // The keys to delete, as many at a time as the budget holds (one read of
  // the live keys each; one in all unless most of a large source goes).
  std::uint64_t left = candidates_;
  KeyTable chunk(std::min<std::uint64_t>(left, max_keys_));
  on_disk_->replay(1, [&](const KeyTable::Slot& s) {
    if (chunk.size() >= max_keys_) {
      left -= chunk.size();
      collect_from(tx, chunk, gone);
      chunk = KeyTable();
      chunk = KeyTable(std::min<std::uint64_t>(left, max_keys_));
    }
    chunk.find_or_insert(s.key, s.check);
  }, [](const DeferredRow&) {});
  if (chunk.size() != 0) collect_from(tx, chunk, gone);
}

// The live keys that are in `table` and were not in the feed (line 0), their
// COPY text reused as is.
void DeleteCandidates::collect_from(pqxx::work& tx, const KeyTable& table, SpillBuffer& gone) {
  db::CopyOut out(tx, kCopyLiveKeys);
  std::string_view line;
  std::string buf;
  while (out.next(line)) {
    std::string_view sku = line;
    if (line.find('\\') != std::string_view::npos) {
      buf = db::unescape_copy_text(line);
      sku = buf;
    }
    const KeyTable::Slot* s = table.find(key_hash(sku), key_check(sku));
    if (s != nullptr && KeyTable::line_of(*s) == 0) {
      gone.buffer().append(line);
      gone.buffer().push_back('\n');
      gone.count_row();
      gone.maybe_spill();
    }
  }
}

}  // namespace catalog::etl
