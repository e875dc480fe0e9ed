// The S3 client against a real S3-compatible server (s3rver) on loopback, with
// every request's SigV4 signature recomputed by botocore in the verifying proxy
// that scripts/lib/s3.sh starts in front of it. Faults (503s, cut connections)
// and the fake ECS credentials endpoint are the proxy's test controls.

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <chrono>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/s3/s3_client.hpp"
#include "catalog/s3/sigv4.hpp"
#include "s3/crypto.hpp"
#include "s3/curl_util.hpp"
#include "support/test_env.hpp"

namespace catalog::s3 {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using catalog::testing::required_env;

// Each test uses keys under its own random prefix: ctest runs tests in parallel
// against one server, and the proxy's faults and log are matched by key.
std::string unique_prefix(const std::string& name) {
  static std::atomic<int> n{0};
  std::random_device rd;
  return "it/" + name + "-" + std::to_string(rd() % 1000000) + "-" + std::to_string(n++) + "/";
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class OffsetClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now() + offset; }
  std::chrono::seconds offset{0};
};

class S3Integration : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = required_env("CATALOG_TEST_S3_ENDPOINT");
    bucket_ = required_env("CATALOG_TEST_S3_BUCKET");
    region_ = required_env("CATALOG_TEST_S3_REGION");
    access_key_ = required_env("CATALOG_TEST_S3_ACCESS_KEY_ID");
    secret_ = required_env("CATALOG_TEST_S3_SECRET_ACCESS_KEY");
  }

  S3Config config() const {
    S3Config c;
    c.endpoint = endpoint_;
    c.region = region_;
    c.base_backoff = std::chrono::milliseconds(10);
    c.max_backoff = std::chrono::milliseconds(100);
    c.part_size = 5 * 1024 * 1024;
    return c;
  }

  std::unique_ptr<CurlS3Client> client(const std::string& secret = {}, S3Config c = {}) {
    if (c.endpoint.empty()) c = config();
    auto creds = std::make_shared<StaticCredentialsProvider>(
        Credentials{access_key_, Secret(secret.empty() ? secret_ : secret), Secret(), std::nullopt, "static"});
    return std::make_unique<CurlS3Client>(c, creds, clock_);
  }

  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json& body = {}) {
    const auto resp = detail::simple_http(method, endpoint_ + path, {"Content-Type: application/json"},
                                          body.is_null() ? std::string() : body.dump(), 5000);
    EXPECT_LT(resp.status, 300) << path << ": " << resp.body;
    return resp.body.empty() ? nlohmann::json() : nlohmann::json::parse(resp.body);
  }

  void inject(const nlohmann::json& fault) { control("POST", "/__proxy/faults", fault); }

  // Requests the proxy saw for keys containing `needle`.
  nlohmann::json requests(const std::string& needle) {
    return control("GET", "/__proxy/log?key_contains=" + uri_encode(needle, false));
  }

  void expect_all_verified(const std::string& needle) {
    const auto log = requests(needle);
    ASSERT_FALSE(log.empty());
    for (const auto& e : log) EXPECT_TRUE(e["verified"].get<bool>()) << e.dump();
  }

  static std::string get_all(ObjectStore& s3, const std::string& bucket, const std::string& key,
                             GetResult* result = nullptr, GetOptions options = {}) {
    std::string out;
    GetResult r = s3.get_object(bucket, key, [&](const char* d, std::size_t n) { out.append(d, n); }, options);
    if (result != nullptr) *result = r;
    return out;
  }

  SystemClock clock_;
  std::string endpoint_, bucket_, region_, access_key_, secret_;
};

