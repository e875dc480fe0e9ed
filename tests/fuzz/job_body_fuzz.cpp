// JSON job definitions of PUT /jobs/{id} (src/handlers/jobs_handler.cpp:
// body fields, uri rules, etl::JobOptions::from_json), run through the real
// handler function with the database stubbed out; the job id comes from the
// input too. Property: every definition is either stored or answered 4xx,
// and no stored text holds a NUL byte.
#include <cstdint>
#include <string>

#include "handlers/jobs_handler.cpp"

#include "fuzz_support.hpp"
#include "handler_stubs.hpp"

// Only upsert is reached from put_job; the rest of the file's references are
// never called in a fuzz run.
namespace catalog::db {
Job JobsRepository::upsert(const Job& job, bool& created) {
  catalog::fuzz::require_storable(job.id);
  catalog::fuzz::require_storable(job.source);
  catalog::fuzz::require_storable(job.uri);
  // jsonb rejects \u0000 in strings; the options document is stored as jsonb.
  if (job.options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).find("\\u0000") !=
      std::string::npos) {
    catalog::fuzz::finding("job options with a NUL character reached the database");
  }
  created = true;
  auto saved = job;
  saved.created_at = saved.updated_at = "2024-01-01T00:00:00.000000Z";
  return saved;
}
std::optional<Job> JobsRepository::find(const std::string&) { std::abort(); }
std::vector<Job> JobsRepository::list() { std::abort(); }
void JobsRepository::remove(const std::string&) { std::abort(); }
Run RunsRepository::enqueue(const std::string&, bool, const std::optional<std::string>&,
                            const std::optional<std::string>&, const std::optional<std::string>&, bool) {
  std::abort();
}
std::vector<Run> RunsRepository::list_for_job(const std::string&, std::size_t) { std::abort(); }
}  // namespace catalog::db

namespace catalog::etl {
void JobRunner::notify() { std::abort(); }
std::optional<db::Run> JobRunner::wait_finished(db::RunsRepository&, const std::string&, std::chrono::milliseconds) {
  std::abort();
}
}  // namespace catalog::etl

namespace catalog::handlers {
nlohmann::json run_to_json(const db::Run&) { std::abort(); }
}  // namespace catalog::handlers

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  catalog::db::JobsRepository jobs(catalog::fuzz::unused_pool());
  catalog::http::Request request;
  request.method = "PUT";
  request.headers.emplace_back("Content-Type", "application/json");
  request.params["id"] = (flags & 1) ? std::string(in.until('\n')) : std::string("acme-daily");
  request.body = std::string(in.rest());
  const std::string raw_bucket = (flags & 2) ? "" : "catalog-raw";
  // options.notify is checked against the service's rules: with and without a
  // NOTIFY_SECRET, strict or permissive address policy.
  catalog::handlers::JobNotifyRules notify_rules;
  notify_rules.can_sign = (flags & 4) != 0;
  notify_rules.policy.allow_http = (flags & 8) != 0;
  notify_rules.policy.allow_private = (flags & 16) != 0;
  try {
    const auto response = catalog::handlers::put_job(jobs, raw_bucket, notify_rules, request);
    if (response.status >= 300) catalog::fuzz::finding("unexpected status " + std::to_string(response.status));
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "job definition");
  }
  return 0;
}
