#include "catalog/cli/commands.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <curl/curl.h>
#include <pqxx/pqxx>

#include "catalog/app/app.hpp"
#include "catalog/config/config.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::cli {
namespace {

constexpr const char* kUsage = R"(catalog-api — partner catalog REST API and ETL engine

Usage:
  catalog-api [serve]              HTTP server on $PORT (default 8000) plus job workers
  catalog-api run-job <job-id> [--force]
                                   run one ingest job in the foreground; exit 0 on success
  catalog-api migrate              apply database migrations and exit
  catalog-api healthcheck          GET http://127.0.0.1:$PORT/health; exit 0 on 200
  catalog-api --version | --help

Configuration comes from the environment (DATABASE_URL or DB_HOST/DB_PORT/DB_NAME/
DB_USER/DB_PASSWORD[_FILE], PORT, API_TOKEN[_FILE] or AUTH_DISABLED=1, LOG_LEVEL,
LOG_FORMAT, DB_POOL_SIZE, MAX_BODY_BYTES, SHUTDOWN_TIMEOUT, S3_*, AWS_*).
See docs/runbook.md.
)";

void init_logging(const config::Config& c) {
  log::init(c.log_format == config::LogFormat::json ? log::Format::json : log::Format::text,
            spdlog::level::from_str(c.log_level));
}

// Blocks SIGTERM/SIGINT in every thread (call before any thread starts) and
// waits for one on the calling thread: no async-signal-safety puzzles.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve() {
  const sigset_t signals = block_shutdown_signals();
  const auto config = config::load(config::process_env(), config::Purpose::serve);
  init_logging(config);
  if (config.auth_disabled) {
    log::warn("app", "AUTH_DISABLED=1: every route is open without a token; for local use only");
  }
  app::App app(config, config::process_env());
  app.start();
  int signal = 0;
  sigwait(&signals, &signal);
  const auto deadline = std::chrono::steady_clock::now() + config.shutdown_timeout;
  log::info("app", "shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                                     {"timeout_s", config.shutdown_timeout.count()}});
  app.shutdown(deadline);
  log::info("app", "stopped");
  return 0;
}

int migrate() {
  const auto config = config::load(config::process_env(), config::Purpose::database_only);
  init_logging(config);
  db::Pool pool({config.database_dsn, 1});
  pqxx::connection conn(pool.dsn());
  const int applied = db::migrate(conn);
  log::info("app", "migrations done", {{"applied", applied}});
  return 0;
}

int healthcheck() {
  const auto config = config::load(config::process_env(), config::Purpose::healthcheck);
  const std::string url = "http://127.0.0.1:" + std::to_string(config.port) + "/health";
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return 1;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 4000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::fprintf(stderr, "healthcheck: %s: %s\n", url.c_str(), curl_easy_strerror(rc));
    return 1;
  }
  if (status != 200) {
    std::fprintf(stderr, "healthcheck: %s answered %ld\n", url.c_str(), status);
    return 1;
  }
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "serve";
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "--version" || command == "version") {
      std::cout << "catalog-api " << CATALOG_VERSION << "\n";
      return 0;
    }
    if (command == "serve") return serve();
    if (command == "migrate") return migrate();
    if (command == "healthcheck") return healthcheck();
    std::cerr << "catalog-api: unknown command '" << command << "'\n\n" << kUsage;
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << "catalog-api: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "catalog-api: " << e.what() << (e.internal().empty() ? "" : ": " + e.internal()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "catalog-api: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace catalog::cli