TEST_F(S3Integration, PutHeadGetAndListKeysWithHardCharacters) {
  const std::string prefix = unique_prefix("hard");
  const std::vector<std::string> keys = {
      prefix + "plain.csv",
      prefix + "with space/and+plus=eq&amp~tilde*star'quote.csv",
      prefix + "unicode-\xC3\xBC\xE2\x82\xAC-\xE1\x88\xB4.csv",
      prefix + "100%25 literal percent.csv",
  };
  auto s3 = client();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i]);
    const std::string body = "sku,name\n" + std::to_string(i) + ",item " + keys[i] + "\n";
    const ObjectInfo put = s3->put_object(bucket_, keys[i], body, PutOptions{"text/csv"});
    EXPECT_FALSE(put.etag.empty());
    const ObjectInfo head = s3->head_object(bucket_, keys[i]);
    EXPECT_EQ(head.size, body.size());
    EXPECT_EQ(head.etag, put.etag);
    GetResult result;
    EXPECT_EQ(get_all(*s3, bucket_, keys[i], &result), body);
    EXPECT_EQ(result.object.etag, put.etag);
    EXPECT_EQ(result.object.size, body.size());
  }
  std::vector<std::string> listed;
  for (const auto& o : s3->list_objects(bucket_, prefix)) listed.push_back(o.key);
  EXPECT_THAT(listed, ::testing::UnorderedElementsAreArray(keys));
  expect_all_verified(prefix);
}

TEST_F(S3Integration, RangeGetFromOffset) {
  const std::string key = unique_prefix("range") + "data.bin";
  const std::string body = random_bytes(100000, 1);
  auto s3 = client();
  s3->put_object(bucket_, key, body);
  GetResult result;
  GetOptions options;
  options.offset = 98765;
  EXPECT_EQ(get_all(*s3, bucket_, key, &result, options), body.substr(98765));
  EXPECT_EQ(result.object.size, body.size());
  EXPECT_EQ(result.bytes, body.size() - 98765);
  const auto log = requests(key);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["range"], "bytes=98765-");
}

TEST_F(S3Integration, ListFollowsContinuationTokensAcrossPages) {
  const std::string prefix = unique_prefix("list");
  auto s3 = client();
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) {
    keys.push_back(prefix + "part-" + std::to_string(i) + ".csv");
    s3->put_object(bucket_, keys.back(), "x");
  }
  s3->put_object(bucket_, prefix.substr(0, prefix.size() - 1) + "-sibling.csv", "not under the prefix");
  ListOptions options;
  options.prefix = prefix;
  options.max_keys = 3;
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    ListPage page = s3->list_objects_page(bucket_, options);
    ++pages;
    EXPECT_LE(page.objects.size(), 3u);
    for (const auto& o : page.objects) seen.push_back(o.key);
    if (!page.truncated) break;
    ASSERT_FALSE(page.next_continuation_token.empty());
    options.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, keys);
  EXPECT_EQ(s3->list_objects(bucket_, prefix).size(), 7u);
  expect_all_verified(prefix);
}

TEST_F(S3Integration, StreamedUploadOfUnknownLengthUsesMultipart) {
  const std::string key = unique_prefix("multipart") + "big feed.csv";
  const std::string body = random_bytes(12 * 1024 * 1024 + 4321, 2);
  std::size_t pos = 0;
  auto s3 = client();
  const ObjectInfo put = s3->put_object_stream(bucket_, key, [&](char* buf, std::size_t cap) {
    const std::size_t n = std::min<std::size_t>({cap, 777777, body.size() - pos});  // odd-sized reads
    std::memcpy(buf, body.data() + pos, n);
    pos += n;
    return n;
  });
  EXPECT_EQ(put.size, body.size());
  EXPECT_EQ(s3->head_object(bucket_, key).size, body.size());
  EXPECT_EQ(crypto::sha256_hex(get_all(*s3, bucket_, key)), crypto::sha256_hex(body));
  int creates = 0, parts = 0, completes = 0;
  for (const auto& e : requests(key)) {
    const std::string target = e["target"];
    if (e["method"] == "POST" && target.find("uploads") != std::string::npos) ++creates;
    if (e["method"] == "PUT" && target.find("partNumber=") != std::string::npos) ++parts;
    if (e["method"] == "POST" && target.find("uploadId=") != std::string::npos) ++completes;
  }
  EXPECT_EQ(creates, 1);
  EXPECT_EQ(parts, 3);
  EXPECT_EQ(completes, 1);
  expect_all_verified(key);
}

