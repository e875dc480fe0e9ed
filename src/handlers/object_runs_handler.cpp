// Runs on exactly one object rather than on the job's own uri:
// POST /events/s3 (an EventBridge S3 "Object Created" event, sent by an API
// destination: every job whose uri names the object or a prefix holding it
// gets a run on that object) and POST /feeds/{feed_id}/run (the uploaded
// feed's object again: the retry path for a failed upload, docs/feeds.md).
// Such runs are pinned to their object and queue behind the job's active run.
#include <nlohmann/json.hpp>

#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/feeds_repository.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/etl/object_match.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/http/request_helpers.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::handlers {
namespace {

const nlohmann::json& member(const nlohmann::json& parent, const char* name, const std::string& path) {
  if (!parent.is_object() || !parent.contains(name)) throw ValidationError(path, path + " is required");
  return parent[name];
}

std::string string_member(const nlohmann::json& parent, const char* name, const std::string& path) {
  const auto& value = member(parent, name, path);
  if (!value.is_string() || value.get<std::string>().empty()) {
    throw ValidationError(path, path + " must be a non-empty string");
  }
  return value.get<std::string>();
}

// The object of an EventBridge S3 event (detail.bucket.name,
// detail.object.key; EventBridge sends the key as stored, not URL-encoded).
etl::ObjectRef object_of_event(const nlohmann::json& event) {
  const auto type = string_member(event, "detail-type", "detail-type");
  if (type != "Object Created") {
    throw ValidationError("detail-type", "detail-type must be 'Object Created', got '" + type.substr(0, 80) + "'");
  }
  const auto& detail = member(event, "detail", "detail");
  const auto bucket = string_member(member(detail, "bucket", "detail.bucket"), "name", "detail.bucket.name");
  const auto key = string_member(member(detail, "object", "detail.object"), "key", "detail.object.key");
  if (key.back() == '/') throw ValidationError("detail.object.key", "detail.object.key names a folder, not an object");
  return {bucket, key};
}

std::optional<std::string> caller(const http::Request& r) {
  return r.principal ? std::optional<std::string>(r.principal->name) : std::nullopt;
}

http::Response s3_event(const ObjectRunDeps& d, const http::Request& request) {
  const auto object = object_of_event(http::json_object_body(request));
  auto runs = nlohmann::json::array();
  for (const auto& job : etl::jobs_for_object(d.jobs.list(), d.raw_bucket, object)) {
    try {
      const auto run = d.runs.enqueue(job.id, false, object.uri(), std::nullopt, caller(request));
      runs.push_back({{"run_id", run.id}, {"job_id", job.id}, {"status", run.status}});
      if (d.metrics != nullptr) d.metrics->record_triggered_run("s3_event");
    } catch (const NotFound&) {
      // Deleted since it was listed: nothing to run.
    }
  }
  log::info("events", "s3 object created", {{"uri", object.uri()}, {"runs", runs.size()}});
  if (runs.empty()) return http::json_response(200, {{"runs", runs}});
  d.runner.notify();
  return http::json_response(202, {{"runs", runs}});
}

http::Response rerun_feed(const ObjectRunDeps& d, const http::Request& request) {
  const auto& id = request.params.at("feed_id");
  http::require_uuid(id, "feed");
  const auto feed = d.feeds.find(id);
  if (!feed) throw NotFound("feed '" + id + "' does not exist");
  if (request.principal && !request.principal->can_upload_to_job(feed->job_id)) {
    throw Forbidden("re-running a feed of job '" + feed->job_id + "' needs scope 'admin' or 'feeds:" + feed->job_id + "'");
  }
  const bool force = http::flag_param(request, "force");
  const bool dry_run = http::flag_param(request, "dry_run");
  const auto run = d.runs.enqueue(feed->job_id, force, feed->uri, std::nullopt, caller(request), dry_run);
  if (d.metrics != nullptr) d.metrics->record_triggered_run("feed_rerun");
  d.runner.notify();
  auto response = http::json_response(202, run_to_json(run));
  response.set_header("Location", "/runs/" + run.id);
  return response;
}

}  // namespace

void add_object_run_routes(http::Router& router, const ObjectRunDeps& deps) {
  router.add("POST", "/events/s3", [deps](const http::Request& r) { return s3_event(deps, r); });
  router.add("POST", "/feeds/{feed_id}/run", http::Access::job_lookup,
             [deps](const http::Request& r) { return rerun_feed(deps, r); });
}

}  // namespace catalog::handlers
