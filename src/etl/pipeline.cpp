#include "etl/pipeline.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include <nlohmann/json.hpp>

#include "catalog/core/utf8.hpp"
#include "catalog/csv/csv_reader.hpp"
#include "catalog/db/product_loader.hpp"
#include "catalog/feeds/record_reader.hpp"
#include "etl/apply_step.hpp"
#include "etl/change_log.hpp"
#include "etl/copy_row.hpp"
#include "etl/feed_decoder.hpp"
#include "etl/key_partitions.hpp"
#include "etl/key_table.hpp"
#include "etl/run_control.hpp"
#include "etl/spill_buffer.hpp"

namespace catalog::etl {
namespace {

// SQL. Every value is a parameter or comes from current_setting() (COPY takes
// no parameters, so the source travels as a transaction-local setting).
// Identifiers are constants. run_feed sets catalog.etl_source (engine.cpp).

// Changed rows (and soft deletes) are applied by joining a staging table to
// products. With the default random_page_cost (4, tuned for spinning disks)
// the planner scans all of a million-row source to update 1% of it (measured:
// 1.36 s vs 0.82 s with index probes); 1.1 is the usual value for SSD storage
// such as RDS, and still picks a merge join when a large share changed.
constexpr const char* kSsdCosts = "SET LOCAL random_page_cost = 1.1";
constexpr const char* kCopyExisting =
    "COPY (SELECT sku, content_hash, deleted_at IS NOT NULL FROM products "
    "WHERE source = (SELECT current_setting('catalog.etl_source'))) TO STDOUT";
// The planner's row estimate for this source (statistics only, nothing is
// read): sizes the key table before the existing keys stream in.
constexpr const char* kEstimateKeys = "EXPLAIN (FORMAT JSON) SELECT 1 FROM products WHERE source = $1";
// A wrong estimate must not cost much memory: huge pages make even a sparsely
// used table resident, so the hint stops at what the key-table budget holds
// (3M keys in 4M slots, 96 MiB, by default); larger sources are partitioned.
constexpr const char* kCopyLiveKeys =
    "COPY (SELECT sku FROM products WHERE source = (SELECT current_setting('catalog.etl_source')) "
    "AND deleted_at IS NULL) TO STDOUT";
constexpr const char* kCopyInsertTail =  // after "COPY <table>"
    " (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, last_run_id) FROM STDIN";
constexpr std::size_t kRawMax = 200;
constexpr std::uint64_t kCancelEveryRows = 1024;

/// Valid UTF-8 copy of `s`, at most `max` bytes (whole characters), with
/// invalid sequences and NULs replaced by U+FFFD: rejects are stored in text
/// columns and shown as JSON.
std::string sanitize_utf8(std::string_view s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max) + 4);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c >= 0x80 ? utf8_sequence_length(s, i) : c != 0 ? 1 : 0;
    const std::string_view piece = len != 0 ? s.substr(i, len) : std::string_view("\xEF\xBF\xBD", 3);
    if (out.size() + piece.size() > max) {
      out.append("...");
      break;
    }
    out.append(piece);
    i += len != 0 ? len : 1;
  }
  return out;
}

class Pipeline {
 public:
  /// `bulk_table` names the fresh table of a first load, or is empty.
  Pipeline(pqxx::work& tx, const RunRequest& req, std::string bulk_table, bool first_load)
      : tx_(tx),
        req_(req),
        bulk_table_(std::move(bulk_table)),
        temp_dir_(temp_directory(req.temp_dir)),
        max_keys_(KeyTable::max_keys_within(req.key_table_budget_bytes)),
        changed_(temp_dir_, req.spill_after_bytes),
        // A first load records only its count, not a million keys.
        changes_(tx, req.source_name, req.run_id, req.record_changes && !first_load, temp_dir_, req.spill_after_bytes) {
    result_.first_load = first_load;
    source_escaped_.clear();
    db::append_copy_text(source_escaped_, req.source_name);
    if (req.run_id.empty()) {
      db::append_copy_null(run_id_escaped_);
    } else {
      db::append_copy_text(run_id_escaped_, req.run_id);
    }
  }

