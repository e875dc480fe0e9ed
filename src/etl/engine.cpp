#include "catalog/etl/engine.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <zlib.h>

#include "catalog/core/json_string.hpp"
#include "catalog/core/utf8.hpp"
#include "catalog/csv/csv_reader.hpp"
#include "catalog/db/product_loader.hpp"
#include "catalog/log/logging.hpp"
#include "etl/key_table.hpp"
#include "etl/spill_buffer.hpp"

namespace catalog::etl {
namespace {

// ---------------------------------------------------------------------------
// SQL. Every value is a parameter or comes from current_setting() (COPY takes
// no parameters, so the source travels as a transaction-local setting).
// Identifiers are constants.

// Serialises runs on the same source (two jobs may share one). A first load
// spans two transactions, so the lock is the session's, held from before the
// first to after the last. Two-key advisory locks live apart from single-key
// ones used elsewhere; products_ensure_partition() waits on the same one.
constexpr const char* kLockSource = "SELECT pg_advisory_lock(1163152433, hashtext($1))";  // 'ETL1'
constexpr const char* kUnlockSource = "SELECT pg_advisory_unlock(1163152433, hashtext($1))";
// The sub-SELECT makes current_setting() an init plan evaluated once; as a
// plain filter it is re-evaluated per row (measured: 2x slower key load).
constexpr const char* kSetSource = "SELECT set_config('catalog.etl_source', $1, true)";
// JIT compiling these one-shot bulk statements costs more than it saves.
constexpr const char* kNoJit = "SET LOCAL jit = off";
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
// used table resident, so the hint stops at 2M keys (4M slots, 96 MiB); larger
// sources grow from there.
constexpr std::size_t kMaxKeysHint = std::size_t{2} << 20;
constexpr const char* kCopyLiveKeys =
    "COPY (SELECT sku FROM products WHERE source = (SELECT current_setting('catalog.etl_source')) "
    "AND deleted_at IS NULL) TO STDOUT";
constexpr const char* kCopyInsertTail =  // after "COPY <table>"
    " (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, last_run_id) FROM STDIN";
// products is partitioned by source (migrations 3 and 4). A source without a
// partition is a first load: its rows go into a fresh table with FREEZE (no
// hint-bit or VACUUM cost for later readers), which is committed unattached;
// its indexes are then built by sorting, on two connections at once, and the
// table is attached in a second transaction (docs/etl.md). Names come from
// products_partition_name().
constexpr const char* kFindPartition = "SELECT products_partition_name($1), products_partition_state($1)";
constexpr const char* kBeginBulkLoad = "SELECT products_begin_bulk_load($1)";
constexpr const char* kFirstLoadIndexes = "SELECT products_first_load_indexes($1)";
constexpr const char* kAttachBulkLoad = "SELECT products_attach_bulk_load($1)";
constexpr const char* kDiscardFirstLoad = "SELECT products_discard_first_load($1)";
constexpr const char* kCreateStage =
    "CREATE TEMP TABLE etl_stage (source text, sku text, name text, description text, brand text, "
    "category text, price numeric(12,2), currency char(3), availability text, attributes jsonb, "
    "content_hash bigint, last_run_id uuid) ON COMMIT DROP";
constexpr const char* kCopyStage =
    "COPY etl_stage (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, last_run_id) FROM STDIN";
// Changed rows and revived rows. updated_at moves only when the content does.
constexpr const char* kApplyUpdates = R"sql(
UPDATE products AS p SET
  name = s.name, description = s.description, brand = s.brand, category = s.category,
  price = s.price, currency = s.currency, availability = s.availability, attributes = s.attributes,
  updated_at = CASE WHEN p.content_hash <> s.content_hash THEN now() ELSE p.updated_at END,
  content_hash = s.content_hash, deleted_at = NULL, last_run_id = s.last_run_id
FROM etl_stage AS s
WHERE p.source = $1 AND p.sku = s.sku
  AND (p.content_hash <> s.content_hash OR p.deleted_at IS NOT NULL)
)sql";
constexpr const char* kCreateGone = "CREATE TEMP TABLE etl_gone (sku text) ON COMMIT DROP";
constexpr const char* kCopyGone = "COPY etl_gone (sku) FROM STDIN";
constexpr const char* kSoftDelete = R"sql(
UPDATE products AS p SET deleted_at = now(), last_run_id = NULLIF($2, '')::uuid
FROM etl_gone AS g
WHERE p.source = $1 AND p.sku = g.sku AND p.deleted_at IS NULL
)sql";

