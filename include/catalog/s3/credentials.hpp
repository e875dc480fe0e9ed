#pragma once

// AWS credentials and the provider chain the AWS SDKs use:
// environment → ECS container credentials → shared credentials file → EC2 IMDSv2.
// https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/core/clock.hpp"
#include "catalog/core/env.hpp"
#include "catalog/core/secret.hpp"

namespace catalog::s3 {

/// One set of AWS credentials. The secret key and session token are Secrets,
/// so they never reach a log line or an error message by accident.
struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  ///< empty for long-term keys
  /// When temporary credentials stop working; empty for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
  /// Which source produced them ("environment", "ecs", "profile", "imds", "static").
  std::string source;
};

using catalog::EnvLookup;  // core/env.hpp

/// Anything that can hand out credentials. Implementations are thread-safe.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials; throws catalog::UpstreamError when none can be had.
  virtual Credentials get() = 0;
};

/// Fixed credentials (tests, or keys passed explicitly).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials) : credentials_(std::move(credentials)) {}
  Credentials get() override { return credentials_; }

 private:
  Credentials credentials_;
};

/// One source of the chain. `fetch` returns nullopt when the source is not
/// configured here (so the chain moves on) and throws when it is configured
/// but fails (so a broken ECS endpoint is reported, not silently skipped).
class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;
  virtual std::string name() const = 0;
  virtual std::optional<Credentials> fetch() = 0;
};

/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
std::unique_ptr<CredentialsSource> make_environment_source(EnvLookup env);
/// ECS task role: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
/// AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN or
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch, as EKS rotates it).
std::unique_ptr<CredentialsSource> make_container_source(EnvLookup env);
/// Shared credentials file: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials),
/// profile AWS_PROFILE (default "default").
std::unique_ptr<CredentialsSource> make_profile_source(EnvLookup env);
/// EC2 instance metadata, IMDSv2 only (token first). Disabled by
/// AWS_EC2_METADATA_DISABLED=true; endpoint from AWS_EC2_METADATA_SERVICE_ENDPOINT.
std::unique_ptr<CredentialsSource> make_imds_source(EnvLookup env);

struct CachingOptions {
  /// Refresh temporary credentials this long before they expire.
  std::chrono::seconds refresh_before_expiry{std::chrono::minutes(5)};
};

/// Walks its sources in order, caches the first credentials found and fetches
/// again only when they are about to expire. One fetch at a time; concurrent
/// callers wait for it and share the result.
class CredentialsChain final : public CredentialsProvider {
 public:
  CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources, const Clock& clock,
                   CachingOptions options = {});
  Credentials get() override;
  /// Drops the cache (e.g. after a 403 ExpiredToken).
  void invalidate();

 private:
  bool fresh_locked() const;

  std::vector<std::unique_ptr<CredentialsSource>> sources_;
  const Clock& clock_;
  CachingOptions options_;
  std::mutex mutex_;
  std::optional<Credentials> cached_;
};

/// The SDK-order chain over `env`: environment, container, profile, IMDSv2.
std::unique_ptr<CredentialsChain> default_credentials_chain(EnvLookup env, const Clock& clock,
                                                            CachingOptions options = {});

/// Parses an ISO 8601 UTC timestamp such as "2024-05-01T12:00:00Z" (as ECS and
/// IMDS send Expiration). Throws std::invalid_argument on anything else.
std::chrono::system_clock::time_point parse_iso8601_utc(const std::string& text);

}  // namespace catalog::s3
