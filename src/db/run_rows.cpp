#include "db/run_rows.hpp"

#include "db/row_reader.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {

const std::string& run_columns() {
  static const std::string columns =
      "id::text, job_id, status, force, source_uri, source_etag, source_size, options::text, bytes_read, rows_read, "
      "inserted, updated, unchanged, rejected, deleted, error, cancel_requested, worker_id, " +
      rfc3339("queued_at") + ", " + rfc3339("started_at") + ", " + rfc3339("finished_at") +
      ", triggered_by, dry_run, first_load, delete_guard";
  return columns;
}

namespace {

constexpr const char* kQueueNotification =
    "INSERT INTO run_notifications (run_id, url) VALUES ($1, $2) ON CONFLICT DO NOTHING";

}  // namespace

bool queue_notification(pqxx::work& tx, const std::string& run_id, const std::string& url) {
  return tx.exec_params(kQueueNotification, run_id, url).affected_rows() > 0;
}

std::size_t queue_end_notices(pqxx::work& tx, const RunEndNotices& notices, const Run& ended) {
  if (!notices.targets || !ended.finished()) return 0;
  std::size_t queued = 0;
  for (const auto& url : notices.targets(ended)) queued += queue_notification(tx, ended.id, url) ? 1 : 0;
  return queued;
}

Run to_run(const pqxx::row& r) {
  Run run;
  run.id = r[0].as<std::string>();
  run.job_id = r[1].as<std::string>();
  run.status = r[2].as<std::string>();
  run.force = r[3].as<bool>();
  run.source_uri = optional_field<std::string>(r[4]);
  run.source_etag = optional_field<std::string>(r[5]);
  run.source_size = optional_field<std::int64_t>(r[6]);
  run.options = nlohmann::json::parse(r[7].as<std::string>());
  run.bytes_read = r[8].as<std::uint64_t>();
  run.rows_read = r[9].as<std::uint64_t>();
  run.counts = {r[9].as<std::uint64_t>(), r[10].as<std::uint64_t>(), r[11].as<std::uint64_t>(),
                r[12].as<std::uint64_t>(), r[13].as<std::uint64_t>(), r[14].as<std::uint64_t>()};
  run.error = optional_field<std::string>(r[15]);
  run.cancel_requested = r[16].as<bool>();
  run.worker_id = optional_field<std::string>(r[17]);
  run.queued_at = r[18].as<std::string>();
  run.started_at = optional_field<std::string>(r[19]);
  run.finished_at = optional_field<std::string>(r[20]);
  run.triggered_by = optional_field<std::string>(r[21]);
  run.dry_run = r[22].as<bool>();
  run.first_load = r[23].as<bool>();
  run.delete_guard = optional_field<std::string>(r[24]);
  return run;
}

std::size_t queue_end_notices(pqxx::work& tx, const RunEndNotices& notices, const pqxx::result& ended) {
  std::size_t queued = 0;
  for (const auto& row : ended) queued += queue_end_notices(tx, notices, to_run(row));
  return queued;
}

}  // namespace catalog::db