// After a load that added many rows, and once it is committed, the run
// analyzes the source's partition itself instead of leaving it to autovacuum
// a minute later: the planner otherwise still thinks the source is empty (bad
// /products plans, a wrong key-table size on the next run). Rows added to an
// existing partition also need their hint bits set, or the next reader pays
// for it (bench: a forced re-run straight after a 1M load took 2.8 s, longer
// than the later 1%-changed run with its 10k updates; with this VACUUM,
// 1.2-1.4 s); INDEX_CLEANUP OFF leaves the nine indexes to autovacuum, so the
// cost follows the new rows. A first load was written frozen: ANALYZE only.
constexpr const char* kVacuumPartition = "VACUUM (ANALYZE, INDEX_CLEANUP OFF) ";
constexpr const char* kAnalyzePartition = "ANALYZE ";
constexpr std::uint64_t kVacuumAfterInserts = 10'000;

constexpr std::size_t kRawMax = 200;
constexpr std::uint64_t kCancelEveryRows = 1024;

// ---------------------------------------------------------------------------

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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

/// Streaming gzip decoder (RFC 1952), concatenated members included.
class Gunzip {
 public:
  Gunzip() {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw FeedError("gzip: cannot initialise zlib");
    out_.resize(256 * 1024);
  }
  ~Gunzip() { inflateEnd(&zs_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  template <typename Out>
  void feed(std::string_view in, Out&& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    while (zs_.avail_in > 0) {
      if (member_done_) {  // another member follows
        if (inflateReset(&zs_) != Z_OK) throw FeedError("gzip: cannot reset zlib");
        member_done_ = false;
      }
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const std::size_t produced = out_.size() - zs_.avail_out;
      if (produced > 0) out(std::string_view(out_.data(), produced));
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw FeedError(std::string("gzip: corrupt stream: ") + (zs_.msg != nullptr ? zs_.msg : "inflate failed"));
      } else if (rc == Z_BUF_ERROR && produced == 0 && zs_.avail_in > 0) {
        throw FeedError("gzip: corrupt stream");
      }
    }
  }

  void finish() {
    if (!member_done_) throw FeedError("gzip: stream is truncated");
  }

 private:
  z_stream zs_{};
  std::vector<char> out_;
  bool member_done_ = false;
};

using Clock = std::chrono::steady_clock;

bool cancelled(const RunRequest& req) { return req.is_cancelled && req.is_cancelled(); }

double lap(Clock::time_point& since) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - since).count();
  since = now;
  return s;
}

class Pipeline {
 public:
  /// `bulk_table` names the fresh table of a first load, or is empty.
  Pipeline(pqxx::work& tx, const RunRequest& req, std::string bulk_table)
      : tx_(tx),
        req_(req),
        bulk_table_(std::move(bulk_table)),
        changed_(temp_directory(req.temp_dir), req.spill_after_bytes) {
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
    result_.timings.stream = lap(t);
    check_cancel();
    if (!have_header_) throw FeedError("feed is empty: no header row");
    if (req_.options.max_rejects.exceeded(result_.rejected, result_.read)) throw too_many_rejects();

    result_.inserted = insert_copy_->finish();
    insert_copy_.reset();
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
    return result_;
  }

 private:
  void check_cancel() const {
    if (cancelled(req_)) throw RunCancelled();
  }