TEST_F(S3Integration, SmallStreamedUploadIsOnePut) {
  const std::string key = unique_prefix("small-stream") + "feed.csv";
  const std::string body = "a,b\n1,2\n";
  bool done = false;
  auto s3 = client();
  s3->put_object_stream(bucket_, key, [&](char* buf, std::size_t) {
    if (done) return std::size_t{0};
    done = true;
    std::memcpy(buf, body.data(), body.size());
    return body.size();
  });
  EXPECT_EQ(get_all(*s3, bucket_, key), body);
  EXPECT_EQ(requests(key)[0]["method"], "PUT");
}

TEST_F(S3Integration, FailedMultipartUploadIsAborted) {
  const std::string key = unique_prefix("abort") + "feed.csv";
  const std::string chunk(1024 * 1024, 'z');
  std::size_t given = 0;
  auto s3 = client();
  try {
    // Fails after the first 8 MiB part, i.e. with the multipart upload open.
    s3->put_object_stream(bucket_, key, [&](char* buf, std::size_t cap) -> std::size_t {
      if (given >= 9 * chunk.size()) throw std::runtime_error("source failed: disk gone");
      const std::size_t n = std::min(cap, chunk.size());
      std::memcpy(buf, chunk.data(), n);
      given += n;
      return n;
    });
    FAIL() << "expected the producer's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "source failed: disk gone");
  }
  bool aborted = false;
  for (const auto& e : requests(key)) {
    aborted |= e["method"] == "DELETE" && e["target"].get<std::string>().find("uploadId=") != std::string::npos;
  }
  EXPECT_TRUE(aborted);
  // The proxy tracks uploads as S3 does: the abort really ended it (its
  // parts can no longer be completed), and nothing was left open.
  const auto uploads = control("GET", "/__proxy/uploads?key_contains=" + uri_encode(key, false));
  ASSERT_EQ(uploads.size(), 1u) << uploads.dump();
  EXPECT_EQ(uploads[0]["state"], "aborted") << uploads.dump();
  EXPECT_TRUE(s3->list_objects(bucket_, key).empty()) << "no object from an aborted upload";
}

TEST_F(S3Integration, MissingKeyIsAClear404) {
  const std::string key = unique_prefix("missing") + "nope.csv";
  auto s3 = client();
  try {
    get_all(*s3, bucket_, key);
    FAIL() << "expected S3Error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.code(), "NoSuchKey");
    EXPECT_TRUE(e.not_found());
    EXPECT_EQ(std::string(e.what()),
              "GetObject s3://" + bucket_ + "/" + key + ": 404 NoSuchKey: The specified key does not exist.");
  }
  try {
    s3->head_object(bucket_, key);
    FAIL() << "expected S3Error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_THAT(e.what(), StartsWith("HeadObject s3://" + bucket_ + "/" + key + ": 404"));
  }
  EXPECT_EQ(requests(key).size(), 2u);  // no retries on 404
}

TEST_F(S3Integration, WrongSecretIsAClear403WithoutRetry) {
  const std::string key = unique_prefix("wrong-secret") + "feed.csv";
  auto good = client();
  good->put_object(bucket_, key, "data");
  auto bad = client("definitely-not-the-secret");
  try {
    get_all(*bad, bucket_, key);
    FAIL() << "expected S3Error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "SignatureDoesNotMatch");
    EXPECT_THAT(e.what(), StartsWith("GetObject s3://" + bucket_ + "/" + key + ": 403 SignatureDoesNotMatch: "));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("definitely-not-the-secret")));
    EXPECT_THAT(e.internal(), ::testing::Not(HasSubstr("definitely-not-the-secret")));
  }
  const auto log = requests(key);
  ASSERT_EQ(log.size(), 2u);  // the good PUT, then exactly one rejected GET
  EXPECT_FALSE(log[1]["verified"].get<bool>());
}

