#include "catalog/config/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <libpq-fe.h>

#include "catalog/core/errors.hpp"
#include "catalog/s3/bucket_name.hpp"

namespace catalog::config {
namespace {

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

long long parse_integer(const std::string& name, const std::string& text, long long min, long long max) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || value < min || value > max) {
    throw ConfigError(name + ": must be an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                      ", got '" + text + "'");
  }
  return value;
}

long long integer_or(const EnvLookup& env, const std::string& name, long long fallback, long long min,
                     long long max) {
  auto text = non_empty(env, name);
  return text ? parse_integer(name, *text, min, max) : fallback;
}

bool boolean_or(const EnvLookup& env, const std::string& name, bool fallback) {
  auto text = non_empty(env, name);
  if (!text) return fallback;
  if (*text == "1" || *text == "true" || *text == "yes" || *text == "on") return true;
  if (*text == "0" || *text == "false" || *text == "no" || *text == "off") return false;
  throw ConfigError(name + ": must be 1/true/yes/on or 0/false/no/off, got '" + *text + "'");
}

// A secret given directly (NAME) or in a file (NAME_FILE, as ECS/compose
// secrets are mounted). Both at once is ambiguous and refused.
std::optional<Secret> secret_from(const EnvLookup& env, const std::string& name) {
  auto direct = non_empty(env, name);
  auto file = non_empty(env, name + "_FILE");
  if (direct && file) throw ConfigError(name + ": set either " + name + " or " + name + "_FILE, not both");
  if (direct) return Secret(*direct);
  if (!file) return std::nullopt;
  std::ifstream in(*file, std::ios::binary);
  if (!in) throw ConfigError(name + "_FILE: cannot read '" + *file + "'");
  std::stringstream content;
  content << in.rdbuf();
  std::string value = content.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) throw ConfigError(name + "_FILE: '" + *file + "' is empty");
  return Secret(std::move(value));
}

// libpq keyword/value quoting: single quotes around the value, with \ and '
// backslash-escaped (https://www.postgresql.org/docs/15/libpq-connect.html).
std::string quote_conninfo(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// A libpq URL or key=value conninfo in `name`; nullopt when unset.
std::optional<Secret> connection_string(const EnvLookup& env, const std::string& name) {
  auto url = non_empty(env, name);
  if (!url) return std::nullopt;
  const bool is_url = url->rfind("postgres://", 0) == 0 || url->rfind("postgresql://", 0) == 0;
  const bool is_keywords = url->find('=') != std::string::npos;
  if (!is_url && !is_keywords) {
    throw ConfigError(name + ": must be postgresql://user:password@host:port/dbname or key=value pairs");
  }
  return Secret(*url);
}

Secret database_dsn(const EnvLookup& env) {
  if (auto url = connection_string(env, "DATABASE_URL")) return *url;
  auto host = non_empty(env, "DB_HOST");
  if (!host) throw ConfigError("DATABASE_URL: not set (set DATABASE_URL, or DB_HOST with DB_NAME and DB_USER)");
  auto name = non_empty(env, "DB_NAME");
  if (!name) throw ConfigError("DB_NAME: required when DB_HOST is set");
  auto user = non_empty(env, "DB_USER");
  if (!user) throw ConfigError("DB_USER: required when DB_HOST is set");
  const auto port = integer_or(env, "DB_PORT", 5432, 1, 65535);
  std::string dsn = "host=" + quote_conninfo(*host) + " port=" + std::to_string(port) +
                    " dbname=" + quote_conninfo(*name) + " user=" + quote_conninfo(*user);
  if (auto password = secret_from(env, "DB_PASSWORD")) dsn += " password=" + quote_conninfo(password->reveal());
  return Secret(std::move(dsn));
}

// A duration: a bare integer is seconds (like every other *_TIMEOUT here);
// `ms` or `s` may follow the number ("500ms", "5s").
std::chrono::milliseconds duration_or(const EnvLookup& env, const std::string& name, std::chrono::milliseconds fallback,
                                      std::chrono::milliseconds max) {
  auto text = non_empty(env, name);
  if (!text) return fallback;
  std::string number = *text;
  long long scale = 1000;
  if (number.size() > 2 && number.compare(number.size() - 2, 2, "ms") == 0) {
    number.resize(number.size() - 2);
    scale = 1;
  } else if (number.size() > 1 && number.back() == 's') {
    number.pop_back();
  }
  const bool digits = !number.empty() && number.find_first_not_of("0123456789") == std::string::npos;
  const long long value = digits && number.size() < 12 ? std::stoll(number) * scale : -1;
  if (value < 0 || value > max.count()) {
    throw ConfigError(name + ": must be a duration such as 5s or 500ms (a bare number is seconds) up to " +
                      std::to_string(max.count() / 1000) + "s, got '" + *text + "'");
  }
  return std::chrono::milliseconds(value);
}

/// The sslmode a libpq connection string names itself; "" when it names none
/// (or cannot be parsed: connecting reports that). Never the string itself:
/// it may hold a password.
std::string sslmode_in(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return "";
  std::string mode;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "sslmode") == 0 && o->val != nullptr) mode = o->val;
  }
  PQconninfoFree(options);
  return mode;
}

