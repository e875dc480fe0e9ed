#pragma once

// The S3 operations the ETL and the feed upload need, behind an interface so
// unit tests of those modules can use a fake. CurlS3Client (s3_client.hpp) is
// the production implementation.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/core/errors.hpp"

namespace catalog::s3 {

/// An S3 failure. what() is one line: `GetObject s3://bucket/key: 403 AccessDenied: Access Denied`.
/// status() is the HTTP status (0 when no response arrived), code() the S3
/// error code ("NoSuchKey", "SlowDown", ...; a local code such as
/// "ConnectionError" or "ObjectChanged" when S3 did not send one).
class S3Error : public UpstreamError {
 public:
  S3Error(std::string message, int status, std::string code, std::string request_id = {})
      : UpstreamError(message, message + (request_id.empty() ? "" : " (request id " + request_id + ")")),
        status_(status),
        code_(std::move(code)),
        request_id_(std::move(request_id)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& request_id() const noexcept { return request_id_; }
  bool not_found() const noexcept { return status_ == 404; }

 private:
  int status_;
  std::string code_;
  std::string request_id_;
};

/// What HEAD, GET, PUT and LIST report about an object.
struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;           ///< as S3 sends it, with the quotes
  std::string last_modified;  ///< as S3 sends it (HTTP date for HEAD/GET, ISO 8601 in listings)
  std::string content_type;
};

/// Receives a GetObject body piece by piece, as it arrives. Throwing from it
/// aborts the download and the exception reaches the caller unchanged.
using ByteSink = std::function<void(const char* data, std::size_t size)>;

/// Fills `buffer` with up to `capacity` bytes of a body to upload and returns
/// how many it wrote; 0 means the end of the body.
using ByteSource = std::function<std::size_t(char* buffer, std::size_t capacity)>;

struct GetOptions {
  /// First byte to fetch (a `Range: bytes=offset-` request); 0 = whole object.
  std::uint64_t offset = 0;
  /// Fail with 412 unless the object still has this ETag (resume across calls).
  std::string if_match;
};

struct GetResult {
  ObjectInfo object;        ///< size is the whole object's size, etag the one served
  std::uint64_t bytes = 0;  ///< bytes handed to the sink
  int resumes = 0;          ///< how often a broken transfer was resumed
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  ///< empty on the last page
  bool truncated = false;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string continuation_token;
  int max_keys = 1000;
};

struct PutOptions {
  std::string content_type = "application/octet-stream";
};

/// The S3 operations the service uses. Every method throws S3Error on failure;
/// implementations are safe to call from several threads at once.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// HeadObject. A missing key is an S3Error with not_found().
  virtual ObjectInfo head_object(const std::string& bucket, const std::string& key) = 0;

  /// Streaming GetObject: bytes go to `sink` as they arrive, never the whole
  /// object in memory. A transfer cut mid-body is resumed from the last byte
  /// received with `Range` + `If-Match`, so a changed object fails (code
  /// "ObjectChanged" / 412) instead of being spliced.
  virtual GetResult get_object(const std::string& bucket, const std::string& key, const ByteSink& sink,
                               const GetOptions& options = {}) = 0;

  /// One ListObjectsV2 page.
  virtual ListPage list_objects_page(const std::string& bucket, const ListOptions& options) = 0;

  /// Every object under `prefix`, following continuation tokens.
  std::vector<ObjectInfo> list_objects(const std::string& bucket, const std::string& prefix) {
    std::vector<ObjectInfo> all;
    ListOptions options;
    options.prefix = prefix;
    for (;;) {
      ListPage page = list_objects_page(bucket, options);
      for (auto& o : page.objects) all.push_back(std::move(o));
      if (!page.truncated || page.next_continuation_token.empty()) break;
      options.continuation_token = page.next_continuation_token;
    }
    return all;
  }

  /// PutObject of a body held in memory (signed with its real SHA-256; retried).
  virtual ObjectInfo put_object(const std::string& bucket, const std::string& key, std::string_view body,
                                const PutOptions& options = {}) = 0;

  /// Upload of a body of unknown length read from `source`: one PutObject when
  /// it fits in one part, else a multipart upload (each part retried on its
  /// own; the upload is aborted if anything fails). Memory: one part.
  virtual ObjectInfo put_object_stream(const std::string& bucket, const std::string& key,
                                       const ByteSource& source, const PutOptions& options = {}) = 0;

  /// DeleteObject (deleting a missing key succeeds, as in S3).
  virtual void delete_object(const std::string& bucket, const std::string& key) = 0;
};

/// `s3://bucket/key` split in two; throws catalog::BadRequest when malformed.
struct S3Uri {
  std::string bucket;
  std::string key;
  static S3Uri parse(const std::string& uri);
  std::string str() const { return "s3://" + bucket + "/" + key; }
};

}  // namespace catalog::s3
