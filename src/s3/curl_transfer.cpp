#include "s3/curl_transfer.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "catalog/core/errors.hpp"
#include "s3/s3_xml.hpp"

namespace catalog::s3::detail {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string status_code_name(long status) {
  switch (status) {
    case 301: return "PermanentRedirect";
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    default: return "HTTP" + std::to_string(status);
  }
}

bool retryable_code(const std::string& code) {
  static const char* const kCodes[] = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                                       "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
                                       "RequestLimitExceeded", "TooManyRequestsException"};
  return std::any_of(std::begin(kCodes), std::end(kCodes), [&](const char* c) { return code == c; });
}

bool retryable_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after 100 Continue, or a redirect): start over.
    t->response.headers.clear();
    const auto sp = line.find(' ');
    t->response.status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return len;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return len;
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (t->sink != nullptr && t->success_status()) {
    try {
      if (!t->body_started) {
        t->body_started = true;
        if (t->on_body_start) t->on_body_start(t->response);
      }
      (*t->sink)(data, len);
    } catch (...) {
      t->error = std::current_exception();
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    t->delivered += len;
    return len;
  }
  if (t->response.body.size() + len > t->body_cap) return 0;
  t->response.body.append(data, len);
  return len;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = std::min(size * n, t->upload.size() - t->upload_pos);
  std::memcpy(buffer, t->upload.data() + t->upload_pos, len);
  t->upload_pos += len;
  return len;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->upload_pos = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// A Content-Length S3 sent: nothing when absent; an S3Error when it is not
// a number that fits 64 bits (libcurl would read such a body to the end of
// the connection and we would record a size of 0).
std::optional<std::uint64_t> content_length(const Response& resp, const std::string& what) {
  const auto it = resp.headers.find("content-length");
  if (it == resp.headers.end()) return std::nullopt;
  const std::string& v = it->second;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
    throw S3Error(what + ": invalid Content-Length '" + v.substr(0, 40) + "' in the response", static_cast<int>(resp.status),
                  "InvalidResponse");
  }
  return value;
}

// After a complete response, any byte already waiting on the connection
// belongs to no request: the body was longer than its Content-Length.
// Reusing that connection would let the next request read those bytes as
// its response, so the caller discards it.
bool unread_bytes_on_connection(CURL* c) {
  curl_socket_t socket = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK || socket == CURL_SOCKET_BAD) return false;
  pollfd p{socket, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0 || (p.revents & POLLIN) == 0) return false;
  char byte = 0;
  return ::recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;  // 0 is a clean close: libcurl handles it
}

// "bytes 100-199/1000" → {100, 1000}
std::pair<std::uint64_t, std::uint64_t> parse_content_range(const std::string& v) {
  const auto sp = v.find(' ');
  const auto dash = v.find('-');
  const auto slash = v.find('/');
  if (sp == std::string::npos || dash == std::string::npos || slash == std::string::npos) return {0, 0};
  return {xml::parse_u64(v.substr(sp + 1, dash - sp - 1)), xml::parse_u64(v.substr(slash + 1))};
}

}  // namespace catalog::s3::detail