// DB_SSL_ROOT_CERT_PEM: PEM certificates, and nothing that weakens them.
std::optional<std::string> root_cert_pem(const EnvLookup& env) {
  auto pem = non_empty(env, "DB_SSL_ROOT_CERT_PEM");
  if (!pem) return std::nullopt;
  if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos ||
      pem->find("-----END CERTIFICATE-----") == std::string::npos) {
    throw ConfigError("DB_SSL_ROOT_CERT_PEM: must hold PEM certificates (-----BEGIN CERTIFICATE----- ... "
                      "-----END CERTIFICATE-----), e.g. the RDS CA bundle");
  }
  if (non_empty(env, "PGSSLROOTCERT")) {
    throw ConfigError("DB_SSL_ROOT_CERT_PEM: set either DB_SSL_ROOT_CERT_PEM or PGSSLROOTCERT, not both");
  }
  if (auto mode = non_empty(env, "PGSSLMODE"); mode && *mode != "verify-full" && *mode != "verify-ca") {
    throw ConfigError("PGSSLMODE: '" + *mode +
                      "' does not verify the server's certificate; with DB_SSL_ROOT_CERT_PEM use verify-full "
                      "(or leave PGSSLMODE unset)");
  }
  // A sslmode inside a connection string wins over PGSSLMODE (libpq's rule).
  for (const char* name : {"DATABASE_URL", "DATABASE_READ_URL"}) {
    const auto dsn = non_empty(env, name);
    if (!dsn) continue;
    const std::string mode = sslmode_in(*dsn);
    if (!mode.empty() && mode != "verify-full" && mode != "verify-ca") {
      throw ConfigError(std::string(name) + ": sslmode=" + mode +
                        " does not verify the server's certificate; with DB_SSL_ROOT_CERT_PEM say "
                        "sslmode=verify-full there (or leave it out)");
    }
  }
  return pem;
}

}  // namespace

