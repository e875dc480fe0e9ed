#include "http/listener.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <string>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/router.hpp"
#include "catalog/log/logging.hpp"
#include "http/session.hpp"

namespace catalog::http {
namespace {

// File descriptors kept for everything but client connections: the database
// pool, S3 transfers, log output, spare for the ETL's temporary files.
constexpr std::size_t kReservedDescriptors = 128;
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
constexpr std::chrono::seconds kRefusalLogInterval{10};

// Written straight to a connection beyond the cap, without a session.
std::string refusal() {
  const std::string id = choose_request_id(std::nullopt);
  const std::string body = R"({"error":{"code":"overloaded","message":"too many open connections; retry","request_id":")" +
                           id + "\"}}";
  return "HTTP/1.1 503 Service Unavailable\r\n"
         "Content-Type: application/json; charset=utf-8\r\n"
         "Retry-After: 1\r\n"
         "Connection: close\r\n"
         "X-Request-Id: " + id + "\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The cap that the descriptor limit allows: Options::max_connections, or
// less (logged) when RLIMIT_NOFILE is lower.
std::size_t effective_max_connections(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return wanted;
  const auto available = static_cast<std::size_t>(limit.rlim_cur);
  const std::size_t allowed = available > 2 * kReservedDescriptors ? available - kReservedDescriptors : available / 2;
  if (wanted <= allowed) return wanted;
  log::warn("http", "MAX_CONNECTIONS lowered to fit the open-file limit",
            {{"max_connections", wanted}, {"rlimit_nofile", available}, {"effective", allowed}});
  return std::max<std::size_t>(allowed, 1);
}

bool out_of_descriptors(beast::error_code ec) {
  return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

}  // namespace

Listener::Listener(net::io_context& ioc, Shared& shared)
    : ioc_(ioc), shared_(shared), acceptor_(net::make_strand(ioc)), backoff_timer_(acceptor_.get_executor()) {}

std::uint16_t Listener::listen() {
  const auto& o = shared_.options;
  shared_.max_connections = effective_max_connections(o.max_connections);
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
    backoff_timer_.cancel();
  });
}

void Listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (out_of_descriptors(ec)) return back_off(ec);
    log::warn("http", "accept failed", {{"error", ec.message()}});
  } else {
    backoff_ = std::chrono::milliseconds(0);
    std::shared_ptr<Session> session;
    std::list<std::weak_ptr<Session>>::iterator it;
    {
      std::lock_guard lock(shared_.mutex);
      if (shared_.sessions.size() < shared_.max_connections) {
        session = std::make_shared<Session>(std::move(socket), shared_);
        it = shared_.sessions.insert(shared_.sessions.end(), session);
      }
    }
    if (session) {
      session->start(it);
    } else {
      refuse(socket);
    }
  }
  if (acceptor_.is_open()) do_accept();
}

void Listener::refuse(tcp::socket& socket) {
  // A fresh socket's send buffer is empty: a non-blocking write of a few
  // hundred bytes completes at once or not at all, and either way we go on.
  beast::error_code ec;
  socket.non_blocking(true, ec);
  const std::string response = refusal();
  if (!ec) socket.write_some(net::buffer(response), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  ++refused_;
  shared_.count_refusal("connection_limit");
  const auto now = std::chrono::steady_clock::now();
  if (now - refused_logged_at_ >= kRefusalLogInterval) {
    log::warn("http", "connections refused: MAX_CONNECTIONS reached",
              {{"refused", refused_}, {"max_connections", shared_.max_connections}});
    refused_ = 0;
    refused_logged_at_ = now;
  }
}

// Out of file descriptors: the pending connection stays in the kernel's
// backlog, so accepting again at once would fail again at once, for ever.
// Wait (50 ms doubling up to 1 s) for connections to close instead.
void Listener::back_off(beast::error_code ec) {
  const bool first = backoff_.count() == 0;
  backoff_ = first ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  if (first) log::warn("http", "accept paused: out of file descriptors", {{"error", ec.message()}});
  backoff_timer_.expires_after(backoff_);
  backoff_timer_.async_wait([this](beast::error_code wait_ec) {
    if (wait_ec || !acceptor_.is_open()) return;
    do_accept();
  });
}

}  // namespace catalog::http
