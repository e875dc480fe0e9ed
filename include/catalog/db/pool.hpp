#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/core/secret.hpp"

#include <pqxx/connection>

namespace catalog::db {

/// A bounded pool of PostgreSQL connections, opened lazily. A connection is
/// owned by one thread at a time (through a Lease). When the database goes
/// away, broken connections are dropped and new ones are opened on the next
/// acquire, so the service recovers by itself when it returns.
class Pool {
 public:
  struct Options {
    Secret dsn;
    std::size_t size = 10;
    std::chrono::milliseconds acquire_timeout{5000};
    int connect_timeout_seconds = 3;
    /// statement_timeout of every connection this pool opens (0 = off). A
    /// statement that runs past it is cancelled and reported as StatementTimeout.
    std::chrono::milliseconds statement_timeout{0};
  };
  explicit Pool(Options options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    /// Drop this connection instead of returning it (it is broken).
    void discard() noexcept { discard_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn, std::uint64_t generation)
        : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    std::uint64_t generation_;  // drop_all() calls before it was leased
    bool discard_ = false;
  };

  /// A connection, waiting at most `timeout` (default: the pool's) for one to
  /// free up. Throws catalog::Overloaded when every connection stays busy,
  /// catalog::DatabaseUnavailable when the database cannot be reached.
  Lease acquire();
  Lease acquire(std::chrono::milliseconds timeout);

  /// Runs fn(pqxx::connection&) on a pooled connection; a broken connection is
  /// discarded (with every idle one: they died together) and reported as
  /// DatabaseUnavailable; a statement cut by statement_timeout is reported as
  /// StatementTimeout.
  template <typename Fn>
  auto with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  /// Closes every connection: the idle ones now, those in use when they are
  /// returned. For a database found down: its connections are dead, and
  /// keeping them would fail one read per connection once it is back.
  void drop_all() noexcept;

  /// True when a `SELECT 1` succeeds within `timeout`.
  bool ping(std::chrono::milliseconds timeout) noexcept;

  struct Stats {
    std::size_t size, open, idle, in_use, waiting;
  };
  Stats stats() const;

  /// The connection string with connect_timeout added (for one-off connections).
  const std::string& dsn() const { return dsn_; }

 private:
  void release(std::unique_ptr<pqxx::connection> conn, bool discard, std::uint64_t generation) noexcept;
  void drop_idle() noexcept;
  [[noreturn]] void rethrow_as_unavailable(std::exception_ptr error);
  [[noreturn]] static void rethrow_as_timeout(std::exception_ptr error);

  Options options_;
  std::string dsn_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;
  std::size_t waiting_ = 0;
  std::uint64_t generation_ = 0;  // bumped by drop_all()
};

/// True for exceptions that mean "the database connection is gone".
bool is_connection_failure(std::exception_ptr error) noexcept;

/// True for a statement cancelled by statement_timeout (SQLSTATE 57014).
bool is_statement_timeout(std::exception_ptr error) noexcept;

template <typename Fn>
auto Pool::with_connection(Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  auto lease = acquire();
  try {
    return fn(*lease);
  } catch (...) {
    auto error = std::current_exception();
    if (is_statement_timeout(error)) rethrow_as_timeout(error);
    if (!is_connection_failure(error)) throw;
    lease.discard();
    drop_idle();
    rethrow_as_unavailable(error);
  }
}

}  // namespace catalog::db
