#include "catalog/db/changes_repository.hpp"

#include <pqxx/pqxx>

#include "db/row_reader.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

// The primary key (run_id, sku) serves the order and the keyset; a kind
// filter reads the run's rows in that order and skips the others.
constexpr const char* kList =
    "SELECT sku, kind, coalesce(fields, '{}'::jsonb)::text FROM run_changes "
    "WHERE run_id = $1::uuid AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR sku > $3::text COLLATE \"C\") "
    "ORDER BY sku LIMIT $4";

// run_changes_product_idx finds the product's rows; dry runs changed nothing.
// Runs of one source commit in the order they take its lock, which is the
// order they finish in (a run still building indexes has no finished_at yet:
// it is the newest).
const std::string kHistory =
    "SELECT c.run_id::text, r.job_id, r.status, " + rfc3339("r.started_at") + ", " + rfc3339("r.finished_at") +
    ", c.kind, coalesce(c.fields, '{}'::jsonb)::text, c.sku "
    "FROM run_changes AS c JOIN job_runs AS r ON r.id = c.run_id "
    "WHERE c.source = $1 AND c.sku = $2 AND NOT r.dry_run "
    "ORDER BY r.finished_at DESC NULLS FIRST, r.started_at DESC, c.run_id DESC LIMIT $3";

}  // namespace

std::vector<Change> ChangesRepository::list(const ChangeQuery& query) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<Change> out;
    for (const auto& row : tx.exec_params(kList, query.run_id, query.kind, query.after_sku, query.limit)) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), nlohmann::json::parse(row[2].as<std::string>())});
    }
    return out;
  });
}

std::vector<ProductChange> ChangesRepository::history(const std::string& source, const std::string& sku,
                                                      std::size_t limit) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<ProductChange> out;
    for (const auto& row : tx.exec_params(kHistory, source, sku, limit)) {
      ProductChange p;
      p.run_id = row[0].as<std::string>();
      p.job_id = row[1].as<std::string>();
      p.status = row[2].as<std::string>();
      p.started_at = optional_field<std::string>(row[3]);
      p.finished_at = optional_field<std::string>(row[4]);
      p.change = {row[7].as<std::string>(), row[5].as<std::string>(), nlohmann::json::parse(row[6].as<std::string>())};
      out.push_back(std::move(p));
    }
    return out;
  });
}

}  // namespace catalog::db
