#include "etl/first_load.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <vector>

#include "catalog/core/errors.hpp"
#include "catalog/log/logging.hpp"
#include "etl/run_control.hpp"

namespace catalog::etl {
namespace {

// products is partitioned by source (migrations 3, 4 and 10). A source
// without a partition is a first load: its rows go into a fresh table with
// FREEZE (no hint-bit or VACUUM cost for later readers), which gets its
// primary key and is attached in the same transaction; the secondary indexes
// are each partition's own and are built after that commit, on two
// connections at once (docs/etl.md "First load"). Names come from
// products_partition_name().
constexpr const char* kFindPartition = "SELECT products_partition_name($1), products_partition_state($1)";
constexpr const char* kBeginBulkLoad = "SELECT products_begin_bulk_load($1)";
constexpr const char* kAttachBulkLoad = "SELECT products_attach_bulk_load($1)";
constexpr const char* kDiscardFirstLoad = "SELECT products_discard_first_load($1)";
constexpr const char* kMissingIndexes = "SELECT products_missing_indexes($1)";
// A builder whose client died (a killed worker) stops at the next check
// instead of finishing a multi-second build for nobody (PostgreSQL 14+).
constexpr const char* kStopWithClient = "SET client_connection_check_interval = '1s'";

/// kStopWithClient on `conn`; a server without the setting builds anyway.
void stop_with_client(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn, "etl_index_setup");
    tx.exec(kStopWithClient);
  } catch (const pqxx::sql_error& e) {
    log::debug("etl", "client_connection_check_interval not available", {{"error", e.what()}});
  }
}

std::vector<std::string> missing_indexes(pqxx::connection& conn, const std::string& source) {
  std::vector<std::string> statements;
  pqxx::nontransaction tx(conn, "etl_index_list");
  for (const auto& row : tx.exec_params(kMissingIndexes, source)) statements.push_back(row[0].as<std::string>());
  return statements;
}

/// Runs `statements` (slowest first) on `conn` and on a second connection,
/// each taking the next one when done: the GIN index alone takes half the
/// B-trees' time, and two backends build them at once (1M rows, two cores:
/// 10.4 s -> 7.6 s). Without a second connection (max_connections reached)
/// `conn` builds them all. Each CREATE INDEX commits on its own, so whatever
/// was built when this throws stays built.
void run_builds(pqxx::connection& conn, const RunRequest& req, const std::vector<std::string>& statements) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  const auto build = [&](pqxx::connection& c) {
    for (std::size_t i = next++; i < statements.size() && !stop.load() && !cancelled(req); i = next++) {
      pqxx::nontransaction tx(c, "etl_index");
      tx.exec(statements[i]);
    }
  };
  std::unique_ptr<pqxx::connection> helper;
  if (statements.size() > 1) {
    try {
      helper = std::make_unique<pqxx::connection>(conn.options());
      stop_with_client(*helper);
    } catch (const pqxx::broken_connection& e) {
      helper.reset();
      log::warn("etl", "no second connection for the index builds; building them one at a time",
                {{"source", req.source_name}, {"error", e.what()}});
    }
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
    // Only first loads of the design before migration 12 committed such a table.
    log::warn("etl", "dropping the unattached table an interrupted first load left",
              {{"source", source}, {"table", info.name}});
    tx.exec_params(kDiscardFirstLoad, source);
  }
  info.first_load = state != "attached";
  if (info.first_load) tx.exec_params(kBeginBulkLoad, source);
  return info;
}

bool is_first_load(pqxx::work& tx, const std::string& source) {
  return tx.exec_params1(kFindPartition, source)[1].as<std::string>() != "attached";
}

void attach_first_load(pqxx::work& tx, const std::string& source) { tx.exec_params(kAttachBulkLoad, source); }

std::size_t build_missing_indexes(pqxx::connection& conn, const RunRequest& req) {
  const auto statements = missing_indexes(conn, req.source_name);
  if (statements.empty()) return 0;
  stop_with_client(conn);
  run_builds(conn, req, statements);
  return statements.size();
}

}  // namespace catalog::etl
