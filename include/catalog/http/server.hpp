#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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
    std::chrono::seconds read_timeout{30};  ///< to receive a request body once its headers arrived
    std::chrono::seconds idle_timeout{65};  ///< keep-alive idle and header time; above the ALB's 60 s
    /// Limit of a streamed body (POST /feeds), which handlers read through
    /// Request::body_stream instead of Request::body.
    std::size_t max_feed_bytes = std::size_t{1} << 30;
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::http
