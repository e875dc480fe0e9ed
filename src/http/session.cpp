#include "http/session.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/error_mapping.hpp"
#include "catalog/http/http_errors.hpp"
#include "catalog/http/request_target.hpp"
#include "catalog/http/router.hpp"
#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"
#include "http/admission.hpp"
#include "http/framing.hpp"

namespace catalog::http {
namespace {

using BeastResponse = bhttp::response<bhttp::string_body>;

// Requests whose body is streamed to the handler (Request::body_stream)
// instead of being read whole: feed uploads, which may be up to
// max_feed_bytes. Everything else keeps the buffered path.
bool is_streamed(bhttp::verb method, beast::string_view target) {
  const auto q = target.find('?');
  return method == bhttp::verb::post && target.substr(0, q) == "/feeds";
}

}  // namespace

void Shared::count_refusal(std::string_view reason) {
  if (options.metrics != nullptr) options.metrics->record_refusal(reason);
}

void Shared::note_overload(const char* reason, const char* why) {
  count_refusal(reason);
  overload_refusals.fetch_add(1);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  auto last = overload_logged_at_ms.load();
  if (now_ms - last < 10000 || !overload_logged_at_ms.compare_exchange_strong(last, now_ms)) return;
  log::warn("http", "requests refused: overloaded",
            {{"reason", why}, {"refused", overload_refusals.exchange(0)},
             {"worker_queue_limit", options.worker_queue_limit},
             {"max_buffered_body_bytes", options.max_buffered_body_bytes}});
}

void log_io_failure(beast::error_code ec, const char* what) {
  log::debug("http", "connection closed", {{"op", what}, {"error", ec.message()}});
}

// The read buffer is bounded: the header limit covers the request head, and
// the room beyond it one chunk-size line or trailer section, which Beast
// must hold whole before it consumes them. Without the bound an endless
// chunk extension or trailer grows memory for as long as the client sends.
Session::Session(tcp::socket&& socket, Shared& shared)
    : stream_(std::move(socket)), shared_(shared), buffer_(shared.options.max_header_bytes + kChunkLineBytes) {
  on_chunk_header_ = [this](std::uint64_t, beast::string_view extensions, beast::error_code& ec) {
    chunk_extension_bytes_ += extensions.size();
    if (chunk_extension_bytes_ > kMaxChunkExtensionBytes) ec = bhttp::error::bad_chunk_extension;
  };
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : peer.address().to_string();
}

// Who a request counts against in the admission gates: its key when the key
// is known without waiting, else the client's address (the connection's
// peer, or behind a trusted balancer the address it forwarded). A made-up
// token names nobody, so rotating tokens gains nothing.
std::string Session::admission_client(const Request& request) const {
  if (auto key = shared_.dispatcher->known_key(request)) return "key:" + *key;
  if (!shared_.options.trust_forwarded_for) return "address:" + peer_;
  // Several X-Forwarded-For fields are one list (RFC 9110 §5.3): the last entry of the last field.
  std::string_view forwarded;
  for (const auto& [name, value] : request.headers) {
    if (beast::iequals(name, "X-Forwarded-For")) forwarded = value;
  }
  return "address:" + client_address(forwarded, peer_);
}

void Session::start(std::list<std::weak_ptr<Session>>::iterator self) {
  self_ = self;
  net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
}

Session::~Session() {
  release_body_budget();
  std::lock_guard lock(shared_.mutex);
  shared_.sessions.erase(self_);
  shared_.drained.notify_all();
}

void Session::on_drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_ && (!self->parser_ || !self->parser_->got_some())) {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.cancel();
    }
  });
}

void Session::abort_stream() {
  if (pipe_) pipe_->fail(std::make_exception_ptr(BadRequest("the server is shutting down")));
}

void Session::release_body_budget() {
  if (reserved_body_bytes_ == 0) return;
  shared_.release_body(reserved_body_bytes_);
  reserved_body_bytes_ = 0;
}

