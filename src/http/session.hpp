#pragma once
// One HTTP/1.1 connection: reads a request (buffered, or streamed through a
// BodyPipe for uploads), hands it to the Dispatcher on the worker pool (or
// runs it inline for nonblocking routes), writes the answer, keeps alive.
// Follows Beast's advanced_server example (1.74): one session per
// connection, on its own strand.

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "catalog/http/message.hpp"
#include "http/body_pipe.hpp"
#include "http/server_shared.hpp"

namespace catalog::http {

namespace bhttp = boost::beast::http;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared);
  ~Session();

  /// `self` is this session's entry in Shared::sessions (erased on destruction).
  void start(std::list<std::weak_ptr<Session>>::iterator self);

  /// Called on drain: an idle keep-alive connection is closed now; one
  /// that is mid-request finishes it first.
  void on_drain();

  /// Called on stop, after the I/O threads are gone: wakes a handler that
  /// waits for body bytes that will never come.
  void abort_stream();

 private:
  void do_read();
  void on_header(beast::error_code ec, std::size_t);
  void read_body();
  void on_read_error(beast::error_code ec);
  /// An error answered without a handler; closes the connection after it.
  /// `retry`: adds `Retry-After: 1` (503 overloaded).
  void send_error(int status, const std::string& code, const std::string& message, bool retry = false);
  Response overloaded_response(const Request& request);
  /// 503 `overloaded` + Retry-After with `message` (not counted: callers count).
  static Response refusal(const Request& request, const std::string& message);
  /// Whom `request` counts against in the admission gates (a known key, else the peer address).
  std::string admission_client(const Request& request) const;
  void run_on_worker(std::shared_ptr<Request> request, bool keep_alive, unsigned version, bool parsed, bool expensive);
  void release_body_budget();
  void on_body(beast::error_code ec, std::size_t);
  /// Path and query of the target into `request`; false (and nothing set)
  /// when they are malformed.
  static bool parse_target(Request& request) noexcept;
  /// `parsed`: parse_target already succeeded.
  Response dispatch(Request& request, bool parsed);

  // Streamed bodies (POST /feeds).
  void start_stream();
  /// start_stream once an upload slot is held.
  void begin_stream();
  void read_chunk();
  void on_chunk(beast::error_code ec, std::size_t);
  std::exception_ptr body_error(beast::error_code ec) const;
  void linger();
  void finish_stream(Response response, unsigned version, bool keep_alive);

  void write(Response response, unsigned version, bool keep_alive);
  void on_write(beast::error_code ec, bool close_after);
  void close();

  static constexpr std::size_t kChunkBytes = 64 * 1024;
  static constexpr std::chrono::seconds kLinger{3};
  static constexpr std::size_t kLingerBytes = 4 * 1024;
  static constexpr std::size_t kKeepBufferBytes = 16 * 1024;  // response buffers kept between requests

  struct Deferred {
    Response response;
    unsigned version;
    bool keep_alive;
  };

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  // The response being written (one at a time): serialised head, moved body.
  std::string out_head_;
  std::string out_body_;
  std::shared_ptr<const std::string> out_shared_body_;  ///< a cached page's body, while it is written
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // Counts chunk-extension bytes of the request being read (the parser
  // keeps a reference to it, so it lives as long as the session).
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_header_;
  std::size_t chunk_extension_bytes_ = 0;
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
  bool linger_after_close_ = false;
  std::chrono::steady_clock::time_point received_at_;
  bool busy_ = false;
  std::size_t reserved_body_bytes_ = 0;  // of Shared::buffered_body_bytes, held until the next request
  std::chrono::steady_clock::time_point stream_deadline_;  // total deadline of a streamed body
  std::list<std::weak_ptr<Session>>::iterator self_;
  std::string peer_;              // the peer's address, for admission_client()
  std::string admission_client_;  // whom the request in an admission gate counts against (strand only)
};

}  // namespace catalog::http
