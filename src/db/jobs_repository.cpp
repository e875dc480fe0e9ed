#include "catalog/db/jobs_repository.hpp"

#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "db/run_rows.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

const std::string kColumns = "id, source, uri, options::text, " + rfc3339("created_at") + ", " + rfc3339("updated_at");

const std::string kUpsert =
    "INSERT INTO jobs (id, source, uri, options) VALUES ($1, $2, $3, $4::jsonb) "
    "ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, uri = EXCLUDED.uri, options = EXCLUDED.options, "
    "updated_at = now() RETURNING " + kColumns + ", (xmax = 0) AS inserted";
const std::string kSelectOne = "SELECT " + kColumns + " FROM jobs WHERE id = $1";
const std::string kSelectAll = "SELECT " + kColumns + " FROM jobs ORDER BY id";
// Lock the job row so a run cannot be queued between the check and the delete.
constexpr const char* kLockJob = "SELECT id FROM jobs WHERE id = $1 FOR UPDATE";
constexpr const char* kRunningRun =
    "SELECT id::text FROM job_runs WHERE job_id = $1 AND status = 'running' LIMIT 1";
// A queued run of a deleted job would only fail later: it ends now, cancelled.
const std::string kCancelQueued =
    "UPDATE job_runs SET status = 'cancelled', finished_at = now(), error = 'cancelled before it started: its job was deleted' "
    "WHERE job_id = $1 AND status = 'queued' RETURNING " + run_columns();
constexpr const char* kDelete = "DELETE FROM jobs WHERE id = $1";

Job to_job(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          nlohmann::json::parse(r[3].as<std::string>()), r[4].as<std::string>(), r[5].as<std::string>()};
}

}  // namespace

Job JobsRepository::upsert(const Job& job, bool& created) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto row = tx.exec_params1(kUpsert, job.id, job.source, job.uri, job.options.dump());
    tx.commit();
    created = row[6].as<bool>();
    return to_job(row);
  });
}

std::optional<Job> JobsRepository::find(const std::string& id) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Job> {
    pqxx::read_transaction tx(c);
    auto result = tx.exec_params(kSelectOne, id);
    if (result.empty()) return std::nullopt;
    return to_job(result[0]);
  });
}

std::vector<Job> JobsRepository::list() {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<Job> jobs;
    for (const auto& row : tx.exec(kSelectAll)) jobs.push_back(to_job(row));
    return jobs;
  });
}

void JobsRepository::remove(const std::string& id) {
  const auto queued = pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    if (tx.exec_params(kLockJob, id).empty()) throw NotFound("job '" + id + "' does not exist");
    auto running = tx.exec_params(kRunningRun, id);
    if (!running.empty()) {
      throw Conflict("job '" + id + "' has a running run " + running[0][0].as<std::string>() +
                     "; cancel it or wait for it to end");
    }
    const auto notices = queue_end_notices(tx, notices_, tx.exec_params(kCancelQueued, id));
    tx.exec_params(kDelete, id);
    tx.commit();
    return notices;
  });
  if (queued > 0 && notices_.queued) notices_.queued();
}

}  // namespace catalog::db