  RunResult run() {
    check_cancel();
    auto t = Clock::now();
    if (bulk_table_.empty()) load_existing();
    result_.timings.load_keys = lap(t);
    check_cancel();
    stream_feed();
    check_cancel();
    if (!have_header_) throw FeedError("feed is empty: no header row");
    if (parts_) {
      replay_partitions();
      compact_rejects(result_.first_rejects);
    }
    result_.timings.stream = lap(t);
    if (req_.options.max_rejects.exceeded(result_.rejected, result_.read)) throw too_many_rejects();
    // Before anything is applied: a truncated snapshot must not empty the catalogue.
    if (req_.options.missing_rows == MissingRows::soft_delete) check_deletes();

    if (insert_copy_) {
      result_.inserted = insert_copy_->finish();
      insert_copy_.reset();
    } else {
      result_.inserted = would_insert_;  // a dry run: counted, not written
    }
    changes_.flush_inserted();
    check_cancel();
    // Only the joins below: the key load keeps the default costs, under which
    // a large source is read with a sequential scan (measured faster here
    // than a PK index scan, which drags the whole source through shared_buffers).
    tx_.exec(kSsdCosts);
    if (!changed_.empty()) apply_changes();
    result_.timings.apply = lap(t);
    check_cancel();
    if (req_.options.missing_rows == MissingRows::soft_delete) soft_delete();
    result_.timings.soft_delete = lap(t);
    check_cancel();
    result_.unchanged = result_.read - result_.rejected - result_.inserted - result_.updated;
    result_.spilled_bytes = changed_.spilled_bytes();
    result_.changes_recorded = changes_.recorded();
    result_.timings.changes = changes_.seconds();
    if (parts_) {
      result_.key_partitions = parts_->count();
      result_.partition_spilled_bytes = parts_->bytes() + (gone_keys_ ? gone_keys_->bytes() : 0);
    }
    return result_;
  }

 private:
  void check_cancel() const {
    if (cancelled(req_)) throw RunCancelled();
  }

  void load_existing() {
    const std::size_t estimate = estimated_keys();
    if (estimate > max_keys_) {
      start_partitioning(estimate);
    } else {
      keys_ = KeyTable(estimate);
    }
    // Keys are inserted in batches whose slots were prefetched while the
    // batch was parsed, so the cache misses overlap instead of queueing.
    struct Existing {
      std::uint64_t key;
      std::uint64_t content;
      std::uint32_t check;
      std::uint32_t meta;
    };
    std::array<Existing, 32> batch{};
    std::size_t pending = 0;
    auto insert_batch = [&] {
      for (std::size_t i = 0; i < pending; ++i) {
        if (!parts_ && growth_over_budget()) start_partitioning(0);
        if (parts_) {
          const std::uint32_t p = parts_->partition(batch[i].key);
          if (p != 0) {
            parts_->add_key(p, KeyTable::Slot{batch[i].key, batch[i].content, batch[i].check,
                                              KeyTable::kUsed | batch[i].meta});
            continue;
          }
        }
        KeyTable::Slot& slot = keys_.find_or_insert(batch[i].key, batch[i].check);
        slot.content = batch[i].content;
        slot.meta |= batch[i].meta;
      }
      pending = 0;
    };
    db::CopyOut out(tx_, kCopyExisting);
    std::string_view line;
    std::string sku_buf;
    std::uint64_t n = 0;
    while (out.next(line)) {
      // sku \t content_hash \t t|f   (sku is the only field that can carry escapes)
      const auto t2 = line.rfind('\t');
      const auto t1 = line.rfind('\t', t2 - 1);
      if (t1 == std::string_view::npos || t2 == std::string_view::npos) {
        throw catalog::Error("unexpected COPY output while reading existing products");
      }
      const std::string_view raw_sku = line.substr(0, t1);
      std::string_view sku = raw_sku;
      if (raw_sku.find('\\') != std::string_view::npos) {
        sku_buf = db::unescape_copy_text(raw_sku);
        sku = sku_buf;
      }
      const std::string_view hash_text = line.substr(t1 + 1, t2 - t1 - 1);
      std::int64_t signed_hash = 0;
      const auto parsed = std::from_chars(hash_text.data(), hash_text.data() + hash_text.size(), signed_hash);
      if (parsed.ec != std::errc() || parsed.ptr != hash_text.data() + hash_text.size()) {
        throw catalog::Error("unexpected content_hash in products: " + std::string(hash_text));
      }
      Existing& e = batch[pending++];
      e.key = key_hash(sku);
      e.check = key_check(sku);
      e.content = static_cast<std::uint64_t>(signed_hash);
      e.meta = KeyTable::kInDb | (line.substr(t2 + 1) == "t" ? KeyTable::kDeleted : 0);
      keys_.prefetch(e.key);
      if (pending == batch.size()) insert_batch();
      if (++n % (kCancelEveryRows * 64) == 0) check_cancel();
    }
    insert_batch();
  }

