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
