#include "catalog/cli/commands.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <unistd.h>

#include <thread>

#include "catalog/app/app.hpp"
#include "catalog/auth/key_admin.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/notify/targets.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/etl/object_match.hpp"
#include "catalog/handlers/run_json.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "catalog/config/config.hpp"
#include "catalog/core/clock.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/db/root_cert.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::cli {
namespace {

constexpr const char* kUsage = R"(catalog-api — partner catalog REST API and ETL engine

Usage:
  catalog-api [serve]              HTTP server on $PORT (default 8000) plus job workers
  catalog-api run-job <job-id> [--force] [--dry-run]
                                   run one ingest job in the foreground; exit 0 on success
                                   (--dry-run: the whole pipeline, nothing written to products)
  catalog-api run-object s3://bucket/key
                                   run every job whose uri names that object (or a prefix
                                   holding it) on exactly that object; exit as run-job,
                                   non-zero with "no job matches ..." when none does
  catalog-api migrate              apply database migrations and exit
  catalog-api keys create --name <name> --scope <scope> [--scope <scope>...] [--expires-in 90d]
                                   create an API key; prints its secret once (stdout)
  catalog-api keys list            every key (never a secret), as JSON
  catalog-api keys revoke <name>   revoke a key (running servers refuse it at once)
  catalog-api healthcheck [--deep] GET http://127.0.0.1:$PORT/health/live (the process
                                   serves HTTP), or /health with --deep (and the database
                                   answers); exit 0 on 200
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

/// The configuration of a command that talks to PostgreSQL. With
/// DB_SSL_ROOT_CERT_PEM every connection it opens verifies the server
/// (db/root_cert.hpp): set up here, before any thread starts.
config::Config load_config(config::Purpose purpose) {
  auto config = config::load(config::process_env(), purpose);
  if (config.db_root_cert_pem) db::use_root_cert(*config.db_root_cert_pem);
  return config;
}