  std::size_t estimated_keys() {
    try {
      const auto plan = nlohmann::json::parse(tx_.exec_params1(kEstimateKeys, req_.source_name)[0].c_str());
      return plan.at(0).at("Plan").at("Plan Rows").get<std::size_t>();
    } catch (const nlohmann::json::exception&) {
      return 0;  // only a size hint: the table grows as needed
    }
  }

  void stream_feed() {
    // A dry run writes nothing to products: new rows are only counted.
    if (!req_.dry_run) {
      insert_copy_ = std::make_unique<db::CopyIn>(
          tx_, bulk_table_.empty() ? std::string("COPY products") + kCopyInsertTail
                                   : "COPY " + tx_.quote_name(bulk_table_) + kCopyInsertTail + " WITH (FREEZE)");
    }
    // The one place the feed's format matters: every reader delivers the
    // same records (a keyed format has no header: its records name their fields).
    const feeds::Format format = req_.options.format_for(req_.object_name);
    if (feeds::is_keyed(format)) {
      normalizer_ = std::make_unique<KeyedRowNormalizer>(req_.options);
      have_header_ = true;
    }
    feeds::ReaderOptions reader_options;
    reader_options.delimiter = req_.options.delimiter;
    const auto reader = feeds::make_record_reader(format, reader_options, [this](const csv::Record& r) { on_record(r); });

    FeedDecoder decoder(req_.compression, req_.object_name, [&reader](std::string_view data) { reader->feed(data); });
    const ChunkSink sink = [&](std::string_view chunk) {
      check_cancel();
      result_.bytes += chunk.size();
      decoder.feed(chunk);
    };
    req_.source(sink);
    decoder.finish();
    reader->finish();
    if (insert_copy_) insert_copy_->maybe_flush();
    if (req_.on_progress) req_.on_progress(Progress{result_.bytes, result_.read});
  }

  void on_record(const csv::Record& rec) {
    if (!have_header_) {
      if (!rec.error.empty()) throw FeedError("header row (line " + std::to_string(rec.line) + "): " + rec.error);
      normalizer_ = std::make_unique<RowNormalizer>(rec.fields, req_.options);
      have_header_ = true;
      return;
    }
    ++result_.read;
    if (result_.read % kCancelEveryRows == 0) check_cancel();
    if (req_.on_progress && req_.progress_every_rows != 0 && result_.read % req_.progress_every_rows == 0) {
      req_.on_progress(Progress{result_.bytes, result_.read});
    }
    if (!rec.error.empty()) {
      reject(rec, rec.error);
      return;
    }
    if (!normalizer_->normalize(rec.fields, row_, reason_)) {
      reject(rec, reason_);
      return;
    }
    const std::uint64_t key = key_hash(row_.sku);
    if (!parts_ && growth_over_budget()) start_partitioning(0);
    if (parts_) {
      const std::uint32_t p = parts_->partition(key);
      if (p != 0) {
        defer(p, rec, key);
        return;
      }
    }
    // The slot is a cache miss on a large catalog: start loading it, hash the
    // content meanwhile, then probe.
    keys_.prefetch(key);
    const std::uint64_t hash = content_hash(row_, scratch_);
    KeyTable::Slot& slot = keys_.find_or_insert(key, key_check(row_.sku));
    if (KeyTable::line_of(slot) != 0) {
      reject(rec, duplicate_reason(row_.sku, slot));
      return;
    }
    KeyTable::mark_seen(slot, rec.line);
    if ((slot.meta & KeyTable::kInDb) == 0) {
      write_new(hash);
    } else if (slot.content != hash || (slot.meta & KeyTable::kDeleted) != 0) {
      append_copy_row(changed_.buffer(), source_escaped_, row_, hash, run_id_escaped_, json_);
      changed_.count_row();
      changed_.maybe_spill();
    }
  }

