#include "etl/run_watch.hpp"

#include <pqxx/pqxx>

#include "catalog/etl/engine.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::etl {

RunWatch::RunWatch(db::RunsRepository& runs, const db::Run& run, std::string worker_id,
                   std::chrono::milliseconds every, const std::atomic<bool>& stopping,
                   std::function<void(const LiveProgress&)> on_progress)
    : runs_(runs), run_(run), worker_id_(std::move(worker_id)), every_(every), stopping_(stopping),
      on_progress_(std::move(on_progress)) {}

RunWatch::~RunWatch() { stop_heartbeat(); }

void RunWatch::start_heartbeat() { heartbeat_.start(every_, [this] { beat(); }); }

void RunWatch::stop_heartbeat() { heartbeat_.stop(); }

void RunWatch::beat() {
  try {
    bool cancel_requested = false;
    // false: the run is no longer ours (the stale sweep gave it away).
    if (!runs_.heartbeat(run_.id, worker_id_, bytes.load(), rows.load(), cancel_requested)) cancel_ = true;
    if (cancel_requested) cancel_ = true;
  } catch (const std::exception& e) {
    log::warn("etl", "heartbeat failed", {{"run_id", run_.id}, {"error", e.what()}});
  }
  if (should_stop()) interrupt_statement();
  if (on_progress_) on_progress_({bytes.load(), rows.load(), total.load()});
}

void RunWatch::check_cancel() {
  bool cancel_requested = run_.cancel_requested;
  if (!cancel_requested && !runs_.heartbeat(run_.id, worker_id_, 0, 0, cancel_requested)) cancel_requested = true;
  if (cancel_requested) {
    cancel_ = true;
    throw RunCancelled();
  }
  if (stopping_.load()) throw RunCancelled();
}

void RunWatch::interrupt_statement() {
  std::lock_guard lock(conn_mutex_);
  if (engine_ == nullptr || interrupted_.load()) return;
  interrupted_ = true;
  try {
    engine_->cancel_query();
  } catch (const std::exception& e) {
    log::warn("etl", "could not interrupt the run's statement", {{"run_id", run_.id}, {"error", e.what()}});
  }
}

RunWatch::Attached RunWatch::attach(pqxx::connection& engine) {
  std::lock_guard lock(conn_mutex_);
  engine_ = &engine;
  return Attached(*this);
}

RunWatch::Attached::~Attached() {
  std::lock_guard lock(watch_.conn_mutex_);
  watch_.engine_ = nullptr;
}

}  // namespace catalog::etl
