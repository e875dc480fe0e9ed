#include "catalog/etl/job_runner.hpp"

#include <unistd.h>

#include <algorithm>

#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "catalog/etl/engine.hpp"
#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"
#include "catalog/notify/targets.hpp"
#include "catalog/s3/object_store.hpp"

namespace catalog::etl {
namespace {

struct SourceObject {
  std::string bucket;
  std::string key;
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

// job uri → one object: s3://bucket/key, s3://bucket/prefix/ (newest object
// under it), or a bare key in the raw bucket.
SourceObject resolve_source(s3::ObjectStore& store, const std::string& uri, const std::string& raw_bucket) {
  SourceObject object;
  if (uri.rfind("s3://", 0) == 0) {
    const auto rest = uri.substr(5);
    const auto slash = rest.find('/');
    object.bucket = rest.substr(0, slash);
    object.key = slash == std::string::npos ? "" : rest.substr(slash + 1);
  } else {
    if (raw_bucket.empty()) throw Error("job uri '" + uri + "' is a bare key but S3_RAW_BUCKET is not set");
    object.bucket = raw_bucket;
    object.key = uri;
  }
  if (!object.key.empty() && object.key.back() != '/') return object;
  const auto listed = store.list_objects(object.bucket, object.key);
  const s3::ObjectInfo* newest = nullptr;
  for (const auto& o : listed) {
    if (o.key.empty() || o.key.back() == '/') continue;
    // ListObjectsV2 LastModified is ISO 8601 UTC: lexical order is time order.
    if (newest == nullptr || o.last_modified > newest->last_modified ||
        (o.last_modified == newest->last_modified && o.key > newest->key)) {
      newest = &o;
    }
  }
  if (newest == nullptr) throw Error("no objects under s3://" + object.bucket + "/" + object.key);
  object.key = newest->key;
  return object;
}

std::int64_t to_ms(double seconds) { return static_cast<std::int64_t>(seconds * 1000.0 + 0.5); }

db::RunCounts counts_of(const RunResult& r) {
  return {r.read, r.inserted, r.updated, r.unchanged, r.rejected, r.deleted};
}

std::vector<db::RunRejectRow> rejects_of(const RunResult& r) {
  std::vector<db::RunRejectRow> rows;
  for (const auto& reject : r.first_rejects) rows.push_back({reject.line, reject.reason, reject.raw});
  return rows;
}

}  // namespace

JobRunner::JobRunner(db::Pool& pool, db::JobsRepository& jobs, db::RunsRepository& runs, s3::ObjectStore& store,
                     RunnerOptions options)
    : pool_(pool), jobs_(jobs), runs_(runs), store_(store), options_(std::move(options)) {}

JobRunner::~JobRunner() { stop(); }

std::string JobRunner::make_worker_id(int n) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "/" + std::to_string(getpid()) + "/" + std::to_string(n);
}

void JobRunner::start() {
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
}

void JobRunner::notify() {
  {
    // Set under the lock, so a worker between its empty claim and its wait
    // still sees it: a notify is never lost to the next poll.
    std::lock_guard lock(mutex_);
    wake_pending_ = true;
  }
  wake_.notify_one();
}

void JobRunner::begin_stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_.exchange(true)) {
      // Each running run's statement is interrupted now, not at its next
      // heartbeat: the engine notices stopping_ between rows, a statement only
      // when it is cancelled. Under mutex_, so no run unregisters meanwhile.
      for (auto* active : active_) active->interrupt();
    }
    wake_.notify_all();
    // The runs roll back and are re-queued in well under a second; then every
    // ?wait=true request is answered with the run's state (queued again).
    idle_.wait_until(lock, deadline, [this] { return active_.empty(); });
    waiters_released_ = true;
  }
  finished_.notify_all();
}

