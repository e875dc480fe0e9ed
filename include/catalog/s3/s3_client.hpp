#pragma once

// libcurl implementation of ObjectStore: SigV4 on every request, virtual-hosted
// or path-style addressing, timeouts, retries with backoff and jitter, resume.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "catalog/core/clock.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/object_store.hpp"

namespace catalog::s3 {

/// How to reach S3. The config module fills it from AWS_REGION /
/// AWS_DEFAULT_REGION, S3_ENDPOINT and S3_FORCE_PATH_STYLE.
struct S3Config {
  std::string region = "us-east-1";
  /// Empty: AWS (`https://bucket.s3.REGION.amazonaws.com`). Otherwise the base
  /// URL of an S3-compatible store, e.g. `http://127.0.0.1:9000`.
  std::string endpoint;
  /// Path style (`endpoint/bucket/key`) when true, virtual-hosted
  /// (`bucket.endpoint/key`) when false. Unset (S3_FORCE_PATH_STYLE not
  /// given): path style with a custom endpoint, virtual-hosted on AWS. A
  /// bucket name with a dot is always path style (TLS wildcard certificate).
  std::optional<bool> force_path_style;
  bool verify_tls = true;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  /// A transfer slower than low_speed_bytes per second for low_speed_time fails (and is retried/resumed).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  /// Whole-object bound on a download, resumes included: a body that drips
  /// a byte at a time would otherwise keep a job worker for ever
  /// (S3_OBJECT_TIMEOUT, seconds).
  std::chrono::seconds object_timeout{6 * 3600};
  /// Attempts per request, the first included.
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{100};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(10)};
  /// Part size of multipart uploads (S3 minimum 5 MiB except the last part).
  std::size_t part_size = 8 * 1024 * 1024;
  std::string user_agent = "catalog-api";
};

/// Reads S3Config from the environment names docs/runbook.md lists; throws
/// catalog::ConfigError naming the variable on a malformed value.
S3Config s3_config_from_env(const EnvLookup& env);

class CurlS3Client final : public ObjectStore {
 public:
  /// `credentials` and `clock` must outlive the client.
  CurlS3Client(S3Config config, std::shared_ptr<CredentialsProvider> credentials, const Clock& clock);
  ~CurlS3Client() override;

  ObjectInfo head_object(const std::string& bucket, const std::string& key) override;
  GetResult get_object(const std::string& bucket, const std::string& key, const ByteSink& sink,
                       const GetOptions& options = {}) override;
  ListPage list_objects_page(const std::string& bucket, const ListOptions& options) override;
  ObjectInfo put_object(const std::string& bucket, const std::string& key, std::string_view body,
                        const PutOptions& options = {}) override;
  ObjectInfo put_object_stream(const std::string& bucket, const std::string& key, const ByteSource& source,
                               const PutOptions& options = {}) override;
  void delete_object(const std::string& bucket, const std::string& key) override;

  /// The URL a request for bucket/key goes to (for logs and tests).
  std::string object_url(const std::string& bucket, const std::string& key) const;
  const S3Config& config() const noexcept { return config_; }

 private:
  struct Impl;
  S3Config config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::s3
