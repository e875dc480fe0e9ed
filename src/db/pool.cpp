#include "catalog/db/pool.hpp"

#include <pqxx/pqxx>

#include "catalog/core/errors.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::db {
namespace {

// libpq accepts connect_timeout in both DSN forms; without it a blackholed
// host would hang a request (and an ALB health check) for minutes.
std::string with_connect_timeout(const std::string& dsn, int seconds) {
  if (dsn.find("connect_timeout") != std::string::npos) return dsn;
  const std::string setting = "connect_timeout=" + std::to_string(seconds);
  if (dsn.rfind("postgres://", 0) == 0 || dsn.rfind("postgresql://", 0) == 0) {
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  return dsn + " " + setting;
}

}  // namespace

bool is_connection_failure(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::broken_connection&) {
    return true;
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
  } catch (...) {
    return false;
  }
}

bool is_statement_timeout(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate() == "57014";  // query_canceled: only statement_timeout cancels pooled statements
  } catch (...) {
    return false;
  }
}

void Pool::rethrow_as_timeout(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw StatementTimeout("the database took too long to answer; retry shortly", e.what());
  }
}

Pool::Pool(Options options)
    : options_(std::move(options)), dsn_(with_connect_timeout(options_.dsn.reveal(), options_.connect_timeout_seconds)) {}

Pool::~Pool() = default;

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), generation_(other.generation_), discard_(other.discard_) {
  other.pool_ = nullptr;
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(std::move(conn_), discard_, generation_);
}

Pool::Lease Pool::acquire() { return acquire(options_.acquire_timeout); }

Pool::Lease Pool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ++waiting_;
  const bool got = available_.wait_for(lock, timeout, [&] { return !idle_.empty() || open_ < options_.size; });
  --waiting_;
  if (!got) {
    throw Overloaded("database busy: every connection is in use; retry shortly",
                     "pool exhausted after " + std::to_string(timeout.count()) + " ms");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn), generation_);
  }
  ++open_;  // reserve the slot, connect outside the lock
  const auto generation = generation_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_);
    if (options_.statement_timeout.count() > 0) {
      // Remembered by libpqxx and set again if the connection is re-opened.
      conn->set_variable("statement_timeout", std::to_string(options_.statement_timeout.count()));
    }
    return Lease(this, std::move(conn), generation);
  } catch (const std::exception& e) {
    release(nullptr, true, generation);
    // libpq's message names host and port, never the password.
    throw DatabaseUnavailable("database unavailable", e.what());
  }
}

void Pool::release(std::unique_ptr<pqxx::connection> conn, bool discard, std::uint64_t generation) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (conn && !discard && generation == generation_ && conn->is_open()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  available_.notify_one();
  // A discarded connection is destroyed here, outside the lock.
}

void Pool::drop_idle() noexcept {
  std::vector<std::unique_ptr<pqxx::connection>> dead;
  {
    std::lock_guard lock(mutex_);
    dead.swap(idle_);
    open_ -= dead.size();
  }
  available_.notify_all();
}

void Pool::drop_all() noexcept {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  drop_idle();
}

void Pool::rethrow_as_unavailable(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw DatabaseUnavailable("database unavailable", e.what());
  }
}

bool Pool::ping(std::chrono::milliseconds timeout) noexcept {
  try {
    auto lease = acquire(timeout);
    try {
      pqxx::work tx(*lease);
      tx.exec("SET LOCAL statement_timeout = " + std::to_string(timeout.count()));
      tx.exec("SELECT 1");
      tx.commit();
      return true;
    } catch (...) {
      if (is_connection_failure(std::current_exception())) {
        lease.discard();
        drop_idle();
      }
      return false;
    }
  } catch (...) {
    return false;
  }
}

Pool::Stats Pool::stats() const {
  std::lock_guard lock(mutex_);
  return {options_.size, open_, idle_.size(), open_ - idle_.size(), waiting_};
}

}  // namespace catalog::db
