#include "catalog/s3/s3_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include "catalog/log/logging.hpp"
#include "catalog/s3/sigv4.hpp"
#include "s3/addressing.hpp"
#include "s3/crypto.hpp"
#include "s3/curl_transfer.hpp"
#include "s3/curl_util.hpp"
#include "s3/s3_xml.hpp"

// S3 REST API: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
// Retry behaviour modelled on the AWS SDKs' "standard" mode:
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html

namespace catalog::s3 {
namespace {

constexpr std::string_view kModule = "s3";

using namespace detail;  // one transfer: curl_transfer.hpp

/// One multipart part's bytes, grown as the source yields them: a small upload
/// never holds (or zero-fills) a whole part, and only a large one reaches
/// part_size (8 MiB by default) per concurrent upload.
class PartBuffer {
 public:
  explicit PartBuffer(std::size_t part_size) : part_size_(part_size) {}

  /// Refills with up to part_size bytes; returns how many (0 at the end).
  std::size_t fill(const ByteSource& source) {
    bytes_.clear();
    while (bytes_.size() < part_size_) {
      const std::size_t at = bytes_.size();
      const std::size_t want = std::min(part_size_ - at, std::max(kFirstRead, at));
      if (bytes_.capacity() < at + want) bytes_.reserve(std::min(part_size_, 2 * (at + want)));
      bytes_.resize(at + want);
      const std::size_t n = source(bytes_.data() + at, want);
      bytes_.resize(at + n);
      if (n == 0) break;
    }
    return bytes_.size();
  }
  const char* data() const { return bytes_.data(); }

 private:
  static constexpr std::size_t kFirstRead = 64 * 1024;
  std::size_t part_size_;
  std::vector<char> bytes_;
};
}  // namespace

// ---------------------------------------------------------------------------

struct CurlS3Client::Impl {
  S3Config config;
  std::shared_ptr<CredentialsProvider> credentials;
  const Clock& clock;
  Addressing addressing;

  std::mutex pool_mutex;
  std::vector<detail::CurlHandle> pool;  // idle handles keep their connections alive
  std::mutex rng_mutex;
  std::mt19937_64 rng{std::random_device{}()};

  Impl(S3Config c, std::shared_ptr<CredentialsProvider> p, const Clock& clk)
      : config(std::move(c)), credentials(std::move(p)), clock(clk), addressing(config) {
    detail::ensure_curl_global_init();
    if (config.max_attempts < 1) config.max_attempts = 1;
    if (config.part_size < 5 * 1024 * 1024) config.part_size = 5 * 1024 * 1024;
  }

  std::string uri(const Request& r) const {
    return "s3://" + r.bucket + (r.object_level || !r.key.empty() ? "/" + r.key : std::string());
  }

