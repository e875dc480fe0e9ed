#include "etl/first_load.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <vector>

#include "catalog/core/errors.hpp"
#include "catalog/db/catalog_versions.hpp"
#include "catalog/log/logging.hpp"
#include "etl/run_control.hpp"

namespace catalog::etl {
namespace {

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

}  // namespace

PartitionInfo prepare_partition(pqxx::work& tx, const std::string& source) {
  const auto partition = tx.exec_params1(kFindPartition, source);
  PartitionInfo info;
  info.name = partition[0].as<std::string>();
  const std::string state = partition[1].as<std::string>();
  if (state == "detached") {
    throw catalog::Error("table " + info.name + " has this source's partition name but is not part of " +
                         "products: attach it (ALTER TABLE products ATTACH PARTITION " + tx.quote_name(info.name) +
                         " FOR VALUES IN (" + tx.quote(source) + ")) or drop it");
  }
  if (state == "interrupted") {
    log::warn("etl", "dropping the unattached table an interrupted first load left",
              {{"source", source}, {"table", info.name}});
    tx.exec_params(kDiscardFirstLoad, source);
  }
  info.first_load = state != "attached";
  if (info.first_load) tx.exec_params(kBeginBulkLoad, source);
  return info;
}

void build_indexes_and_attach(pqxx::connection& conn, const RunRequest& req) {
  build_indexes(conn, req);
  pqxx::work tx(conn, "etl_attach");
  tx.exec_params(kAttachBulkLoad, req.source_name);
  const auto bumped = db::bump_products_version(tx, req.source_name);
  tx.commit();
  if (req.on_versions_committed) req.on_versions_committed(bumped);
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

}  // namespace catalog::etl
