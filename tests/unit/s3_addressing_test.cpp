// Addressing of S3 requests, path style and virtual-hosted: the Host header and
// canonical URI the client derives from (bucket, key) are checked against the
// AWS S3 SigV4 worked examples (tests/data/sigv4/s3_examples.json, all of them
// virtual-hosted on examplebucket.s3.amazonaws.com): with a custom endpoint
// and S3_FORCE_PATH_STYLE=false the client must sign exactly what AWS signs.

#include "s3/addressing.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/s3/sigv4.hpp"

namespace catalog::s3::detail {
namespace {

using ::testing::HasSubstr;

nlohmann::json s3_examples() {
  std::ifstream in(std::filesystem::path(CATALOG_TEST_DATA_DIR) / "sigv4" / "s3_examples.json");
  if (!in) throw std::runtime_error("cannot read s3_examples.json");
  return nlohmann::json::parse(in);
}

std::chrono::system_clock::time_point parse_amz(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

S3Config endpoint_config(const std::string& endpoint, std::optional<bool> path_style) {
  S3Config c;
  c.endpoint = endpoint;
  c.force_path_style = path_style;
  return c;
}

// Every published example, re-derived from (bucket, key): the Host and the
// canonical URI come from Addressing, not from the example, and the signature
// must still be AWS's.
TEST(S3Addressing, VirtualHostedTargetsSignLikeTheAwsS3Examples) {
  const auto doc = s3_examples();
  const Addressing vhost(endpoint_config("https://s3.amazonaws.com", false));
  const Credentials creds{doc["access_key_id"], Secret(doc["secret_access_key"].get<std::string>()), Secret(),
                          std::nullopt, "static"};
  ASSERT_EQ(doc["examples"].size(), 4u);
  for (const auto& ex : doc["examples"]) {
    SCOPED_TRACE(ex["name"].get<std::string>());
    const std::string path = ex["path"];
    const bool object_level = path != "/";
    const Target t = vhost.target("examplebucket", path.substr(1), object_level);
    EXPECT_EQ(t.host, ex["host"].get<std::string>());
    EXPECT_EQ(t.path, uri_encode(path, true));
    SigningInput in;
    in.method = ex["method"];
    in.host = t.host;
    in.canonical_path = t.path;
    in.query = parse_query(ex["query"].get<std::string>());
    for (const auto& h : ex["headers"]) in.headers.emplace_back(h[0], h[1]);
    in.region = doc["region"];
    in.service = "s3";
    in.time = parse_amz(doc["time"]);
    in.payload_hash = ex["payload_hash"];
    const SignedRequest out = sign_v4(in, creds);
    // Canonical request: method, canonical URI (key only), query, headers with host = bucket.endpoint.
    EXPECT_THAT(out.canonical_request, HasSubstr(in.method + "\n" + uri_encode(path, true) + "\n"));
    EXPECT_THAT(out.canonical_request, HasSubstr("\nhost:examplebucket.s3.amazonaws.com\n"));
    EXPECT_EQ(out.signature, ex["signature"].get<std::string>());
  }
}

TEST(S3Addressing, PathStyleSignsTheBucketInThePathAndTheBareEndpointAsHost) {
  const Addressing path(endpoint_config("https://s3.amazonaws.com", true));
  const Target object = path.target("examplebucket", "test.txt", true);
  EXPECT_EQ(object.host, "s3.amazonaws.com");
  EXPECT_EQ(object.path, "/examplebucket/test.txt");
  const Target bucket = path.target("examplebucket", "", false);
  EXPECT_EQ(bucket.path, "/examplebucket");

  SigningInput in;
  in.method = "GET";
  in.host = object.host;
  in.canonical_path = object.path;
  in.region = "us-east-1";
  in.service = "s3";
  in.time = parse_amz("20130524T000000Z");
  in.payload_hash = kEmptyPayloadHash;
  const SignedRequest out = sign_v4(in, Credentials{"AKIAIOSFODNN7EXAMPLE", Secret("x"), Secret(), std::nullopt, "static"});
  EXPECT_THAT(out.canonical_request, HasSubstr("GET\n/examplebucket/test.txt\n"));
  EXPECT_THAT(out.canonical_request, HasSubstr("\nhost:s3.amazonaws.com\n"));
}

TEST(S3Addressing, CustomEndpointIsPathStyleUnlessPathStyleIsTurnedOff) {
  // Unset: path style with S3_ENDPOINT (MinIO, s3rver) as before.
  const Target by_default = Addressing(endpoint_config("http://s3.localhost:9000", std::nullopt)).target("raw", "a b", true);
  EXPECT_EQ(by_default.host, "s3.localhost:9000");
  EXPECT_EQ(by_default.path, "/raw/a%20b");

  const Addressing vhost(endpoint_config("http://s3.localhost:9000/", false));
  const Target object = vhost.target("raw-feeds", "partners/acme/a b+c.csv", true);
  EXPECT_EQ(object.host, "raw-feeds.s3.localhost:9000");  // the port stays on the signed Host
  EXPECT_EQ(object.path, "/partners/acme/a%20b%2Bc.csv");
  const Target list = vhost.target("raw-feeds", "partners/", false);
  EXPECT_EQ(list.host, "raw-feeds.s3.localhost:9000");
  EXPECT_EQ(list.path, "/");
  // A dotted bucket is path style even when virtual-hosted is asked for.
  EXPECT_EQ(vhost.target("dotted.bucket", "k", true).host, "s3.localhost:9000");
  EXPECT_EQ(vhost.target("dotted.bucket", "k", true).path, "/dotted.bucket/k");
  // A bucket that would change the host name is refused, not sent.
  EXPECT_THROW(vhost.target("evil-host:1", "k", true), BadRequest);
  EXPECT_THROW(vhost.target("UPPER", "k", true), BadRequest);
}

TEST(S3Addressing, AwsIsVirtualHostedUnlessForced) {
  S3Config aws;
  aws.region = "eu-west-1";
  EXPECT_EQ(Addressing(aws).target("raw-feeds", "k", true).host, "raw-feeds.s3.eu-west-1.amazonaws.com");
  aws.force_path_style = false;
  EXPECT_EQ(Addressing(aws).target("raw-feeds", "k", true).host, "raw-feeds.s3.eu-west-1.amazonaws.com");
  aws.force_path_style = true;
  EXPECT_EQ(Addressing(aws).target("raw-feeds", "k", true).host, "s3.eu-west-1.amazonaws.com");
}

TEST(S3Addressing, PathStyleSettingIsReadAndCheckedFromTheEnvironment) {
  auto env_of = [](std::map<std::string, std::string> values) -> EnvLookup {
    return [values](const std::string& name) -> std::optional<std::string> {
      const auto it = values.find(name);
      if (it == values.end()) return std::nullopt;
      return it->second;
    };
  };
  EXPECT_EQ(s3_config_from_env(env_of({{"S3_ENDPOINT", "http://s3.localhost:9000"}})).force_path_style, std::nullopt);
  EXPECT_EQ(s3_config_from_env(env_of({{"S3_ENDPOINT", "http://s3.localhost:9000"}, {"S3_FORCE_PATH_STYLE", "false"}}))
                .force_path_style,
            std::optional<bool>(false));
  EXPECT_EQ(s3_config_from_env(env_of({{"S3_FORCE_PATH_STYLE", "FALSE"}})).force_path_style, std::optional<bool>(false));
  // Virtual-hosted needs a host name to put the bucket in front of.
  for (const std::string ip : {"http://127.0.0.1:9000", "http://[::1]:9000", "http://10.0.0.7"}) {
    try {
      s3_config_from_env(env_of({{"S3_ENDPOINT", ip}, {"S3_FORCE_PATH_STYLE", "false"}}));
      ADD_FAILURE() << ip << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("S3_FORCE_PATH_STYLE=false")) << ip;
      EXPECT_THAT(e.what(), HasSubstr("not an IP address")) << ip;
    }
  }
  EXPECT_NO_THROW(s3_config_from_env(env_of({{"S3_ENDPOINT", "http://127.0.0.1:9000"}, {"S3_FORCE_PATH_STYLE", "true"}})));
}

}  // namespace
}  // namespace catalog::s3::detail