Config load(const EnvLookup& env, Purpose purpose) {
  Config c;
  if (auto level = non_empty(env, "LOG_LEVEL")) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool known = false;
    for (const char* l : kLevels) known = known || *level == l;
    if (!known) throw ConfigError("LOG_LEVEL: must be one of trace, debug, info, warn, error, critical, off; got '" + *level + "'");
    c.log_level = *level;
  }
  if (auto format = non_empty(env, "LOG_FORMAT")) {
    if (*format == "json") c.log_format = LogFormat::json;
    else if (*format == "text") c.log_format = LogFormat::text;
    else throw ConfigError("LOG_FORMAT: must be json or text, got '" + *format + "'");
  }
  if (purpose != Purpose::database_only) {
    // 0 (any free port) is for tests of serve; healthcheck needs a real one.
    c.port = static_cast<std::uint16_t>(integer_or(env, "PORT", 8000, purpose == Purpose::serve ? 0 : 1, 65535));
  }
  if (purpose == Purpose::healthcheck) return c;

  c.database_dsn = database_dsn(env);
  c.db_root_cert_pem = root_cert_pem(env);
  c.db_pool_size = static_cast<int>(integer_or(env, "DB_POOL_SIZE", 10, 1, 1000));
  c.job_workers = static_cast<int>(integer_or(env, "JOB_WORKERS", 2, 0, 64));
  c.run_stale_after = std::chrono::seconds(integer_or(env, "RUN_STALE_AFTER", 30, 5, 3600));
  c.run_retention_days = static_cast<int>(integer_or(env, "RUN_RETENTION_DAYS", 30, 1, 36500));
  c.s3_raw_bucket = non_empty(env, "S3_RAW_BUCKET").value_or("");
  if (const auto problem = s3::bucket_name_problem(c.s3_raw_bucket); !c.s3_raw_bucket.empty() && !problem.empty()) {
    throw ConfigError("S3_RAW_BUCKET: '" + c.s3_raw_bucket + "' is not a valid S3 bucket name: " + problem);
  }
  // Database budget and bounds (h6): see docs/runbook.md "Connection budget".
  c.db_statement_timeout = duration_or(env, "DB_STATEMENT_TIMEOUT", std::chrono::seconds(5), std::chrono::hours(1));
  c.db_acquire_timeout = duration_or(env, "DB_ACQUIRE_TIMEOUT", std::chrono::seconds(1), std::chrono::minutes(1));
  c.db_background_pool_size =
      static_cast<int>(integer_or(env, "DB_BACKGROUND_POOL_SIZE", 2LL * c.job_workers + 1, 2, 1000));
  c.wait_timeout = duration_or(env, "WAIT_TIMEOUT", std::chrono::seconds(50), std::chrono::minutes(15));
  c.s3 = s3::s3_config_from_env(env);
  // run-job queues notifications too (the service's tasks deliver them).
  c.notify_policy.allow_http = boolean_or(env, "NOTIFY_ALLOW_HTTP", false);
  c.notify_policy.allow_private = boolean_or(env, "NOTIFY_ALLOW_PRIVATE", false);
  if (auto urls = non_empty(env, "NOTIFY_URLS")) {
    std::size_t start = 0;
    while (start <= urls->size()) {
      const auto comma = std::min(urls->find(',', start), urls->size());
      std::string url = urls->substr(start, comma - start);
      url.erase(0, url.find_first_not_of(' '));
      url.erase(url.find_last_not_of(' ') + 1);
      if (!url.empty()) {
        try {
          notify::validate_url(url, c.notify_policy, "NOTIFY_URLS");
        } catch (const Error& e) {
          throw ConfigError(e.what());
        }
        c.notify_urls.push_back(url);
      }
      start = comma + 1;
    }
  }
  c.notify_secret = secret_from(env, "NOTIFY_SECRET");
  c.notify_retry_base = duration_or(env, "NOTIFY_RETRY_BASE", std::chrono::seconds(30), std::chrono::hours(1));
  if (purpose == Purpose::database_only) return c;
  if (!c.notify_urls.empty() && !c.notify_secret) {
    throw ConfigError("NOTIFY_SECRET: not set, but NOTIFY_URLS is: notifications are always signed");
  }

  c.bind_address = non_empty(env, "BIND_ADDRESS").value_or("0.0.0.0");
  if (auto cache_control = non_empty(env, "CACHE_CONTROL")) {
    for (char ch : *cache_control) {
      if (ch < 0x20 || ch > 0x7e) throw ConfigError("CACHE_CONTROL: must be printable ASCII (a Cache-Control header value)");
    }
    c.cache_control = *cache_control;
  }
  c.http_threads = static_cast<int>(integer_or(env, "HTTP_THREADS", 2, 1, 256));
  c.max_body_bytes = static_cast<std::size_t>(integer_or(env, "MAX_BODY_BYTES", 1 << 20, 1, 1LL << 32));
  c.max_feed_bytes = static_cast<std::size_t>(integer_or(env, "MAX_FEED_BYTES", 1LL << 30, 1, 1LL << 40));
  c.read_timeout = std::chrono::seconds(integer_or(env, "READ_TIMEOUT", 30, 1, 3600));
  c.idle_timeout = std::chrono::seconds(integer_or(env, "IDLE_TIMEOUT", 65, 1, 3600));
  c.shutdown_timeout = std::chrono::seconds(integer_or(env, "SHUTDOWN_TIMEOUT", 25, 0, 3600));
  c.max_connections = static_cast<std::size_t>(integer_or(env, "MAX_CONNECTIONS", 10000, 1, 1000000));
  c.max_buffered_body_bytes =
      static_cast<std::size_t>(integer_or(env, "MAX_BUFFERED_BODY_BYTES", 64LL << 20, 1, 1LL << 40));
  c.body_timeout = std::chrono::seconds(integer_or(env, "BODY_TIMEOUT", 30, 1, 3600));
  c.feed_body_timeout = std::chrono::seconds(integer_or(env, "FEED_BODY_TIMEOUT", 3600, 1, 86400));
  c.worker_queue_limit = static_cast<std::size_t>(integer_or(env, "WORKER_QUEUE_LIMIT", 1024, 1, 1000000));
  c.expensive_workers = static_cast<std::size_t>(integer_or(env, "EXPENSIVE_WORKERS", 0, 0, 10000));
  c.upload_workers = static_cast<std::size_t>(integer_or(env, "UPLOAD_WORKERS", 0, 0, 10000));
  c.admission_client_slots = static_cast<std::size_t>(integer_or(env, "ADMISSION_CLIENT_SLOTS", 0, 0, 10000));
  c.expensive_queue_limit = static_cast<std::size_t>(integer_or(env, "EXPENSIVE_QUEUE_LIMIT", 64, 0, 1000000));
  c.admission_max_wait = std::chrono::milliseconds(integer_or(env, "ADMISSION_MAX_WAIT_MS", 5000, 1, 60000));
  c.response_cache_bytes =
      static_cast<std::size_t>(integer_or(env, "RESPONSE_CACHE_BYTES", 64LL << 20, 0, 1LL << 40));
  // The read replica serves only the API's list/detail reads; run-job and
  // migrate never use it.
  c.database_read_dsn = connection_string(env, "DATABASE_READ_URL");
  c.read_max_lag = std::chrono::seconds(integer_or(env, "READ_MAX_LAG", 5, 1, 3600));
  c.auth_disabled = boolean_or(env, "AUTH_DISABLED", false);
  c.trust_forwarded_for = boolean_or(env, "TRUST_X_FORWARDED_FOR", false);
  c.api_token = secret_from(env, "API_TOKEN");
  c.api_key_cache_ttl = std::chrono::seconds(integer_or(env, "API_KEY_CACHE_TTL", 5, 1, 300));
  if (!c.api_token && !c.auth_disabled) {
    throw ConfigError("API_TOKEN: not set; set API_TOKEN (or API_TOKEN_FILE), or AUTH_DISABLED=1 for local use");
  }
  return c;
}

}  // namespace catalog::config
