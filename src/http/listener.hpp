#pragma once
// The acceptor: accepts connections on its own strand and starts a Session
// for each, up to the connection cap. Beyond the cap a connection is
// accepted, sent a canned 503 and closed at once (cheap, and the client
// learns why); when the process runs out of file descriptors (EMFILE/ENFILE)
// accepting pauses on a backoff timer instead of spinning.

#include <chrono>
#include <cstdint>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/server_shared.hpp"

namespace catalog::http {

class Listener {
 public:
  Listener(net::io_context& ioc, Shared& shared);

  /// Binds and listens; throws std::runtime_error naming the address, or
  /// ConfigError for an invalid address. Returns the bound port.
  std::uint16_t listen();
  /// Starts the accept loop (runs once the io_context runs).
  void start();
  /// Stops accepting (posted to the acceptor's strand).
  void close();

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void refuse(tcp::socket& socket);
  void back_off(beast::error_code ec);

  net::io_context& ioc_;
  Shared& shared_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  std::uint64_t refused_ = 0;  // since the last log line about it
  std::chrono::steady_clock::time_point refused_logged_at_{};
};

}  // namespace catalog::http
