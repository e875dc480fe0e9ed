// The only translation unit that includes Beast/Asio: connection handling,
// timeouts, limits, offloading to workers. Follows Beast's advanced_server
// example (1.74): one session object per connection on its own strand.
#include "catalog/http/server.hpp"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
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
#include "catalog/http/http_errors.hpp"
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

// Requests whose body is streamed to the handler (Request::body_stream)
// instead of being read whole: feed uploads, which may be up to
// max_feed_bytes. Everything else keeps the buffered path.
bool is_streamed(bhttp::verb method, beast::string_view target) {
  const auto q = target.find('?');
  return method == bhttp::verb::post && target.substr(0, q) == "/feeds";
}

/// The bounded handoff of a streamed body between the session (producer, on
/// its strand) and the handler (consumer, on a worker thread). At most
/// kMaxChunks chunks wait here: when the queue is full the session stops
/// reading from the socket until the consumer makes room (backpressure), so
/// memory stays at a few chunks whatever the body's size. The producer also
/// starts only on the consumer's first read, so a request the handler
/// rejects up front (401, 404, 409, 415) never has its body read, and a
/// client waiting for "100 Continue" never sends it.
class BodyPipe {
 public:
  static constexpr std::size_t kMaxChunks = 4;

  BodyPipe(std::function<void()> resume, std::chrono::steady_clock::duration consumer_timeout)
      : resume_(std::move(resume)), consumer_timeout_(consumer_timeout) {}

  /// Producer: queues a chunk. Returns false when the producer must stop
  /// reading (queue full, or the consumer is gone); `resume` is called when
  /// it may go on.
  bool push(std::string chunk) {
    std::lock_guard lock(mutex_);
    if (consumer_closed_) return false;
    chunks_.push_back(std::move(chunk));
    ready_.notify_all();
    if (chunks_.size() >= kMaxChunks) {
      paused_ = true;
      return false;
    }
    return true;
  }

  /// Producer: the body is complete.
  void finish() {
    std::lock_guard lock(mutex_);
    done_ = true;
    ready_.notify_all();
  }

  /// Producer (or shutdown): the body will not be completed.
  void fail(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    ready_.notify_all();
  }

  /// Consumer: the handler has returned; later chunks are dropped.
  void close_consumer() {
    std::lock_guard lock(mutex_);
    consumer_closed_ = true;
    chunks_.clear();
  }

