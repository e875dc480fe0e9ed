#pragma once
// The ETL data path: feed bytes → (gunzip) → CSV → normalised rows → diff
// against `products` → one transaction that writes only what changed.
// Semantics and performance design: docs/etl.md.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

#include "catalog/core/errors.hpp"
#include "catalog/db/catalog_versions.hpp"
#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"


namespace catalog::etl {

/// Pushes the feed's bytes, in order, into `sink` (any chunk sizes) and
/// returns at the end of the object. Exceptions propagate out of run_feed.
/// The S3 GetObject stream plugs in here; tests use strings and files.
using ChunkSink = std::function<void(std::string_view chunk)>;
using ByteSource = std::function<void(const ChunkSink& sink)>;

enum class Compression {
  auto_detect,  ///< gzip when the object name ends in .gz or the bytes start with the gzip magic
  none,
  gzip,
};

struct Progress {
  std::uint64_t bytes = 0;  ///< bytes received from the source (compressed size for gzip)
  std::uint64_t rows = 0;   ///< data rows read so far (rejected ones included)
};

/// One rejected feed row.
struct Reject {
  std::uint64_t line = 0;  ///< 1-based physical line where the record starts
  std::string reason;      ///< e.g. "expected 8 fields, got 7"
  std::string raw;         ///< the fields re-joined with the delimiter, valid UTF-8, at most ~200 bytes
};

struct RunResult {
  std::uint64_t bytes = 0;
  std::uint64_t read = 0;  ///< data rows (header and blank lines excluded)
  std::uint64_t inserted = 0;
  std::uint64_t updated = 0;  ///< content changed, or a soft-deleted row came back
  std::uint64_t unchanged = 0;
  std::uint64_t rejected = 0;
  std::uint64_t deleted = 0;  ///< soft-deleted by missing_rows=soft_delete
  std::vector<Reject> first_rejects;  ///< the first kMaxStoredRejects rejects, in line order
  /// The source had no rows: the change log holds only the count.
  bool first_load = false;
  /// Rows recorded in run_changes (docs/change-log.md).
  std::uint64_t changes_recorded = 0;
  /// A dry run past max_deletes: what the mass-delete guard would say (a
  /// real run fails with it). Counts are still what the run would do.
  std::optional<std::string> delete_guard;
  /// Bytes of changed rows written to a temporary file in TMPDIR (0 = all fitted in memory).
  std::uint64_t spilled_bytes = 0;
  /// Key-hash partitions of a run whose key table would not fit
  /// RunRequest::key_table_budget_bytes (1 = everything in memory; docs/etl.md "Large sources").
  std::uint32_t key_partitions = 1;
  /// Bytes of keys and feed rows written to the partitions' temporary files in TMPDIR.
  std::uint64_t partition_spilled_bytes = 0;
  /// Wall-clock seconds per phase (for logs and tuning).
  struct Timings {
    double load_keys = 0;      ///< reading this source's (sku, content_hash) from products
    double stream = 0;         ///< download + parse + normalise + COPY of new rows
    /// From the start of run_feed to the commit that made the rows visible
    /// (a first load: COPY, the key, the attach).
    double visible = 0;
    double build_indexes = 0;  ///< the source's missing secondary indexes, after that commit (a first load's)
    double apply = 0;          ///< end of the insert COPY, staging and UPDATE of changed rows
    double soft_delete = 0;    ///< missing_rows=soft_delete
    double changes = 0;        ///< the change log's statements (part of apply, soft_delete and stream)
    double vacuum = 0;         ///< ANALYZE (and VACUUM) of the partition after a load that added many rows
  } timings;
};

inline constexpr std::size_t kMaxStoredRejects = 100;
inline constexpr std::size_t kDefaultSpillAfterBytes = 8 * 1024 * 1024;
/// 4M slots of 24 bytes: up to 3M keys sized up front, 1.5M grown (docs/etl.md "Large sources").
inline constexpr std::size_t kDefaultKeyTableBudget = 96 * 1024 * 1024;

/// The run was cancelled (cancel check returned true); nothing was written.
class RunCancelled : public catalog::Error {
 public:
  RunCancelled() : Error("run cancelled") {}
};

/// More rejected rows than max_rejects allows: the run fails and nothing is
/// written. result() holds the counts and the first rejects for the run record.
class TooManyRejects : public catalog::Error {
 public:
  TooManyRejects(std::string message, RunResult result) : Error(std::move(message)), result_(std::move(result)) {}
  const RunResult& result() const noexcept { return result_; }

