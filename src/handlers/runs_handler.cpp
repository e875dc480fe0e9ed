#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::handlers {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json run_to_json(const db::Run& run) {
  nlohmann::json rejects = nlohmann::json::array();
  for (const auto& r : run.rejects) rejects.push_back({{"line", r.line}, {"reason", r.reason}, {"raw", r.raw}});
  return {{"run_id", run.id},
          {"job_id", run.job_id},
          {"status", run.status},
          {"force", run.force},
          {"queued_at", run.queued_at},
          {"started_at", or_null(run.started_at)},
          {"finished_at", or_null(run.finished_at)},
          {"source", {{"uri", or_null(run.source_uri)}, {"etag", or_null(run.source_etag)}, {"size", or_null(run.source_size)}}},
          {"progress", {{"bytes", run.bytes_read}, {"rows", run.rows_read}}},
          {"counts",
           {{"read", run.counts.read},
            {"inserted", run.counts.inserted},
            {"updated", run.counts.updated},
            {"unchanged", run.counts.unchanged},
            {"rejected", run.counts.rejected},
            {"deleted", run.counts.deleted}}},
          {"rejects", rejects},
          {"cancel_requested", run.cancel_requested},
          {"error", or_null(run.error)}};
}

void add_run_routes(http::Router& router, db::RunsRepository& runs) {
  router.add("GET", "/runs/{run_id}", [&runs](const http::Request& r) {
    const auto& id = r.params.at("run_id");
    http::require_uuid(id, "run");
    auto run = runs.find(id);
    if (!run) throw NotFound("run '" + id + "' does not exist");
    return http::json_response(200, run_to_json(*run));
  });
  router.add("POST", "/runs/{run_id}/cancel", [&runs](const http::Request& r) {
    const auto& id = r.params.at("run_id");
    http::require_uuid(id, "run");
    auto run = runs.request_cancel(id);
    return http::json_response(run.finished() ? 200 : 202, run_to_json(run));
  });
}

}  // namespace catalog::handlers
