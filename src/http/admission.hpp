#pragma once
// Admission classes: which requests may hold how many workers. Cheap
// requests (one row, one page of items, /metrics) go straight to the worker
// pool; expensive reads (searches, counts, unselective filters, large
// pages) and streamed uploads each get a bounded number of workers, so that
// whatever those do, the other workers stay free for cheap requests. The
// pool itself is a FIFO: bounding what may enter it is what keeps a cheap
// request from queueing behind a wall of searches.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <functional>
#include <mutex>
#include <string_view>

#include "catalog/http/message.hpp"

namespace catalog::http {

enum class RequestClass { cheap, expensive, upload };

/// The class of a request from its method, decoded path and query.
/// Expensive: GET /products with `q`, `with_count=true`, a `limit` above
/// 100, or a brand/category/availability/updated_since filter without a
/// `source` (no selective index serves those).
RequestClass classify(std::string_view method, std::string_view path,
                      const std::multimap<std::string, std::string>& query);

/// At most `slots` requests of one class on workers at a time; up to
/// `queue_limit` more wait here (not in the worker pool) for at most
/// `max_wait`. One client (a key, else a peer address: see
/// Session::admission_client) holds at most `per_client` of them, running
/// and waiting together, so that one key cannot take a class's whole share
/// from the others. Thread-safe.
class AdmissionGate {
 public:
  /// `per_client` 0: half the slots, rounded up.
  AdmissionGate(std::size_t slots, std::size_t queue_limit, std::chrono::milliseconds max_wait,
                std::size_t per_client = 0)
      : slots_(slots), queue_limit_(queue_limit), max_wait_(max_wait),
        per_client_(per_client ? per_client : (slots + 1) / 2) {}

  enum class Decision { run, queued, queue_full, client_share };
  /// `run`: a slot is taken, the caller starts the request now. `queued`:
  /// `start` runs once a slot frees (from release(), on that thread), or
  /// `expire` runs if it waited past max_wait. `queue_full`: refused.
  /// `client_share`: refused, `client` already holds its share.
  /// Every `run` and started `queued` is ended by release(client).
  Decision enter(const std::string& client, std::function<void()> start, std::function<void()> expire);
  /// A request of this class finished: its slot goes to the oldest waiter.
  void release(const std::string& client);
  /// Answers waiters past max_wait (called on a timer; enter/release sweep too).
  void expire_stale();

  std::size_t slots() const { return slots_; }
  std::size_t per_client() const { return per_client_; }
  std::chrono::milliseconds max_wait() const { return max_wait_; }

 private:
  struct Waiter {
    std::chrono::steady_clock::time_point since;
    std::string client;
    std::function<void()> start;
    std::function<void()> expire;
  };
  /// Removes waiters past max_wait into `out` (lock held).
  void take_stale(std::deque<Waiter>& out);
  /// One request of `client` left the gate (lock held).
  void forget_one(const std::string& client);

  const std::size_t slots_;
  const std::size_t queue_limit_;
  const std::chrono::milliseconds max_wait_;
  const std::size_t per_client_;
  std::mutex mutex_;
  std::size_t running_ = 0;
  std::deque<Waiter> waiting_;
  std::map<std::string, std::size_t> held_;  // client -> its requests running or waiting
};

/// The address a keyless client counts as: the last entry of
/// `forwarded_for` (the one the load balancer appended; the ones before it
/// are the client's own word) when given and not empty, else `peer`.
std::string client_address(std::string_view forwarded_for, std::string_view peer);

/// The /metrics reason of a 503 a handler answered: `statement_timeout`
/// (the database cancelled the query), `pool_wait` (no connection in
/// time), or empty for other answers.
std::string_view handler_refusal_reason(const Response& response);

}  // namespace catalog::http