  void load_existing() {
    keys_ = KeyTable(std::min(estimated_keys(), kMaxKeysHint));
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
    insert_copy_ = std::make_unique<db::CopyIn>(
        tx_, bulk_table_.empty() ? std::string("COPY products") + kCopyInsertTail
                                 : "COPY " + tx_.quote_name(bulk_table_) + kCopyInsertTail + " WITH (FREEZE)");
    csv::Options csv_options;
    csv_options.delimiter = req_.options.delimiter;
    csv::Reader reader(csv_options, [this](const csv::Record& r) { on_record(r); });

    bool decided = req_.compression != Compression::auto_detect;
    bool gzip = req_.compression == Compression::gzip;
    if (!decided && ends_with(req_.object_name, ".gz")) {
      decided = true;
      gzip = true;
    }
    std::string head;  // first bytes, until the gzip magic can be checked
    std::unique_ptr<Gunzip> gunzip;
    auto to_reader = [&reader](std::string_view data) { reader.feed(data); };
    auto deliver = [&](std::string_view data) {
      if (gzip) {
        if (!gunzip) gunzip = std::make_unique<Gunzip>();
        gunzip->feed(data, to_reader);
      } else {
        reader.feed(data);
      }
    };
    const ChunkSink sink = [&](std::string_view chunk) {
      check_cancel();
      result_.bytes += chunk.size();
      if (!decided) {
        head.append(chunk);
        if (head.size() < 2) return;
        decided = true;
        gzip = static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b;
        deliver(head);
        head.clear();
        return;
      }
      deliver(chunk);
    };
    req_.source(sink);
    if (!decided && !head.empty()) deliver(head);  // a 1-byte feed
    if (gzip) {
      if (!gunzip) throw FeedError("gzip: stream is empty");
      gunzip->finish();
    }
    reader.finish();
    insert_copy_->maybe_flush();
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
    // The slot is a cache miss on a large catalog: start loading it, hash the
    // content meanwhile, then probe.
    const std::uint64_t key = key_hash(row_.sku);
    keys_.prefetch(key);
    const std::uint64_t hash = content_hash(row_, scratch_);
    KeyTable::Slot& slot = keys_.find_or_insert(key, key_check(row_.sku));
    if (KeyTable::line_of(slot) != 0) {
      const auto first = KeyTable::line_of(slot);
      reject(rec, "duplicate key '" + row_.sku + "': first seen on line " +
                      (first == KeyTable::kLineMask ? std::string("> ") : std::string()) + std::to_string(first));
      return;
    }
    KeyTable::mark_seen(slot, rec.line);
    if ((slot.meta & KeyTable::kInDb) == 0) {
      append_row(insert_copy_->buffer(), hash);
      insert_copy_->maybe_flush();
    } else if (slot.content != hash || (slot.meta & KeyTable::kDeleted) != 0) {
      append_row(changed_.buffer(), hash);
      changed_.count_row();
      changed_.maybe_spill();
    }
  }

  void append_row(std::string& out, std::uint64_t hash) {
    out.append(source_escaped_);
    out.push_back('\t');
    db::append_copy_text(out, row_.sku);
    out.push_back('\t');
    db::append_copy_text(out, row_.name);
    for (const std::string* f : {&row_.description, &row_.brand, &row_.category}) {
      out.push_back('\t');
      if (f->empty()) {
        db::append_copy_null(out);
      } else {
        db::append_copy_text(out, *f);
      }
    }
    out.push_back('\t');
    if (row_.has_price) {
      out.append(row_.price_text());
    } else {
      db::append_copy_null(out);
    }
    for (const std::string* f : {&row_.currency, &row_.availability}) {
      out.push_back('\t');
      if (f->empty()) {
        db::append_copy_null(out);
      } else {
        db::append_copy_text(out, *f);
      }
    }
    out.push_back('\t');
    json_.clear();
    json_.push_back('{');
    for (std::size_t i = 0; i < row_.attributes.size(); ++i) {
      if (i != 0) json_.push_back(',');
      append_json_string(json_, row_.attributes[i].first);
      json_.push_back(':');
      append_json_string(json_, row_.attributes[i].second);
    }
    json_.push_back('}');
    db::append_copy_text(out, json_);
    out.push_back('\t');
    out.append(std::to_string(static_cast<std::int64_t>(hash)));
    out.push_back('\t');
    out.append(run_id_escaped_);
    out.push_back('\n');
  }

  void reject(const csv::Record& rec, const std::string& reason) {
    ++result_.rejected;
    if (result_.first_rejects.size() < kMaxStoredRejects) {
      std::string raw;
      for (std::size_t i = 0; i < rec.fields.size() && raw.size() <= kRawMax; ++i) {
        if (i != 0) raw.push_back(req_.options.delimiter);
        raw.append(rec.fields[i].substr(0, kRawMax + 1));
      }
      result_.first_rejects.push_back(Reject{rec.line, sanitize_utf8(reason, 1000), sanitize_utf8(raw, kRawMax)});
    }
    if (req_.options.max_rejects.exceeded_early(result_.rejected)) throw too_many_rejects();
  }

  TooManyRejects too_many_rejects() const {
    RunResult partial;
    partial.bytes = result_.bytes;
    partial.read = result_.read;
    partial.rejected = result_.rejected;
    partial.first_rejects = result_.first_rejects;
    return TooManyRejects("too many rejected rows: " + std::to_string(result_.rejected) + " rejected of " +
                              std::to_string(result_.read) + " read so far (max_rejects " +
                              req_.options.max_rejects.describe() + "); nothing was written",
                          std::move(partial));
  }

  void apply_changes() {
    tx_.exec(kCreateStage);
    {
      db::CopyIn stage(tx_, kCopyStage);
      changed_.replay(stage);
      stage.finish();
    }
    tx_.exec("ANALYZE etl_stage");
    check_cancel();
    result_.updated = tx_.exec_params(kApplyUpdates, req_.source_name).affected_rows();
  }

