#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace catalog::auth {

/// Who made a request: the bootstrap `API_TOKEN` ("api_token") or a key from
/// the api_keys table, with what its scopes allow. Never holds the secret.
struct Principal {
  std::string name;
  bool admin = false;               ///< scope `admin`: everything
  bool read = false;                ///< scope `read`: every GET (except /keys)
  std::set<std::string> feed_jobs;  ///< scopes `feeds:<job-id>`

  /// Whether this principal may see or feed `job_id`'s feeds and runs.
  bool can_follow_job(const std::string& job_id) const { return admin || read || feed_jobs.count(job_id) > 0; }
  bool can_upload_to_job(const std::string& job_id) const { return admin || feed_jobs.count(job_id) > 0; }
  /// True when the only scopes are `feeds:` ones: lists must be narrowed.
  bool feeds_only() const { return !admin && !read; }
};

/// Builds a principal from stored scope strings (unknown scopes grant nothing).
Principal principal_from_scopes(std::string name, const std::vector<std::string>& scopes);

/// Validates one scope as given by an operator: `admin`, `read` or
/// `feeds:<job-id>` with a job-id slug. Throws ValidationError(field).
void validate_scope(const std::string& scope, const std::string& field);

/// The job id of a `feeds:<job-id>` scope, if it is one.
std::optional<std::string> feeds_scope_job(std::string_view scope);

/// Key names are slugs like job ids: `[a-z0-9][a-z0-9-]{0,62}`. Throws ValidationError(field).
void validate_key_name(const std::string& name, const std::string& field);

/// Parses a lifetime like "90d", "12h", "30m" or "3600s" into seconds (1 s .. 10 years).
/// Throws ValidationError(field).
long long parse_lifetime_seconds(const std::string& text, const std::string& field);

/// Throws Forbidden naming the scope needed unless `who` (null: auth disabled)
/// may follow `job_id` — the check for routes whose job is only known after a
/// lookup (GET /runs/{id}, GET /feeds/{id}).
void require_follow(const Principal* who, const std::string& job_id);

}  // namespace catalog::auth
