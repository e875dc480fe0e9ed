#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace catalog::metrics {
class Registry;
}

namespace catalog::http {

class Dispatcher;

/// The Beast/Asio HTTP/1.1 server. Beast headers stay in src/http (server,
/// listener, session and their private headers): the rest
/// of the code base sees only this class, Request/Response and Dispatcher.
class Server {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    std::uint16_t port = 8000;  ///< 0: pick a free port (tests)
    int io_threads = 2;
    int worker_threads = 8;  ///< handlers run here, never on I/O threads
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 * 1024;
    /// Longest wait for one read of a streamed body, and for writing a response.
    std::chrono::seconds read_timeout{30};
    std::chrono::seconds idle_timeout{65};  ///< keep-alive idle and header time (total); above the ALB's 60 s
    /// Limit of a streamed body (POST /feeds), which handlers read through
    /// Request::body_stream instead of Request::body.
    std::size_t max_feed_bytes = std::size_t{1} << 30;
    /// Total time to receive a buffered body, from the end of its headers,
    /// however the bytes trickle in (no slowloris).
    std::chrono::seconds body_timeout{30};
    /// Total time to receive a streamed body (POST /feeds) from the end of its headers.
    std::chrono::seconds feed_body_timeout{3600};
    /// Open connections; a connection beyond it gets a canned 503 and is closed.
    std::size_t max_connections = 10000;
    /// Bytes all buffered request bodies together may hold (reserved from
    /// Content-Length, or max_body_bytes for a chunked body, when its headers
    /// arrive); a body that does not fit is answered 503 `overloaded`.
    std::size_t max_buffered_body_bytes = std::size_t{64} << 20;
    /// Requests waiting for a worker; beyond it: 503 `overloaded` from the I/O thread.
    std::size_t worker_queue_limit = 1024;
    /// Admission classes (src/http/admission.hpp). Workers that expensive
    /// reads (searches, counts, unselective filters, large pages) may hold
    /// at once; 0: a quarter of worker_threads, at least 1.
    std::size_t expensive_workers = 0;
    /// Workers that streamed uploads (POST /feeds) may hold at once (each
    /// waits for its client's body); 0: a quarter of worker_threads, at least 1.
    std::size_t upload_workers = 0;
    /// Of each of those two classes, what one client (a key, else a peer
    /// address) may hold, running and waiting; 0: half the class's slots.
    std::size_t client_slots = 0;
    /// Behind a load balancer: a keyless client is the address it appended
    /// to X-Forwarded-For, not the balancer's own (TRUST_X_FORWARDED_FOR).
    bool trust_forwarded_for = false;
    /// Expensive reads that may wait for a slot, and how long: beyond
    /// either, 503 `overloaded` + Retry-After.
    std::size_t expensive_queue_limit = 64;
    std::chrono::milliseconds admission_max_wait{5000};
    /// Refusals by reason go here when set (/metrics).
    metrics::Registry* metrics = nullptr;
  };

  Server(Options options, const Dispatcher& dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds, listens and starts the I/O and worker threads. Returns the port.
  /// Throws std::runtime_error naming the address when it cannot bind.
  std::uint16_t start();

  /// Stops accepting and closes idle keep-alive connections; requests in
  /// flight finish and are answered with `Connection: close`.
  void begin_drain();

  /// Waits until no connection is open or `deadline` passes; true if drained.
  bool wait_drained(std::chrono::steady_clock::time_point deadline);

  /// Stops the threads (closing whatever is still open) and joins them.
  void stop();

  std::size_t open_connections() const;

  /// Requests read and waiting in the worker queue (not yet on a worker).
  std::size_t queued_requests() const;

  /// The connection cap in force: Options::max_connections, lowered at
  /// start() when RLIMIT_NOFILE would not allow that many sockets.
  std::size_t max_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::http