TEST_F(S3Integration, Injected503sAreRetriedThenSucceed) {
  const std::string key = unique_prefix("retry") + "feed.csv";
  auto s3 = client();
  inject({{"key_contains", key}, {"method", "PUT"}, {"action", "status"}, {"status", 503}, {"code", "SlowDown"},
          {"count", 2}});
  s3->put_object(bucket_, key, "retried body");
  inject({{"key_contains", key}, {"method", "GET"}, {"action", "status"}, {"status", 500}, {"code", "InternalError"},
          {"count", 2}});
  EXPECT_EQ(get_all(*s3, bucket_, key), "retried body");
  int puts = 0, gets = 0;
  for (const auto& e : requests(key)) {
    puts += e["method"] == "PUT";
    gets += e["method"] == "GET";
  }
  EXPECT_EQ(puts, 3);
  EXPECT_EQ(gets, 3);
}

TEST_F(S3Integration, RetriesAreBounded) {
  const std::string key = unique_prefix("bounded") + "feed.csv";
  S3Config c = config();
  c.max_attempts = 3;
  auto s3 = client({}, c);
  s3->put_object(bucket_, key, "x");
  inject({{"key_contains", key}, {"method", "GET"}, {"action", "status"}, {"status", 503}, {"code", "SlowDown"},
          {"message", "Please reduce your request rate."}, {"count", 50}});
  try {
    get_all(*s3, bucket_, key);
    FAIL() << "expected S3Error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(std::string(e.what()),
              "GetObject s3://" + bucket_ + "/" + key + ": 503 SlowDown: Please reduce your request rate.");
  }
  int gets = 0;
  for (const auto& e : requests(key)) gets += e["method"] == "GET";
  EXPECT_EQ(gets, 3);
}

TEST_F(S3Integration, ConnectionCutMidBodyResumesWithRangeAndIfMatch) {
  const std::string key = unique_prefix("cut") + "feed.csv";
  const std::string body = random_bytes(3 * 1024 * 1024 + 17, 3);
  auto s3 = client();
  const ObjectInfo put = s3->put_object(bucket_, key, body);
  const int cut_at = 1024 * 1024 + 123;
  inject({{"key_contains", key}, {"method", "GET"}, {"action", "cut"}, {"after_bytes", cut_at}, {"count", 1}});
  GetResult result;
  const std::string got = get_all(*s3, bucket_, key, &result);
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body) << "bytes differ after resume";
  EXPECT_EQ(result.resumes, 1);
  const auto log = requests(key);
  ASSERT_EQ(log.size(), 3u);  // PUT, cut GET, resumed GET
  EXPECT_EQ(log[2]["range"], "bytes=" + std::to_string(cut_at) + "-");
  EXPECT_EQ(log[2]["if_match"], put.etag);
  expect_all_verified(key);
}

TEST_F(S3Integration, ObjectReplacedMidDownloadFailsInsteadOfSplicing) {
  const std::string key = unique_prefix("replaced") + "feed.csv";
  const std::string v1 = random_bytes(2 * 1024 * 1024, 4);
  const std::string v2 = random_bytes(2 * 1024 * 1024, 5);
  auto s3 = client();
  auto writer = client();
  s3->put_object(bucket_, key, v1);
  inject({{"key_contains", key}, {"method", "GET"}, {"action", "cut"}, {"after_bytes", 512 * 1024}, {"count", 1}});
  std::string got;
  bool replaced = false;
  try {
    s3->get_object(bucket_, key, [&](const char* d, std::size_t n) {
      if (!replaced) {
        replaced = true;
        writer->put_object(bucket_, key, v2);  // a partner re-uploads while we read
      }
      got.append(d, n);
    });
    FAIL() << "expected S3Error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.code(), "ObjectChanged");
    EXPECT_THAT(e.what(), StartsWith("GetObject s3://" + bucket_ + "/" + key + ": 412 PreconditionFailed"));
    EXPECT_THAT(e.what(), HasSubstr("changed during download"));
  }
  EXPECT_LE(got.size(), 512u * 1024);
  EXPECT_EQ(got, v1.substr(0, got.size()));  // only bytes of the first version reached the sink
}