  /// Consumer: copies up to `capacity` bytes; 0 at the end of the body.
  std::size_t read(char* out, std::size_t capacity) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (error_) std::rethrow_exception(error_);
      if (!chunks_.empty()) {
        auto& front = chunks_.front();
        const std::size_t n = std::min(capacity, front.size() - offset_);
        std::memcpy(out, front.data() + offset_, n);
        offset_ += n;
        if (offset_ == front.size()) {
          chunks_.pop_front();
          offset_ = 0;
        }
        const bool wake = paused_ && chunks_.size() < kMaxChunks;
        if (wake) paused_ = false;
        lock.unlock();
        if (wake) resume_();
        return n;
      }
      if (done_) return 0;
      if (paused_) {
        paused_ = false;
        lock.unlock();
        resume_();
        lock.lock();
        continue;
      }
      // The session's read timeout fails the pipe first; this only guards
      // against a producer that can no longer run (the server stopping).
      if (!ready_.wait_for(lock, consumer_timeout_, [this] { return error_ || done_ || !chunks_.empty(); })) {
        throw BadRequest("request body stalled");
      }
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> chunks_;
  std::size_t offset_ = 0;    // into chunks_.front()
  bool paused_ = true;        // the producer waits for resume_() (initially: for the first read)
  bool done_ = false;
  bool consumer_closed_ = false;
  std::exception_ptr error_;
  std::function<void()> resume_;
  std::chrono::steady_clock::duration consumer_timeout_;
};

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

  /// Called on stop, after the I/O threads are gone: wakes a handler that
  /// waits for body bytes that will never come.
  void abort_stream() {
    if (pipe_) pipe_->fail(std::make_exception_ptr(BadRequest("the server is shutting down")));
  }

 private:
  void do_read() {
    feed_parser_.reset();
    pipe_.reset();
    responded_ = false;
    stream_failed_ = false;
    lingering_ = false;
    continue_pending_ = false;
    parser_.emplace();
    // Checked against Content-Length when the header completes, before we
    // know the route: the larger of the two limits; on_header applies the
    // route's own.
    parser_->body_limit(std::max(shared_.options.max_body_bytes, shared_.options.max_feed_bytes));
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
    const auto& req = parser_->get();
    const bool streamed = is_streamed(req.method(), req.target());
    const std::size_t limit = streamed ? shared_.options.max_feed_bytes : shared_.options.max_body_bytes;
    if (const auto length = parser_->content_length(); length && *length > limit) {
      return send_error(413, "payload_too_large",
                        "request body exceeds the limit of " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);  // chunked bodies are counted as they arrive
    if (streamed) return start_stream();
    // curl and others wait for "100 Continue" before sending a large body.
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
      // Only the buffered path gets here (chunked bodies over the limit).
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

    // Non-blocking routes (/health) answer right here on the strand.
    if (shared_.dispatcher->runs_inline(request->method, request->target)) {
      Response response = dispatch(*request);
      return write(response, version, keep_alive && !shared_.draining.load());
    }
    // Handlers may block on PostgreSQL or S3: run them on the worker pool and
    // come back to this connection's strand to write.
    net::post(*shared_.workers, [self = shared_from_this(), request, keep_alive, version] {
      Response response = self->dispatch(*request);
      net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version]() mutable {
        self->write(response, version, keep_alive && !self->shared_.draining.load());
      });
    });
  }

  // Runs on a worker thread (on the strand for non-blocking routes).
  Response dispatch(Request& request) {
    Response response;
    try {
      const auto q = request.target.find('?');
      request.path = percent_decode(std::string_view(request.target).substr(0, q), false);
      if (q != std::string::npos) request.query = parse_query(std::string_view(request.target).substr(q + 1));
      response = shared_.dispatcher->handle(request, received_at_);
    } catch (...) {
      const std::string id = choose_request_id(request.header("X-Request-Id"));
      response = exception_response(std::current_exception(), id);
      response.set_header("X-Request-Id", id);
    }
    return response;
  }

  // ---- Streamed bodies (POST /feeds) ----------------------------------------
  // The handler runs on a worker as soon as the header is in, reading the
  // body through a BodyPipe that this strand fills chunk by chunk with
  // async_read_some into a buffer_body parser.

  void start_stream() {
    continue_pending_ = beast::iequals(parser_->get()[bhttp::field::expect], "100-continue");
    feed_parser_.emplace(std::move(*parser_));
    feed_parser_->body_limit(shared_.options.max_feed_bytes);
    const auto& req = feed_parser_->get();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();

    auto request = std::make_shared<Request>();
    request->method = std::string(req.method_string());
    request->target = std::string(req.target());
    for (const auto& field : req) {
      request->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    // The pipe must not keep the session alive (the session owns the pipe).
    std::weak_ptr<Session> weak = weak_from_this();
    auto executor = stream_.get_executor();
    pipe_ = std::make_shared<BodyPipe>(
        [weak, executor] {
          if (auto self = weak.lock()) net::post(executor, [self] { self->read_chunk(); });
        },
        shared_.options.read_timeout + std::chrono::seconds(10));
    request->body_stream = [pipe = pipe_](char* buffer, std::size_t capacity) { return pipe->read(buffer, capacity); };

    net::post(*shared_.workers, [self = shared_from_this(), request, pipe = pipe_, keep_alive, version] {
      Response response = self->dispatch(*request);
      pipe->close_consumer();
      net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version]() mutable {
        self->finish_stream(std::move(response), version, keep_alive);
      });
    });
  }

  void read_chunk() {
    // Once the handler has answered, the rest of the body is only drained (linger).
    if (!feed_parser_ || read_pending_ || stream_failed_ || responded_ || feed_parser_->is_done()) return;
    if (continue_pending_) {
      continue_pending_ = false;
      writing_continue_ = true;
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        self->writing_continue_ = false;
        if (ec) {
          log_io_failure(ec, "write 100-continue");
          self->stream_failed_ = true;
          self->pipe_->fail(std::make_exception_ptr(BadRequest("connection lost before the body was sent")));
        } else {
          self->read_chunk();
        }
        if (self->deferred_) {
          auto d = std::move(*self->deferred_);
          self->deferred_.reset();
          self->finish_stream(std::move(d.response), d.version, d.keep_alive);
        }
      });
      return;
    }
    chunk_.resize(kChunkBytes);
    auto& body = feed_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    body.more = true;
    stream_.expires_after(shared_.options.read_timeout);
    read_pending_ = true;
    bhttp::async_read_some(stream_, buffer_, *feed_parser_,
                           beast::bind_front_handler(&Session::on_chunk, shared_from_this()));
  }

  void on_chunk(beast::error_code ec, std::size_t) {
    read_pending_ = false;
    if (ec == bhttp::error::need_buffer) ec = {};  // the chunk buffer is full: normal
    const std::size_t got = chunk_.size() - feed_parser_->get().body().size;
    if (ec) {
      stream_failed_ = true;
      if (responded_) return;
      pipe_->fail(body_error(ec));
      return log_io_failure(ec, "read body");
    }
    if (responded_) {  // the handler has answered without the rest of the body
      if (lingering_) linger();
      return;
    }
    bool more = true;
    if (got > 0) {
      chunk_.resize(got);
      more = pipe_->push(std::move(chunk_));
      chunk_ = std::string();
    }
    if (feed_parser_->is_done()) return pipe_->finish();
    if (more) read_chunk();
  }

  std::exception_ptr body_error(beast::error_code ec) const {
    if (ec == bhttp::error::body_limit) {
      return std::make_exception_ptr(PayloadTooLarge(
          "request body exceeds the limit of " + std::to_string(shared_.options.max_feed_bytes) + " bytes"));
    }
    if (ec == beast::error::timeout) {
      return std::make_exception_ptr(BadRequest("request body not received within " +
                                                std::to_string(shared_.options.read_timeout.count()) + " s"));
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return std::make_exception_ptr(BadRequest("malformed request body: " + ec.message()));
    }
    return std::make_exception_ptr(BadRequest("the client broke off the upload: " + ec.message()));
  }

  // After answering with `Connection: close` while body bytes may still be on
  // the way: read and discard them for a short while (or until the client
  // closes), so closing the socket with unread data does not reset the
  // connection before the client has read the response.
  void linger() {
    if (read_pending_) return;  // on_chunk comes back here
    if (std::chrono::steady_clock::now() >= linger_until_) return;
    chunk_.resize(kChunkBytes);
    stream_.expires_at(linger_until_);
    read_pending_ = true;
    stream_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->read_pending_ = false;
      if (!ec) self->linger();
    });
  }

  void finish_stream(Response response, unsigned version, bool keep_alive) {
    if (writing_continue_) {
      deferred_ = Deferred{std::move(response), version, keep_alive};
      return;
    }
    responded_ = true;
    // Keep the connection only when the whole body was read; otherwise the
    // rest of it is still on the wire.
    const bool complete = !stream_failed_ && feed_parser_->is_done();
    write(response, version, keep_alive && complete && !shared_.draining.load());
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
    if (close_after) {
      close();
      // A streamed body the handler did not read to the end: see linger().
      if (feed_parser_ && (stream_failed_ || !feed_parser_->is_done())) {
        lingering_ = true;
        linger_until_ = std::chrono::steady_clock::now() + kLinger;
        linger();
      }
      return;
    }
    do_read();
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  static constexpr std::size_t kChunkBytes = 64 * 1024;
  static constexpr std::chrono::seconds kLinger{3};

  struct Deferred {
    Response response;
    unsigned version;
    bool keep_alive;
  };

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // Streamed-body state (strand only; the worker holds its own pipe pointer).
  std::optional<bhttp::request_parser<bhttp::buffer_body>> feed_parser_;
  std::shared_ptr<BodyPipe> pipe_;
  std::string chunk_;
  std::optional<Deferred> deferred_;
  std::chrono::steady_clock::time_point linger_until_;
  bool continue_pending_ = false;
  bool writing_continue_ = false;
  bool read_pending_ = false;
  bool stream_failed_ = false;
  bool responded_ = false;
  bool lingering_ = false;
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
  {
    // No I/O thread runs now: handlers still reading a streamed body must
    // not wait for bytes that will never be read.
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(impl_->shared.mutex);
      for (auto& weak : impl_->shared.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->abort_stream();
  }
  impl_->workers.join();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(impl_->shared.mutex);
  return impl_->shared.sessions.size();
}

}  // namespace catalog::http
