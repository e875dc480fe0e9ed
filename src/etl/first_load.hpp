#pragma once
// A source's first load and its partition's secondary indexes (private to
// src/etl): the rows go into a fresh table that gets its primary key and is
// attached to products in the load's transaction; the secondary indexes are
// built after the commit, on two connections. docs/etl.md "First load".

#include <cstddef>
#include <string>

#include <pqxx/pqxx>

#include "catalog/etl/engine.hpp"

namespace catalog::etl {

struct PartitionInfo {
  std::string name;         ///< products_partition_name(source)
  bool first_load = false;  ///< no attached partition yet: load into a fresh table
};

/// Looks up the source's partition in `tx`. Drops a table an interrupted
/// first load left; throws catalog::Error for a detached table of that name.
/// On a first load, creates the fresh table (products_begin_bulk_load).
PartitionInfo prepare_partition(pqxx::work& tx, const std::string& source);

/// Whether the source's next load is a first load (no attached partition),
/// without changing anything: what a dry run reports.
bool is_first_load(pqxx::work& tx, const std::string& source);

/// In the load's transaction, after the COPY: the fresh table's primary key
/// (and any index products itself has), then the attach.
void attach_first_load(pqxx::work& tx, const std::string& source);

/// Builds the secondary indexes the source's partition lacks (none if
/// complete: one catalog query), on `conn` (idle) and one more connection.
/// Returns how many were built. Throws RunCancelled, pqxx errors; indexes
/// already built stay.
std::size_t build_missing_indexes(pqxx::connection& conn, const RunRequest& req);

}  // namespace catalog::etl
