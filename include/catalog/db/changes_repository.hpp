#pragma once
// The per-run change log (run_changes, migration 17) as the API reads it:
// one run's changes keyset-paged by sku, and one product's history across
// runs. Writes happen in the ETL's own transaction (src/etl/change_log).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/db/pool.hpp"

namespace catalog::db {

/// One key a run changed (or would, for a dry run).
struct Change {
  std::string sku;
  std::string kind;  ///< inserted, updated, deleted, revived
  /// updated/revived: {"<field>": {"before", "after"}} for each field that
  /// changed; inserted/deleted: an empty object.
  nlohmann::json fields = nlohmann::json::object();
};

/// GET /runs/{run_id}/changes: one run's changes in sku order.
struct ChangeQuery {
  std::string run_id;
  std::optional<std::string> kind;       ///< one of Change::kind's values, already validated
  std::optional<std::string> after_sku;  ///< continue strictly after this sku
  std::size_t limit = 100;
};

/// One run's change of one product (GET /products/{source}/{sku}/history).
struct ProductChange {
  std::string run_id;
  std::string job_id;
  std::string status;                      ///< the run's status
  std::optional<std::string> started_at;   ///< RFC 3339
  std::optional<std::string> finished_at;  ///< RFC 3339; null while the run builds indexes
  Change change;
};

class ChangesRepository {
 public:
  explicit ChangesRepository(Pool& pool) : pool_(pool) {}

  /// At most `query.limit` changes of the run, in sku (bytewise) order.
  std::vector<Change> list(const ChangeQuery& query);

  /// The applied (not dry) runs that changed (source, sku), newest first.
  std::vector<ProductChange> history(const std::string& source, const std::string& sku, std::size_t limit);

 private:
  Pool& pool_;
};

}  // namespace catalog::db
