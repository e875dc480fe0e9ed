#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/http/request_helpers.hpp"
#include "handlers/job_definition.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kRunHistoryLimit = 50;

nlohmann::json to_json(const db::Job& job) {
  return {{"id", job.id},           {"source", job.source},         {"uri", job.uri},
          {"options", job.options}, {"created_at", job.created_at}, {"updated_at", job.updated_at}};
}

http::Response put_job(db::JobsRepository& jobs, const std::string& raw_bucket, const JobNotifyRules& notify_rules,
                       const http::Request& request) {
  const auto job = parse_job_definition(request, raw_bucket, notify_rules);
  bool created = false;
  const auto saved = jobs.upsert(job, created);
  auto response = http::json_response(created ? 201 : 200, to_json(saved));
  if (created) response.set_header("Location", "/jobs/" + job.id);
  return response;
}

// `?wait=true` holds the request at most `wait_timeout` (WAIT_TIMEOUT, below
// the ALB's 60 s idle timeout) and less when the task shuts down; then it
// answers the run's current state with 202 and the run goes on.
http::Response trigger(db::RunsRepository& runs, etl::JobRunner& runner, std::chrono::milliseconds wait_timeout,
                       const http::Request& request) {
  const auto& id = request.params.at("id");
  const bool force = http::flag_param(request, "force");
  const bool wait = http::flag_param(request, "wait");
  const bool dry_run = http::flag_param(request, "dry_run");
  const auto who = request.principal ? std::optional<std::string>(request.principal->name) : std::nullopt;
  auto run = runs.enqueue(id, force, std::nullopt, std::nullopt, who, dry_run);
  runner.notify();
  if (wait) {
    if (auto finished = runner.wait_finished(runs, run.id, wait_timeout)) run = std::move(*finished);
    if (run.finished()) return http::json_response(200, run_to_json(run));
  }
  auto response = http::json_response(202, run_to_json(run));
  response.set_header("Location", "/runs/" + run.id);
  return response;
}

}  // namespace

void add_job_routes(http::Router& router, db::JobsRepository& jobs, db::RunsRepository& runs,
                    etl::JobRunner& runner, const std::string& raw_bucket, std::chrono::milliseconds wait_timeout,
                    const JobNotifyRules& notify_rules) {
  router.add("PUT", "/jobs/{id}", [&jobs, raw_bucket, notify_rules](const http::Request& r) {
    return put_job(jobs, raw_bucket, notify_rules, r);
  });
  router.add("GET", "/jobs", [&jobs](const http::Request&) {
    auto body = nlohmann::json::array();
    for (const auto& job : jobs.list()) body.push_back(to_json(job));
    return http::json_response(200, body);
  });
  router.add("GET", "/jobs/{id}", [&jobs](const http::Request& r) {
    const auto& id = r.params.at("id");
    auto job = jobs.find(id);
    if (!job) throw NotFound("job '" + id + "' does not exist");
    return http::json_response(200, to_json(*job));
  });
  router.add("DELETE", "/jobs/{id}", [&jobs](const http::Request& r) {
    jobs.remove(r.params.at("id"));
    return http::no_content();
  });
  router.add("POST", "/jobs/{id}/run", http::Access::job_trigger,
             [&runs, &runner, wait_timeout](const http::Request& r) { return trigger(runs, runner, wait_timeout, r); });
  router.add("GET", "/jobs/{id}/runs", http::Access::job_runs, [&jobs, &runs](const http::Request& r) {
    const auto& id = r.params.at("id");
    if (!jobs.find(id)) throw NotFound("job '" + id + "' does not exist");
    const auto limit = http::limit_param(r, kRunHistoryLimit, 1000);
    auto body = nlohmann::json::array();
    for (const auto& run : runs.list_for_job(id, limit)) body.push_back(run_to_json(run));
    return http::json_response(200, body);
  });
}

}  // namespace catalog::handlers