int serve() {
  const sigset_t signals = block_shutdown_signals();
  const auto config = load_config(config::Purpose::serve);
  init_logging(config);
  if (config.auth_disabled) {
    log::warn("app", "AUTH_DISABLED=1: every route is open without a token; for local use only");
  }
  app::App app(config, config::process_env());
  app.start();
  int signal = 0;
  sigwait(&signals, &signal);
  const auto signalled = std::chrono::steady_clock::now();
  const auto deadline = signalled + config.shutdown_timeout;
  log::info("app", "shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                                     {"timeout_s", config.shutdown_timeout.count()}});
  // Exit 0 within SHUTDOWN_TIMEOUT in every case, even if something will not
  // stop (a stalled S3 read, a statement that ignores its cancel): ECS would
  // SIGKILL us shortly after anyway. Whatever was not finished rolls back with
  // its connection; a run not yet re-queued is re-queued once its heartbeat is stale.
  std::thread([deadline] {
    std::this_thread::sleep_until(deadline);
    log::error("app", "shutdown deadline passed with work still running; exiting now");
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(0);
  }).detach();
  // The app's own steps end a little before the deadline, leaving time to join threads.
  const auto margin = std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(1), config.shutdown_timeout / 5);
  app.shutdown(deadline - margin);
  log::info("app", "stopped", {{"elapsed_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - signalled).count()}});
  return 0;
}

int migrate() {
  const auto config = load_config(config::Purpose::database_only);
  init_logging(config);
  db::Pool pool({config.database_dsn, 1});
  pqxx::connection conn(pool.dsn());
  const int applied = db::migrate(conn);
  log::info("app", "migrations done", {{"applied", applied}});
  return 0;
}

// `keys create|list|revoke`: the first key, and break-glass. Uses the
// database like `migrate` (and migrates first, so it works on a fresh one).
int keys(int argc, char** argv) {
  const std::string usage = "keys: usage: catalog-api keys create --name <name> --scope <scope> [--scope ...] "
                            "[--expires-in 90d] | keys list | keys revoke <name>";
  if (argc < 3) throw ConfigError(usage);
  const std::string action = argv[2];
  std::optional<std::string> name, expires_in;
  std::vector<std::string> scopes;
  if (action == "create") {
    for (int i = 3; i < argc; ++i) {
      const std::string arg = argv[i];
      const bool has_value = i + 1 < argc;
      if (arg == "--name" && has_value) name = argv[++i];
      else if (arg == "--scope" && has_value) scopes.emplace_back(argv[++i]);
      else if (arg == "--expires-in" && has_value) expires_in = argv[++i];
      else throw ConfigError("keys create: unexpected argument '" + arg + "'; " + usage.substr(6));
    }
    if (!name) throw ConfigError("keys create: --name is required");
    if (scopes.empty()) throw ConfigError("keys create: at least one --scope is required (admin, read or feeds:<job-id>)");
  } else if (action == "revoke") {
    if (argc != 4) throw ConfigError("keys revoke: exactly one key name expected");
    name = argv[3];
  } else if (action != "list" || argc != 3) {
    throw ConfigError(usage);
  }

  const auto config = load_config(config::Purpose::database_only);
  // Warnings only: stdout carries the secret (create) or the JSON (list).
  log::init(config.log_format == config::LogFormat::json ? log::Format::json : log::Format::text, spdlog::level::warn);
  db::Pool pool({config.database_dsn, 1});
  {
    pqxx::connection conn(pool.dsn());
    db::migrate(conn);
  }
  db::KeysRepository repo(pool);
  try {
    if (action == "create") {
      const auto created = auth::create_key(repo, *name, scopes, expires_in);
      // The secret goes to stdout alone (easy to pipe into a secret store);
      // what it is goes to stderr.
      std::cerr << "created key '" << created.key.name << "' with scopes";
      for (const auto& s : created.key.scopes) std::cerr << " " << s;
      std::cerr << (created.key.expires_at ? ", expires " + *created.key.expires_at : std::string(", no expiry"))
                << ". The secret below is shown only now:\n";
      std::cout << created.secret << "\n";
    } else if (action == "list") {
      auto out = nlohmann::json::array();
      for (const auto& key : repo.list()) out.push_back(auth::key_to_json(key));
      std::cout << out.dump(2) << "\n";
    } else {
      if (!repo.revoke(*name)) {
        std::cerr << "catalog-api: key '" << *name << "' does not exist\n";
        return 1;
      }
      std::cerr << "revoked key '" << *name << "'; running servers refuse it at once (a server whose database "
                << "listener is down: within its API_KEY_CACHE_TTL, default 5 s)\n";
    }
  } catch (const ValidationError& e) {
    std::cerr << "catalog-api: keys " << action << ": " << e.field() << ": " << e.what() << "\n";
    return 2;
  } catch (const Conflict& e) {
    std::cerr << "catalog-api: keys " << action << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// A one-line progress bar on stderr, only when a person is watching.
void draw_progress(const etl::LiveProgress& p) {
  if (p.total_bytes > 0) {
    const int percent = static_cast<int>(100.0 * static_cast<double>(p.bytes) / static_cast<double>(p.total_bytes));
    const int filled = percent / 5;
    std::fprintf(stderr, "\r[%-20s] %3d%%  %llu rows  %.1f MB", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 percent, static_cast<unsigned long long>(p.rows), static_cast<double>(p.bytes) / 1e6);
  } else {
    std::fprintf(stderr, "\r%llu rows", static_cast<unsigned long long>(p.rows));
  }
  std::fflush(stderr);
}

// What a foreground run needs (run-job, run-object): the database, S3 and a
// runner with no workers of its own.
struct Foreground {
  config::Config config;
  db::Pool pool;
  db::JobsRepository jobs;
  db::RunsRepository runs;
  SystemClock clock;
  std::shared_ptr<s3::CredentialsProvider> credentials;
  s3::CurlS3Client store;
  etl::JobRunner runner;

  explicit Foreground(config::Config c)
      : config(std::move(c)),
        pool({config.database_dsn, 2}),
        jobs(pool),
        runs(pool, notify::run_end_notices(config.notify_urls)),  // delivered by the service's tasks
        credentials(s3::default_credentials_chain(config::process_env(), clock)),
        store(config.s3, credentials, clock),
        runner(pool, jobs, runs, store, runner_options(config)) {}

  static etl::RunnerOptions runner_options(const config::Config& config) {
    etl::RunnerOptions options;
    options.workers = 0;
    options.raw_bucket = config.s3_raw_bucket;
    options.stale_after = config.run_stale_after;
    options.notify_urls = config.notify_urls;  // queued here, delivered by the service's tasks
    return options;
  }
};

std::unique_ptr<Foreground> start_foreground() {
  auto config = load_config(config::Purpose::database_only);
  init_logging(config);
  auto fg = std::make_unique<Foreground>(std::move(config));
  pqxx::connection conn(fg->pool.dsn());
  db::migrate(conn);
  return fg;
}

// Runs one job in this process (on `object` when given, else the job's uri),
// prints the run as JSON; true when it succeeded or was skipped.
bool run_in_foreground(Foreground& fg, const sigset_t& signals, const std::string& job_id, bool force,
                       const std::optional<std::string>& object, const std::string& trigger, bool dry_run = false) {
  const auto worker_id = etl::JobRunner::make_worker_id(0);
  const auto run = fg.runs.enqueue(job_id, force, object, worker_id, trigger, dry_run);
  std::fprintf(stderr, "%s %s of job '%s' started%s\n", dry_run ? "dry run" : "run", run.id.c_str(), job_id.c_str(),
               object ? (" on " + *object).c_str() : "");

  // SIGTERM (ECS stopping the task) cancels the run: rolled back, re-queued.
  // After the run the watcher is released with a SIGTERM of our own, which
  // must not stop the runner: run-object runs the next job with it.
  std::atomic<bool> run_over{false};
  std::thread signal_watcher([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (!run_over.load() && (signal == SIGTERM || signal == SIGINT)) fg.runner.stop();
  });
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto outcome =
      fg.runner.execute(run, worker_id, tty ? draw_progress : std::function<void(const etl::LiveProgress&)>());
  if (tty) std::fprintf(stderr, "\n");
  run_over = true;
  pthread_kill(signal_watcher.native_handle(), SIGTERM);
  signal_watcher.join();

  const auto finished = fg.runs.find(run.id);
  std::cout << handlers::run_to_json(finished.value_or(run)).dump(2) << "\n";
  if (outcome.status == "succeeded" || outcome.status == "skipped") return true;
  std::cerr << "catalog-api: run " << run.id << " " << outcome.status
            << (outcome.error ? ": " + *outcome.error : std::string()) << "\n";
  return false;
}

int run_job(int argc, char** argv) {
  std::string job_id;
  bool force = false;
  bool dry_run = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--force") force = true;
    else if (arg == "--dry-run") dry_run = true;
    else if (!arg.empty() && arg[0] == '-') throw ConfigError("run-job: unknown option '" + arg + "'");
    else if (job_id.empty()) job_id = arg;
    else throw ConfigError("run-job: one job id expected, got '" + job_id + "' and '" + arg + "'");
  }
  if (job_id.empty()) throw ConfigError("run-job: usage: catalog-api run-job <job-id> [--force] [--dry-run]");

  const sigset_t signals = block_shutdown_signals();
  auto fg = start_foreground();
  return run_in_foreground(*fg, signals, job_id, force, std::nullopt, "cli", dry_run) ? 0 : 1;
}

// EventBridge S3 "Object Created" → ECS RunTask: every job whose uri names
// the object or a prefix holding it runs on exactly that object, one after
// the other. A job that is busy elsewhere gets the run queued behind its
// active one (the service's workers take it) instead of a failure.
int run_object(int argc, char** argv) {
  if (argc != 3) throw ConfigError("run-object: usage: catalog-api run-object s3://bucket/key");
  const auto object = etl::parse_object_uri(argv[2]);
  if (!object) throw ConfigError(std::string("run-object: '") + argv[2] + "' is not s3://bucket/key");

  const sigset_t signals = block_shutdown_signals();
  auto fg = start_foreground();
  const auto matching = etl::jobs_for_object(fg->jobs.list(), fg->config.s3_raw_bucket, *object);
  if (matching.empty()) {
    std::cerr << "catalog-api: no job matches " << object->uri() << " (no job uri names it or a prefix holding it)\n";
    return 1;
  }
  bool all_ok = true;
  for (const auto& job : matching) {
    try {
      all_ok = run_in_foreground(*fg, signals, job.id, false, object->uri(), "run-object") && all_ok;
    } catch (const Conflict& busy) {
      const auto queued = fg->runs.enqueue(job.id, false, object->uri(), std::nullopt, std::string("run-object"));
      std::cerr << "catalog-api: job '" << job.id << "' is busy (" << busy.what() << "): run " << queued.id
                << " is queued behind it for the service's workers\n";
    }
  }
  return all_ok ? 0 : 1;
}

// The container HEALTHCHECK runs the shallow check: a database outage is not
// fixed by replacing the container (see docs/runbook.md, "Health checks").
int healthcheck(int argc, char** argv) {
  bool deep = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--deep") deep = true;
    else throw ConfigError("healthcheck: unknown argument '" + arg + "' (usage: catalog-api healthcheck [--deep])");
  }
  const auto config = config::load(config::process_env(), config::Purpose::healthcheck);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(config.port) + (deep ? "/health" : "/health/live");
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
    if (command == "keys") return keys(argc, argv);
    if (command == "run-job") return run_job(argc, argv);
    if (command == "run-object") return run_object(argc, argv);
    if (command == "healthcheck") return healthcheck(argc, argv);
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