TEST_F(S3Integration, EcsContainerCredentialsAreUsedAndRefreshedBeforeExpiry) {
  const std::string token = "ecs-token-" + std::to_string(std::random_device{}());
  control("POST", "/__proxy/ecs", {{"token", token}, {"ttl_seconds", 900}});
  const std::map<std::string, std::string> env_map = {
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint_ + "/__proxy/ecs-credentials"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", token},
  };
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = env_map.find(n);
    if (it == env_map.end()) return std::nullopt;
    return it->second;
  };
  OffsetClock chain_clock;
  auto chain = std::shared_ptr<CredentialsChain>(default_credentials_chain(env, chain_clock));
  CurlS3Client s3(config(), chain, clock_);
  const std::string key = unique_prefix("ecs") + "feed.csv";
  auto fetches = [&] { return control("GET", "/__proxy/ecs?token=" + token)["fetches"].get<int>(); };

  s3.put_object(bucket_, key, "via task role");
  EXPECT_EQ(get_all(s3, bucket_, key), "via task role");
  EXPECT_EQ(fetches(), 1);  // cached between requests
  EXPECT_EQ(chain->get().source, "ecs");

  chain_clock.offset = std::chrono::minutes(11);  // 4 minutes left: inside the 5-minute refresh window
  EXPECT_EQ(get_all(s3, bucket_, key), "via task role");
  EXPECT_EQ(fetches(), 2);

  chain_clock.offset = std::chrono::minutes(11 + 16);  // past the second set's expiry
  EXPECT_EQ(s3.head_object(bucket_, key).size, 13u);
  EXPECT_EQ(fetches(), 3);

  std::set<std::string> keys_used;
  for (const auto& e : requests(key)) {
    EXPECT_TRUE(e["verified"].get<bool>()) << e.dump();
    keys_used.insert(e["access_key"].get<std::string>());
  }
  EXPECT_EQ(keys_used.size(), 3u);  // three temporary identities, each accepted
}

TEST_F(S3Integration, EcsTokenFileAndWrongTokenReportsEndpointNotToken) {
  const std::string token = "ecs-file-token-" + std::to_string(std::random_device{}());
  control("POST", "/__proxy/ecs", {{"token", token}, {"ttl_seconds", 3600}});
  const std::string path = ::testing::TempDir() + "ecs-token-" + std::to_string(std::random_device{}());
  {
    std::ofstream(path) << token << "\n";
  }
  std::map<std::string, std::string> env_map = {
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint_ + "/__proxy/ecs-credentials"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path},
  };
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = env_map.find(n);
    if (it == env_map.end()) return std::nullopt;
    return it->second;
  };
  SystemClock clock;
  auto chain = default_credentials_chain(env, clock);
  EXPECT_EQ(chain->get().source, "ecs");

  std::ofstream(path) << "wrong-secret-token\n";
  auto fresh = default_credentials_chain(env, clock);
  try {
    fresh->get();
    FAIL() << "expected UpstreamError";
  } catch (const UpstreamError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ECS container endpoint"));
    EXPECT_THAT(e.what(), HasSubstr("401"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("wrong-secret-token")));
  }
  std::remove(path.c_str());
}

TEST_F(S3Integration, ImdsV2CredentialsAreUsedWhenNothingElseIsConfigured) {
  const std::map<std::string, std::string> env_map = {
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint_ + "/__proxy/imds"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
  };
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = env_map.find(n);
    if (it == env_map.end()) return std::nullopt;
    return it->second;
  };
  auto chain = std::shared_ptr<CredentialsChain>(default_credentials_chain(env, clock_));
  CurlS3Client s3(config(), chain, clock_);
  const std::string key = unique_prefix("imds") + "feed.csv";
  s3.put_object(bucket_, key, "via instance profile");
  EXPECT_EQ(get_all(s3, bucket_, key), "via instance profile");
  EXPECT_EQ(chain->get().source, "imds");
  EXPECT_TRUE(chain->get().expiration.has_value());
  expect_all_verified(key);
  EXPECT_NE(requests(key)[0]["access_key"].get<std::string>(), access_key_);
}

}  // namespace
}  // namespace catalog::s3
