// Run-end notifications: the signature receivers verify, the URL policy that
// keeps webhooks off metadata and private addresses, the retry schedule and
// the job options that choose who hears of which ends.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "catalog/core/errors.hpp"
#include "catalog/etl/job_options.hpp"
#include "catalog/notify/deliverer.hpp"
#include "catalog/notify/notify_url.hpp"
#include "catalog/notify/webhook.hpp"

namespace catalog::notify {
namespace {

TEST(NotifySignature, IsStripeStyleHmacOfTimestampDotBody) {
  // Known answer from Python: hmac.new(b"whsec_test", b'1700000000.{"event":"run.finished"}', sha256).hexdigest()
  EXPECT_EQ(signature_header("whsec_test", 1700000000, R"({"event":"run.finished"})"),
            "t=1700000000,v1=22b7ae6dad50ff6224b02945c874b316f585b557d161f68b5a6e9347972d5112");
}

void expect_rejected(const std::string& url, const UrlPolicy& policy, const std::string& why) {
  try {
    validate_url(url, policy, "options.notify[0]");
    ADD_FAILURE() << url << " was accepted";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "options.notify[0]");
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(NotifyUrl, HttpsToAPublicHostIsAccepted) {
  EXPECT_NO_THROW(validate_url("https://hooks.example.com/catalog?x=1", {}, "f"));
  EXPECT_NO_THROW(validate_url("https://203.0.113.7:8443/hook", {}, "f"));
}

TEST(NotifyUrl, MetadataAndLinkLocalAreRefusedEvenWhenPrivateTargetsAreAllowed) {
  const UrlPolicy open{true, true};
  expect_rejected("http://169.254.169.254/latest/meta-data/", open, "link-local");
  expect_rejected("http://169.254.170.2/v2/credentials", open, "link-local");
  expect_rejected("https://[fe80::1]/hook", open, "link-local");
  expect_rejected("https://[::ffff:169.254.169.254]/hook", open, "link-local");
}

TEST(NotifyUrl, PrivateAndLoopbackNeedTheFlag) {
  expect_rejected("https://127.0.0.1:9000/hook", {}, "NOTIFY_ALLOW_PRIVATE");
  expect_rejected("https://10.0.3.4/hook", {}, "NOTIFY_ALLOW_PRIVATE");
  expect_rejected("https://192.168.1.1/hook", {}, "NOTIFY_ALLOW_PRIVATE");
  expect_rejected("https://localhost/hook", {}, "NOTIFY_ALLOW_PRIVATE");
  expect_rejected("https://[::1]/hook", {}, "NOTIFY_ALLOW_PRIVATE");
  EXPECT_NO_THROW(validate_url("https://127.0.0.1:9000/hook", {false, true}, "f"));
}

TEST(NotifyUrl, PlainHttpNeedsItsFlagAndOtherSchemesAndUserinfoAreRefused) {
  expect_rejected("http://hooks.example.com/", {}, "NOTIFY_ALLOW_HTTP");
  EXPECT_NO_THROW(validate_url("http://hooks.example.com/", {true, false}, "f"));
  expect_rejected("ftp://hooks.example.com/", {}, "not an https:// URL");
  expect_rejected("https://user:pw@hooks.example.com/", {}, "user information");
  expect_rejected("https:///path", {}, "no host");
  expect_rejected("https://hooks.example.com/a b", {}, "space");
}

TEST(NotifyUrl, ResolvedAddressesFollowTheSamePolicy) {
  sockaddr_in metadata{};
  metadata.sin_family = AF_INET;
  inet_pton(AF_INET, "169.254.169.254", &metadata.sin_addr);
  EXPECT_FALSE(address_allowed(reinterpret_cast<sockaddr*>(&metadata), {true, true}));
  sockaddr_in loopback{};
  loopback.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &loopback.sin_addr);
  EXPECT_FALSE(address_allowed(reinterpret_cast<sockaddr*>(&loopback), {}));
  EXPECT_TRUE(address_allowed(reinterpret_cast<sockaddr*>(&loopback), {false, true}));
  sockaddr_in public_address{};
  public_address.sin_family = AF_INET;
  inet_pton(AF_INET, "203.0.113.7", &public_address.sin_addr);
  EXPECT_TRUE(address_allowed(reinterpret_cast<sockaddr*>(&public_address), {}));
}

TEST(NotifyBackoff, DoublesFromTheBaseUpToTheCap) {
  Deliverer::Options o;
  o.retry_base = std::chrono::seconds(30);
  EXPECT_EQ(Deliverer::backoff(o, 1), std::chrono::seconds(30));
  EXPECT_EQ(Deliverer::backoff(o, 2), std::chrono::seconds(60));
  EXPECT_EQ(Deliverer::backoff(o, 4), std::chrono::seconds(240));
  EXPECT_EQ(Deliverer::backoff(o, 40), std::chrono::hours(1));
}

TEST(NotifyOptions, DefaultEndsAreChangesFailuresAndCancels) {
  const auto o = etl::JobOptions::from_json({{"notify", {"https://hooks.example.com/a"}}});
  ASSERT_EQ(o.notify.size(), 1u);
  EXPECT_TRUE(o.notifies("succeeded", true));
  EXPECT_FALSE(o.notifies("succeeded", false));
  EXPECT_TRUE(o.notifies("failed", false));
  EXPECT_TRUE(o.notifies("cancelled", false));
  EXPECT_FALSE(o.notifies("skipped", false));
}

TEST(NotifyOptions, NotifyOnChoosesTheEndsAndIsValidated) {
  const auto o = etl::JobOptions::from_json({{"notify_on", {"failed", "skipped"}}});
  EXPECT_FALSE(o.notifies("succeeded", true));
  EXPECT_TRUE(o.notifies("skipped", false));
  EXPECT_THROW(etl::JobOptions::from_json({{"notify_on", {"finished"}}}), ValidationError);
  EXPECT_THROW(etl::JobOptions::from_json({{"notify", "https://hooks.example.com/a"}}), ValidationError);
  EXPECT_THROW(etl::JobOptions::from_json({{"notify", {1}}}), ValidationError);
}

TEST(NotifyOptions, WhoHearsOfARunDoesNotDefeatTheUnchangedSourceShortcut) {
  EXPECT_EQ(etl::JobOptions::from_json({{"notify", {"https://hooks.example.com/a"}}}).canonical(),
            etl::JobOptions::from_json(nlohmann::json::object()).canonical());
}

}  // namespace
}  // namespace catalog::notify
