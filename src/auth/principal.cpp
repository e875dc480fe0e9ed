#include "catalog/auth/principal.hpp"

#include <cctype>
#include <limits>

#include "catalog/core/errors.hpp"

namespace catalog::auth {
namespace {

constexpr std::string_view kFeedsPrefix = "feeds:";
constexpr long long kMaxLifetimeSeconds = 10LL * 366 * 24 * 3600;

bool is_slug(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> feeds_scope_job(std::string_view scope) {
  if (scope.substr(0, kFeedsPrefix.size()) != kFeedsPrefix) return std::nullopt;
  return std::string(scope.substr(kFeedsPrefix.size()));
}

Principal principal_from_scopes(std::string name, const std::vector<std::string>& scopes) {
  Principal p;
  p.name = std::move(name);
  for (const auto& s : scopes) {
    if (s == "admin") p.admin = true;
    else if (s == "read") p.read = true;
    else if (auto job = feeds_scope_job(s)) p.feed_jobs.insert(*job);
  }
  return p;
}

void validate_scope(const std::string& scope, const std::string& field) {
  if (scope == "admin" || scope == "read") return;
  if (auto job = feeds_scope_job(scope)) {
    if (is_slug(*job)) return;
    throw ValidationError(field, "scope '" + scope.substr(0, 80) + "': the job id after 'feeds:' must match [a-z0-9][a-z0-9-]{0,62}");
  }
  throw ValidationError(field, "unknown scope '" + scope.substr(0, 80) + "': expected admin, read or feeds:<job-id>");
}

void validate_key_name(const std::string& name, const std::string& field) {
  if (!is_slug(name)) {
    throw ValidationError(field, "key name '" + name.substr(0, 80) + "' must match [a-z0-9][a-z0-9-]{0,62}");
  }
}

long long parse_lifetime_seconds(const std::string& text, const std::string& field) {
  const auto fail = [&] {
    return ValidationError(field, "'" + text.substr(0, 40) + "' is not a lifetime like 90d, 12h, 30m or 3600s");
  };
  if (text.size() < 2 || text.size() > 12) throw fail();
  long long value = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) throw fail();
    value = value * 10 + (text[i] - '0');
  }
  long long unit = 0;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: throw fail();
  }
  if (value <= 0 || value > kMaxLifetimeSeconds / unit) {
    throw ValidationError(field, "lifetime '" + text + "' must be between 1s and 10 years");
  }
  return value * unit;
}

void require_follow(const Principal* who, const std::string& job_id) {
  if (who == nullptr || who->can_follow_job(job_id)) return;
  throw Forbidden("this needs scope 'read' or 'feeds:" + job_id + "'");
}

}  // namespace catalog::auth
