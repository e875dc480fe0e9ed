#include "catalog/db/feeds_repository.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "db/row_reader.hpp"
#include "db/sql_format.hpp"

namespace catalog::db {
namespace {

const std::string kColumns = "f.id::text, f.job_id, f.uri, f.file_name, f.bytes, f.sha256, " +
                             rfc3339("f.uploaded_at") + ", f.run_id::text, r.status, f.uploaded_by";
const std::string kSelect = "SELECT " + kColumns + " FROM feeds f LEFT JOIN job_runs r ON r.id = f.run_id";

constexpr const char* kInsert =
    "INSERT INTO feeds (id, job_id, uri, file_name, bytes, sha256, uploaded_by) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7)";
constexpr const char* kSetRun = "UPDATE feeds SET run_id = $2::uuid WHERE id = $1::uuid";
const std::string kSelectOne = kSelect + " WHERE f.id = $1::uuid";
// Matches feeds_uploaded_at_idx; the id breaks ties between equal timestamps.
const std::string kSelectAll = kSelect + " ORDER BY f.uploaded_at DESC, f.id DESC LIMIT $1";
const std::string kSelectForJob = kSelect + " WHERE f.job_id = $1 ORDER BY f.uploaded_at DESC, f.id DESC LIMIT $2";
// Job ids travel as a JSON array (a partner key's feeds: scopes).
const std::string kSelectForJobs = kSelect +
    " WHERE f.job_id IN (SELECT json_array_elements_text($1::json)) ORDER BY f.uploaded_at DESC, f.id DESC LIMIT $2";

Feed to_feed(const pqxx::row& r) {
  Feed feed;
  feed.id = r[0].as<std::string>();
  feed.job_id = r[1].as<std::string>();
  feed.uri = r[2].as<std::string>();
  feed.file_name = r[3].as<std::string>();
  feed.bytes = r[4].as<std::int64_t>();
  feed.sha256 = r[5].as<std::string>();
  feed.uploaded_at = r[6].as<std::string>();
  feed.run_id = optional_field<std::string>(r[7]);
  feed.run_status = optional_field<std::string>(r[8]);
  feed.uploaded_by = optional_field<std::string>(r[9]);
  return feed;
}

}  // namespace

Feed FeedsRepository::insert(const Feed& feed) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kInsert, feed.id, feed.job_id, feed.uri, feed.file_name, feed.bytes, feed.sha256, feed.uploaded_by);
    auto stored = to_feed(tx.exec_params1(kSelectOne, feed.id));
    tx.commit();
    return stored;
  });
}

void FeedsRepository::set_run(const std::string& feed_id, const std::string& run_id) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kSetRun, feed_id, run_id);
    tx.commit();
  });
}

std::optional<Feed> FeedsRepository::find(const std::string& feed_id) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<Feed> {
    pqxx::read_transaction tx(c);
    auto result = tx.exec_params(kSelectOne, feed_id);
    if (result.empty()) return std::nullopt;
    return to_feed(result[0]);
  });
}

std::vector<Feed> FeedsRepository::list(const std::optional<std::string>& job_id, std::size_t limit) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    const auto result = job_id ? tx.exec_params(kSelectForJob, *job_id, limit) : tx.exec_params(kSelectAll, limit);
    std::vector<Feed> feeds;
    for (const auto& row : result) feeds.push_back(to_feed(row));
    return feeds;
  });
}

std::vector<Feed> FeedsRepository::list_for_jobs(const std::vector<std::string>& job_ids, std::size_t limit) {
  return pool_.with_connection([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    const auto result = tx.exec_params(kSelectForJobs, nlohmann::json(job_ids).dump(), limit);
    std::vector<Feed> feeds;
    for (const auto& row : result) feeds.push_back(to_feed(row));
    return feeds;
  });
}

}  // namespace catalog::db
