#pragma once

// A real webhook receiver on 127.0.0.1:<free port> for notification tests: it
// accepts HTTP/1.1 POSTs one at a time, checks every X-Catalog-Signature with
// its own HMAC (OpenSSL, not the service's code) and answers each request
// with the next status of a script (then 200).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace catalog::testing {

struct ReceivedWebhook {
  std::string path;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  bool signature_valid = false;
  std::string signature_problem;  ///< why not, when it is not
  int answered = 0;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::string secret);
  ~WebhookReceiver();

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  /// Statuses for the next requests, in order; afterwards 200.
  void script(std::vector<int> statuses);
  /// Waits until `count` requests have arrived (or `timeout`), returns them all.
  std::vector<ReceivedWebhook> wait_for(std::size_t count, std::chrono::milliseconds timeout);
  std::vector<ReceivedWebhook> received() const;

 private:
  void serve();
  void handle(int fd);
  std::string secret_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<int> script_;
  std::vector<ReceivedWebhook> received_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Checks "t=<unix>,v1=<hex>" against HMAC-SHA256(secret, "<t>.<body>") and a
/// five-minute tolerance, as a receiver should; empty when valid.
std::string signature_problem(const std::string& header, const std::string& body, const std::string& secret);

}  // namespace catalog::testing
