#pragma once

// A small blocking HTTP client for integration tests (libcurl), plus a raw
// socket helper for requests curl refuses to send (malformed, slow).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace catalog::testing {

struct HttpResult {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1") : host_(std::move(host)), port_(port) {}

  HttpResult request(const std::string& method, const std::string& target, const std::string& body = {},
                     std::vector<std::string> headers = {}) const;
  HttpResult get(const std::string& target, std::vector<std::string> headers = {}) const {
    return request("GET", target, {}, std::move(headers));
  }
  HttpResult post_json(const std::string& target, const nlohmann::json& body,
                       std::vector<std::string> headers = {}) const {
    headers.push_back("Content-Type: application/json");
    return request("POST", target, body.dump(), std::move(headers));
  }

 private:
  std::string host_;
  std::uint16_t port_;
};

/// A raw TCP connection to 127.0.0.1:port for hand-written HTTP bytes.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes);
  /// Reads until the peer closes or `timeout_ms` passes; returns what arrived.
  std::string read_all(int timeout_ms = 5000);
  /// Reads one HTTP response (headers + Content-Length body).
  std::string read_response(int timeout_ms = 5000);
  bool connected() const { return fd_ >= 0; }
  /// Sends what the peer takes within `timeout_ms` (never throws); bytes sent.
  std::size_t try_send(const std::string& bytes, int timeout_ms = 2000);
  /// Reads (keeping what arrives in `*received` when given) until the peer
  /// closes or resets the connection: true, or false when `timeout_ms` passes first.
  bool wait_closed(int timeout_ms, std::string* received = nullptr);

 private:
  int fd_ = -1;
  std::string pending_;
};

/// Polls GET /health on 127.0.0.1:port until it answers 200 (true) or
/// `limit` passes (false); refused connections count as "not yet".
bool wait_healthy(std::uint16_t port, std::chrono::milliseconds limit);

/// Status code of a raw HTTP response ("HTTP/1.1 413 ..." → 413), 0 if none.
int status_of(const std::string& raw_response);
/// The body after the blank line of a raw response.
std::string body_of(const std::string& raw_response);

}  // namespace catalog::testing
