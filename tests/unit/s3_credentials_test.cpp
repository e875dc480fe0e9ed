// Credential sources and the caching chain, without network: environment and
// shared-file sources read injected values; the chain is driven by fake sources
// and a FixedClock.

#include "catalog/s3/credentials.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/core/errors.hpp"
#include "catalog/s3/object_store.hpp"
#include "catalog/s3/s3_client.hpp"

namespace catalog::s3 {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& n) -> std::optional<std::string> {
    auto it = values.find(n);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

class FakeSource final : public CredentialsSource {
 public:
  FakeSource(const Clock& clock, seconds ttl) : clock_(clock), ttl_(ttl) {}
  std::string name() const override { return "fake"; }
  std::optional<Credentials> fetch() override {
    const int n = ++fetches;
    std::this_thread::sleep_for(milliseconds(5));  // widen the race window
    if (fail) throw UpstreamError("fake source down");
    return Credentials{"AK" + std::to_string(n), Secret("SECRET" + std::to_string(n)), Secret("TOKEN"),
                       clock_.now() + ttl_, "fake"};
  }
  std::atomic<int> fetches{0};
  std::atomic<bool> fail{false};

 private:
  const Clock& clock_;
  seconds ttl_;
};

TEST(S3Credentials, EnvironmentSourceReadsKeysAndToken) {
  auto src = make_environment_source(env_of({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                             {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                             {"AWS_SESSION_TOKEN", "env-token"}}));
  const auto c = src->fetch();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key.reveal(), "env-secret");
  EXPECT_EQ(c->session_token.reveal(), "env-token");
  EXPECT_FALSE(c->expiration);
  EXPECT_FALSE(make_environment_source(env_of({}))->fetch());
}

TEST(S3Credentials, HalfConfiguredEnvironmentNamesTheMissingVariableNotTheSecret) {
  try {
    make_environment_source(env_of({{"AWS_SECRET_ACCESS_KEY", "s3cr3t-value"}}))->fetch();
    FAIL();
  } catch (const UpstreamError& e) {
    EXPECT_THAT(e.what(), HasSubstr("AWS_ACCESS_KEY_ID"));
    EXPECT_THAT(e.what(), Not(HasSubstr("s3cr3t-value")));
  }
}

TEST(S3Credentials, ProfileSourceReadsTheNamedProfile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("creds-" + std::to_string(std::random_device{}()));
  std::ofstream(path) << "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d-secret\n\n"
                         "# comment\n[etl]\naws_access_key_id=AKIAETL\naws_secret_access_key=etl-secret\n"
                         "aws_session_token = etl-token\n";
  auto def = make_profile_source(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path.string()}}))->fetch();
  ASSERT_TRUE(def);
  EXPECT_EQ(def->access_key_id, "AKIADEFAULT");
  auto etl = make_profile_source(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path.string()}, {"AWS_PROFILE", "etl"}}))
                 ->fetch();
  ASSERT_TRUE(etl);
  EXPECT_EQ(etl->access_key_id, "AKIAETL");
  EXPECT_EQ(etl->secret_access_key.reveal(), "etl-secret");
  EXPECT_EQ(etl->session_token.reveal(), "etl-token");
  EXPECT_THROW(
      make_profile_source(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path.string()}, {"AWS_PROFILE", "nope"}}))->fetch(),
      UpstreamError);
  std::filesystem::remove(path);
  EXPECT_FALSE(make_profile_source(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path.string()}}))->fetch());
}