 private:
  RunResult result_;
};

/// The run's rows are committed and visible, but building the source's
/// missing secondary indexes afterwards stopped: cancelled (cancelled()),
/// interrupted or failed. Queries still answer, some by slower plans; the
/// source's next run builds what is missing. result() holds the counts.
class IndexesIncomplete : public catalog::Error {
 public:
  IndexesIncomplete(std::string message, RunResult result, bool cancelled)
      : Error(std::move(message)), result_(std::move(result)), cancelled_(cancelled) {}
  const RunResult& result() const noexcept { return result_; }
  bool cancelled() const noexcept { return cancelled_; }

 private:
  RunResult result_;
  bool cancelled_;
};

/// A missing_rows=soft_delete run would soft-delete more of the source's live
/// rows than max_deletes allows: the run fails and nothing is written.
class TooManyDeletes : public catalog::Error {
 public:
  using Error::Error;
};

struct RunRequest {
  ByteSource source;
  /// Object name or key; only used to detect `.gz`.
  std::string object_name;
  Compression compression = Compression::auto_detect;
  /// products.source of every row (the job's source).
  std::string source_name;
  JobOptions options;
  /// job_runs.id (uuid text) stored as products.last_run_id on written rows
  /// and as run_changes.run_id; empty = NULL, and no change log.
  std::string run_id;
  /// Records what the run changes in run_changes (docs/change-log.md): the
  /// job runner always asks; run_id must then name a job_runs row (the
  /// table's foreign key), and one run loads one source.
  bool record_changes = false;
  /// A preview: the whole pipeline runs and the change log is recorded, but
  /// nothing is written to products (new rows are counted, the changed and
  /// missing ones are staged and recorded, the UPDATEs skipped); the
  /// mass-delete guard reports in RunResult::delete_guard instead of failing.
  bool dry_run = false;
  /// Called every `progress_every_rows` rows and once when the feed has been
  /// read. Runs on the engine's thread while its connection is busy (in COPY):
  /// report through another connection.
  std::function<void(const Progress&)> on_progress;
  std::uint64_t progress_every_rows = 50'000;
  /// Called once the run's rows are committed (visible to readers), before
  /// the source's missing secondary indexes are built; counts are final.
  std::function<void(const RunResult&)> on_visible;
  /// Polled for every chunk and every 1024 rows, and between apply steps;
  /// returning true aborts the run with RunCancelled (IndexesIncomplete once
  /// the rows are committed). While indexes build it is polled from two
  /// threads at once.
  std::function<bool()> is_cancelled;
  /// Called right after a transaction that gave the source new catalog
  /// versions has committed (VersionCache::observe: this process's own
  /// revalidations see the run before its end is reported).
  std::function<void(const db::ScopeVersions&)> on_versions_committed;
  /// Changed rows beyond this many bytes (COPY text) go to an unnamed
  /// temporary file instead of memory.
  std::size_t spill_after_bytes = kDefaultSpillAfterBytes;
  /// Directory of that file; empty = $TMPDIR, or /tmp when TMPDIR is unset
  /// or empty. A run that must spill and cannot create or write the file
  /// fails with a message naming the directory; nothing is written.
  std::string temp_dir;
  /// Memory the key table may use, growth included (old and new slots
  /// together). A source with more keys is split by key hash into
  /// partitions; all but one go through temporary files in the same
  /// directory. Not configurable in the service: tests make it tiny.
  std::size_t key_table_budget_bytes = kDefaultKeyTableBudget;
};

/// Runs one feed into `products` in ONE transaction on `conn` (which must be
/// idle: no transaction open). Serialises runs of the same source with a
/// session-level advisory lock, released before returning. On any exception
/// the transaction is rolled back: products are exactly as before.
/// A source's first load COPYs into a fresh table and attaches it with its
/// primary key in that same transaction. After the commit, every run builds
/// the secondary indexes its source's partition lacks (all of them after a
/// first load) on `conn` and on one more connection (opened with `conn`'s
/// connection string); the source's lock is held until they are done.
/// Throws FeedError (unusable feed: header, gzip), TooManyRejects, TooManyDeletes,
/// RunCancelled, IndexesIncomplete (rows committed, indexes not all built),
/// catalog::db::CopyError / pqxx errors (database).
RunResult run_feed(pqxx::connection& conn, const RunRequest& request);

/// Convenience sources.
ByteSource string_source(std::string data, std::size_t chunk_size = 64 * 1024);
ByteSource file_source(std::string path, std::size_t chunk_size = 256 * 1024);

}  // namespace catalog::etl
