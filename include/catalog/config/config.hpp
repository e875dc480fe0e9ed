#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/core/env.hpp"
#include "catalog/core/secret.hpp"
#include "catalog/notify/notify_url.hpp"
#include "catalog/s3/s3_client.hpp"

namespace catalog::config {

enum class LogFormat { json, text };

/// Everything the process reads from its environment, validated once at
/// start-up (docs/runbook.md "Configuration"). Immutable after load().
struct Config {
  // PostgreSQL: a libpq connection string (URL or key=value); it may hold the
  // password, so it is a Secret.
  Secret database_dsn;
  int db_pool_size = 10;
  // DATABASE_READ_URL: a streaming replica for GET /products* and /items*
  // (a Secret too); unset = every read on the primary. READ_MAX_LAG: a
  // replica further behind than this serves nothing (reads go to the primary).
  std::optional<Secret> database_read_dsn;
  std::chrono::seconds read_max_lag{5};
  /// DB_SSL_ROOT_CERT_PEM: the CA bundle (PEM text) that signs the database's
  /// certificate, e.g. the RDS regional bundle. Set: every connection verifies
  /// the server's certificate and host name (PGSSLMODE verify-full unless set
  /// to verify-ca); see db::use_root_cert.
  std::optional<std::string> db_root_cert_pem;

  // HTTP
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8000;
  int http_threads = 2;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_feed_bytes = std::size_t{1} << 30;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{65};  // above the ALB default idle timeout (60 s)
  std::chrono::seconds shutdown_timeout{25};
  // Overload and hostile-client limits (docs/runbook.md "Limits").
  std::size_t max_connections = 10000;
  std::size_t max_buffered_body_bytes = std::size_t{64} << 20;
  std::chrono::seconds body_timeout{30};        ///< total, buffered body
  std::chrono::seconds feed_body_timeout{3600};  ///< total, streamed upload
  std::size_t worker_queue_limit = 1024;
  /// Admission classes (docs/runbook.md "Admission and refusals"); 0: a
  /// quarter of the workers, at least 1.
  std::size_t expensive_workers = 0;
  std::size_t upload_workers = 0;
  std::size_t admission_client_slots = 0;
  bool trust_forwarded_for = false;
  std::size_t expensive_queue_limit = 64;
  std::chrono::milliseconds admission_max_wait{5000};
  /// RESPONSE_CACHE_BYTES: what the in-memory cache of list pages may hold
  /// (http::ResponseCache); 0 turns it off.
  std::size_t response_cache_bytes = std::size_t{64} << 20;
  /// CACHE_CONTROL: Cache-Control of GET /items* and GET /products* answers
  /// (they carry ETags); no-cache makes clients and proxies revalidate.
  std::string cache_control = "no-cache";

  // Auth
  std::optional<Secret> api_token;
  bool auth_disabled = false;
  /// API_KEY_CACHE_TTL: how long a key look-up is cached, hence the bound on
  /// how late a revocation made elsewhere takes effect here.
  std::chrono::seconds api_key_cache_ttl{5};

  // Logging
  std::string log_level = "info";
  LogFormat log_format = LogFormat::json;

  // ETL
  int job_workers = 2;
  std::chrono::seconds run_stale_after{30};  ///< RUN_STALE_AFTER: re-queue a run silent this long
  /// RUN_RETENTION_DAYS: finished runs older than this go, with their
  /// rejects and change log (the last succeeded run of each job stays).
  int run_retention_days = 30;

  // Database budget and bounds (docs/runbook.md "Connection budget").
  /// DB_STATEMENT_TIMEOUT: cap on each statement of a request's database work
  /// (0 = off). ETL runs and the background pool are not subject to it.
  std::chrono::milliseconds db_statement_timeout{5000};
  /// DB_ACQUIRE_TIMEOUT: how long a request waits for a free pool connection
  /// before it is answered 503 `overloaded`.
  std::chrono::milliseconds db_acquire_timeout{1000};
  /// DB_BACKGROUND_POOL_SIZE: connections for heartbeats, the health monitor
  /// and the run queue, never shared with requests. Default 2 × JOB_WORKERS + 1.
  int db_background_pool_size = 5;
  /// WAIT_TIMEOUT: `POST /jobs/{id}/run?wait=true` answers the run's current
  /// state (202) after this long, below the ALB's 60 s idle timeout.
  std::chrono::milliseconds wait_timeout{50000};

  // Notifications (docs/runbook.md "Notifications"): NOTIFY_URLS are called
  // for every job's runs, besides each job's options.notify; NOTIFY_SECRET
  // signs them; NOTIFY_ALLOW_HTTP / NOTIFY_ALLOW_PRIVATE loosen the URL
  // policy for local use; NOTIFY_RETRY_BASE is the first retry's delay.
  std::vector<std::string> notify_urls;
  std::optional<Secret> notify_secret;
  notify::UrlPolicy notify_policy;
  std::chrono::milliseconds notify_retry_base{30000};

  // S3: region, endpoint and addressing come from the S3 module's own parser
  // (s3::s3_config_from_env) so there is one reading of those variables.
  std::string s3_raw_bucket;
  s3::S3Config s3;
};

using catalog::EnvLookup;    // core/env.hpp
using catalog::process_env;  // the real process environment

/// Which settings a command needs: `serve` needs auth settled; `migrate` and
/// `run-job` need only the database.
enum class Purpose { serve, database_only, healthcheck };

/// Reads and validates the configuration. Throws catalog::ConfigError whose
/// message is one line naming the variable ("PORT: must be 1..65535, got 'x'").
Config load(const EnvLookup& env, Purpose purpose = Purpose::serve);

}  // namespace catalog::config