  /// A row whose key is new (row_ holds it): COPYed into products, or
  /// counted by a dry run; its key goes to the change log.
  void write_new(std::uint64_t hash) {
    if (insert_copy_) {
      append_copy_row(insert_copy_->buffer(), source_escaped_, row_, hash, run_id_escaped_, json_);
      insert_copy_->maybe_flush();
    } else {
      ++would_insert_;
    }
    changes_.add_inserted(row_.sku);
  }

  static std::string duplicate_reason(std::string_view sku, const KeyTable::Slot& slot) {
    const auto first = KeyTable::line_of(slot);
    return "duplicate key '" + std::string(sku) + "': first seen on line " +
           (first == KeyTable::kLineMask ? std::string("> ") : std::string()) + std::to_string(first);
  }

  /// The record's fields re-joined with the delimiter, cut near kRawMax (not yet sanitised).
  std::string raw_text(const std::vector<std::string_view>& fields) const {
    return normalizer_->raw_text(fields, kRawMax);
  }

  void reject(const csv::Record& rec, const std::string& reason) {
    // Partitioned, a later line's reject may still displace a stored one (see compact_rejects).
    const bool store = result_.first_rejects.size() < kMaxStoredRejects || parts_ != nullptr;
    reject(rec.line, reason, store ? raw_text(rec.fields) : std::string());
  }

  void reject(std::uint64_t line, const std::string& reason, std::string_view raw) {
    ++result_.rejected;
    if (result_.first_rejects.size() < kMaxStoredRejects || parts_ != nullptr) {
      result_.first_rejects.push_back(Reject{line, sanitize_utf8(reason, 1000), sanitize_utf8(raw, kRawMax)});
      if (result_.first_rejects.size() >= 2 * kMaxStoredRejects) compact_rejects(result_.first_rejects);
    }
    if (req_.options.max_rejects.exceeded_early(result_.rejected)) throw too_many_rejects();
  }

  /// Partitioned runs find duplicates out of line order: keep the first
  /// kMaxStoredRejects by line, as an in-memory run stores them.
  static void compact_rejects(std::vector<Reject>& rejects) {
    std::stable_sort(rejects.begin(), rejects.end(),
                     [](const Reject& a, const Reject& b) { return a.line < b.line; });
    if (rejects.size() > kMaxStoredRejects) rejects.resize(kMaxStoredRejects);
  }

  TooManyRejects too_many_rejects() const {
    RunResult partial;
    partial.bytes = result_.bytes;
    partial.read = result_.read;
    partial.rejected = result_.rejected;
    partial.first_rejects = result_.first_rejects;
    compact_rejects(partial.first_rejects);
    return TooManyRejects("too many rejected rows: " + std::to_string(result_.rejected) + " rejected of " +
                              std::to_string(result_.read) + " read so far (max_rejects " +
                              req_.options.max_rejects.describe() + "); nothing was written",
                          std::move(partial));
  }

  void apply_changes() {
    stage_changed(tx_, changed_);
    check_cancel();
    // Recorded before the UPDATE: products still holds the values before.
    changes_.record_staged();
    if (req_.dry_run) {
      result_.updated = changed_.rows();  // every staged row is changed or revived (the source is locked)
      return;
    }
    result_.updated = apply_staged(tx_, req_.source_name);
  }

