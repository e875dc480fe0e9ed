#pragma once
// The single-transaction part of a run (private to src/etl): load the
// source's keys, stream and diff the feed, COPY new rows, stage and apply
// changed rows, soft-delete missing ones. docs/etl.md describes each stage.

#include <string>

#include <pqxx/pqxx>

#include "catalog/etl/engine.hpp"

namespace catalog::etl {

/// Runs the feed through `tx` (already holding the source's lock and its
/// transaction-local settings). `bulk_table` names the fresh table of a
/// first load, or is empty (always for a dry run); `first_load` says the
/// source has no rows yet (its change log records only the count).
/// Throws as run_feed documents; the caller rolls back.
RunResult run_pipeline(pqxx::work& tx, const RunRequest& req, const std::string& bulk_table, bool first_load);

}  // namespace catalog::etl
