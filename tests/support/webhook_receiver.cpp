#include "support/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace catalog::testing {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string hex_hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

}  // namespace

std::string signature_problem(const std::string& header, const std::string& body, const std::string& secret) {
  std::string t, v1;
  std::size_t start = 0;
  while (start < header.size()) {
    const auto comma = std::min(header.find(',', start), header.size());
    const auto part = header.substr(start, comma - start);
    if (part.rfind("t=", 0) == 0) t = part.substr(2);
    if (part.rfind("v1=", 0) == 0) v1 = part.substr(3);
    start = comma + 1;
  }
  if (t.empty() || v1.empty()) return "no t= or v1= in '" + header + "'";
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  if (std::llabs(now.count() - std::atoll(t.c_str())) > 300) return "timestamp " + t + " is not within 5 minutes";
  const auto expected = hex_hmac(secret, t + "." + body);
  if (expected.size() != v1.size() || CRYPTO_memcmp(expected.data(), v1.data(), v1.size()) != 0) {
    return "v1 does not match HMAC-SHA256 of t.body";
  }
  return {};
}

WebhookReceiver::WebhookReceiver(std::string secret) : secret_(std::move(secret)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("webhook receiver: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void WebhookReceiver::script(std::vector<int> statuses) {
  std::lock_guard lock(mutex_);
  script_.assign(statuses.begin(), statuses.end());
}

std::vector<ReceivedWebhook> WebhookReceiver::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
  return received_;
}

std::vector<ReceivedWebhook> WebhookReceiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void WebhookReceiver::serve() {
  while (true) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (ready <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

// One request per connection (the service opens one per attempt).
void WebhookReceiver::handle(int fd) {
  std::string data;
  char buf[8192];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t header_end = std::string::npos, content_length = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      const auto cl = lower(data.substr(0, header_end)).find("\r\ncontent-length:");
      if (cl != std::string::npos) content_length = std::strtoul(data.c_str() + cl + 17, nullptr, 10);
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
  }
  if (header_end == std::string::npos) return;
  ReceivedWebhook hook;
  const auto request_line_end = data.find("\r\n");
  const auto request_line = data.substr(0, request_line_end);
  const auto sp1 = request_line.find(' ');
  hook.path = request_line.substr(sp1 + 1, request_line.rfind(' ') - sp1 - 1);
  std::size_t pos = request_line_end + 2;
  while (pos < header_end) {
    const auto eol = data.find("\r\n", pos);
    const auto line = data.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      hook.headers[lower(line.substr(0, colon))] = value;
    }
    pos = eol + 2;
  }
  hook.body = data.substr(header_end + 4, content_length);
  hook.signature_problem = signature_problem(hook.headers["x-catalog-signature"], hook.body, secret_);
  hook.signature_valid = hook.signature_problem.empty();
  {
    std::lock_guard lock(mutex_);
    hook.answered = script_.empty() ? 200 : script_.front();
    if (!script_.empty()) script_.pop_front();
  }
  const std::string response = "HTTP/1.1 " + std::to_string(hook.answered) +
                               " Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(hook));
  }
  arrived_.notify_all();
}

}  // namespace catalog::testing
