// Virtual-hosted-style S3 (the AWS default: the bucket in the host name) with
// a custom endpoint, S3_FORCE_PATH_STYLE=false, through the signature-verifying
// proxy on loopback: S3_ENDPOINT names s3.localhost, which libcurl resolves to
// the loopback address itself (as it does every *.localhost name), so
// BUCKET.s3.localhost reaches the proxy, which takes the bucket from the Host
// header and checks the signature against that Host.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/core/clock.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "catalog/s3/sigv4.hpp"
#include "s3/curl_util.hpp"
#include "support/feed_builder.hpp"
#include "support/s3_app_test.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

/// The proxy's port, from CATALOG_TEST_S3_ENDPOINT (http://127.0.0.1:PORT).
std::string proxy_port() {
  const std::string endpoint = required_env("CATALOG_TEST_S3_ENDPOINT");
  return endpoint.substr(endpoint.rfind(':') + 1);
}

/// The same proxy, named so that BUCKET.s3.localhost:PORT is virtual-hosted.
std::string vhost_endpoint() { return "http://s3.localhost:" + proxy_port(); }

/// The requests the proxy saw for keys containing `needle`.
nlohmann::json proxy_log(const std::string& needle) {
  const auto resp = s3::detail::simple_http(
      "GET", required_env("CATALOG_TEST_S3_ENDPOINT") + "/__proxy/log?key_contains=" + s3::uri_encode(needle, false),
      {}, {}, 5000);
  EXPECT_EQ(resp.status, 200) << resp.body;
  return nlohmann::json::parse(resp.body);
}

class S3VirtualHostedTest : public S3AppTest {
 protected:
  S3VirtualHostedTest() : S3AppTest("s3_vhost") {}

  std::unique_ptr<s3::CurlS3Client> vhost_client() {
    auto credentials = std::make_shared<s3::StaticCredentialsProvider>(
        s3::Credentials{env_.at("AWS_ACCESS_KEY_ID"), Secret(env_.at("AWS_SECRET_ACCESS_KEY")), {}, {}, "static"});
    s3::S3Config config;
    config.endpoint = vhost_endpoint();
    config.region = env_.at("AWS_REGION");
    config.force_path_style = false;
    return std::make_unique<s3::CurlS3Client>(config, std::move(credentials), clock_);
  }

  // Every request for `needle` was virtual-hosted on BUCKET.s3.localhost and
  // passed the signature check; returns how many there were.
  std::size_t expect_all_virtual_hosted_and_verified(const std::string& needle) {
    std::size_t n = 0;
    for (const auto& e : proxy_log(needle)) {
      // The test's own reads through the path-style fixture client (s3_) are not the client under test.
      if (e["style"] == "path" && e["host"] == "127.0.0.1:" + proxy_port()) continue;
      ++n;
      EXPECT_EQ(e["style"], "virtual-hosted") << e.dump();
      EXPECT_EQ(e["host"], bucket_ + ".s3.localhost:" + proxy_port()) << e.dump();
      EXPECT_TRUE(e["verified"].get<bool>()) << e.dump();
      EXPECT_EQ(e["target"].get<std::string>().rfind("/" + bucket_ + "/", 0), std::string::npos)
          << "the bucket is in the host, not the path: " << e.dump();
    }
    return n;
  }

  SystemClock clock_;
};

TEST_F(S3VirtualHostedTest, ClientPutsListsReadsAndDeletesWithTheBucketInTheHostName) {
  auto s3 = vhost_client();
  const std::string key = prefix_ + "dir/a b+c\xC3\xA9.csv";
  EXPECT_EQ(s3->object_url(bucket_, key).rfind("http://" + bucket_ + ".s3.localhost:" + proxy_port() + "/", 0), 0u)
      << s3->object_url(bucket_, key);
  s3->put_object(bucket_, key, "sku,name\n1,x\n");

  const auto info = s3->head_object(bucket_, key);
  EXPECT_EQ(info.size, 13u);
  std::string body;
  s3->get_object(bucket_, key, [&](const char* d, std::size_t n) { body.append(d, n); });
  EXPECT_EQ(body, "sku,name\n1,x\n");
  // Bucket-level request: the canonical URI is "/" and the prefix a query parameter.
  s3::ListOptions list;
  list.prefix = prefix_ + "dir/";
  const auto page = s3->list_objects_page(bucket_, list);
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].key, key);
  // The path-style view of the same bucket sees the very object.
  EXPECT_EQ(s3_.get_uri("s3://" + bucket_ + "/" + key), body);
  s3->delete_object(bucket_, key);
  EXPECT_TRUE(s3->list_objects_page(bucket_, list).objects.empty());

  EXPECT_GE(expect_all_virtual_hosted_and_verified(prefix_ + "dir/"), 6u);
}

