#include "catalog/db/read_router.hpp"

#include <pqxx/pqxx>

#include "catalog/log/logging.hpp"

namespace catalog::db {
namespace {

// Seconds the replica's visible data is behind the primary. Replay timestamp
// alone misleads: on an idle primary the last replayed commit is old although
// the replica has everything, so a replica that has replayed all it received
// while its WAL receiver streams counts as current. A replica that never
// replayed a commit and is not caught up is "far behind" (1e9 s). Not in
// recovery (promoted, or pointed at a primary): nothing to lag behind.
constexpr const char* kLagQuery =
    "SELECT CASE"
    " WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()"
    "  AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0"
    " ELSE COALESCE(GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())), 1e9)"
    " END::float8";

// Bounds one check so a hung replica is seen as down within about a second.
constexpr const char* kCheckTimeout = "SET statement_timeout = 1000";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* state_name(ReadRouter::ReplicaState state) {
  switch (state) {
    case ReadRouter::ReplicaState::not_configured: return "not_configured";
    case ReadRouter::ReplicaState::ok: return "ok";
    case ReadRouter::ReplicaState::lagging: return "lagging";
    case ReadRouter::ReplicaState::down: return "down";
  }
  return "down";
}

}  // namespace

ReadRouter::ReadRouter(Pool& primary, Pool* replica, Options options)
    : primary_(primary), replica_(replica), options_(options) {
  if (replica_ != nullptr) checker_ = std::thread([this] { run_checks(); });
}

ReadRouter::~ReadRouter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (checker_.joinable()) checker_.join();
}

bool ReadRouter::replica_usable() const noexcept {
  return now_ns() < usable_until_ns_.load(std::memory_order_acquire);
}

ReadRouter::ReplicaState ReadRouter::replica_state() const noexcept {
  if (replica_ == nullptr) return ReplicaState::not_configured;
  const auto state = static_cast<ReplicaState>(state_.load(std::memory_order_acquire));
  if (state == ReplicaState::down || state == ReplicaState::not_configured) return ReplicaState::down;
  // Measured fine but not re-measured in time: cannot vouch for its lag.
  return replica_usable() ? ReplicaState::ok : ReplicaState::lagging;
}

std::optional<double> ReadRouter::replica_lag_seconds() const noexcept {
  const auto ms = lag_ms_.load(std::memory_order_relaxed);
  if (replica_ == nullptr || ms < 0) return std::nullopt;
  return static_cast<double>(ms) / 1000.0;
}

ReadRouter::Counts ReadRouter::counts() const noexcept {
  return {served_replica_.load(std::memory_order_relaxed), served_primary_.load(std::memory_order_relaxed)};
}

bool ReadRouter::is_recovery_conflict(const pqxx::sql_error& e) noexcept {
  // "canceling statement due to conflict with recovery" (hot standby).
  return e.sqlstate() == "40001";
}

void ReadRouter::mark_down(const char* reason) noexcept {
  usable_until_ns_.store(0, std::memory_order_release);
  const auto before = state_.exchange(static_cast<int>(ReplicaState::down), std::memory_order_acq_rel);
  lag_ms_.store(-1, std::memory_order_relaxed);
  replica_->drop_all();
  if (before != static_cast<int>(ReplicaState::down)) {
    try {
      log::warn("db", "read replica down, reads go to the primary", {{"reason", reason}});
    } catch (...) {
    }
  }
}

void ReadRouter::publish(ReplicaState state, std::optional<double> lag) noexcept {
  const auto max_lag = std::chrono::duration<double>(options_.max_lag).count();
  if (state == ReplicaState::ok) {
    const auto headroom_ns = static_cast<std::int64_t>((max_lag - *lag) * 1e9);
    usable_until_ns_.store(now_ns() + headroom_ns, std::memory_order_release);
  } else {
    usable_until_ns_.store(0, std::memory_order_release);
  }
  // The replica's pooled connections died with it (a restart, a failover):
  // close them now, so that the first reads once it is back open fresh ones
  // instead of each meeting a dead one and falling back to the primary.
  if (state == ReplicaState::down) replica_->drop_all();
  lag_ms_.store(lag ? static_cast<std::int64_t>(*lag * 1000.0) : -1, std::memory_order_relaxed);
  const auto before = static_cast<ReplicaState>(state_.exchange(static_cast<int>(state), std::memory_order_acq_rel));
  if (before == state) return;
  try {
    nlohmann::json fields{{"replica", state_name(state)}, {"max_lag_seconds", max_lag}};
    if (lag) fields["lag_seconds"] = *lag;
    if (state == ReplicaState::ok) {
      log::info("db", "read replica serves reads", fields);
    } else {
      log::warn("db", state == ReplicaState::lagging ? "read replica lags, reads go to the primary"
                                                      : "read replica down, reads go to the primary",
                fields);
    }
  } catch (...) {
  }
}

void ReadRouter::check_once(std::unique_ptr<pqxx::connection>& conn) {
  try {
    if (!conn || !conn->is_open()) {
      conn = std::make_unique<pqxx::connection>(replica_->dsn());
      pqxx::nontransaction setup(*conn);
      setup.exec(kCheckTimeout);
    }
    pqxx::nontransaction tx(*conn);
    const double lag = tx.exec1(kLagQuery)[0].as<double>();
    const auto max_lag = std::chrono::duration<double>(options_.max_lag).count();
    publish(lag <= max_lag ? ReplicaState::ok : ReplicaState::lagging, lag);
  } catch (const std::exception& e) {
    conn.reset();
    if (state_.load(std::memory_order_acquire) != static_cast<int>(ReplicaState::down)) {
      try {
        // libpq's message names host and port, never the password.
        log::warn("db", "read replica check failed", {{"error", e.what()}});
      } catch (...) {
      }
    }
    publish(ReplicaState::down, std::nullopt);
  }
}

void ReadRouter::run_checks() {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    check_once(conn);
    lock.lock();
    wake_.wait_for(lock, options_.check_interval, [this] { return stopping_; });
  }
}

}  // namespace catalog::db
