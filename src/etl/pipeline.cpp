#include "etl/pipeline.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <memory>

#include "catalog/csv/csv_reader.hpp"
#include "catalog/db/product_loader.hpp"
#include "catalog/feeds/record_reader.hpp"
#include "etl/apply_step.hpp"
#include "etl/change_log.hpp"
#include "etl/copy_row.hpp"
#include "etl/delete_candidates.hpp"
#include "etl/existing_keys.hpp"
#include "etl/feed_decoder.hpp"
#include "etl/key_partitions.hpp"
#include "etl/key_table.hpp"
#include "etl/read_ahead.hpp"
#include "etl/reject_log.hpp"
#include "etl/source_keys.hpp"
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
constexpr const char* kCopyInsertTail =  // after "COPY <table>"
    " (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, last_run_id) FROM STDIN";
constexpr std::uint64_t kCancelEveryRows = 1024;
/// How often a run waiting for its reading thread checks for a cancel.
constexpr std::chrono::milliseconds kReadAheadPoll{100};

class Pipeline {
 public:
  /// `bulk_table` names the fresh table of a first load, or is empty.
  Pipeline(pqxx::work& tx, const RunRequest& req, std::string bulk_table, bool first_load)
      : tx_(tx),
        req_(req),
        bulk_table_(std::move(bulk_table)),
        temp_dir_(temp_directory(req.temp_dir)),
        rejects_(result_, req.options.max_rejects),
        keys_(temp_dir_, req.key_table_budget_bytes, [this] { on_partitioned(); }),
        deletes_(temp_dir_, keys_.max_keys()),
        changed_(temp_dir_, req.spill_after_bytes),
        // A first load records only its count, not a million keys.
        changes_(tx, req.source_name, req.run_id, req.record_changes && !first_load, temp_dir_, req.spill_after_bytes) {
    result_.first_load = first_load;
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
    if (keys_.partitioned()) {
      replay_partitions();
      rejects_.sort_by_line();
    }
    result_.timings.stream = lap(t);
    rejects_.check_limit();
    // Before anything is applied: a truncated snapshot must not empty the catalogue.
    if (soft_deletes()) check_deletes();

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
    if (soft_deletes()) soft_delete();
    result_.timings.soft_delete = lap(t);
    check_cancel();
    result_.unchanged = result_.read - result_.rejected - result_.inserted - result_.updated;
    result_.spilled_bytes = changed_.spilled_bytes();
    result_.changes_recorded = changes_.recorded();
    result_.timings.changes = changes_.seconds();
    if (keys_.partitioned()) {
      result_.key_partitions = keys_.partitions();
      result_.partition_spilled_bytes = keys_.spilled_bytes() + deletes_.spilled_bytes();
    }
    return result_;
  }

 private:
  void check_cancel() const {
    if (cancelled(req_)) throw RunCancelled();
  }

  bool soft_deletes() const { return req_.options.missing_rows == MissingRows::soft_delete; }

  // ---- Key load: the source's products into the key table ----------------

  void load_existing() {
    keys_.expect(estimated_source_rows(tx_, req_.source_name));
    // Keys are inserted in batches whose slots were prefetched while the
    // batch was parsed, so the cache misses overlap instead of queueing.
    std::array<ExistingKey, 32> batch{};
    std::size_t pending = 0;
    const auto insert_batch = [&] {
      for (std::size_t i = 0; i < pending; ++i) keys_.add_existing(batch[i]);
      pending = 0;
    };
    ExistingKeys existing(tx_);
    std::uint64_t n = 0;
    while (existing.next(batch[pending])) {
      keys_.table().prefetch(batch[pending].key);
      if (++pending == batch.size()) insert_batch();
      if (++n % (kCancelEveryRows * 64) == 0) check_cancel();
    }
    insert_batch();
  }

