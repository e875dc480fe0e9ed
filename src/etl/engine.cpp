#include "catalog/etl/engine.hpp"

#include <chrono>
#include <fstream>
#include <vector>

#include <pqxx/pqxx>

#include "catalog/db/catalog_versions.hpp"
#include "catalog/log/logging.hpp"
#include "etl/first_load.hpp"
#include "etl/pipeline.hpp"
#include "etl/run_control.hpp"

// run_feed orchestrates a run: the source's lock, the pipeline's transaction
// (with a first load's attach), the secondary indexes the partition lacks
// (etl/first_load), and the VACUUM afterwards. The stages themselves live in etl/pipeline.

namespace catalog::etl {
namespace {

// ---------------------------------------------------------------------------
// SQL. Every value is a parameter or comes from current_setting() (COPY takes
// no parameters, so the source travels as a transaction-local setting).
// Identifiers are constants.

// Serialises runs on the same source (two jobs may share one). A run spans
// its load's transaction and the index builds after it, so the lock is the
// session's, held from before the first to after the last. Two-key advisory locks live apart from single-key
// ones used elsewhere; products_ensure_partition() waits on the same one.
constexpr const char* kLockSource = "SELECT pg_advisory_lock(1163152433, hashtext($1))";  // 'ETL1'
constexpr const char* kUnlockSource = "SELECT pg_advisory_unlock(1163152433, hashtext($1))";
// The sub-SELECT makes current_setting() an init plan evaluated once; as a
// plain filter it is re-evaluated per row (measured: 2x slower key load).
constexpr const char* kSetSource = "SELECT set_config('catalog.etl_source', $1, true)";
// JIT compiling these one-shot bulk statements costs more than it saves.
constexpr const char* kNoJit = "SET LOCAL jit = off";

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

/// A dry run (RunRequest::dry_run), under the source's lock like a real one
/// so its counts are those of the products it saw: the same pipeline, no
/// partition made, nothing written to products; the commit keeps only the
/// change log. No catalog version changes, no indexes or VACUUM to follow.
RunResult dry_run(pqxx::connection& conn, const RunRequest& request, Clock::time_point started) {
  pqxx::work tx(conn, "etl_dry_run");
  tx.exec_params(kSetSource, request.source_name);
  tx.exec(kNoJit);
  RunResult result = run_pipeline(tx, request, std::string(), is_first_load(tx, request.source_name));
  tx.commit();
  result.timings.visible = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace

RunResult run_feed(pqxx::connection& conn, const RunRequest& request) {
  if (!request.source) throw std::invalid_argument("run_feed: no byte source");
  if (conn.get_client_encoding() != "UTF8") conn.set_client_encoding("UTF8");
  const auto started = Clock::now();
  const SourceLock lock(conn, request.source_name);
  std::string partition_name;
  bool first_load = false;
  RunResult result;
  if (request.dry_run) return dry_run(conn, request, started);
  {
    pqxx::work tx(conn, "etl_run");
    tx.exec_params(kSetSource, request.source_name);
    tx.exec(kNoJit);
    const PartitionInfo partition = prepare_partition(tx, request.source_name);
    partition_name = partition.name;
    first_load = partition.first_load;
    result = run_pipeline(tx, request, first_load ? partition_name : std::string(), first_load);
    if (first_load) attach_first_load(tx, request.source_name);
    // New ETags for the source's pages when rows changed or appeared.
    db::ScopeVersions bumped;
    if (first_load || result.inserted + result.updated + result.deleted > 0) {
      bumped = db::bump_products_version(tx, request.source_name);
    }
    tx.commit();
    if (!bumped.empty() && request.on_versions_committed) request.on_versions_committed(bumped);
  }
  result.timings.visible = std::chrono::duration<double>(Clock::now() - started).count();
  if (request.on_visible) request.on_visible(result);
  // The rows are committed and served; the secondary indexes follow (all of
  // them after a first load, any an interrupted run left missing otherwise).
  // Readers meanwhile get other plans; writers of this source wait for the
  // source's lock, held until here.
  {
    const auto indexes_started = Clock::now();
    try {
      const std::size_t built = build_missing_indexes(conn, request);
      if (built > 0 && !first_load) {
        log::info("etl", "built the secondary indexes an interrupted run left missing",
                  {{"source", request.source_name}, {"partition", partition_name}, {"indexes", built}});
      }
    } catch (const std::exception& e) {
      result.timings.build_indexes = std::chrono::duration<double>(Clock::now() - indexes_started).count();
      const bool was_cancelled = cancelled(request);
      throw IndexesIncomplete(std::string(was_cancelled ? "cancelled" : "failed") +
                                  " while building the source's secondary indexes (" + e.what() +
                                  "); the rows are loaded and served, the source's next run builds the missing indexes",
                              result, was_cancelled);
    }
    result.timings.build_indexes = std::chrono::duration<double>(Clock::now() - indexes_started).count();
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
