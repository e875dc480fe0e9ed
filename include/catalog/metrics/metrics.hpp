#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace catalog::metrics {

/// Upper bounds (seconds) of the request latency histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                           0.25,  0.5,   1.0,  2.5,   5.0,  10.0};

/// Row counts of one finished ETL run (the six counts of docs/runbook.md "Jobs and runs").
struct EtlRows {
  std::uint64_t read = 0, inserted = 0, updated = 0, unchanged = 0, rejected = 0, deleted = 0;
};

/// Why a request or connection was refused (catalog_http_refusals_total):
/// every one is rendered, at 0 until it happens.
inline constexpr std::array<std::string_view, 9> kRefusalReasons = {
    "queue_full",        // the worker queue, or the expensive-read queue, is full
    "queue_wait",        // an expensive read waited past ADMISSION_MAX_WAIT
    "upload_share",      // every upload slot is taken
    "client_share",      // one client (key or address) already holds its share of a class
    "body_budget",       // MAX_BUFFERED_BODY_BYTES is in use
    "pool_wait",         // no database connection within the pool's wait
    "statement_timeout", // DB_STATEMENT_TIMEOUT cancelled the query
    "connection_limit",  // MAX_CONNECTIONS reached
    "other"};

/// Database pool gauges, read at scrape time.
struct PoolGauges {
  std::size_t open = 0, idle = 0, in_use = 0, waiting = 0;
};

/// The service's Prometheus metrics. Thread-safe: the HTTP dispatcher and the
/// ETL workers record from many threads, /metrics renders concurrently.
/// The App owns one and passes pointers down (no global registry).
class Registry {
 public:
  /// One answered request. `route` is the matched pattern ("/items/{id}") or
  /// "unmatched", never the raw path, so the series count stays bounded.
  /// Methods other than the standard ones are recorded as "other".
  void record_request(std::string_view route, std::string_view method, int status, double seconds);

  /// One request answered on the I/O thread by a route's fast handler (a
  /// 304 from the in-memory catalog versions, or a page from the response
  /// cache); also counted by record_request.
  void record_fast_response() { fast_responses_.fetch_add(1, std::memory_order_relaxed); }

  /// One request or connection refused to protect the others, by reason:
  /// one of kRefusalReasons (docs/runbook.md "Admission and refusals").
  void record_refusal(std::string_view reason);

  /// One finished ETL run (succeeded, failed, skipped, cancelled) and its
  /// rows; a dry run is counted apart (label dry_run="true") and its rows,
  /// written nowhere, are not counted. `changes`: rows it recorded in the change log.
  void record_run(std::string_view status, const EtlRows& rows, bool dry_run = false, std::uint64_t changes = 0);

  /// One notification attempt's result: delivered, retry or failed.
  void record_notification(std::string_view result);

  /// One run queued by an event (`trigger`: s3_event, feed_rerun, run_object).
  void record_triggered_run(std::string_view trigger);

  /// Text exposition format 0.0.4
  /// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
  /// The pool gauges are omitted when `pool` is empty.
  std::string render(const std::optional<PoolGauges>& pool) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  ///< per bucket, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct RouteStats {
    /// (method, status): the method is one of known_method()'s static names.
    std::map<std::pair<std::string_view, int>, std::uint64_t> requests;
    Histogram latency;
  };
  mutable std::mutex mutex_;
  /// By route; looked up by string_view, so recording allocates only for a
  /// route's first request.
  std::map<std::string, RouteStats, std::less<>> routes_;
  std::atomic<std::uint64_t> fast_responses_{0};
  std::array<std::atomic<std::uint64_t>, kRefusalReasons.size()> refusals_{};  ///< by index in kRefusalReasons
  std::map<std::pair<std::string, bool>, std::uint64_t> runs_;                    ///< by status, dry run
  std::uint64_t changes_recorded_ = 0;                                            ///< run_changes rows
  EtlRows rows_;
  std::map<std::string, std::uint64_t, std::less<>> notifications_;  ///< by result
  std::map<std::string, std::uint64_t, std::less<>> triggered_runs_;  ///< by trigger
};

/// Escapes a label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

/// A sample value as Prometheus reads it: shortest round-trip decimal,
/// "+Inf"/"-Inf"/"NaN" for the special values.
std::string format_value(double value);

/// Content-Type of the text exposition format.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace catalog::metrics
