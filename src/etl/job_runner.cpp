#include "catalog/etl/job_runner.hpp"

#include <unistd.h>

#include <algorithm>

#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "catalog/db/run_retention.hpp"
#include "catalog/etl/engine.hpp"
#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"
#include "catalog/notify/targets.hpp"
#include "catalog/s3/object_store.hpp"
#include "etl/run_watch.hpp"

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
  auto next_prune = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    bool worked = false;
    try {
      if (n == 0 && std::chrono::steady_clock::now() >= next_prune) {
        // A bounded slice of work, then the queue again; a slice that left
        // runs to prune comes back after a second, not after prune_every.
        const bool more = prune_old_runs();
        next_prune = std::chrono::steady_clock::now() + (more ? std::chrono::seconds(1) : options_.prune_every);
      }
      if (std::chrono::steady_clock::now() >= next_stale_check) {
        const auto stale = runs_.handle_stale(options_.stale_after);
        if (stale.requeued != 0) {
          log::warn("etl", "re-queued runs whose worker stopped heartbeating", {{"count", stale.requeued}});
        }
        if (stale.cancelled != 0) {
          log::warn("etl", "ended as cancelled runs whose worker stopped heartbeating after a cancel was asked",
                    {{"count", stale.cancelled}});
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

bool JobRunner::prune_old_runs() {
  db::PruneLimits limits;
  limits.max_batches = 20;
  try {
    const auto pruned = db::prune_runs(pool_, options_.retention_days, limits, [this] { return !stopping_.load(); });
    if (pruned.runs != 0 || pruned.changes != 0) {
      log::info("etl", "pruned finished runs older than RUN_RETENTION_DAYS",
                {{"runs", pruned.runs}, {"changes", pruned.changes}, {"retention_days", options_.retention_days}});
    }
    return pruned.more;
  } catch (const std::exception& e) {
    log::warn("etl", "pruning old runs failed; trying again later", {{"error", e.what()}});
    return false;
  }
}

/// How one attempt at a run ended: the outcome to record, the engine's
/// result for the log and metrics, and whether a stopping task hands the run
/// back to the queue instead.
struct JobRunner::Attempt {
  db::RunOutcome outcome;
  RunResult result;
  bool requeue = false;
};

db::RunOutcome JobRunner::execute(const db::Run& run, const std::string& worker_id,
                                  const std::function<void(const LiveProgress&)>& on_progress) {
  const auto started = std::chrono::steady_clock::now();
  log::info("etl", "run started", {{"run_id", run.id}, {"job_id", run.job_id}, {"worker", worker_id}, {"force", run.force},
                                  {"dry_run", run.dry_run}});
  RunWatch watch(runs_, run, worker_id, options_.heartbeat_every, stopping_, on_progress);
  Active self{[&watch] { watch.interrupt_statement(); }};
  {
    std::lock_guard lock(mutex_);
    active_.push_back(&self);
    if (stopping_.load()) self.interrupt();  // begin_stop ran just before we registered
  }
  watch.start_heartbeat();
  Attempt attempt = attempt_run(run, worker_id, watch);
  watch.stop_heartbeat();
  attempt.outcome.bytes = watch.bytes.load();
  record(run, worker_id, attempt, std::chrono::steady_clock::now() - started);
  {
    std::lock_guard lock(mutex_);
    ++finished_count_;
    active_.erase(std::find(active_.begin(), active_.end(), &self));
  }
  finished_.notify_all();
  idle_.notify_all();
  if (attempt.requeue) attempt.outcome.status = "queued";
  return attempt.outcome;
}

JobRunner::Attempt JobRunner::attempt_run(const db::Run& run, const std::string& worker_id, RunWatch& watch) {
  Attempt a;
  auto on_cancelled = [&] {
    if (stopping_.load() && !watch.cancel_requested()) {
      a.requeue = true;  // this task is stopping: another one will run it again
    } else {
      a.outcome.status = "cancelled";
      a.outcome.error = "cancelled by request; products are unchanged";
    }
  };
  try {
    watch.check_cancel();
    const auto job = jobs_.find(run.job_id);
    if (!job) throw Error("job '" + run.job_id + "' was deleted after this run was queued; nothing was loaded");
    const auto options = JobOptions::from_json(run.options);
    const auto object = resolve_source(store_, run.source_uri.value_or(job->uri), options_.raw_bucket);
    const auto info = store_.head_object(object.bucket, object.key);
    watch.total = info.size;
    runs_.set_source(run.id, object.uri(), info.etag, static_cast<std::int64_t>(info.size), job->source);
    watch.check_cancel();

    // The shortcut holds only if this very object already loaded into this
    // job's products source with the same options: a job whose `source`
    // changed has never loaded the object into the new one. A dry run
    // always runs: a preview of an unchanged feed says so by its counts.
    const auto last = run.dry_run ? std::nullopt : runs_.last_success(run.job_id);
    if (!run.force && last && last->etag == info.etag && last->source_uri == object.uri() &&
        last->products_source == job->source &&
        JobOptions::from_json(nlohmann::json::parse(last->options)).canonical() == options.canonical()) {
      a.outcome.status = "skipped";
      return a;
    }
    a.result = load(run, worker_id, *job, options, object.bucket, object.key, info.etag, watch);
    a.outcome.status = "succeeded";
    a.outcome.counts = counts_of(a.result);
    a.outcome.rejects = rejects_of(a.result);
    a.outcome.first_load = a.result.first_load;
    a.outcome.delete_guard = a.result.delete_guard;
  } catch (const RunCancelled&) {
    on_cancelled();
  } catch (const IndexesIncomplete& e) {
    // The rows are committed and served: the counts are true, and the
    // source's next run builds the missing indexes. Never re-queued, even by
    // a shutdown: a re-run would find every row unchanged and record zeros
    // over this run's counts.
    a.result = e.result();
    a.outcome.first_load = e.result().first_load;
    a.outcome.counts = counts_of(e.result());
    a.outcome.rejects = rejects_of(e.result());
    a.outcome.status = e.cancelled() || watch.interrupted() ? "cancelled" : "failed";
    a.outcome.error = e.what();
  } catch (const TooManyRejects& e) {
    a.outcome.status = "failed";
    a.outcome.error = e.what();
    a.outcome.counts = counts_of(e.result());
    a.outcome.counts.inserted = a.outcome.counts.updated = a.outcome.counts.unchanged = a.outcome.counts.deleted = 0;
    a.outcome.rejects = rejects_of(e.result());
  } catch (const Error& e) {
    // An interrupted statement surfaces as an error: it is the cancel, not a failure.
    if (watch.interrupted()) {
      on_cancelled();
    } else {
      a.outcome.status = "failed";
      a.outcome.error = e.what();
    }
  } catch (const std::exception& e) {
    if (watch.interrupted()) {
      on_cancelled();
    } else {
      a.outcome.status = "failed";
      a.outcome.error = std::string("internal error: ") + e.what();
    }
  }
  return a;
}

RunResult JobRunner::load(const db::Run& run, const std::string& worker_id, const db::Job& job,
                          const JobOptions& options, const std::string& bucket, const std::string& key,
                          const std::string& etag, RunWatch& watch) {
  RunRequest request;
  request.object_name = key;
  request.source_name = job.source;
  request.options = options;
  request.run_id = run.id;
  request.dry_run = run.dry_run;
  request.record_changes = true;
  request.source = [&](const ChunkSink& sink) {
    s3::GetOptions get;
    get.if_match = etag;  // the object we HEADed, or a clear error
    store_.get_object(bucket, key,
                      [&](const char* data, std::size_t size) {
                        watch.bytes += size;
                        sink(std::string_view(data, size));
                      },
                      get);
  };
  request.on_progress = [&](const Progress& p) { watch.rows = p.rows; };
  request.progress_every_rows = 10'000;
  request.is_cancelled = [&] { return watch.should_stop(); };
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
  const auto attached = watch.attach(conn);
  return run_feed(conn, request);
}

void JobRunner::record(const db::Run& run, const std::string& worker_id, Attempt& a,
                       std::chrono::steady_clock::duration elapsed) {
  try {
    if (a.requeue) {
      runs_.requeue(run.id, worker_id);
      log::info("etl", "run re-queued by shutdown", {{"run_id", run.id}, {"job_id", run.job_id}});
      return;
    }
    auto& outcome = a.outcome;
    // A dry run changed nothing: no webhook says it did.
    if (!run.dry_run) outcome.notify_urls = notify::targets(run.options, outcome, options_.notify_urls);
    runs_.finish(run.id, worker_id, outcome);
    if (!outcome.notify_urls.empty() && options_.on_recorded) options_.on_recorded();
    const auto& c = outcome.counts;
    const auto& phases = a.result.timings;  // where a slow run spent its time
    log::write(outcome.status == "failed" ? spdlog::level::warn : spdlog::level::info, "etl", "run finished",
               {{"run_id", run.id}, {"job_id", run.job_id}, {"status", outcome.status}, {"dry_run", run.dry_run},
                {"elapsed_ms", std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()},
                {"changes", a.result.changes_recorded},
                {"read", c.read}, {"inserted", c.inserted}, {"updated", c.updated}, {"unchanged", c.unchanged},
                {"rejected", c.rejected}, {"deleted", c.deleted}, {"error", outcome.error.value_or("")},
                {"load_keys_ms", to_ms(phases.load_keys)}, {"stream_ms", to_ms(phases.stream)},
                {"visible_ms", to_ms(phases.visible)}, {"indexes_ms", to_ms(phases.build_indexes)},
                {"apply_ms", to_ms(phases.apply)},
                {"soft_delete_ms", to_ms(phases.soft_delete)}, {"vacuum_ms", to_ms(phases.vacuum)},
                {"changes_ms", to_ms(phases.changes)},
                {"key_partitions", a.result.key_partitions}, {"partition_spill_bytes", a.result.partition_spilled_bytes}});
    if (options_.metrics != nullptr) {
      options_.metrics->record_run(outcome.status, {c.read, c.inserted, c.updated, c.unchanged, c.rejected, c.deleted},
                                   run.dry_run, a.result.changes_recorded);
    }
  } catch (const std::exception& e) {
    // The heartbeat goes stale and another worker re-runs it: never stuck.
    log::error("etl", "could not record run outcome", {{"run_id", run.id}, {"error", e.what()}});
  }
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
