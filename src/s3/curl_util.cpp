#include "s3/curl_util.hpp"

#include <mutex>
#include <stdexcept>

namespace catalog::s3::detail {
namespace {

std::size_t append_capped(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t len = size * n;
  constexpr std::size_t kCap = 64 * 1024;
  if (out->size() + len > kCap) return 0;  // a credentials document is never that large
  out->append(data, len);
  return len;
}

}  // namespace

void ensure_curl_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SimpleResponse simple_http(const std::string& method, const std::string& url,
                           const std::vector<std::string>& headers, const std::string& body, long timeout_ms) {
  ensure_curl_global_init();
  CurlHandle curl(curl_easy_init());
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  SimpleResponse response;
  Slist list;
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(list.get(), h.c_str());
    if (next == nullptr) throw std::runtime_error("out of memory");
    list.release();
    list.reset(next);
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_capped);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (method == "PUT" || method == "POST") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace catalog::s3::detail
