#include "catalog/notify/webhook.hpp"

#include <sys/socket.h>

#include <vector>

#include "s3/crypto.hpp"
#include "s3/curl_util.hpp"

namespace catalog::notify {
namespace {

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

struct SocketCheck {
  const UrlPolicy* policy;
  bool refused = false;
};

// Refuses the socket when the address the host name resolved to breaks the
// policy (a public name pointing at 169.254.169.254 or a private address).
curl_socket_t open_checked(void* user, curlsocktype, struct curl_sockaddr* address) {
  auto* check = static_cast<SocketCheck*>(user);
  if (!address_allowed(&address->addr, *check->policy)) {
    check->refused = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

int abort_when_set(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort != nullptr && abort->load() ? 1 : 0;
}

}  // namespace

std::string signature_header(const std::string& secret, std::int64_t unix_time, const std::string& body) {
  const std::string t = std::to_string(unix_time);
  return "t=" + t + ",v1=" + s3::crypto::to_hex(s3::crypto::hmac_sha256(secret, t + "." + body));
}

Attempt post_webhook(const std::string& url, const std::string& delivery_id, const std::string& signature,
                     const std::string& body, const PostOptions& options) {
  using namespace s3::detail;
  ensure_curl_global_init();
  Attempt attempt;
  CurlHandle curl(curl_easy_init());
  if (!curl) {
    attempt.error = "curl_easy_init failed";
    attempt.retryable = true;
    return attempt;
  }
  Slist headers;
  const std::vector<std::string> lines = {"Content-Type: application/json", "User-Agent: catalog-api",
                                         "X-Catalog-Delivery: " + delivery_id, "X-Catalog-Event: run.finished",
                                         "X-Catalog-Signature: " + signature, "Expect:"};
  for (const auto& h : lines) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) {
      attempt.error = "out of memory";
      attempt.retryable = true;
      return attempt;
    }
    headers.release();
    headers.reset(next);
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options.policy.allow_http ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
  SocketCheck check{&options.policy};
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &check);
  if (options.abort != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_when_set);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(options.abort));
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (check.refused) {
      // The name resolves to an address the policy forbids: final, not retried.
      attempt.error = "the host resolves to a link-local, private or loopback address, which is not allowed";
      return attempt;
    }
    attempt.error = curl_easy_strerror(rc);
    // A bad URL or a refused protocol will not get better; the network may.
    attempt.retryable = rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL;
    return attempt;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &attempt.http_status);
  if (attempt.delivered()) return attempt;
  attempt.error = "HTTP " + std::to_string(attempt.http_status);
  attempt.retryable = attempt.http_status >= 500 || attempt.http_status == 408 || attempt.http_status == 429;
  return attempt;
}

}  // namespace catalog::notify