  /// Counts the live rows the feed did not name and fails the run if
  /// max_deletes does not allow soft-deleting that many.
  void check_deletes() {
    if (!parts_) count_deletes(keys_);  // partitioned: counted partition by partition
    const std::uint64_t live = live_;
    const MaxDeletes& limit = req_.options.max_deletes;
    if (!limit.exceeded(delete_candidates_, live)) return;
    std::string message = "would soft-delete " + std::to_string(delete_candidates_) + " of " + std::to_string(live) +
                         " live rows, more than max_deletes=" + limit.describe() +
                         (limit.is_ratio ? " (" + std::to_string(limit.allowed(live)) + ")" : std::string());
    if (req_.dry_run) {
      // A preview reports what the guard would do and goes on counting.
      result_.delete_guard = message + "; a real run would fail and change nothing";
      return;
    }
    throw TooManyDeletes(message +
                         "; nothing was written. If the feed is right, set the job's max_deletes to 1.0 "
                         "(or \"100%\") for one run");
  }

  /// Adds the live rows of `table` (all keys of one partition) and those the
  /// feed did not name to the delete counts; partitioned, the latter are also
  /// kept (on disk) for soft_delete, which cannot look them up in a table any more.
  void count_deletes(const KeyTable& table) {
    const bool keep = parts_ != nullptr && req_.options.missing_rows == MissingRows::soft_delete;
    table.for_each([&](const KeyTable::Slot& s) {
      if ((s.meta & KeyTable::kInDb) == 0 || (s.meta & KeyTable::kDeleted) != 0) return;
      ++live_;
      if (KeyTable::line_of(s) != 0) return;
      ++delete_candidates_;
      if (keep) gone_keys_->add_key(1, KeyTable::Slot{s.key, 0, s.check, KeyTable::kUsed});
    });
  }

  void soft_delete() {
    if (delete_candidates_ == 0) return;
    // The sku strings are not in memory: read this source's live keys again
    // and keep the ones the feed did not name (their COPY text is reused as is).
    SpillBuffer gone(temp_dir_, req_.spill_after_bytes);
    if (!parts_) {
      collect_gone(keys_, gone);
    } else {
      // The keys to delete, as many at a time as the budget holds (one read
      // of the live keys each; one in all unless most of a large source goes).
      std::uint64_t left = delete_candidates_;
      KeyTable chunk(std::min<std::uint64_t>(left, max_keys_));
      gone_keys_->replay(1, [&](const KeyTable::Slot& s) {
        if (chunk.size() >= max_keys_) {
          left -= chunk.size();
          collect_gone(chunk, gone);
          chunk = KeyTable();
          chunk = KeyTable(std::min<std::uint64_t>(left, max_keys_));
        }
        chunk.find_or_insert(s.key, s.check);
      }, [](const DeferredRow&) {});
      if (chunk.size() != 0) collect_gone(chunk, gone);
    }
    check_cancel();
    if (gone.empty()) return;
    stage_gone(tx_, gone);
    changes_.record_gone();  // before the UPDATE, which makes them deleted
    if (req_.dry_run) {
      result_.deleted = gone.rows();  // live keys the feed did not name (the source is locked)
      return;
    }
    result_.deleted = soft_delete_gone(tx_, req_.source_name, req_.run_id);
  }

