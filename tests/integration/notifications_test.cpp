// Run-end webhooks end to end: real runs against the real PostgreSQL and the
// signature-checking S3 server, delivered to a real receiver on loopback that
// checks every X-Catalog-Signature with its own HMAC.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "catalog/core/clock.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"
#include "support/webhook_receiver.hpp"

namespace catalog::testing {
namespace {

constexpr const char* kSecret = "whsec_notifications_test";

std::string small_feed() {
  return "sku,product_name,description,brand,category,price,currency,availability\n"
         "N-1,One,,Acme,Tools,1.50,usd,In Stock\nN-2,Two,,Acme,Tools,2.50,usd,In Stock\n";
}

class NotificationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("notify");
    env_ = base_env(dsn_);
    for (const auto& [k, v] : s3_env()) env_[k] = v;
    env_["JOB_WORKERS"] = "1";
    env_["NOTIFY_SECRET"] = kSecret;
    env_["NOTIFY_ALLOW_HTTP"] = "1";     // the receiver is plain http on loopback
    env_["NOTIFY_ALLOW_PRIVATE"] = "1";
    env_["NOTIFY_RETRY_BASE"] = "200ms";
    bucket_ = env_["S3_RAW_BUCKET"];
    prefix_ = "notify/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
              std::to_string(::getpid()) + "/";
  }

  void start(std::map<std::string, std::string> overrides = {}) {
    for (const auto& [k, v] : overrides) env_[k] = v;
    app_.reset();
    app_ = std::make_unique<RunningApp>(env_);
  }
  const HttpClient& client() { return app_->client(); }

  void put_object(const std::string& key, const std::string& body) {
    auto credentials = std::make_shared<s3::StaticCredentialsProvider>(
        s3::Credentials{env_["AWS_ACCESS_KEY_ID"], Secret(env_["AWS_SECRET_ACCESS_KEY"]), {}, {}, "static"});
    s3::S3Config config;
    config.endpoint = env_["S3_ENDPOINT"];
    config.region = env_["AWS_REGION"];
    config.force_path_style = true;
    SystemClock clock;
    s3::CurlS3Client(config, credentials, clock).put_object(bucket_, prefix_ + key, body);
  }

  HttpResult put_job(const std::string& id, const std::string& key, const nlohmann::json& options) {
    const nlohmann::json body = {{"source", id}, {"uri", "s3://" + bucket_ + "/" + prefix_ + key}, {"options", options}};
    return client().request("PUT", "/jobs/" + id, body.dump(), {"Content-Type: application/json"});
  }

