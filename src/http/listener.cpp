#include "http/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/log/logging.hpp"
#include "http/session.hpp"

namespace catalog::http {

Listener::Listener(net::io_context& ioc, Shared& shared)
    : ioc_(ioc), shared_(shared), acceptor_(net::make_strand(ioc)) {}

std::uint16_t Listener::listen() {
  const auto& o = shared_.options;
  beast::error_code ec;
  const auto address = net::ip::make_address(o.address, ec);
  if (ec) throw ConfigError("BIND_ADDRESS: invalid address '" + o.address + "'");
  const tcp::endpoint endpoint(address, o.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  return acceptor_.local_endpoint().port();
}

void Listener::start() { do_accept(); }

void Listener::close() {
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
}

void Listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    log::warn("http", "accept failed", {{"error", ec.message()}});
  } else {
    auto session = std::make_shared<Session>(std::move(socket), shared_);
    std::list<std::weak_ptr<Session>>::iterator it;
    {
      std::lock_guard lock(shared_.mutex);
      it = shared_.sessions.insert(shared_.sessions.end(), session);
    }
    session->start(it);
  }
  if (acceptor_.is_open()) do_accept();
}

}  // namespace catalog::http
