#pragma once
// Private to the HTTP server translation units (listener, session, server):
// the only place besides them that includes Beast/Asio. State every
// connection shares with the server that owns it.

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/error.hpp>

#include "catalog/http/server.hpp"
#include "http/admission.hpp"

namespace catalog::http {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Dispatcher;
class Session;

struct Shared {
  Server::Options options;
  const Dispatcher* dispatcher = nullptr;
  net::thread_pool* workers = nullptr;
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::condition_variable drained;
  std::list<std::weak_ptr<Session>> sessions;  ///< guarded by mutex
  /// Bytes reserved by buffered bodies being read or handled (see
  /// Options::max_buffered_body_bytes).
  std::atomic<std::size_t> buffered_body_bytes{0};
  /// Requests posted to the worker pool that no worker has started yet.
  std::atomic<std::size_t> queued_requests{0};
  /// Options::max_connections after clamping to RLIMIT_NOFILE.
  std::size_t max_connections = 0;
  /// Admission classes with a bounded share of the workers (set by Server).
  std::unique_ptr<AdmissionGate> expensive;
  std::unique_ptr<AdmissionGate> uploads;

  /// Reserves `bytes` of the buffered-body budget; false (nothing reserved)
  /// when it would exceed the limit.
  bool reserve_body(std::size_t bytes) {
    auto used = buffered_body_bytes.load();
    do {
      if (bytes > options.max_buffered_body_bytes || used > options.max_buffered_body_bytes - bytes) return false;
    } while (!buffered_body_bytes.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void release_body(std::size_t bytes) { buffered_body_bytes.fetch_sub(bytes); }

  /// Counts a request refused as overloaded (in /metrics by `reason`: a
  /// label such as "queue_full") and logs a warning with the count at most
  /// every 10 s (under overload, one line per refusal would add to the load).
  void note_overload(const char* reason, const char* why);
  /// Counts a refusal in /metrics only (handler 503s, connection limit).
  void count_refusal(std::string_view reason);
  std::atomic<std::uint64_t> overload_refusals{0};
  std::atomic<std::int64_t> overload_logged_at_ms{-10000};

  /// Takes a worker-queue slot; false when the queue is full.
  bool enqueue_request() {
    if (queued_requests.fetch_add(1) >= options.worker_queue_limit) {
      queued_requests.fetch_sub(1);
      return false;
    }
    return true;
  }
};

/// Peers vanishing and timeouts are normal life for a server: debug only.
void log_io_failure(beast::error_code ec, const char* what);

}  // namespace catalog::http
