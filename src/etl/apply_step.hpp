#pragma once
// The apply step of a run (private to src/etl): changed rows and missing
// keys are staged in temporary tables, then applied to products set-based
// in SQL, in the run's transaction. A dry run stages (so the change log can
// read the staged rows) and skips the two UPDATEs. docs/etl.md "Diff and apply".

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "etl/spill_buffer.hpp"

namespace catalog::etl {

/// COPYs the changed rows (products COPY text, as the insert COPY writes
/// them) into a fresh etl_stage and analyzes it.
void stage_changed(pqxx::work& tx, SpillBuffer& changed);

/// Matches etl_stage to the source's rows once: etl_matched holds each
/// changed or revived row's new values, the products row's address and its
/// values before (the change log reads them). Returns how many it holds.
std::uint64_t match_staged(pqxx::work& tx, const std::string& source);

/// Updates the source's rows from etl_matched, by address (changed content,
/// revived rows); updated_at moves only when the content does. Returns the
/// rows updated: fewer than etl_matched holds means a row was rewritten
/// since it was matched (another writer ignoring the run's source lock).
std::uint64_t apply_staged(pqxx::work& tx, const std::string& source);

/// COPYs the keys to soft-delete (one sku per line, COPY text) into a fresh etl_gone.
void stage_gone(pqxx::work& tx, SpillBuffer& gone);

/// Soft-deletes the live rows of etl_gone; returns how many.
std::uint64_t soft_delete_gone(pqxx::work& tx, const std::string& source, const std::string& run_id);

}  // namespace catalog::etl
