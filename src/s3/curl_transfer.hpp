#pragma once
// One libcurl transfer of the S3 client: what a request needs beyond the
// signer inputs, the response as it arrives (headers, a bounded in-memory
// body or the caller's sink), and the checks that treat a response's
// framing as untrusted input (Content-Length, bytes beyond it). The client
// (curl_s3_client.cpp) builds, signs and retries requests; this layer moves
// and checks bytes.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "catalog/s3/object_store.hpp"
#include "catalog/s3/sigv4.hpp"

namespace catalog::s3::detail {

/// Bytes of an error body kept in memory.
inline constexpr std::size_t kErrorBodyCap = 256 * 1024;
/// The largest ListObjectsV2 page S3 may legally send: 1,000 entries (keys
// or common prefixes) whose key of up to 1,024 bytes may grow sixfold when
// XML-escaped ("&" → "&amp;"), plus about 1 KiB of metadata each (ETag,
// size, dates, owner, storage class, checksum). Bounded all the same.
inline constexpr std::size_t kListPageCap = 1000 * (6 * 1024 + 1024) + 64 * 1024;

std::string lower(std::string s);
std::string trim(std::string_view s);

// What a request needs beyond the signer inputs.
struct Request {
  std::string op;  // "GetObject", for messages
  std::string method;
  std::string bucket;
  std::string key;
  bool object_level = true;  // false: bucket-level (ListObjectsV2)
  std::vector<QueryParam> query;
  HeaderList headers;
  std::string_view body;
  bool send_body = false;
  std::string payload_hash;  // empty: SHA-256 of body
  std::size_t body_cap = kErrorBodyCap;  // bytes of a body kept in memory (XML, errors)
  std::chrono::milliseconds timeout{0};  // whole attempt; 0: none (the low-speed limit still applies)
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // error and XML bodies only
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Per-transfer state the libcurl callbacks share.
struct Transfer {
  Response response;
  const ByteSink* sink = nullptr;
  std::function<void(const Response&)> on_body_start;  // checks before the first byte reaches the sink
  bool body_started = false;
  std::uint64_t delivered = 0;
  std::exception_ptr error;  // thrown by the sink or on_body_start
  std::string_view upload;
  std::size_t upload_pos = 0;
  std::size_t body_cap = kErrorBodyCap;
  bool too_long = false;  // bytes followed the response on its connection (now discarded)

  bool success_status() const { return response.status >= 200 && response.status < 300; }
};

std::string status_code_name(long status);
bool retryable_code(const std::string& code);
bool retryable_curl(CURLcode rc);

// libcurl callbacks; `user` is the Transfer.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user);
std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user);
std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user);
int on_seek(void* user, curl_off_t offset, int origin);

/// A Content-Length S3 sent: nothing when absent; an S3Error when it is not
/// a number that fits 64 bits (libcurl would read such a body to the end of
/// the connection and we would record a size of 0).
std::optional<std::uint64_t> content_length(const Response& resp, const std::string& what);

/// After a complete response, or before reusing an idle handle: whether
/// bytes already wait on its connection. They belong to no request (the
/// body was longer than its Content-Length); reusing the connection would
/// let the next request read them as its response, so the caller discards it.
bool unread_bytes_on_connection(CURL* c);

/// "bytes 100-199/1000" → {100, 1000}
std::pair<std::uint64_t, std::uint64_t> parse_content_range(const std::string& v);

}  // namespace catalog::s3::detail