void Session::do_read() {
  release_body_budget();  // the previous request is answered: its body is gone
  feed_parser_.reset();
  pipe_.reset();
  responded_ = false;
  stream_failed_ = false;
  lingering_ = false;
  linger_after_close_ = false;
  continue_pending_ = false;
  parser_.emplace();
  chunk_extension_bytes_ = 0;
  parser_->on_chunk_header(on_chunk_header_);
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

void Session::on_header(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  busy_ = true;
  received_at_ = std::chrono::steady_clock::now();
  const auto& req = parser_->get();
  std::vector<std::string_view> codings;
  for (auto [it, end] = req.equal_range(bhttp::field::transfer_encoding); it != end; ++it) {
    codings.emplace_back(it->value().data(), it->value().size());
  }
  if (auto error = transfer_encoding_error(codings, req.count(bhttp::field::content_length) > 0,
                                           req.version())) {
    return send_error(400, "bad_request", *error);
  }
  const bool streamed = is_streamed(req.method(), req.target());
  const std::size_t limit = streamed ? shared_.options.max_feed_bytes : shared_.options.max_body_bytes;
  const auto length = parser_->content_length();
  if (length && *length > limit) {
    return send_error(413, "payload_too_large",
                      "request body exceeds the limit of " + std::to_string(limit) + " bytes");
  }
  parser_->body_limit(limit);  // chunked bodies are counted as they arrive
  if (streamed) {
    stream_deadline_ = received_at_ + shared_.options.feed_body_timeout;
    return start_stream();
  }
  // One deadline for the whole body, not per read: a client that trickles
  // a byte at a time is cut off all the same.
  stream_.expires_after(shared_.options.body_timeout);
  // Reserve what the body may hold before reading any of it, so that many
  // slow or stalled uploads together cannot hold unbounded memory.
  const std::size_t need = length ? static_cast<std::size_t>(*length) : (parser_->chunked() ? limit : 0);
  if (need > 0) {
    if (!shared_.reserve_body(need)) {
      shared_.note_overload("body_budget", "buffered body budget exhausted");
      return send_error(503, "overloaded", "too many request bodies in flight; retry shortly", true);
    }
    reserved_body_bytes_ = need;
  }
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

void Session::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
}

void Session::on_read_error(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return close();
  if (ec == beast::error::timeout) {
    if (busy_) log::info("http", "request body not received in time", {{"timeout_s", shared_.options.body_timeout.count()}});
    return close();
  }
  if (ec == bhttp::error::body_limit) {
    // Only the buffered path gets here (chunked bodies over the limit).
    return send_error(413, "payload_too_large",
                      "request body exceeds the limit of " + std::to_string(shared_.options.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::buffer_overflow) {
    return send_error(400, "bad_request", "a chunk-size line or the trailer section exceeds " +
                                              std::to_string(kChunkLineBytes) + " bytes");
  }
  if (ec == bhttp::error::bad_chunk_extension && chunk_extension_bytes_ > kMaxChunkExtensionBytes) {
    return send_error(400, "bad_request", "chunk extensions exceed " + std::to_string(kMaxChunkExtensionBytes) + " bytes");
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

void Session::send_error(int status, const std::string& code, const std::string& message, bool retry) {
  busy_ = true;
  const std::string id = choose_request_id(std::nullopt);
  auto res = error_response(status, code, message, id);
  res.set_header("X-Request-Id", id);
  if (retry) res.set_header("Retry-After", "1");
  // A body may be on its way that we will not read: drain it briefly after
  // answering, or closing would reset the connection before the client
  // has read why.
  // Framing refusals leave bytes unread even when the parser is "done".
  linger_after_close_ = parser_ && parser_->is_header_done();
  if (status != 503) log::info("http", "request rejected", {{"request_id", id}, {"status", status}, {"error", message}});
  write(res, 11, false);
}

void Session::on_body(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  auto beast_req = parser_->release();
  const bool keep_alive = beast_req.keep_alive();
  const unsigned version = beast_req.version();

  auto request = std::make_shared<Request>();
  request->method = std::string(beast_req.method_string());
  request->target = std::string(beast_req.target());
  request->headers.reserve(static_cast<std::size_t>(std::distance(beast_req.begin(), beast_req.end())));
  for (const auto& field : beast_req) {
    request->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request->body = std::move(beast_req.body());

  // Non-blocking routes (/health) answer right here on the strand.
  if (shared_.dispatcher->runs_inline(request->method, request->target)) {
    Response response = dispatch(*request, false);
    return write(response, version, keep_alive && !shared_.draining.load());
  }
  // A fast handler may answer without the pool (If-None-Match → 304 from
  // the in-memory catalog versions); if it declines, the pool gets the
  // request unchanged.
  const bool parsed = parse_target(*request);
  if (parsed) {
    if (auto response = shared_.dispatcher->try_fast(*request, received_at_)) {
      return write(*response, version, keep_alive && !shared_.draining.load());
    }
  }
  // Expensive reads hold at most their share of the workers; the rest wait
  // here, outside the worker pool's FIFO, so cheap requests never queue
  // behind them.
  if (parsed && classify(request->method, request->path, request->query) == RequestClass::expensive) {
    auto self = shared_from_this();
    admission_client_ = admission_client(*request);
    const auto decision = shared_.expensive->enter(
        admission_client_,
        [self, request, keep_alive, version] { self->run_on_worker(request, keep_alive, version, true, true); },
        [self, request, keep_alive, version] {
          net::post(self->stream_.get_executor(), [self, request, keep_alive, version] {
            self->shared_.note_overload("queue_wait", "expensive request waited past ADMISSION_MAX_WAIT");
            self->write(self->refusal(*request, "the server is busy with expensive requests; retry shortly"), version,
                        keep_alive && !self->shared_.draining.load());
          });
        });
    if (decision == AdmissionGate::Decision::run) return run_on_worker(request, keep_alive, version, true, true);
    if (decision == AdmissionGate::Decision::queue_full) {
      shared_.note_overload("queue_full", "expensive request queue full");
      return write(refusal(*request, "the server is busy with expensive requests; retry shortly"), version,
                   keep_alive && !shared_.draining.load());
    }
    if (decision == AdmissionGate::Decision::client_share) {
      shared_.note_overload("client_share", "a client holds its share of the expensive slots");
      return write(refusal(*request, "this client already has " + std::to_string(shared_.expensive->per_client()) +
                                         " expensive requests in progress; retry when one ends"),
                   version, keep_alive && !shared_.draining.load());
    }
    return;  // queued: started or refused later
  }
  run_on_worker(request, keep_alive, version, parsed, false);
}

// Handlers may block on PostgreSQL or S3: run them on the worker pool and
// come back to this connection's strand to write. A full queue is answered
// here and now, rather than growing without bound. `expensive`: holds a slot
// of the expensive class, given back when the handler returns.
void Session::run_on_worker(std::shared_ptr<Request> request, bool keep_alive, unsigned version, bool parsed,
                            bool expensive) {
  if (!shared_.enqueue_request()) {
    if (expensive) shared_.expensive->release(admission_client_);
    net::post(stream_.get_executor(), [self = shared_from_this(), request, keep_alive, version] {
      self->write(self->overloaded_response(*request), version, keep_alive && !self->shared_.draining.load());
    });
    return;
  }
  // The client is copied: the strand may start this connection's next
  // request (and name its client) once the answer is written.
  net::post(*shared_.workers, [self = shared_from_this(), request, keep_alive, version, parsed, expensive,
                               client = expensive ? admission_client_ : std::string()] {
    self->shared_.queued_requests.fetch_sub(1);
    Response response = self->dispatch(*request, parsed);
    if (expensive) self->shared_.expensive->release(client);
    if (const auto reason = handler_refusal_reason(response); !reason.empty()) self->shared_.count_refusal(reason);
    net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version]() mutable {
      self->write(response, version, keep_alive && !self->shared_.draining.load());
    });
  });
}

Response Session::refusal(const Request& request, const std::string& message) {
  const std::string id = choose_request_id(request.header("X-Request-Id"));
  auto response = error_response(503, "overloaded", message, id);
  response.set_header("X-Request-Id", id);
  response.set_header("Retry-After", "1");
  return response;
}

bool Session::parse_target(Request& request) noexcept {
  try {
    parse_request_target(request);
    return true;
  } catch (...) {
    // dispatch() parses again on the pool and answers the error.
    request.path.clear();
    request.query.clear();
    return false;
  }
}

Response Session::overloaded_response(const Request& request) {
  shared_.note_overload("queue_full", "worker queue full");
  return refusal(request, "the server is busy; retry shortly");
}

// Runs on a worker thread (on the strand for non-blocking routes).
Response Session::dispatch(Request& request, bool parsed) {
  Response response;
  try {
    if (!parsed) parse_request_target(request);  // throws the error parse_target() swallowed
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

void Session::start_stream() {
  // A streamed upload holds its worker for as long as its client takes to
  // send the body: uploads together hold at most their share of workers.
  // The others wait here, their bodies unread, for ADMISSION_MAX_WAIT_MS.
  auto self = shared_from_this();
  Request credentials;  // what admission_client() reads: the request itself is built later
  for (const auto& field : parser_->get()) {
    const auto name = field.name_string();
    if (beast::iequals(name, "Authorization") || beast::iequals(name, "X-API-Key") ||
        beast::iequals(name, "X-Forwarded-For")) {
      credentials.headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  admission_client_ = admission_client(credentials);
  const auto decision = shared_.uploads->enter(
      admission_client_,
      [self] { net::post(self->stream_.get_executor(), [self] { self->begin_stream(); }); },
      [self] {
        net::post(self->stream_.get_executor(), [self] {
          self->shared_.note_overload("upload_share", "an upload waited past ADMISSION_MAX_WAIT for a slot");
          self->send_error(503, "overloaded", "too many uploads in progress; retry shortly", true);
        });
      });
  if (decision == AdmissionGate::Decision::run) return begin_stream();
  if (decision == AdmissionGate::Decision::queue_full) {
    shared_.note_overload("upload_share", "every upload slot is taken and the queue is full");
    return send_error(503, "overloaded", "too many uploads in progress; retry shortly", true);
  }
  if (decision == AdmissionGate::Decision::client_share) {
    shared_.note_overload("client_share", "a client holds its share of the upload slots");
    return send_error(503, "overloaded",
                      "this client already has " + std::to_string(shared_.uploads->per_client()) +
                          " uploads in progress; retry when one ends",
                      true);
  }
}

void Session::begin_stream() {
  if (!shared_.enqueue_request()) {
    shared_.uploads->release(admission_client_);
    shared_.note_overload("queue_full", "worker queue full");
    // The body is left unread: answer and close.
    return send_error(503, "overloaded", "the server is busy; retry shortly", true);
  }
  continue_pending_ = beast::iequals(parser_->get()[bhttp::field::expect], "100-continue");
  feed_parser_.emplace(std::move(*parser_));
  feed_parser_->body_limit(shared_.options.max_feed_bytes);
  feed_parser_->on_chunk_header(on_chunk_header_);
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

  net::post(*shared_.workers, [self = shared_from_this(), request, pipe = pipe_, keep_alive, version,
                               client = admission_client_] {
    self->shared_.queued_requests.fetch_sub(1);
    Response response = self->dispatch(*request, false);
    pipe->close_consumer();
    self->shared_.uploads->release(client);
    if (const auto reason = handler_refusal_reason(response); !reason.empty()) self->shared_.count_refusal(reason);
    net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version]() mutable {
      self->finish_stream(std::move(response), version, keep_alive);
    });
  });
}

void Session::read_chunk() {
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
  // Each read may wait READ_TIMEOUT, but the body as a whole must be in by
  // its total deadline.
  stream_.expires_at(std::min(std::chrono::steady_clock::now() + shared_.options.read_timeout, stream_deadline_));
  read_pending_ = true;
  bhttp::async_read_some(stream_, buffer_, *feed_parser_,
                         beast::bind_front_handler(&Session::on_chunk, shared_from_this()));
}

void Session::on_chunk(beast::error_code ec, std::size_t) {
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

std::exception_ptr Session::body_error(beast::error_code ec) const {
  if (ec == bhttp::error::body_limit) {
    return std::make_exception_ptr(PayloadTooLarge(
        "request body exceeds the limit of " + std::to_string(shared_.options.max_feed_bytes) + " bytes"));
  }
  if (ec == beast::error::timeout) {
    return std::make_exception_ptr(BadRequest(
        "request body not received in time (" + std::to_string(shared_.options.read_timeout.count()) +
        " s per read, " + std::to_string(shared_.options.feed_body_timeout.count()) + " s in total)"));
  }
  if (ec == bhttp::error::buffer_overflow) {
    return std::make_exception_ptr(BadRequest("a chunk-size line or the trailer section exceeds " +
                                              std::to_string(kChunkLineBytes) + " bytes"));
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
void Session::linger() {
  if (read_pending_) return;  // on_chunk comes back here
  if (std::chrono::steady_clock::now() >= linger_until_) return;
  chunk_.resize(kLingerBytes);  // small: many refused uploads may linger at once
  stream_.expires_at(linger_until_);
  read_pending_ = true;
  stream_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->read_pending_ = false;
    if (!ec) self->linger();
  });
}

void Session::finish_stream(Response response, unsigned version, bool keep_alive) {
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

// The response is serialised here instead of through a Beast message: the
// head goes into a buffer the session reuses, the body is moved, not copied,
// and both go out in one gather write. Framing follows what Beast's
// prepare_payload() and keep_alive() produced: Content-Length except on
// 1xx/204/304, `Connection: close` (HTTP/1.1) or `keep-alive` (HTTP/1.0).
void Session::write(Response response, unsigned version, bool keep_alive) {
  out_head_.clear();
  out_head_ += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out_head_ += std::to_string(response.status);
  out_head_ += ' ';
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
  out_head_.append(reason.data(), reason.size());
  out_head_ += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out_head_ += name;
    out_head_ += ": ";
    out_head_ += value;
    out_head_ += "\r\n";
  }
  const int status = response.status;
  const bool bodiless = (status >= 100 && status < 200) || status == 204 || status == 304;
  if (!bodiless) {
    out_head_ += "Content-Length: ";
    out_head_ += std::to_string(response.body_view().size());
    out_head_ += "\r\n";
  }
  if (!keep_alive && version >= 11) out_head_ += "Connection: close\r\n";
  if (keep_alive && version == 10) out_head_ += "Connection: keep-alive\r\n";
  out_head_ += "\r\n";
  const bool send_body = !response.head_only && !bodiless;
  out_body_ = send_body ? std::move(response.body) : std::string();
  out_shared_body_ = send_body ? std::move(response.shared_body) : nullptr;  // kept alive until written
  const std::array<net::const_buffer, 2> buffers{
      net::buffer(out_head_), out_shared_body_ ? net::buffer(*out_shared_body_) : net::buffer(out_body_)};
  stream_.expires_after(shared_.options.read_timeout);
  net::async_write(stream_, buffers, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
    // Large bodies are not kept for the connection's lifetime.
    if (self->out_body_.capacity() > kKeepBufferBytes) std::string().swap(self->out_body_);
    else self->out_body_.clear();
    if (self->out_head_.capacity() > kKeepBufferBytes) std::string().swap(self->out_head_);
    self->out_shared_body_.reset();
    self->on_write(ec, !keep_alive);
  });
}

void Session::on_write(beast::error_code ec, bool close_after) {
  if (ec) {
    log_io_failure(ec, "write");
    return close();
  }
  if (close_after) {
    close();
    // A body not read to the end: see linger().
    if (linger_after_close_ || (feed_parser_ && (stream_failed_ || !feed_parser_->is_done()))) {
      lingering_ = true;
      linger_until_ = std::chrono::steady_clock::now() + kLinger;
      linger();
    }
    return;
  }
  do_read();
}

void Session::close() {
  beast::error_code ec;
  beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace catalog::http