  detail::CurlHandle acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      while (!pool.empty()) {
        detail::CurlHandle h = std::move(pool.back());
        pool.pop_back();
        // Bytes that arrived on an idle connection after its last response
        // belong to no request: drop the handle and its connection.
        if (unread_bytes_on_connection(h.get())) continue;
        curl_easy_reset(h.get());
        return h;
      }
    }
    detail::CurlHandle h(curl_easy_init());
    if (!h) throw S3Error("S3: curl_easy_init failed", 0, "ClientError");
    return h;
  }
  void release(detail::CurlHandle h) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.size() < 16) pool.push_back(std::move(h));
  }

  std::chrono::milliseconds backoff(int failures) {
    // "Full jitter": uniform in [0, min(max, base * 2^(n-1))].
    const auto cap = std::min<long long>(config.max_backoff.count(),
                                         config.base_backoff.count() * (1LL << std::min(failures - 1, 20)));
    std::lock_guard<std::mutex> lock(rng_mutex);
    std::uniform_int_distribution<long long> dist(0, std::max<long long>(cap, 0));
    return std::chrono::milliseconds(dist(rng));
  }

  // One attempt. Returns the curl code; fills `t`.
  CURLcode perform_once(const Request& r, Transfer& t, std::string& curl_message) {
    const Credentials creds = credentials->get();
    const auto [host, path] = addressing.target(r.bucket, r.key, r.object_level);
    SigningInput in;
    in.method = r.method;
    in.canonical_path = path;
    in.query = r.query;
    in.host = host;
    in.headers = r.headers;
    in.region = config.region;
    in.service = "s3";
    in.time = clock.now();
    in.payload_hash = !r.payload_hash.empty() ? r.payload_hash
                                              : (r.send_body ? crypto::sha256_hex(r.body) : std::string(kEmptyPayloadHash));
    const SignedRequest signed_request = sign_v4(in, creds);

    // The wire URL reuses the exact encoded path and query that were signed.
    std::string url = addressing.scheme() + "://" + host + path;
    if (!signed_request.canonical_query.empty()) url += "?" + signed_request.canonical_query;

    detail::Slist headers;
    auto add = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next == nullptr) throw S3Error("S3: out of memory", 0, "ClientError");
      headers.release();
      headers.reset(next);
    };
    add("Host: " + host);
    for (const auto& [k, v] : r.headers) add(k + ": " + v);
    for (const auto& [k, v] : signed_request.headers) add(k + ": " + v);
    add("Expect:");  // no 100-continue round trip; S3 answers errors after the body anyway
    if (!r.send_body && r.method != "HEAD" && r.method != "GET") add("Content-Length: 0");

    detail::CurlHandle handle = acquire();
    CURL* c = handle.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    // The key is sent exactly as stored and signed: libcurl would otherwise
    // squash "./" and "../" segments into another key (or bucket).
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    if (r.timeout.count() > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    t.body_cap = r.body_cap;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, config.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(config.low_speed_time.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, config.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, config.verify_tls ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, config.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (r.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (r.send_body) {
      t.upload = r.body;
      t.upload_pos = 0;
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(c, CURLOPT_READDATA, &t);
      curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
      if (r.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    } else if (r.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0) t.response.status = status;
    curl_message = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    if (rc != CURLE_OK) return rc;  // a failed connection is not reused
    if (unread_bytes_on_connection(c)) {
      curl_message = "the response was longer than its Content-Length (connection discarded)";
      t.too_long = true;
      return rc;  // the handle, and its connection, die here
    }
    release(std::move(handle));
    return rc;
  }

  [[noreturn]] void throw_status(const Request& r, const Response& resp) {
    const xml::ErrorBody e = xml::parse_error_body(resp.body);
    const std::string code = !e.code.empty() ? e.code : status_code_name(resp.status);
    std::string message = e.message;
    if (message.empty()) {
      message = resp.status == 404 ? "The specified key does not exist."
                                   : "no error document (HTTP " + std::to_string(resp.status) + ")";
    }
    const std::string request_id = !e.request_id.empty() ? e.request_id : resp.header("x-amz-request-id");
    throw S3Error(r.op + " " + uri(r) + ": " + std::to_string(resp.status) + " " + code + ": " + message,
                  static_cast<int>(resp.status), code, request_id);
  }

  bool retryable_status(const Response& resp, std::string* code_out) {
    if (resp.status >= 500 || resp.status == 429) return true;
    const xml::ErrorBody e = xml::parse_error_body(resp.body);
    if (code_out != nullptr) *code_out = e.code;
    return retryable_code(e.code);
  }

  bool maybe_refresh_credentials(const Response& resp) {
    if (resp.status != 400 && resp.status != 403) return false;
    const xml::ErrorBody e = xml::parse_error_body(resp.body);
    if (e.code != "ExpiredToken" && e.code != "InvalidToken" && e.code != "TokenRefreshRequired") return false;
    if (auto* chain = dynamic_cast<CredentialsChain*>(credentials.get())) {
      chain->invalidate();
      return true;
    }
    return false;
  }

  void wait_before_retry(const Request& r, int failures, long status, const std::string& why) {
    const auto delay = backoff(failures);
    log::warn(kModule, "retrying S3 request",
              {{"op", r.op}, {"uri", uri(r)}, {"attempt", failures + 1}, {"status", status}, {"reason", why},
               {"delay_ms", delay.count()}});
    std::this_thread::sleep_for(delay);
  }

  // Runs a non-streaming request with retries; returns the 2xx response.
  Response execute(const Request& r) {
    int failures = 0;
    bool refreshed = false;
    for (;;) {
      Transfer t;
      std::string curl_message;
      const CURLcode rc = perform_once(r, t, curl_message);
      if (rc == CURLE_OK && t.success_status() && !t.too_long) return std::move(t.response);
      ++failures;
      if (rc != CURLE_OK || t.too_long) {
        if ((!retryable_curl(rc) && !t.too_long) || failures >= config.max_attempts) {
          throw S3Error(r.op + " " + uri(r) + ": connection error: " + curl_message + " (after " +
                            std::to_string(failures) + " attempt" + (failures == 1 ? "" : "s") + ")",
                        0, "ConnectionError");
        }
        wait_before_retry(r, failures, 0, curl_message);
        continue;
      }
      if (!refreshed && maybe_refresh_credentials(t.response)) {
        refreshed = true;
        continue;
      }
      std::string code;
      if (!retryable_status(t.response, &code) || failures >= config.max_attempts) throw_status(r, t.response);
      wait_before_retry(r, failures, t.response.status, code.empty() ? status_code_name(t.response.status) : code);
    }
  }

  GetResult get(const std::string& bucket, const std::string& key, const ByteSink& sink, const GetOptions& options) {
    Request r;
    r.op = "GetObject";
    r.method = "GET";
    r.bucket = bucket;
    r.key = key;
    GetResult result;
    result.object.key = key;
    std::string etag = options.if_match;  // the version we are reading, once known
    bool have_object = false;
    int failures = 0;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + config.object_timeout;
    const auto past_deadline = [&] {
      return S3Error("GetObject " + uri(r) + ": not complete after " + std::to_string(config.object_timeout.count()) +
                         " s (S3_OBJECT_TIMEOUT) with " + std::to_string(options.offset + result.bytes) + " bytes read",
                     0, "ObjectTimeout");
    };
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw past_deadline();
      r.timeout = std::max(left, std::chrono::milliseconds(1));
      const std::uint64_t next = options.offset + result.bytes;
      r.headers.clear();
      if (next > 0) r.headers.emplace_back("Range", "bytes=" + std::to_string(next) + "-");
      if (!etag.empty()) r.headers.emplace_back("If-Match", etag);

      Transfer t;
      t.sink = &sink;
      t.on_body_start = [&](const Response& resp) {
        const std::string served = resp.header("etag");
        if (have_object && served != etag) {
          throw S3Error("GetObject " + uri(r) + ": object changed during download (ETag " + etag + " became " +
                            served + "); not splicing two versions",
                        static_cast<int>(resp.status), "ObjectChanged");
        }
        if (next > 0) {
          const auto [start, total] = parse_content_range(resp.header("content-range"));
          if (resp.status != 206 || start != next) {
            throw S3Error("GetObject " + uri(r) + ": server ignored Range bytes=" + std::to_string(next) + "-",
                          static_cast<int>(resp.status), "RangeIgnored");
          }
          result.object.size = total;
        } else {
          result.object.size = content_length(resp, "GetObject " + uri(r)).value_or(0);
        }
        if (!have_object) {
          etag = served;
          have_object = true;
          result.object.etag = served;
          result.object.last_modified = resp.header("last-modified");
          result.object.content_type = resp.header("content-type");
        }
      };
      std::string curl_message;
      const CURLcode rc = perform_once(r, t, curl_message);
      result.bytes += t.delivered;
      if (t.error) std::rethrow_exception(t.error);
      if (t.too_long) {
        // Bytes beyond the announced length: what was read cannot be trusted.
        throw S3Error("GetObject " + uri(r) + ": " + curl_message, static_cast<int>(t.response.status),
                      "InvalidResponse");
      }
      if (rc == CURLE_OPERATION_TIMEDOUT && std::chrono::steady_clock::now() >= deadline) throw past_deadline();
      if (rc == CURLE_OK && t.success_status()) {
        if (!t.body_started) t.on_body_start(t.response);  // empty body: still record the object
        if (have_object && result.object.size != 0 && options.offset + result.bytes != result.object.size) {
          // The server closed cleanly but short: treat like a cut connection.
          ++failures;
          if (failures >= config.max_attempts) {
            throw S3Error("GetObject " + uri(r) + ": body ended early at byte " +
                              std::to_string(options.offset + result.bytes) + " of " +
                              std::to_string(result.object.size),
                          0, "IncompleteBody");
          }
          ++result.resumes;
          continue;
        }
        return result;
      }
      if (t.delivered > 0) failures = 0;  // progress: a resume is not a failed attempt
      ++failures;
      if (rc != CURLE_OK) {
        if (!retryable_curl(rc) || failures >= config.max_attempts) {
          throw S3Error("GetObject " + uri(r) + ": connection error: " + curl_message + " after " +
                            std::to_string(result.bytes) + " bytes",
                        0, "ConnectionError");
        }
        if (result.bytes > 0 || t.delivered > 0) ++result.resumes;
        wait_before_retry(r, failures, 0, curl_message);
        continue;
      }
      if (t.response.status == 412 && have_object) {
        throw S3Error("GetObject " + uri(r) + ": 412 PreconditionFailed: object changed during download (ETag " +
                          etag + " no longer current); not splicing two versions",
                      412, "ObjectChanged");
      }
      std::string code;
      if (!retryable_status(t.response, &code) || failures >= config.max_attempts) throw_status(r, t.response);
      wait_before_retry(r, failures, t.response.status, code.empty() ? status_code_name(t.response.status) : code);
    }
  }
};

// ---------------------------------------------------------------------------

CurlS3Client::CurlS3Client(S3Config config, std::shared_ptr<CredentialsProvider> credentials, const Clock& clock)
    : config_(config), impl_(std::make_unique<Impl>(std::move(config), std::move(credentials), clock)) {}

CurlS3Client::~CurlS3Client() = default;

std::string CurlS3Client::object_url(const std::string& bucket, const std::string& key) const {
  const auto [host, path] = impl_->addressing.target(bucket, key, true);
  return impl_->addressing.scheme() + "://" + host + path;
}

ObjectInfo CurlS3Client::head_object(const std::string& bucket, const std::string& key) {
  Request r;
  r.op = "HeadObject";
  r.method = "HEAD";
  r.bucket = bucket;
  r.key = key;
  const Response resp = impl_->execute(r);
  ObjectInfo info;
  info.key = key;
  info.size = content_length(resp, "HeadObject s3://" + bucket + "/" + key).value_or(0);
  info.etag = resp.header("etag");
  info.last_modified = resp.header("last-modified");
  info.content_type = resp.header("content-type");
  return info;
}

GetResult CurlS3Client::get_object(const std::string& bucket, const std::string& key, const ByteSink& sink,
                                   const GetOptions& options) {
  return impl_->get(bucket, key, sink, options);
}

ListPage CurlS3Client::list_objects_page(const std::string& bucket, const ListOptions& options) {
  Request r;
  r.op = "ListObjectsV2";
  r.method = "GET";
  r.bucket = bucket;
  r.key = options.prefix;  // for messages only
  r.object_level = false;
  r.query.push_back({"list-type", "2"});
  if (!options.prefix.empty()) r.query.push_back({"prefix", options.prefix});
  if (!options.delimiter.empty()) r.query.push_back({"delimiter", options.delimiter});
  if (!options.continuation_token.empty()) r.query.push_back({"continuation-token", options.continuation_token});
  if (options.max_keys > 0) r.query.push_back({"max-keys", std::to_string(options.max_keys)});
  r.body_cap = kListPageCap;
  const Response resp = impl_->execute(r);
  return xml::parse_list_objects_v2(resp.body, "ListObjectsV2 s3://" + bucket + "/" + options.prefix);
}

ObjectInfo CurlS3Client::put_object(const std::string& bucket, const std::string& key, std::string_view body,
                                    const PutOptions& options) {
  Request r;
  r.op = "PutObject";
  r.method = "PUT";
  r.bucket = bucket;
  r.key = key;
  r.body = body;
  r.send_body = true;
  r.headers.emplace_back("Content-Type", options.content_type);
  const Response resp = impl_->execute(r);
  ObjectInfo info;
  info.key = key;
  info.size = body.size();
  info.etag = resp.header("etag");
  info.content_type = options.content_type;
  return info;
}

ObjectInfo CurlS3Client::put_object_stream(const std::string& bucket, const std::string& key,
                                           const ByteSource& source, const PutOptions& options) {
  const std::size_t part_size = impl_->config.part_size;
  PartBuffer buffer(part_size);
  auto fill = [&]() { return buffer.fill(source); };

  std::size_t used = fill();
  if (used < part_size) {
    // Fits in one request: a plain PutObject.
    return put_object(bucket, key, std::string_view(buffer.data(), used), options);
  }

  Request create;
  create.op = "CreateMultipartUpload";
  create.method = "POST";
  create.bucket = bucket;
  create.key = key;
  create.query.push_back({"uploads", ""});
  create.headers.emplace_back("Content-Type", options.content_type);
  const Response created = impl_->execute(create);
  const std::string upload_id = xml::parse_upload_id(created.body);
  if (upload_id.empty()) {
    throw S3Error("CreateMultipartUpload s3://" + bucket + "/" + key + ": no UploadId in the response", 200,
                  "MalformedXML");
  }

  std::vector<std::string> etags;
  std::uint64_t total = 0;
  try {
    for (int part = 1; used > 0; ++part) {
      if (part > 10000) {
        throw S3Error("UploadPart s3://" + bucket + "/" + key + ": more than 10000 parts; raise the part size", 0,
                      "TooManyParts");
      }
      Request up;
      up.op = "UploadPart";
      up.method = "PUT";
      up.bucket = bucket;
      up.key = key;
      up.query.push_back({"partNumber", std::to_string(part)});
      up.query.push_back({"uploadId", upload_id});
      up.body = std::string_view(buffer.data(), used);
      up.send_body = true;
      const Response resp = impl_->execute(up);
      etags.push_back(resp.header("etag"));
      total += used;
      used = fill();
    }

    std::string parts_xml = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags.size(); ++i) {
      parts_xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + xml::escape(etags[i]) +
                   "</ETag></Part>";
    }
    parts_xml += "</CompleteMultipartUpload>";
    Request complete;
    complete.op = "CompleteMultipartUpload";
    complete.method = "POST";
    complete.bucket = bucket;
    complete.key = key;
    complete.query.push_back({"uploadId", upload_id});
    complete.headers.emplace_back("Content-Type", "application/xml");
    complete.body = parts_xml;
    complete.send_body = true;
    Response done = impl_->execute(complete);
    // S3 may answer 200 and still report an error in the body.
    const xml::ErrorBody err = xml::parse_error_body(done.body);
    if (!err.code.empty()) {
      throw S3Error("CompleteMultipartUpload s3://" + bucket + "/" + key + ": 200 " + err.code + ": " + err.message,
                    200, err.code, err.request_id);
    }
    ObjectInfo info;
    info.key = key;
    info.size = total;
    info.content_type = options.content_type;
    info.etag = xml::parse_complete_etag(done.body);
    return info;
  } catch (...) {
    // Abort so S3 does not keep (and bill) the parts; the original error wins.
    try {
      Request abort;
      abort.op = "AbortMultipartUpload";
      abort.method = "DELETE";
      abort.bucket = bucket;
      abort.key = key;
      abort.query.push_back({"uploadId", upload_id});
      impl_->execute(abort);
    } catch (const std::exception& e) {
      log::warn(kModule, "abort of multipart upload failed",
                {{"uri", "s3://" + bucket + "/" + key}, {"error", e.what()}});
    }
    throw;
  }
}

void CurlS3Client::delete_object(const std::string& bucket, const std::string& key) {
  Request r;
  r.op = "DeleteObject";
  r.method = "DELETE";
  r.bucket = bucket;
  r.key = key;
  impl_->execute(r);
}

}  // namespace catalog::s3
