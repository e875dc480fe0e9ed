#pragma once
// The acceptor: accepts connections on its own strand and starts a Session
// for each.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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

  net::io_context& ioc_;
  Shared& shared_;
  tcp::acceptor acceptor_;
};

}  // namespace catalog::http
