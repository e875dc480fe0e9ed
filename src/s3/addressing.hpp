#pragma once

// Where a request for s3://bucket/key goes: the endpoint (AWS or S3_ENDPOINT),
// path or virtual-hosted style, and the Host header and encoded path that are
// both signed (SigV4's host header and canonical URI) and sent.

#include <string>

#include "catalog/s3/s3_client.hpp"

namespace catalog::s3::detail {

struct Endpoint {
  std::string scheme;     // "http" / "https"
  std::string host;       // host[:port] exactly as written
  std::string base_path;  // "" or "/prefix" without trailing slash
};

/// Parses S3_ENDPOINT; throws ConfigError saying what is wrong.
Endpoint parse_endpoint(const std::string& url);

/// The Host header value and the URI-encoded path of one request.
struct Target {
  std::string host;
  std::string path;
};

class Addressing {
 public:
  explicit Addressing(const S3Config& config);

  /// Path style (`host/bucket/key`) or virtual-hosted (`bucket.host/key`):
  /// S3_FORCE_PATH_STYLE when set, else path style with S3_ENDPOINT and
  /// virtual-hosted on AWS; a bucket with a dot is always path style (the
  /// TLS wildcard certificate does not cover it).
  bool path_style(const std::string& bucket) const;

  /// `object_level`: the key is part of the path (objects); false for
  /// bucket-level requests (ListObjectsV2), whose path is the bucket's root.
  /// Throws BadRequest for a bucket name that cannot be a host label.
  Target target(const std::string& bucket, const std::string& key, bool object_level) const;

  const std::string& scheme() const { return endpoint_.scheme; }

 private:
  Endpoint endpoint_;
  bool custom_endpoint_ = false;
  bool force_path_style_ = false;
  bool path_style_set_ = false;
  std::string region_;
};

}  // namespace catalog::s3::detail