void JobRunner::stop() {
  begin_stop(std::chrono::steady_clock::now());
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void JobRunner::worker_loop(int n) {
  const auto worker_id = make_worker_id(n);
  auto next_stale_check = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    bool worked = false;
    try {
      if (std::chrono::steady_clock::now() >= next_stale_check) {
        const auto stale = runs_.handle_stale(options_.stale_after);
        if (stale.requeued != 0) {
          log::warn("etl", "re-queued runs whose worker stopped heartbeating", {{"count", stale.requeued}});
        }
        if (stale.finished != 0) {
          log::warn("etl", "ended runs whose worker stopped heartbeating while building indexes, with their counts",
                    {{"count", stale.finished}});
        }
        next_stale_check = std::chrono::steady_clock::now() + options_.heartbeat_every;
      }
      if (auto run = runs_.claim_next(worker_id)) {
        worked = true;
        execute(*run, worker_id);
      }
    } catch (const std::exception& e) {
      log::warn("etl", "worker loop error", {{"worker", worker_id}, {"error", e.what()}});
    }
    if (!worked) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.poll_every, [this] { return wake_pending_ || stopping_.load(); });
      wake_pending_ = false;
    }
  }
}

db::RunOutcome JobRunner::execute(const db::Run& run, const std::string& worker_id,
                                  const std::function<void(const LiveProgress&)>& on_progress) {
  const auto started = std::chrono::steady_clock::now();
  log::info("etl", "run started", {{"run_id", run.id}, {"job_id", run.job_id}, {"worker", worker_id}, {"force", run.force}});
  std::atomic<std::uint64_t> bytes{0}, rows{0}, total{0};
  std::atomic<bool> cancel{false};
  std::atomic<bool> done{false};
  std::mutex beat_mutex;
  std::condition_variable beat_cv;

  // The engine's connection, so a cancel or a shutdown can interrupt the
  // statement it is in (an apply waiting on a row lock, a long UPDATE):
  // the engine only checks for cancellation between rows and statements.
  std::mutex conn_mutex;
  pqxx::connection* engine_conn = nullptr;
  std::atomic<bool> interrupted{false};
  auto interrupt_statement = [&] {
    std::lock_guard lock(conn_mutex);
    if (engine_conn == nullptr || interrupted.load()) return;
    interrupted = true;
    try {
      engine_conn->cancel_query();
    } catch (const std::exception& e) {
      log::warn("etl", "could not interrupt the run's statement", {{"run_id", run.id}, {"error", e.what()}});
    }
  };

  Active self{interrupt_statement};
  {
    std::lock_guard lock(mutex_);
    active_.push_back(&self);
    if (stopping_.load()) self.interrupt();  // begin_stop ran just before we registered
  }

  // Heartbeat on its own connection: the engine's is busy in COPY. It also
  // carries live progress to GET /runs/{id} and brings back cancel requests.
  std::thread heartbeat([&] {
    std::unique_lock lock(beat_mutex);
    while (!beat_cv.wait_for(lock, options_.heartbeat_every, [&] { return done.load(); })) {
      try {
        bool cancel_requested = false;
        if (!runs_.heartbeat(run.id, worker_id, bytes.load(), rows.load(), cancel_requested)) cancel = true;
        if (cancel_requested) cancel = true;
      } catch (const std::exception& e) {
        log::warn("etl", "heartbeat failed", {{"run_id", run.id}, {"error", e.what()}});
      }
      if (cancel.load() || stopping_.load()) interrupt_statement();
      if (on_progress) on_progress({bytes.load(), rows.load(), total.load()});
    }
  });
  auto stop_heartbeat = [&] {
    {
      std::lock_guard lock(beat_mutex);
      done = true;
    }
    beat_cv.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  };

  db::RunOutcome outcome;
  RunResult::Timings phases;  // logged with the outcome: where a slow run spent its time
  std::uint32_t key_partitions = 1;  // run finished log: a large source's partitions
  std::uint64_t partition_bytes = 0;
  bool requeue = false;
  auto on_cancelled = [&] {
    if (stopping_.load() && !cancel.load()) {
      requeue = true;  // this task is stopping: another one will run it again
    } else {
      outcome.status = "cancelled";
      outcome.error = "cancelled by request; products are unchanged";
    }
  };
  // A cancel that raced the claim (or arrived before the first heartbeat)
  // must stop the run before it does anything: ask the queue once now.
  auto check_cancel = [&] {
    bool cancel_requested = run.cancel_requested;
    if (!cancel_requested && !runs_.heartbeat(run.id, worker_id, 0, 0, cancel_requested)) cancel_requested = true;
    if (cancel_requested) {
      cancel = true;
      throw RunCancelled();
    }
    if (stopping_.load()) throw RunCancelled();
  };
  try {
    check_cancel();
    const auto job = jobs_.find(run.job_id);
    if (!job) throw Error("job '" + run.job_id + "' was deleted after this run was queued; nothing was loaded");
    const auto options = JobOptions::from_json(run.options);
    const auto object = resolve_source(store_, run.source_uri.value_or(job->uri), options_.raw_bucket);
    const auto info = store_.head_object(object.bucket, object.key);
    total = info.size;
    runs_.set_source(run.id, object.uri(), info.etag, static_cast<std::int64_t>(info.size), job->source);
    check_cancel();

    // The shortcut holds only if this very object already loaded into this
    // job's products source with the same options: a job whose `source`
    // changed has never loaded the object into the new one.
    const auto last = runs_.last_success(run.job_id);
    if (!run.force && last && last->etag == info.etag && last->source_uri == object.uri() &&
        last->products_source == job->source &&
        JobOptions::from_json(nlohmann::json::parse(last->options)).canonical() == options.canonical()) {
      outcome.status = "skipped";
    } else {
      RunRequest request;
      request.object_name = object.key;
      request.source_name = job->source;
      request.options = options;
      request.run_id = run.id;
      const std::string etag = info.etag;
      request.source = [&, etag](const ChunkSink& sink) {
        s3::GetOptions get;
        get.if_match = etag;  // the object we HEADed, or a clear error
        store_.get_object(object.bucket, object.key,
                          [&](const char* data, std::size_t size) {
                            bytes += size;
                            sink(std::string_view(data, size));
                          },
                          get);
      };
      request.on_progress = [&](const Progress& p) { rows = p.rows; };
      request.progress_every_rows = 10'000;
      request.is_cancelled = [&] { return cancel.load() || stopping_.load(); };
      if (auto* versions = options_.versions) {
        request.on_versions_committed = [versions](const db::ScopeVersions& v) { versions->observe(v); };
      }
      request.on_visible = [&](const RunResult& r) {
        try {
          runs_.record_counts(run.id, worker_id, counts_of(r));
        } catch (const std::exception& e) {
          log::warn("etl", "could not record the run's counts before its index builds",
                    {{"run_id", run.id}, {"error", e.what()}});
        }
        log::info("etl", "rows visible", {{"run_id", run.id}, {"job_id", run.job_id}, {"visible_ms", to_ms(r.timings.visible)},
                                          {"inserted", r.inserted}, {"updated", r.updated}});
      };
      pqxx::connection conn(pool_.dsn());
      {
        std::lock_guard lock(conn_mutex);
        engine_conn = &conn;
      }
      struct Detach {
        std::mutex& m;
        pqxx::connection*& c;
        ~Detach() {
          std::lock_guard lock(m);
          c = nullptr;
        }
      } detach{conn_mutex, engine_conn};
      const auto result = run_feed(conn, request);
      phases = result.timings;
      key_partitions = result.key_partitions;
      partition_bytes = result.partition_spilled_bytes;
      outcome.status = "succeeded";
      outcome.counts = counts_of(result);
      outcome.rejects = rejects_of(result);
    }
  } catch (const RunCancelled&) {
    on_cancelled();
  } catch (const IndexesIncomplete& e) {
    // The rows are committed and served: the counts are true, and the
    // source's next run builds the missing indexes. Never re-queued, even by
    // a shutdown: a re-run would find every row unchanged and record zeros
    // over this run's counts.
    phases = e.result().timings;
    outcome.counts = counts_of(e.result());
    outcome.rejects = rejects_of(e.result());
    outcome.status = e.cancelled() || interrupted.load() ? "cancelled" : "failed";
    outcome.error = e.what();
  } catch (const TooManyRejects& e) {
    outcome.status = "failed";
    outcome.error = e.what();
    outcome.counts = counts_of(e.result());
    outcome.counts.inserted = outcome.counts.updated = outcome.counts.unchanged = outcome.counts.deleted = 0;
    outcome.rejects = rejects_of(e.result());
  } catch (const Error& e) {
    // An interrupted statement surfaces as an error: it is the cancel, not a failure.
    if (interrupted.load()) {
      on_cancelled();
    } else {
      outcome.status = "failed";
      outcome.error = e.what();
    }
  } catch (const std::exception& e) {
    if (interrupted.load()) {
      on_cancelled();
    } else {
      outcome.status = "failed";
      outcome.error = std::string("internal error: ") + e.what();
    }
  }
  stop_heartbeat();
  outcome.bytes = bytes.load();

  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  try {
    if (requeue) {
      runs_.requeue(run.id, worker_id);
      log::info("etl", "run re-queued by shutdown", {{"run_id", run.id}, {"job_id", run.job_id}});
    } else {
      outcome.notify_urls = notify::targets(run.options, outcome, options_.notify_urls);
      runs_.finish(run.id, worker_id, outcome);
      if (!outcome.notify_urls.empty() && options_.on_recorded) options_.on_recorded();
      const auto& c = outcome.counts;
      log::write(outcome.status == "failed" ? spdlog::level::warn : spdlog::level::info, "etl", "run finished",
                 {{"run_id", run.id}, {"job_id", run.job_id}, {"status", outcome.status}, {"elapsed_ms", elapsed_ms},
                  {"read", c.read}, {"inserted", c.inserted}, {"updated", c.updated}, {"unchanged", c.unchanged},
                  {"rejected", c.rejected}, {"deleted", c.deleted}, {"error", outcome.error.value_or("")},
                  {"load_keys_ms", to_ms(phases.load_keys)}, {"stream_ms", to_ms(phases.stream)},
                  {"visible_ms", to_ms(phases.visible)}, {"indexes_ms", to_ms(phases.build_indexes)},
                  {"apply_ms", to_ms(phases.apply)},
                  {"soft_delete_ms", to_ms(phases.soft_delete)}, {"vacuum_ms", to_ms(phases.vacuum)},
                  {"key_partitions", key_partitions}, {"partition_spill_bytes", partition_bytes}});
      if (options_.metrics != nullptr) {
        options_.metrics->record_run(outcome.status,
                                     {c.read, c.inserted, c.updated, c.unchanged, c.rejected, c.deleted});
      }
    }
  } catch (const std::exception& e) {
    // The heartbeat goes stale and another worker re-runs it: never stuck.
    log::error("etl", "could not record run outcome", {{"run_id", run.id}, {"error", e.what()}});
  }
  {
    std::lock_guard lock(mutex_);
    ++finished_count_;
    active_.erase(std::find(active_.begin(), active_.end(), &self));
  }
  finished_.notify_all();
  idle_.notify_all();
  if (requeue) outcome.status = "queued";
  return outcome;
}

std::optional<db::Run> JobRunner::wait_finished(db::RunsRepository& reader, const std::string& run_id,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::uint64_t seen = 0;
    bool released = false;
    {
      std::lock_guard lock(mutex_);
      seen = finished_count_;
      released = waiters_released_;
    }
    auto run = reader.find(run_id);
    if (!run || run->finished() || released || std::chrono::steady_clock::now() >= deadline) return run;
    // Woken as soon as a local worker finishes any run (also one that ended
    // between find() and here) or shutdown releases waiters; polls for runs
    // finished by other processes.
    std::unique_lock lock(mutex_);
    finished_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)),
                         [&] { return finished_count_ != seen || waiters_released_; });
  }
}

}  // namespace catalog::etl
