#include "catalog/metrics/metrics.hpp"

#include <charconv>
#include <cmath>

namespace catalog::metrics {
namespace {

// The statuses a run can end with: rendered even at zero, so rate() and
// alerts see the series from the first scrape.
constexpr std::array<const char*, 4> kRunStatuses = {"succeeded", "failed", "skipped", "cancelled"};

std::string_view known_method(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                               "PATCH", "DELETE", "OPTIONS"};
  for (auto m : kMethods) {
    if (m == method) return m;
  }
  return "other";
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, const std::string& labels, const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  out += escape_label_value(value);
  out += '"';
  return out;
}

}  // namespace

void Registry::record_refusal(std::string_view reason) {
  std::size_t i = 0;
  while (i + 1 < kRefusalReasons.size() && kRefusalReasons[i] != reason) ++i;
  refusals_[i].fetch_add(1, std::memory_order_relaxed);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

void Registry::record_request(std::string_view route, std::string_view method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteStats{}).first;
  auto& stats = it->second;
  ++stats.requests[{known_method(method), status}];
  auto& h = stats.latency;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Registry::record_run(std::string_view status, const EtlRows& rows, bool dry_run, std::uint64_t changes) {
  std::lock_guard lock(mutex_);
  ++runs_[{std::string(status), dry_run}];
  changes_recorded_ += changes;
  if (dry_run) return;
  rows_.read += rows.read;
  rows_.inserted += rows.inserted;
  rows_.updated += rows.updated;
  rows_.unchanged += rows.unchanged;
  rows_.rejected += rows.rejected;
  rows_.deleted += rows.deleted;
}

void Registry::record_notification(std::string_view result) {
  std::lock_guard lock(mutex_);
  ++notifications_[std::string(result)];
}

void Registry::record_triggered_run(std::string_view trigger) {
  std::lock_guard lock(mutex_);
  ++triggered_runs_[std::string(trigger)];
}

std::string Registry::render(const std::optional<PoolGauges>& pool) const {
  std::string out;
  std::lock_guard lock(mutex_);

  header(out, "catalog_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
  for (const auto& [route, stats] : routes_) {
    for (const auto& [key, count] : stats.requests) {
      const auto& [method, status] = key;
      sample(out, "catalog_http_requests_total",
             label("route", route) + ',' + label("method", method) + ',' + label("status", std::to_string(status)),
             std::to_string(count));
    }
  }

  header(out, "catalog_http_request_duration_seconds", "histogram",
         "Time from request received to response ready, by route pattern.");
  for (const auto& [route, stats] : routes_) {
    const auto& h = stats.latency;
    const auto route_label = label("route", route);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      sample(out, "catalog_http_request_duration_seconds_bucket",
             route_label + ',' + label("le", format_value(kLatencyBuckets[i])), std::to_string(cumulative));
    }
    sample(out, "catalog_http_request_duration_seconds_bucket", route_label + ",le=\"+Inf\"",
           std::to_string(h.count));
    sample(out, "catalog_http_request_duration_seconds_sum", route_label, format_value(h.sum));
    sample(out, "catalog_http_request_duration_seconds_count", route_label, std::to_string(h.count));
  }

  header(out, "catalog_http_fast_responses_total", "counter",
         "Requests answered on the I/O thread without the worker pool or the database (304 from the in-memory "
         "catalog versions, or a list page from the response cache).");
  sample(out, "catalog_http_fast_responses_total", {}, std::to_string(fast_responses_.load(std::memory_order_relaxed)));

  header(out, "catalog_http_refusals_total", "counter",
         "Requests or connections refused (503 + Retry-After, or the canned 503 beyond MAX_CONNECTIONS), by reason.");
  for (std::size_t i = 0; i < kRefusalReasons.size(); ++i) {
    sample(out, "catalog_http_refusals_total", label("reason", kRefusalReasons[i]),
           std::to_string(refusals_[i].load(std::memory_order_relaxed)));
  }

  if (pool) {
    header(out, "catalog_db_pool_connections", "gauge", "PostgreSQL pool connections by state.");
    sample(out, "catalog_db_pool_connections", label("state", "open"), std::to_string(pool->open));
    sample(out, "catalog_db_pool_connections", label("state", "idle"), std::to_string(pool->idle));
    sample(out, "catalog_db_pool_connections", label("state", "in_use"), std::to_string(pool->in_use));
    header(out, "catalog_db_pool_waiting", "gauge", "Callers waiting for a PostgreSQL pool connection.");
    sample(out, "catalog_db_pool_waiting", {}, std::to_string(pool->waiting));
  }

  header(out, "catalog_etl_runs_total", "counter",
         "ETL runs finished, by final status; dry runs (previews that write nothing) apart.");
  auto runs = runs_;
  for (const char* status : kRunStatuses) {
    runs.emplace(std::make_pair(std::string(status), false), 0);
    runs.emplace(std::make_pair(std::string(status), true), 0);
  }
  for (const auto& [key, count] : runs) {
    sample(out, "catalog_etl_runs_total", label("status", key.first) + ',' + label("dry_run", key.second ? "true" : "false"),
           std::to_string(count));
  }

  header(out, "catalog_changes_recorded_total", "counter",
         "Rows recorded in the per-run change log (run_changes) by finished runs and dry runs.");
  sample(out, "catalog_changes_recorded_total", "", std::to_string(changes_recorded_));

  header(out, "catalog_etl_rows_total", "counter", "Feed rows processed by finished ETL runs, by outcome.");
  const std::pair<const char*, std::uint64_t> kinds[] = {{"read", rows_.read},           {"inserted", rows_.inserted},
                                                        {"updated", rows_.updated},     {"unchanged", rows_.unchanged},
                                                        {"rejected", rows_.rejected},   {"deleted", rows_.deleted}};
  for (const auto& [kind, count] : kinds) sample(out, "catalog_etl_rows_total", label("kind", kind), std::to_string(count));

  header(out, "catalog_notifications_total", "counter",
         "Run-end webhook attempts by result: delivered, retry (will be tried again), failed (final).");
  auto notifications = notifications_;
  for (const char* result : {"delivered", "retry", "failed"}) notifications.emplace(result, 0);
  for (const auto& [result, count] : notifications) {
    sample(out, "catalog_notifications_total", label("result", result), std::to_string(count));
  }

  header(out, "catalog_etl_triggered_runs_total", "counter",
         "Runs queued by something other than a person or a schedule, by trigger (s3_event, feed_rerun).");
  auto triggered = triggered_runs_;
  for (const char* trigger : {"s3_event", "feed_rerun"}) triggered.emplace(trigger, 0);
  for (const auto& [trigger, count] : triggered) {
    sample(out, "catalog_etl_triggered_runs_total", label("trigger", trigger), std::to_string(count));
  }
  return out;
}

}  // namespace catalog::metrics
