#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "catalog/notify/notify_url.hpp"

namespace catalog::notify {

/// X-Catalog-Signature value: "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>"
/// (the Stripe scheme: the timestamp is signed, so a receiver can refuse replays).
std::string signature_header(const std::string& secret, std::int64_t unix_time, const std::string& body);

/// What one POST attempt came to.
struct Attempt {
  long http_status = 0;  ///< 0 when no response arrived
  std::string error;     ///< empty on a 2xx
  bool retryable = false;
  bool delivered() const { return http_status >= 200 && http_status < 300; }
};

struct PostOptions {
  UrlPolicy policy;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  const std::atomic<bool>* abort = nullptr;  ///< set: the attempt stops (shutdown) and is retryable
};

/// POSTs `body` (application/json) to `url` with the delivery id and the
/// signature headers. No redirects; the response body is read and discarded;
/// the connection is refused when the resolved address breaks the policy.
/// 5xx, 408, 429, timeouts and connection errors are retryable; other
/// answers are final.
Attempt post_webhook(const std::string& url, const std::string& delivery_id, const std::string& signature,
                     const std::string& body, const PostOptions& options);

}  // namespace catalog::notify