  /// Appends the COPY text of the live keys that are in `table` and were not
  /// in the feed (line 0) to `gone`.
  void collect_gone(const KeyTable& table, SpillBuffer& gone) {
    db::CopyOut out(tx_, kCopyLiveKeys);
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

  /// True when the in-memory table is full and doubling it (old and new
  /// slots together) would pass the budget.
  bool growth_over_budget() const {
    return keys_.full() && keys_.capacity() * 3 * sizeof(KeyTable::Slot) > req_.key_table_budget_bytes;
  }

  /// Switches to key-hash partitions: `expected_keys` is the planner's
  /// estimate, or 0 when the table filled up (a first load, or a low
  /// estimate). Keys already in the table keep their state: partition 0's
  /// stay, the others move to their partition's file.
  void start_partitioning(std::uint64_t expected_keys) {
    parts_ = std::make_unique<PartitionFiles>(temp_dir_, partition_bits(expected_keys, max_keys_));
    if (req_.options.missing_rows == MissingRows::soft_delete) gone_keys_ = std::make_unique<PartitionFiles>(temp_dir_, 1);
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

  /// A row whose key belongs to a partition on disk: its decision waits for
  /// that partition's replay.
  void defer(std::uint32_t p, const csv::Record& rec, std::uint64_t key) {
    DeferredRow d;
    d.key = key;
    d.check = key_check(row_.sku);
    d.content = content_hash(row_, scratch_);
    d.line = rec.line;
    encode_fields(rec.fields, deferred_fields_);
    d.fields = deferred_fields_;
    parts_->add_row(p, d);
  }

  /// Rebuilds a deferred row (into replay_fields_ and row_) to write or reject it.
  void renormalize(const DeferredRow& r) {
    decode_fields(r.fields, replay_fields_);
    if (!normalizer_->normalize(replay_fields_, row_, reason_)) {
      throw catalog::Error("internal error: feed line " + std::to_string(r.line) +
                           " normalised differently when replayed: " + reason_);
    }
  }

  /// After the feed: partition 0's table is complete (its delete counts are
  /// taken and it is freed), then each other partition's keys and rows are
  /// read back in arrival order and decided exactly as on_record does.
  void replay_partitions() {
    count_deletes(keys_);
    keys_ = KeyTable();
    std::uint64_t n = 0;
    for (std::uint32_t p = 1; p < parts_->count(); ++p) {
      check_cancel();
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
          [&](const DeferredRow& r) {
            if (++n % kCancelEveryRows == 0) check_cancel();
            KeyTable::Slot& slot = table.find_or_insert(r.key, r.check);
            if (KeyTable::line_of(slot) != 0) {
              renormalize(r);
              reject(r.line, duplicate_reason(row_.sku, slot), raw_text(replay_fields_));
              return;
            }
            KeyTable::mark_seen(slot, r.line);
            if ((slot.meta & KeyTable::kInDb) == 0) {
              renormalize(r);
              write_new(r.content);
            } else if (slot.content != r.content || (slot.meta & KeyTable::kDeleted) != 0) {
              renormalize(r);
              append_copy_row(changed_.buffer(), source_escaped_, row_, r.content, run_id_escaped_, json_);
              changed_.count_row();
              changed_.maybe_spill();
            }
          });
      count_deletes(table);
    }
  }

  pqxx::work& tx_;
  const RunRequest& req_;
  const std::string bulk_table_;
  const std::string temp_dir_;
  const std::size_t max_keys_;  ///< keys the budget holds in a table sized up front
  RunResult result_;
  KeyTable keys_;
  std::unique_ptr<PartitionFiles> parts_;      ///< null: every key in keys_
  std::unique_ptr<PartitionFiles> gone_keys_;  ///< partitioned soft_delete: keys to delete (partition 1)
  std::uint64_t live_ = 0;                     ///< live rows of the source (count_deletes)
  std::string deferred_fields_;
  std::vector<std::string_view> replay_fields_;
  std::unique_ptr<RowMapper> normalizer_;
  std::unique_ptr<db::CopyIn> insert_copy_;
  SpillBuffer changed_;
  ChangeLog changes_;
  std::uint64_t would_insert_ = 0;  ///< a dry run's new rows
  bool have_header_ = false;
  std::uint64_t delete_candidates_ = 0;  ///< live rows the feed did not name (check_deletes)
  ProductRow row_;
  std::string reason_;
  std::string scratch_;
  std::string json_;
  std::string source_escaped_;
  std::string run_id_escaped_;
};

}  // namespace

RunResult run_pipeline(pqxx::work& tx, const RunRequest& req, const std::string& bulk_table, bool first_load) {
  Pipeline pipeline(tx, req, bulk_table, first_load);
  return pipeline.run();
}

}  // namespace catalog::etl
