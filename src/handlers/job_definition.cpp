#include "handlers/job_definition.hpp"

#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/etl/job_options.hpp"
#include "catalog/http/request_helpers.hpp"
#include "catalog/s3/bucket_name.hpp"

namespace catalog::handlers {
namespace {

// [a-z0-9][a-z0-9-]{0,62}, as the jobs table's CHECK constraint says.
bool is_slug(const std::string& id) {
  if (id.empty() || id.size() > 63 || id.front() == '-') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

void require_slug(const std::string& id) {
  if (!is_slug(id)) {
    throw ValidationError("id", "job id '" + id.substr(0, 80) +
                                    "' must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit");
  }
}

// s3://bucket/key, s3://bucket/prefix/ or a bare key in S3_RAW_BUCKET. The
// bucket must follow S3's naming rules: on AWS it becomes part of the
// request's host, so a port, userinfo or IP literal there would point the
// service at another host (s3://localhost:9444#/k.csv).
// S3 keys are at most 1,024 bytes, and a "." or ".." segment is one an HTTP
// client (or a proxy) may resolve into another key or bucket before sending.
void validate_key(const std::string& key, const std::string& shown) {
  if (key.size() > 1024) {
    throw ValidationError("uri", "uri '" + shown + "...': the key is " + std::to_string(key.size()) +
                                     " bytes; S3 keys are at most 1024");
  }
  std::size_t start = 0;
  while (start <= key.size()) {
    const auto end = std::min(key.find('/', start), key.size());
    const auto segment = std::string_view(key).substr(start, end - start);
    if (segment == "." || segment == "..") {
      throw ValidationError("uri", "uri '" + shown + "' must not contain '.' or '..' path segments");
    }
    start = end + 1;
  }
}

void validate_uri(const std::string& uri, const std::string& raw_bucket) {
  if (uri.empty()) throw ValidationError("uri", "uri must not be empty");
  const std::string shown = uri.substr(0, 200);
  if (uri.find_first_of("?#") != std::string::npos) {
    throw ValidationError("uri", "uri '" + shown + "' must not contain '?' or '#' (it is s3://bucket/key, not a URL)");
  }
  if (uri.rfind("s3://", 0) == 0) {
    const auto rest = uri.substr(5);
    const auto slash = rest.find('/');
    if (slash == 0 || rest.empty()) throw ValidationError("uri", "uri '" + shown + "' has no bucket");
    const std::string bucket = rest.substr(0, slash);
    if (const auto problem = s3::bucket_name_problem(bucket); !problem.empty()) {
      throw ValidationError("uri", "uri '" + shown + "': bucket '" + bucket.substr(0, 80) +
                                       "' is not a valid S3 bucket name (" + problem + ")");
    }
    if (slash == std::string::npos || slash + 1 == rest.size()) {
      throw ValidationError("uri", "uri '" + shown + "' needs a key or a prefix ending in '/' after the bucket");
    }
    return validate_key(rest.substr(slash + 1), shown);
  }
  if (uri.find("://") != std::string::npos) throw ValidationError("uri", "uri must be s3://bucket/key or a bare key");
  if (uri.front() == '/') throw ValidationError("uri", "a bare key must not start with '/'");
  validate_key(uri, shown);
  if (raw_bucket.empty()) {
    throw ValidationError("uri", "uri '" + shown + "' is a bare key but S3_RAW_BUCKET is not configured");
  }
}

// options.notify under the service's URL policy, and only when it can sign.
void validate_notify(const etl::JobOptions& options, const JobNotifyRules& rules) {
  if (options.notify.empty()) return;
  if (!rules.can_sign) {
    throw ValidationError("options.notify",
                          "options.notify: the service has no NOTIFY_SECRET, so it cannot sign notifications");
  }
  for (std::size_t i = 0; i < options.notify.size(); ++i) {
    notify::validate_url(options.notify[i], rules.policy, "options.notify[" + std::to_string(i) + "]");
  }
}

}  // namespace

db::Job parse_job_definition(const http::Request& request, const std::string& raw_bucket,
                             const JobNotifyRules& notify_rules) {
  const auto& id = request.params.at("id");
  require_slug(id);
  const auto body = http::json_object_body(request);
  for (const auto& [key, value] : body.items()) {
    if (key != "source" && key != "uri" && key != "options" && key != "id") {
      throw ValidationError(key, "unknown field '" + key + "'");
    }
  }
  if (body.contains("id") && body["id"] != id) throw ValidationError("id", "body id does not match the URL");
  if (!body.contains("source") || !body["source"].is_string() || body["source"].get<std::string>().empty()) {
    throw ValidationError("source", "source is required: a non-empty string naming the partner");
  }
  if (body["source"].get<std::string>().size() > 255) throw ValidationError("source", "source is longer than 255 bytes");
  if (!body.contains("uri") || !body["uri"].is_string()) throw ValidationError("uri", "uri is required: a string");
  db::Job job;
  job.id = id;
  job.source = body["source"];
  job.uri = body["uri"];
  validate_uri(job.uri, raw_bucket);
  const auto options = body.contains("options") ? body["options"] : nlohmann::json::object();
  // Validate now (422 naming the option); store what the client sent.
  validate_notify(etl::JobOptions::from_json(options), notify_rules);
  job.options = options.is_null() ? nlohmann::json::object() : options;
  return job;
}

}  // namespace catalog::handlers
