// The only translation unit that includes Beast/Asio: connection handling,
// timeouts, limits, offloading to workers. Follows Beast's advanced_server
// example (1.74): one session object per connection on its own strand.
#include "catalog/http/server.hpp"

#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/error_mapping.hpp"
#include "catalog/http/router.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using BeastResponse = bhttp::response<bhttp::string_body>;

class Session;

struct Shared {
  Server::Options options;
  const Dispatcher* dispatcher;
  net::thread_pool* workers;
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::condition_variable drained;
  std::list<std::weak_ptr<Session>> sessions;
};

void log_io_failure(beast::error_code ec, const char* what) {
  // Peers vanishing and timeouts are normal life for a server: debug only.
  log::debug("http", "connection closed", {{"op", what}, {"error", ec.message()}});
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {}

  void start(std::list<std::weak_ptr<Session>>::iterator self) {
    self_ = self;
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

  ~Session() {
    std::lock_guard lock(shared_.mutex);
    shared_.sessions.erase(self_);
    shared_.drained.notify_all();
  }

  /// Called on drain: an idle keep-alive connection is closed now; one
  /// that is mid-request finishes it first.
  void on_drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_ && (!self->parser_ || !self->parser_->got_some())) {
        beast::error_code ec;
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.cancel();
      }
    });
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(shared_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header_bytes));
    busy_ = false;
    if (shared_.draining.load()) return close();
    stream_.expires_after(shared_.options.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    received_at_ = std::chrono::steady_clock::now();
    stream_.expires_after(shared_.options.read_timeout);
    // curl and others wait for "100 Continue" before sending a large body.
    const auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
        if (wec) return log_io_failure(wec, "write 100-continue");
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return close();
    if (ec == beast::error::timeout) {
      if (busy_) log::info("http", "request timed out while reading", {{"timeout_s", shared_.options.read_timeout.count()}});
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return send_error(413, "payload_too_large",
                        "request body exceeds the limit of " + std::to_string(shared_.options.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return send_error(431, "headers_too_large", "request headers exceed " +
                                                      std::to_string(shared_.options.max_header_bytes) + " bytes");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return send_error(400, "bad_request", "malformed HTTP request: " + ec.message());
    }
    log_io_failure(ec, "read");
    close();
  }

  void send_error(int status, const std::string& code, const std::string& message) {
    busy_ = true;
    const std::string id = choose_request_id(std::nullopt);
    auto res = error_response(status, code, message, id);
    res.set_header("X-Request-Id", id);
    log::info("http", "request rejected", {{"request_id", id}, {"status", status}, {"error", message}});
    write(res, 11, false);
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto beast_req = parser_->release();
    const bool keep_alive = beast_req.keep_alive();
    const unsigned version = beast_req.version();

    auto request = std::make_shared<Request>();
    request->method = std::string(beast_req.method_string());
    request->target = std::string(beast_req.target());
    for (const auto& field : beast_req) {
      request->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request->body = std::move(beast_req.body());

    // Handlers may block on PostgreSQL or S3: run them on the worker pool and
    // come back to this connection's strand to write.
    net::post(*shared_.workers, [self = shared_from_this(), request, keep_alive, version] {
      Response response;
      try {
        const auto q = request->target.find('?');
        request->path = percent_decode(std::string_view(request->target).substr(0, q), false);
        if (q != std::string::npos) request->query = parse_query(std::string_view(request->target).substr(q + 1));
        response = self->shared_.dispatcher->handle(*request, self->received_at_);
      } catch (...) {
        const std::string id = choose_request_id(request->header("X-Request-Id"));
        response = exception_response(std::current_exception(), id);
        response.set_header("X-Request-Id", id);
      }
      net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version]() mutable {
        self->write(response, version, keep_alive && !self->shared_.draining.load());
      });
    });
  }

  void write(const Response& response, unsigned version, bool keep_alive) {
    auto res = std::make_shared<BeastResponse>(static_cast<bhttp::status>(response.status), version);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    if (response.head_only) {
      res->content_length(response.body.size());
    } else {
      res->body() = response.body;
      res->prepare_payload();
    }
    stream_.expires_after(shared_.options.read_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->on_write(ec, res->need_eof());
    });
  }

  void on_write(beast::error_code ec, bool close_after) {
    if (ec) {
      log_io_failure(ec, "write");
      return close();
    }
    if (close_after) return close();
    do_read();
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::chrono::steady_clock::time_point received_at_;
  bool busy_ = false;
  std::list<std::weak_ptr<Session>>::iterator self_;
};

}  // namespace

struct Server::Impl {
  Impl(Options options, const Dispatcher& dispatcher)
      : ioc(options.io_threads), workers(static_cast<std::size_t>(options.worker_threads)), acceptor(net::make_strand(ioc)) {
    shared.options = std::move(options);
    shared.dispatcher = &dispatcher;
    shared.workers = &workers;
  }

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        log::warn("http", "accept failed", {{"error", ec.message()}});
      } else {
        auto session = std::make_shared<Session>(std::move(socket), shared);
        std::list<std::weak_ptr<Session>>::iterator it;
        {
          std::lock_guard lock(shared.mutex);
          it = shared.sessions.insert(shared.sessions.end(), session);
        }
        session->start(it);
      }
      if (acceptor.is_open()) do_accept();
    });
  }

  Shared shared;
  net::io_context ioc;
  // Keeps run() going while the acceptor is closed (draining) and the only
  // outstanding work is a handler on the worker pool that will post back.
  net::executor_work_guard<net::io_context::executor_type> keep_running = net::make_work_guard(ioc);
  net::thread_pool workers;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  bool stopped = false;
};

Server::Server(Options options, const Dispatcher& dispatcher)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher)) {}

Server::~Server() { stop(); }

std::uint16_t Server::start() {
  auto& o = impl_->shared.options;
  beast::error_code ec;
  const auto address = net::ip::make_address(o.address, ec);
  if (ec) throw ConfigError("BIND_ADDRESS: invalid address '" + o.address + "'");
  const tcp::endpoint endpoint(address, o.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  const auto port = acceptor.local_endpoint().port();
  impl_->do_accept();
  for (int i = 0; i < o.io_threads; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return port;
}

void Server::begin_drain() {
  impl_->shared.draining.store(true);
  net::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(impl_->shared.mutex);
    for (auto& weak : impl_->shared.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->on_drain();
}

bool Server::wait_drained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(impl_->shared.mutex);
  return impl_->shared.drained.wait_until(lock, deadline, [this] { return impl_->shared.sessions.empty(); });
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->shared.draining.store(true);
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->workers.join();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(impl_->shared.mutex);
  return impl_->shared.sessions.size();
}

}  // namespace catalog::http