  nlohmann::json run(const std::string& job, const std::string& flags = "") {
    const auto r = client().request("POST", "/jobs/" + job + "/run?wait=true" + flags);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  // GET /runs/{id} until its notifications are all final (delivered/failed).
  nlohmann::json run_when_notified(const std::string& run_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    nlohmann::json body;
    while (std::chrono::steady_clock::now() < deadline) {
      body = client().get("/runs/" + run_id).json();
      bool done = !body["notifications"].empty();
      for (const auto& n : body["notifications"]) done = done && (n["status"] == "delivered" || n["status"] == "failed");
      if (done) return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "notifications not final in 30 s: " << body.dump();
    return body;
  }

  std::string dsn_, bucket_, prefix_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(NotificationsTest, FailedRunIsPostedSignedAndItsDeliveryShowsOnTheRun) {
  WebhookReceiver receiver(kSecret);
  start();
  ASSERT_EQ(put_job("acme", "missing.csv", {{"notify", {receiver.url("/acme")}}}).status, 201);
  const auto ran = run("acme");
  ASSERT_EQ(ran["status"], "failed") << ran.dump();

  const auto hooks = receiver.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 1u);
  const auto& hook = hooks[0];
  EXPECT_TRUE(hook.signature_valid) << hook.signature_problem;
  EXPECT_EQ(hook.path, "/acme");
  EXPECT_EQ(hook.headers.at("content-type"), "application/json");
  EXPECT_FALSE(hook.headers.at("x-catalog-delivery").empty());
  const auto body = hook.json();
  EXPECT_EQ(body["event"], "run.finished");
  EXPECT_EQ(body["run"]["run_id"], ran["run_id"]);
  EXPECT_EQ(body["run"]["status"], "failed");
  EXPECT_EQ(body["run"]["job_id"], "acme");
  EXPECT_NE(body["run"]["error"].get<std::string>().find("missing.csv"), std::string::npos) << body.dump();

  const auto shown = run_when_notified(ran["run_id"]);
  ASSERT_EQ(shown["notifications"].size(), 1u) << shown.dump();
  EXPECT_EQ(shown["notifications"][0]["url"], receiver.url("/acme"));
  EXPECT_EQ(shown["notifications"][0]["status"], "delivered");
  EXPECT_EQ(shown["notifications"][0]["attempts"], 1);
  EXPECT_TRUE(shown["notifications"][0]["last_error"].is_null());
  EXPECT_NE(client().get("/metrics").body.find("catalog_notifications_total{result=\"delivered\"} 1"),
            std::string::npos);
}

TEST_F(NotificationsTest, ServerErrorsAreRetriedWithTheSameDeliveryIdAndOther4xxAreNot) {
  WebhookReceiver flaky(kSecret), gone(kSecret);
  flaky.script({503, 500});
  gone.script({404});
  start();
  put_object("feed.csv", small_feed());
  ASSERT_EQ(put_job("acme", "feed.csv", {{"notify", {flaky.url(), gone.url()}}}).status, 201);
  const auto ran = run("acme");
  ASSERT_EQ(ran["status"], "succeeded") << ran.dump();

  const auto shown = run_when_notified(ran["run_id"]);
  ASSERT_EQ(shown["notifications"].size(), 2u) << shown.dump();
  for (const auto& n : shown["notifications"]) {
    if (n["url"] == flaky.url()) {
      EXPECT_EQ(n["status"], "delivered") << n.dump();
      EXPECT_EQ(n["attempts"], 3);
    } else {
      EXPECT_EQ(n["status"], "failed") << n.dump();
      EXPECT_EQ(n["attempts"], 1);
      EXPECT_EQ(n["last_error"], "HTTP 404");
    }
  }
  const auto tries = flaky.received();
  ASSERT_EQ(tries.size(), 3u);
  for (const auto& t : tries) {
    EXPECT_TRUE(t.signature_valid) << t.signature_problem;
    EXPECT_EQ(t.headers.at("x-catalog-delivery"), tries[0].headers.at("x-catalog-delivery"));
  }
  EXPECT_EQ(gone.received().size(), 1u) << "a 404 is final";
  const auto metrics = client().get("/metrics").body;
  EXPECT_NE(metrics.find("catalog_notifications_total{result=\"retry\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("catalog_notifications_total{result=\"failed\"} 1"), std::string::npos) << metrics;
}

TEST_F(NotificationsTest, OnlyRunsThatChangeSomethingFailOrAreCancelledNotifyByDefault) {
  WebhookReceiver receiver(kSecret);
  start();
  put_object("feed.csv", small_feed());
  ASSERT_EQ(put_job("acme", "feed.csv", {{"notify", {receiver.url()}}}).status, 201);
  const auto first = run("acme");
  ASSERT_EQ(first["status"], "succeeded");
  EXPECT_EQ(first["notifications"].size(), 1u) << "queued with the outcome: " << first.dump();
  const auto skipped = run("acme");
  ASSERT_EQ(skipped["status"], "skipped");
  EXPECT_TRUE(skipped["notifications"].empty()) << skipped.dump();
  const auto unchanged = run("acme", "&force=true");
  ASSERT_EQ(unchanged["status"], "succeeded");
  EXPECT_EQ(unchanged["counts"]["unchanged"], 2);
  EXPECT_TRUE(unchanged["notifications"].empty()) << unchanged.dump();

  // notify_on: this job also wants to hear of skips.
  ASSERT_EQ(put_job("acme", "feed.csv", {{"notify", {receiver.url()}}, {"notify_on", {"skipped"}}}).status, 200);
  const auto skipped_again = run("acme");
  ASSERT_EQ(skipped_again["status"], "skipped");
  EXPECT_EQ(skipped_again["notifications"].size(), 1u) << skipped_again.dump();
  const auto hooks = receiver.wait_for(2, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[1].json()["run"]["status"], "skipped");
}

TEST_F(NotificationsTest, DefaultUrlsHearEveryJobAndAQueuedNotificationSurvivesARestart) {
  WebhookReceiver receiver(kSecret);
  receiver.script({503});
  start({{"NOTIFY_URLS", receiver.url("/all")}, {"NOTIFY_RETRY_BASE", "3s"}});
  ASSERT_EQ(put_job("acme", "missing.csv", nlohmann::json::object()).status, 201);
  const auto ran = run("acme");
  ASSERT_EQ(ran["status"], "failed");
  ASSERT_EQ(receiver.wait_for(1, std::chrono::seconds(30)).size(), 1u);

  // The retry is due in ~3 s; this task stops first, the next one delivers it.
  app_->shutdown();
  start();
  const auto hooks = receiver.wait_for(2, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_TRUE(hooks[1].signature_valid) << hooks[1].signature_problem;
  EXPECT_EQ(hooks[1].headers.at("x-catalog-delivery"), hooks[0].headers.at("x-catalog-delivery"));
  const auto shown = run_when_notified(ran["run_id"]);
  EXPECT_EQ(shown["notifications"][0]["status"], "delivered");
  EXPECT_EQ(shown["notifications"][0]["attempts"], 2);
}

TEST_F(NotificationsTest, PutJobRefusesMetadataPrivateAndUnsignableTargets) {
  env_.erase("NOTIFY_ALLOW_HTTP");
  env_.erase("NOTIFY_ALLOW_PRIVATE");
  start();
  auto r = put_job("acme", "feed.csv", {{"notify", {"https://169.254.169.254/latest/meta-data/"}}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("options.notify[0]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("link-local"), std::string::npos) << r.body;
  r = put_job("acme", "feed.csv", {{"notify", {"https://10.1.2.3/hook"}}});
  EXPECT_EQ(r.status, 422) << r.body;
  r = put_job("acme", "feed.csv", {{"notify", {"http://hooks.example.com/hook"}}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("https"), std::string::npos) << r.body;
  EXPECT_EQ(put_job("acme", "feed.csv", {{"notify", {"https://hooks.example.com/hook"}}}).status, 201);

  env_.erase("NOTIFY_SECRET");
  start();
  r = put_job("other", "feed.csv", {{"notify", {"https://hooks.example.com/hook"}}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("NOTIFY_SECRET"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace catalog::testing
