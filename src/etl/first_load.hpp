#pragma once
// A source's first load (private to src/etl): its rows go into a fresh,
// unattached table; after that commits, the table's indexes are built on two
// connections and it is attached to products in a second transaction.
// docs/etl.md "First load".

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

/// Builds the committed first-load table's indexes, then attaches it in its
/// own transaction. On failure the caller discards the table.
void build_indexes_and_attach(pqxx::connection& conn, const RunRequest& req);

/// After a first load failed past its first commit: drops the unattached
/// table. If that fails too, the source's next run drops it.
void discard_first_load(pqxx::connection& conn, const std::string& source, const std::string& table);

}  // namespace catalog::etl