TEST_F(S3VirtualHostedTest, ProxyRejectsASignatureMadeForThePathStyleHost) {
  // The proxy really checks virtual-hosted requests against their Host: a
  // request signed path style (Host 127.0.0.1:PORT, /bucket/key) but sent
  // to BUCKET.s3.localhost with the key alone fails as it would on S3.
  const std::string key = prefix_ + "signed-for-path-style.csv";
  s3_.put(key, "x");
  s3::SigningInput in;
  in.method = "GET";
  in.host = "127.0.0.1:" + proxy_port();
  in.canonical_path = "/" + bucket_ + "/" + s3::uri_encode(key, true);
  in.region = env_.at("AWS_REGION");
  in.service = "s3";
  in.time = std::chrono::system_clock::now();
  in.payload_hash = std::string(s3::kEmptyPayloadHash);
  const auto signed_request = s3::sign_v4(
      in, s3::Credentials{env_.at("AWS_ACCESS_KEY_ID"), Secret(env_.at("AWS_SECRET_ACCESS_KEY")), {}, {}, "static"});
  std::vector<std::string> headers;
  for (const auto& [k, v] : signed_request.headers) headers.push_back(k + ": " + v);
  const auto resp = s3::detail::simple_http(
      "GET", "http://" + bucket_ + ".s3.localhost:" + proxy_port() + "/" + s3::uri_encode(key, true), headers, {}, 5000);
  EXPECT_EQ(resp.status, 403) << resp.body;
  EXPECT_NE(resp.body.find("SignatureDoesNotMatch"), std::string::npos) << resp.body;
  // The same request path style passes: the failure above was the Host.
  const auto path_style = s3::detail::simple_http(
      "GET", "http://127.0.0.1:" + proxy_port() + in.canonical_path, headers, {}, 5000);
  EXPECT_EQ(path_style.status, 200) << path_style.body;
  EXPECT_EQ(path_style.body, "x");
}

TEST_F(S3VirtualHostedTest, EtlRunReadsItsFeedVirtualHostedThroughTheVerifyingProxy) {
  put_object("feed.csv", FeedBuilder().rows(1, 50, [](int i) -> std::vector<std::string> {
    return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "", "Acme", "Tools", "1.50", "usd", "In Stock"};
  }));
  start({{"S3_ENDPOINT", vhost_endpoint()}, {"S3_FORCE_PATH_STYLE", "false"}});
  put_job("acme-vhost", "acme", "feed.csv");
  const auto run = run_and_wait("acme-vhost");
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["read"], 50) << run.dump();
  EXPECT_EQ(run["counts"]["inserted"], 50) << run.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'acme'"), 50);

  // What the service sent for the feed: only virtual-hosted, only verified,
  // and at least one GET of the object (not only the test's own path-style PUT).
  const auto log = proxy_log(prefix_ + "feed.csv");
  std::size_t service_gets = 0;
  for (const auto& e : log) {
    if (e["style"] == "path") {
      EXPECT_EQ(e["method"], "PUT") << "only the test's own upload is path style: " << e.dump();
      continue;
    }
    EXPECT_EQ(e["host"], bucket_ + ".s3.localhost:" + proxy_port()) << e.dump();
    EXPECT_TRUE(e["verified"].get<bool>()) << e.dump();
    if (e["method"] == "GET") ++service_gets;
  }
  EXPECT_GE(service_gets, 1u) << log.dump();
}

TEST_F(S3VirtualHostedTest, StartupRefusesVirtualHostedOnAnIpAddressEndpoint) {
  // A misconfiguration stops start-up naming the setting (the test server's
  // own endpoint is http://127.0.0.1:PORT).
  try {
    start({{"S3_FORCE_PATH_STYLE", "false"}});
    ADD_FAILURE() << "started with S3_FORCE_PATH_STYLE=false and S3_ENDPOINT=" << env_.at("S3_ENDPOINT");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("S3_FORCE_PATH_STYLE=false"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace catalog::testing
