#include "etl/apply_step.hpp"

#include "catalog/db/product_loader.hpp"

namespace catalog::etl {
namespace {

constexpr const char* kCreateStage =
    "CREATE TEMP TABLE etl_stage (source text, sku text, name text, description text, brand text, "
    "category text, price numeric(12,2), currency char(3), availability text, attributes jsonb, "
    "content_hash bigint, last_run_id uuid) ON COMMIT DROP";
constexpr const char* kCopyStage =
    "COPY etl_stage (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, last_run_id) FROM STDIN";
// The staged rows that differ from (or revive) their products row, each with
// the row's address and its values before: the one look-up of products that
// both the change log and the UPDATE read from (each joining etl_stage to
// products again cost a second round of index probes and heap reads).
// The address is stable until the UPDATE: the source is locked by this run.
constexpr const char* kMatchStaged = R"sql(
CREATE TEMP TABLE etl_matched ON COMMIT DROP AS
SELECT p.tableoid AS part, p.ctid AS tid, p.content_hash AS before_hash, p.deleted_at AS before_deleted_at,
  p.name AS before_name, p.description AS before_description, p.brand AS before_brand,
  p.category AS before_category, p.price AS before_price, p.currency AS before_currency,
  p.availability AS before_availability, p.attributes AS before_attributes, s.*
FROM etl_stage AS s JOIN products AS p ON p.source = $1 AND p.sku = s.sku
WHERE p.content_hash <> s.content_hash OR p.deleted_at IS NOT NULL
)sql";
// The row count (and the tid column) lets the planner probe by address.
constexpr const char* kAnalyzeMatched = "ANALYZE etl_matched (tid)";
// Changed rows and revived rows, by address. updated_at moves only when the content does.
constexpr const char* kApplyUpdates = R"sql(
UPDATE products AS p SET
  name = m.name, description = m.description, brand = m.brand, category = m.category,
  price = m.price, currency = m.currency, availability = m.availability, attributes = m.attributes,
  updated_at = CASE WHEN m.before_hash <> m.content_hash THEN now() ELSE p.updated_at END,
  content_hash = m.content_hash, deleted_at = NULL, last_run_id = m.last_run_id
FROM etl_matched AS m
WHERE p.source = $1 AND p.tableoid = m.part AND p.ctid = m.tid
)sql";
constexpr const char* kCreateGone = "CREATE TEMP TABLE etl_gone (sku text) ON COMMIT DROP";
constexpr const char* kCopyGone = "COPY etl_gone (sku) FROM STDIN";
constexpr const char* kSoftDelete = R"sql(
UPDATE products AS p SET deleted_at = now(), last_run_id = NULLIF($2, '')::uuid
FROM etl_gone AS g
WHERE p.source = $1 AND p.sku = g.sku AND p.deleted_at IS NULL
)sql";

}  // namespace

void stage_changed(pqxx::work& tx, SpillBuffer& changed) {
  tx.exec(kCreateStage);
  {
    db::CopyIn stage(tx, kCopyStage);
    changed.replay(stage);
    stage.finish();
  }
  tx.exec("ANALYZE etl_stage");
}

std::uint64_t match_staged(pqxx::work& tx, const std::string& source) {
  const auto matched = tx.exec_params(kMatchStaged, source).affected_rows();
  tx.exec(kAnalyzeMatched);
  return matched;
}

std::uint64_t apply_staged(pqxx::work& tx, const std::string& source) {
  return tx.exec_params(kApplyUpdates, source).affected_rows();
}

void stage_gone(pqxx::work& tx, SpillBuffer& gone) {
  tx.exec(kCreateGone);
  db::CopyIn copy(tx, kCopyGone);
  gone.replay(copy);
  copy.finish();
}

std::uint64_t soft_delete_gone(pqxx::work& tx, const std::string& source, const std::string& run_id) {
  return tx.exec_params(kSoftDelete, source, run_id).affected_rows();
}

}  // namespace catalog::etl