  // ---- The feed: each record decided against the key table ----------------

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
    if (feeds::is_keyed(format)) {
      // XML and NDJSON cost more to parse than a row costs to decide: they
      // are read on a thread of their own (CSV's parse is a small share of a
      // row's cost, docs/etl.md "Reading thread": it stays on this thread).
      ReadAhead ahead(
          [&](ReadAhead& out) {
            feeds::ReaderOptions options = reader_options;
            options.on_batch = [&out](csv::RecordBatch& batch) { out.push_batch(batch); };
            read_feed(format, options, [&out](const csv::Record& r) { out.push(r); },
                      [&out] { out.check_stopped(); });
          },
          [this] { check_cancel(); }, kReadAheadPoll);
      while (const csv::Record* r = ahead.next()) on_record(*r);
    } else {
      read_feed(format, reader_options, [this](const csv::Record& r) { on_record(r); }, [this] { check_cancel(); });
    }
    result_.bytes = bytes_;
    if (insert_copy_) insert_copy_->maybe_flush();
    if (req_.on_progress) req_.on_progress(Progress{result_.bytes, result_.read});
  }

  /// Download → decompress → parse: every record to `emit`, `between_chunks`
  /// before each chunk of the download (on whichever thread calls this).
  void read_feed(feeds::Format format, const feeds::ReaderOptions& options, const csv::Reader::RecordCallback& emit,
                 const std::function<void()>& between_chunks) {
    const auto reader = feeds::make_record_reader(format, options, emit);
    FeedDecoder decoder(req_.compression, req_.object_name, [&reader](std::string_view data) { reader->feed(data); });
    req_.source([&](std::string_view chunk) {
      between_chunks();
      bytes_ += chunk.size();
      decoder.feed(chunk);
    });
    decoder.finish();
    reader->finish();
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
      req_.on_progress(Progress{bytes_, result_.read});
    }
    if (!rec.error.empty()) {
      reject(rec.line, rec.error, rec.fields);
      return;
    }
    if (!normalizer_->normalize(rec.fields, row_, reason_)) {
      reject(rec.line, reason_, rec.fields);
      return;
    }
    const std::uint64_t key = key_hash(row_.sku);
    if (const std::uint32_t p = keys_.place(key); p != 0) {
      defer(p, rec, key);
      return;
    }
    // The slot is a cache miss on a large catalog: start loading it, hash the
    // content meanwhile, then probe.
    keys_.table().prefetch(key);
    const std::uint64_t hash = content_hash(row_, scratch_);
    const auto decision = decide(keys_.table().find_or_insert(key, key_check(row_.sku)), rec.line, hash);
    if (decision == Decision::duplicate) reject_duplicate(rec.line, rec.fields);
    if (decision == Decision::write_new) write_new(hash);
    if (decision == Decision::write_changed) write_changed(hash);
  }

  enum class Decision { duplicate, write_new, write_changed, unchanged };

  /// What becomes of a valid row whose key's slot is `slot` (row_ need not
  /// hold the row yet: a replayed row is normalised again only when it is
  /// written or rejected).
  Decision decide(KeyTable::Slot& slot, std::uint64_t line, std::uint64_t hash) {
    if (const auto first = KeyTable::line_of(slot); first != 0) {
      duplicate_first_line_ = first;
      return Decision::duplicate;
    }
    KeyTable::mark_seen(slot, line);
    if ((slot.meta & KeyTable::kInDb) == 0) return Decision::write_new;
    if (slot.content != hash || (slot.meta & KeyTable::kDeleted) != 0) return Decision::write_changed;
    return Decision::unchanged;
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

  /// A row that changed or comes back from a soft delete (row_ holds it):
  /// staged for apply_changes.
  void write_changed(std::uint64_t hash) {
    append_copy_row(changed_.buffer(), source_escaped_, row_, hash, run_id_escaped_, json_);
    changed_.count_row();
    changed_.maybe_spill();
  }

  /// The raw text (the fields re-joined, cut near kRawMax) is built only
  /// when the log stores it.
  void reject(std::uint64_t line, const std::string& reason, const std::vector<std::string_view>& fields) {
    rejects_.add(line, reason, rejects_.stores_next() ? normalizer_->raw_text(fields, RejectLog::kRawMax) : std::string());
  }

  /// decide()'s last duplicate, row_ holding it.
  void reject_duplicate(std::uint64_t line, const std::vector<std::string_view>& fields) {
    reject(line,
           "duplicate key '" + row_.sku + "': first seen on line " +
               (duplicate_first_line_ == KeyTable::kLineMask ? std::string("> ") : std::string()) +
               std::to_string(duplicate_first_line_),
           fields);
  }

  // ---- Applying: changed rows, then the rows the feed did not name -------

  void apply_changes() {
    stage_changed(tx_, changed_);
    const std::uint64_t matched = match_staged(tx_, req_.source_name);
    check_cancel();
    changes_.record_staged();
    if (req_.dry_run) {
      result_.updated = matched;  // what the UPDATE would change
      return;
    }
    result_.updated = apply_staged(tx_, req_.source_name);
    // Rows are updated by address: one rewritten since it was matched (by a
    // writer that ignores the source lock, say a manual UPDATE) is not found,
    // and applying the rest would leave the log and the counts wrong.
    if (result_.updated < matched) {
      throw catalog::Error(std::to_string(matched - result_.updated) +
                           " changed rows were rewritten by another writer during the run; nothing was applied. "
                           "Run the job again");
    }
  }

  /// Fails the run if max_deletes does not allow soft-deleting the live rows
  /// the feed did not name.
  void check_deletes() {
    if (!keys_.partitioned()) deletes_.count(keys_.table());  // partitioned: counted partition by partition
    const auto message = deletes_.over_limit(req_.options.max_deletes);
    if (!message) return;
    if (req_.dry_run) {
      // A preview reports what the guard would do and goes on counting.
      result_.delete_guard = *message + "; a real run would fail and change nothing";
      return;
    }
    throw TooManyDeletes(*message +
                         "; nothing was written. If the feed is right, set the job's max_deletes to 1.0 "
                         "(or \"100%\") for one run");
  }

  void soft_delete() {
    if (deletes_.candidates() == 0) return;
    SpillBuffer gone(temp_dir_, req_.spill_after_bytes);
    deletes_.collect(tx_, keys_.partitioned() ? nullptr : &keys_.table(), gone);
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

  // ---- Partitions: a source larger than the key-table budget -------------

  /// Once the keys are split, rejects and delete candidates are found out of
  /// line order and partition by partition.
  void on_partitioned() {
    rejects_.keep_out_of_order();
    if (soft_deletes()) deletes_.keep_keys_on_disk();
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
    keys_.defer(p, d);
  }

  /// Rebuilds a deferred row (into replay_fields_ and row_) to write or reject it.
  void renormalize(const DeferredRow& r) {
    decode_fields(r.fields, replay_fields_);
    if (!normalizer_->normalize(replay_fields_, row_, reason_)) {
      throw catalog::Error("internal error: feed line " + std::to_string(r.line) +
                           " normalised differently when replayed: " + reason_);
    }
  }

  /// After the feed: each partition's rows are decided exactly as
  /// on_record does, and each partition's delete candidates counted.
  void replay_partitions() {
    std::uint64_t n = 0;
    keys_.replay(
        [&](KeyTable& table, const DeferredRow& r) {
          if (++n % kCancelEveryRows == 0) check_cancel();
          const auto decision = decide(table.find_or_insert(r.key, r.check), r.line, r.content);
          if (decision == Decision::unchanged) return;
          renormalize(r);
          if (decision == Decision::duplicate) reject_duplicate(r.line, replay_fields_);
          if (decision == Decision::write_new) write_new(r.content);
          if (decision == Decision::write_changed) write_changed(r.content);
        },
        [&](const KeyTable& table) {
          if (soft_deletes()) deletes_.count(table);
        },
        [&] { check_cancel(); });
  }

  pqxx::work& tx_;
  const RunRequest& req_;
  const std::string bulk_table_;
  const std::string temp_dir_;
  RunResult result_;
  RejectLog rejects_;
  SourceKeys keys_;
  DeleteCandidates deletes_;
  std::string deferred_fields_;
  std::vector<std::string_view> replay_fields_;
  std::unique_ptr<RowMapper> normalizer_;
  std::unique_ptr<db::CopyIn> insert_copy_;
  SpillBuffer changed_;
  ChangeLog changes_;
  std::uint64_t would_insert_ = 0;  ///< a dry run's new rows
  bool have_header_ = false;
  std::atomic<std::uint64_t> bytes_{0};  ///< of the feed read so far (by the reading thread, for a keyed format)
  std::uint64_t duplicate_first_line_ = 0;  ///< where decide()'s last duplicate was first seen
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