  void soft_delete() {
    std::uint64_t candidates = 0;
    keys_.for_each([&](const KeyTable::Slot& s) {
      if ((s.meta & KeyTable::kInDb) != 0 && (s.meta & KeyTable::kDeleted) == 0 && KeyTable::line_of(s) == 0) {
        ++candidates;
      }
    });
    if (candidates == 0) return;
    // The sku strings are not in memory: read this source's live keys again
    // and keep the ones the feed did not name (their COPY text is reused as is).
    std::string gone;
    {
      db::CopyOut out(tx_, kCopyLiveKeys);
      std::string_view line;
      std::string buf;
      while (out.next(line)) {
        std::string_view sku = line;
        if (line.find('\\') != std::string_view::npos) {
          buf = db::unescape_copy_text(line);
          sku = buf;
        }
        const KeyTable::Slot* s = keys_.find(key_hash(sku), key_check(sku));
        if (s != nullptr && KeyTable::line_of(*s) == 0) {
          gone.append(line);
          gone.push_back('\n');
        }
      }
    }
    check_cancel();
    if (gone.empty()) return;
    tx_.exec(kCreateGone);
    {
      db::CopyIn copy(tx_, kCopyGone);
      copy.write_raw(gone);
      copy.finish();
    }
    result_.deleted = tx_.exec_params(kSoftDelete, req_.source_name, req_.run_id).affected_rows();
  }

  pqxx::work& tx_;
  const RunRequest& req_;
  const std::string bulk_table_;
  RunResult result_;
  KeyTable keys_;
  std::unique_ptr<RowNormalizer> normalizer_;
  std::unique_ptr<db::CopyIn> insert_copy_;
  SpillBuffer changed_;
  bool have_header_ = false;
  ProductRow row_;
  std::string reason_;
  std::string scratch_;
  std::string json_;
  std::string source_escaped_;
  std::string run_id_escaped_;
};

/// The source's advisory lock (kLockSource), held for the whole run.
class SourceLock {
 public:
  SourceLock(pqxx::connection& conn, const std::string& source) : conn_(conn), source_(source) {
    pqxx::nontransaction tx(conn_, "etl_lock");
    tx.exec_params(kLockSource, source_);
  }
  ~SourceLock() {
    try {
      pqxx::nontransaction tx(conn_, "etl_unlock");
      tx.exec_params(kUnlockSource, source_);
    } catch (const std::exception& e) {
      // Closing the connection releases it; a broken one already has.
      log::warn("etl", "could not release the source's lock; it is held until the connection closes",
                {{"source", source_}, {"error", e.what()}});
    }
  }
  SourceLock(const SourceLock&) = delete;
  SourceLock& operator=(const SourceLock&) = delete;

 private:
  pqxx::connection& conn_;
  const std::string source_;
};

/// Runs the first-load table's CREATE INDEX statements (slowest first) on
/// `conn` and on a second connection, each taking the next one when done: the
/// GIN index alone takes half the B-trees' time, and two backends build them
/// at once (1M rows, two cores: 10.4 s -> 7.6 s). Without a second connection
/// (max_connections reached) `conn` builds them all.
void build_indexes(pqxx::connection& conn, const RunRequest& req) {
  std::vector<std::string> statements;
  {
    pqxx::nontransaction tx(conn, "etl_index_list");
    for (const auto& row : tx.exec_params(kFirstLoadIndexes, req.source_name)) {
      statements.push_back(row[0].as<std::string>());
    }
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  const auto build = [&](pqxx::connection& c) {
    for (std::size_t i = next++; i < statements.size() && !stop.load() && !cancelled(req); i = next++) {
      pqxx::nontransaction tx(c, "etl_index");
      tx.exec(statements[i]);
    }
  };
  std::unique_ptr<pqxx::connection> helper;
  try {
    helper = std::make_unique<pqxx::connection>(conn.options());
  } catch (const pqxx::broken_connection& e) {
    log::warn("etl", "no second connection for the index builds; building them one at a time",
              {{"source", req.source_name}, {"error", e.what()}});
  }
  std::future<void> helped;  // declared after `helper`: its destructor waits for the thread
  if (helper) {
    helped = std::async(std::launch::async, [&] {
      try {
        build(*helper);
      } catch (...) {
        stop = true;
        throw;
      }
    });
  }
  try {
    build(conn);
    // Keep answering a cancel while the other connection finishes its index.
    while (helped.valid() && helped.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (cancelled(req)) throw RunCancelled();
    }
    if (cancelled(req)) throw RunCancelled();
  } catch (...) {
    stop = true;
    if (helped.valid()) {
      try {
        helper->cancel_query();
      } catch (const std::exception&) {
        // it fails on its own, or finishes its index
      }
      helped.wait();
    }
    throw;
  }
  if (helped.valid()) helped.get();  // the helper's error, if any
}

/// After a first load failed past its first commit: drops the unattached
/// table. If that fails too, the source's next run drops it.
void discard_first_load(pqxx::connection& conn, const std::string& source, const std::string& table) {
  try {
    pqxx::nontransaction tx(conn, "etl_discard");
    tx.exec_params(kDiscardFirstLoad, source);
  } catch (const std::exception& e) {
    log::warn("etl", "could not drop the table of a failed first load; the source's next run drops it",
              {{"source", source}, {"table", table}, {"error", e.what()}});
  }
}

}  // namespace

