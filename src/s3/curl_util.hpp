#pragma once

// Small libcurl helpers shared by the S3 client and the credential sources.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <curl/curl.h>

namespace catalog::s3::detail {

/// curl_global_init exactly once per process, before the first handle.
void ensure_curl_global_init();

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* s) const noexcept { curl_slist_free_all(s); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

/// A short, whole-body HTTP exchange (credential endpoints): at most 64 KiB kept.
struct SimpleResponse {
  long status = 0;
  std::string body;
};

/// Performs `method url` with `headers` ("Name: value") and an optional body,
/// bounded by `timeout_ms` overall. Throws std::runtime_error on transport failure
/// with curl's message (never the header values).
SimpleResponse simple_http(const std::string& method, const std::string& url,
                           const std::vector<std::string>& headers, const std::string& body, long timeout_ms);

}  // namespace catalog::s3::detail
