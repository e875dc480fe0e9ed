#include <set>

#include <nlohmann/json.hpp>

#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/http/cursor.hpp"
#include "catalog/http/request_helpers.hpp"
#include "handlers/query_params.hpp"

namespace catalog::handlers {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

constexpr std::size_t kListDefaultLimit = 100;
constexpr std::size_t kListMaxLimit = 1000;
constexpr int kListCursorVersion = 1;
const std::set<std::string> kListParams = {"status", "job", "since", "limit", "cursor"};

// Cursor: base64url of the JSON array [version, queued_at, run id] of the
// last run of the page (queued_at with microseconds, as the run shows it).
std::string encode_list_cursor(const db::Run& last) {
  return http::encode_cursor(kListCursorVersion, {last.queued_at, last.id});
}

db::RunListQuery::After decode_list_cursor(const std::string& text) {
  const auto fields = http::decode_cursor(text, kListCursorVersion, 2);  // [queued_at, run id]
  if (!fields[0].is_string() || !fields[1].is_string() || !rfc3339(fields[0].get<std::string>()) ||
      !http::is_uuid(fields[1].get<std::string>())) {
    throw BadRequest("malformed cursor");
  }
  return {fields[0].get<std::string>(), fields[1].get<std::string>()};
}

db::RunListQuery parse_list_query(const http::Request& request) {
  reject_unknown_params(request, kListParams);
  db::RunListQuery query;
  query.status = choice_param(request, "status", {"queued", "running", "succeeded", "failed", "skipped", "cancelled"});
  query.job_id = text_param(request, "job");
  query.since = rfc3339_param(request, "since");
  query.limit = http::limit_param(request, kListDefaultLimit, kListMaxLimit);
  if (auto cursor = request.query_param("cursor")) query.after = decode_list_cursor(*cursor);
  return query;
}

/// GET /runs: every job's runs, newest first, keyset-paged.
http::Response list(db::RunsRepository& runs, const http::Request& request) {
  auto query = parse_list_query(request);
  const auto limit = query.limit;
  // One extra row tells whether a next page exists without a count query.
  query.limit = limit + 1;
  auto page = runs.list(query);
  const bool more = page.size() > limit;
  if (more) page.pop_back();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& run : page) items.push_back(run_to_json(run));
  return http::json_response(
      200, {{"items", std::move(items)},
            {"next_cursor", more ? nlohmann::json(encode_list_cursor(page.back())) : nlohmann::json(nullptr)}});
}

}  // namespace

nlohmann::json run_to_json(const db::Run& run) {
  nlohmann::json rejects = nlohmann::json::array();
  for (const auto& r : run.rejects) rejects.push_back({{"line", r.line}, {"reason", r.reason}, {"raw", r.raw}});
  nlohmann::json notifications = nlohmann::json::array();
  for (const auto& n : run.notifications) {
    notifications.push_back(
        {{"url", n.url}, {"status", n.status}, {"attempts", n.attempts}, {"last_error", or_null(n.last_error)}});
  }
  return {{"run_id", run.id},
          {"job_id", run.job_id},
          {"status", run.status},
          {"force", run.force},
          {"dry_run", run.dry_run},
          {"first_load", run.first_load},
          {"delete_guard", or_null(run.delete_guard)},
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
          {"notifications", notifications},
          {"cancel_requested", run.cancel_requested},
          {"triggered_by", or_null(run.triggered_by)},
          {"error", or_null(run.error)}};
}

void add_run_routes(http::Router& router, db::RunsRepository& runs) {
  // The list needs `read` (Access::by_method): a feeds: key follows its runs
  // through GET /jobs/{id}/runs instead.
  router.add("GET", "/runs", [&runs](const http::Request& r) { return list(runs, r); });
  router.add("GET", "/runs/{run_id}", http::Access::job_lookup, [&runs](const http::Request& r) {
    const auto& id = r.params.at("run_id");
    http::require_uuid(id, "run");
    auto run = runs.find(id);
    if (!run) throw NotFound("run '" + id + "' does not exist");
    auth::require_follow(r.principal ? &*r.principal : nullptr, run->job_id);
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