RunResult run_feed(pqxx::connection& conn, const RunRequest& request) {
  if (!request.source) throw std::invalid_argument("run_feed: no byte source");
  if (conn.get_client_encoding() != "UTF8") conn.set_client_encoding("UTF8");
  const SourceLock lock(conn, request.source_name);
  std::string partition_name;
  bool first_load = false;
  RunResult result;
  {
    pqxx::work tx(conn, "etl_run");
    tx.exec_params(kSetSource, request.source_name);
    tx.exec(kNoJit);
    const auto partition = tx.exec_params1(kFindPartition, request.source_name);
    partition_name = partition[0].as<std::string>();
    const std::string state = partition[1].as<std::string>();
    if (state == "detached") {
      throw catalog::Error("table " + partition_name + " has this source's partition name but is not part of " +
                           "products: attach it (ALTER TABLE products ATTACH PARTITION " +
                           tx.quote_name(partition_name) + " FOR VALUES IN (" + tx.quote(request.source_name) +
                           ")) or drop it");
    }
    if (state == "interrupted") {
      log::warn("etl", "dropping the unattached table an interrupted first load left",
                {{"source", request.source_name}, {"table", partition_name}});
      tx.exec_params(kDiscardFirstLoad, request.source_name);
    }
    first_load = state != "attached";
    if (first_load) tx.exec_params(kBeginBulkLoad, request.source_name);
    Pipeline pipeline(tx, request, first_load ? partition_name : std::string());
    result = pipeline.run();
    tx.commit();
  }
  if (first_load) {
    // The rows are committed in a table products does not include yet: the
    // products change only when the attach commits.
    const auto started = Clock::now();
    try {
      build_indexes(conn, request);
      pqxx::work tx(conn, "etl_attach");
      tx.exec_params(kAttachBulkLoad, request.source_name);
      tx.commit();
    } catch (...) {
      discard_first_load(conn, request.source_name, partition_name);
      throw;
    }
    result.timings.build_indexes = std::chrono::duration<double>(Clock::now() - started).count();
  }
  if (result.inserted >= kVacuumAfterInserts && result.inserted * 10 >= result.read) {
    // Housekeeping only: the products are committed, so a failure (or a
    // cancel arriving now) is logged and the run still succeeded.
    const auto started = Clock::now();
    try {
      pqxx::nontransaction maintenance(conn, "etl_vacuum");
      maintenance.exec((first_load ? kAnalyzePartition : kVacuumPartition) + maintenance.quote_name(partition_name));
    } catch (const std::exception& e) {
      log::warn("etl", "ANALYZE of the source's partition after the load failed; autovacuum will do it",
                {{"source", request.source_name}, {"partition", partition_name}, {"error", e.what()}});
    }
    result.timings.vacuum = std::chrono::duration<double>(Clock::now() - started).count();
  }
  return result;
}

ByteSource string_source(std::string data, std::size_t chunk_size) {
  return [data = std::move(data), chunk_size](const ChunkSink& sink) {
    for (std::size_t i = 0; i < data.size(); i += chunk_size) {
      sink(std::string_view(data).substr(i, chunk_size));
    }
  };
}

ByteSource file_source(std::string path, std::size_t chunk_size) {
  return [path = std::move(path), chunk_size](const ChunkSink& sink) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FeedError("cannot open " + path);
    std::vector<char> buf(chunk_size);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n > 0) sink(std::string_view(buf.data(), n));
    }
    if (in.bad()) throw FeedError("cannot read " + path);
  };
}

}  // namespace catalog::etl