TEST(S3Credentials, ContainerSourceRefusesPlainHttpToNonLocalHosts) {
  auto src = make_container_source(env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  EXPECT_THROW(src->fetch(), UpstreamError);
  EXPECT_FALSE(make_container_source(env_of({}))->fetch());
  EXPECT_FALSE(make_imds_source(env_of({{"AWS_EC2_METADATA_DISABLED", "true"}}))->fetch());
}

TEST(S3Credentials, EnvironmentComesFirstInTheDefaultChain) {
  FixedClock clock(system_clock::now());
  auto chain = default_credentials_chain(
      env_of({{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "x"},
              {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/never-called"}}),
      clock);
  EXPECT_EQ(chain->get().source, "environment");
}

TEST(S3Credentials, ChainCachesAndRefreshesBeforeExpiry) {
  FixedClock clock(system_clock::from_time_t(1700000000));
  auto owned = std::make_unique<FakeSource>(clock, minutes(15));
  FakeSource* fake = owned.get();
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(std::move(owned));
  CredentialsChain chain(std::move(sources), clock);
  EXPECT_EQ(chain.get().access_key_id, "AK1");
  clock.advance(minutes(9));
  EXPECT_EQ(chain.get().access_key_id, "AK1");  // 6 minutes left: still cached
  clock.advance(minutes(2));
  EXPECT_EQ(chain.get().access_key_id, "AK2");  // 4 minutes left: refreshed
  EXPECT_EQ(fake->fetches.load(), 2);
}

TEST(S3Credentials, ChainKeepsValidCredentialsWhenRefreshFailsAndFailsAfterExpiry) {
  FixedClock clock(system_clock::from_time_t(1700000000));
  auto owned = std::make_unique<FakeSource>(clock, minutes(15));
  FakeSource* fake = owned.get();
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(std::move(owned));
  CredentialsChain chain(std::move(sources), clock);
  chain.get();
  fake->fail = true;
  clock.advance(minutes(12));
  EXPECT_EQ(chain.get().access_key_id, "AK1");
  clock.advance(minutes(4));
  EXPECT_THROW(chain.get(), UpstreamError);
}

TEST(S3Credentials, ConcurrentCallersShareOneFetch) {
  FixedClock clock(system_clock::from_time_t(1700000000));
  auto owned = std::make_unique<FakeSource>(clock, hours(1));
  FakeSource* fake = owned.get();
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(std::move(owned));
  CredentialsChain chain(std::move(sources), clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) ok += chain.get().access_key_id == "AK1";
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16 * 50);
  EXPECT_EQ(fake->fetches.load(), 1);
}

TEST(S3Credentials, ChainWithNothingConfiguredSaysWhatItTried) {
  FixedClock clock(system_clock::now());
  auto chain = default_credentials_chain(env_of({{"AWS_EC2_METADATA_DISABLED", "true"}}), clock);
  try {
    chain->get();
    FAIL();
  } catch (const UpstreamError& e) {
    EXPECT_THAT(e.what(), HasSubstr("environment, ecs, profile, imds"));
  }
}

TEST(S3Credentials, ParsesIso8601Expiration) {
  EXPECT_EQ(system_clock::to_time_t(parse_iso8601_utc("2023-11-14T22:13:20Z")), 1700000000);
  EXPECT_EQ(system_clock::to_time_t(parse_iso8601_utc("2023-11-14T22:13:20.123+00:00")), 1700000000);
  EXPECT_THROW(parse_iso8601_utc("yesterday"), std::invalid_argument);
}

// --- client configuration and addressing (no requests are sent) ------------

class NoCredentials final : public CredentialsProvider {
 public:
  Credentials get() override { throw UpstreamError("not used"); }
};

TEST(S3ClientConfig, VirtualHostedOnAwsPathStyleWithEndpoint) {
  SystemClock clock;
  auto creds = std::make_shared<NoCredentials>();
  S3Config aws;
  aws.region = "eu-west-1";
  CurlS3Client on_aws(aws, creds, clock);
  EXPECT_EQ(on_aws.object_url("raw-feeds", "partners/acme/a b+c.csv"),
            "https://raw-feeds.s3.eu-west-1.amazonaws.com/partners/acme/a%20b%2Bc.csv");
  EXPECT_EQ(on_aws.object_url("dotted.bucket", "k"), "https://s3.eu-west-1.amazonaws.com/dotted.bucket/k");
  aws.force_path_style = true;
  EXPECT_EQ(CurlS3Client(aws, creds, clock).object_url("raw-feeds", "k"),
            "https://s3.eu-west-1.amazonaws.com/raw-feeds/k");
  S3Config local;
  local.endpoint = "http://127.0.0.1:9000/";
  EXPECT_EQ(CurlS3Client(local, creds, clock).object_url("b", "x/\xC3\xBC.csv"), "http://127.0.0.1:9000/b/x/%C3%BC.csv");
}

TEST(S3ClientConfig, ReadsDesignEnvironmentNames) {
  auto c = s3_config_from_env(env_of({{"AWS_DEFAULT_REGION", "eu-central-1"}, {"S3_ENDPOINT", "http://minio:9000"},
                                      {"S3_FORCE_PATH_STYLE", "true"}}));
  EXPECT_EQ(c.region, "eu-central-1");
  EXPECT_EQ(c.endpoint, "http://minio:9000");
  EXPECT_EQ(c.force_path_style, std::optional<bool>(true));
  EXPECT_EQ(s3_config_from_env(env_of({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "x"}})).region,
            "us-west-2");
  try {
    s3_config_from_env(env_of({{"S3_FORCE_PATH_STYLE", "maybe"}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("S3_FORCE_PATH_STYLE"));
  }
  EXPECT_THROW(s3_config_from_env(env_of({{"S3_ENDPOINT", "minio:9000"}})), ConfigError);
}

TEST(S3ClientConfig, ParsesS3Uris) {
  const auto u = S3Uri::parse("s3://raw/partners/acme/feed.csv");
  EXPECT_EQ(u.bucket, "raw");
  EXPECT_EQ(u.key, "partners/acme/feed.csv");
  EXPECT_EQ(u.str(), "s3://raw/partners/acme/feed.csv");
  EXPECT_THROW(S3Uri::parse("https://raw/x"), BadRequest);
  EXPECT_THROW(S3Uri::parse("s3:///x"), BadRequest);
}

TEST(S3ClientConfig, ErrorCarriesStatusAndCode) {
  const S3Error e("GetObject s3://b/k: 403 AccessDenied: Access Denied", 403, "AccessDenied", "REQ1");
  const UpstreamError& base = e;
  EXPECT_STREQ(base.what(), "GetObject s3://b/k: 403 AccessDenied: Access Denied");
  EXPECT_EQ(e.status(), 403);
  EXPECT_EQ(e.code(), "AccessDenied");
  EXPECT_THAT(e.internal(), HasSubstr("REQ1"));
}

}  // namespace
}  // namespace catalog::s3
