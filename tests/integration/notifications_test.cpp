// Run-end webhooks end to end: real runs against the real PostgreSQL and the
// signature-checking S3 server, delivered to a real receiver on loopback that
// checks every X-Catalog-Signature with its own HMAC.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "support/s3_app_test.hpp"
#include "support/webhook_receiver.hpp"

namespace catalog::testing {
namespace {

constexpr const char* kSecret = "whsec_notifications_test";

std::string small_feed() {
  return "sku,product_name,description,brand,category,price,currency,availability\n"
         "N-1,One,,Acme,Tools,1.50,usd,In Stock\nN-2,Two,,Acme,Tools,2.50,usd,In Stock\n";
}

// The shared set-up (S3AppTest) with a signing secret and the loopback
// receiver allowed.
class NotificationsTest : public S3AppTest {
 protected:
  NotificationsTest() : S3AppTest("notify") {}

  void SetUp() override {
    S3AppTest::SetUp();
    env_["NOTIFY_SECRET"] = kSecret;
    env_["NOTIFY_ALLOW_HTTP"] = "1";     // the receiver is plain http on loopback
    env_["NOTIFY_ALLOW_PRIVATE"] = "1";
    env_["NOTIFY_RETRY_BASE"] = "200ms";
  }

  /// PUT /jobs/{id} on `key` under this test's prefix with `options`.
  HttpResult put_job(const std::string& id, const std::string& key, const nlohmann::json& options) {
    return S3AppTest::put_job(id, nlohmann::json{{"source", id}, {"uri", uri(key)}, {"options", options}});
  }

  nlohmann::json run(const std::string& job, const std::string& flags = "") { return run_and_wait(job, flags); }

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

// Runs that end without a worker's finish: POST /runs/{id}/cancel on a queued
// run ends it there, under the job's notify_on like any other end.
TEST_F(NotificationsTest, AQueuedRunCancelledByRequestIsPostedSignedUnlessNotifyOnLeavesCancelsOut) {
  WebhookReceiver receiver(kSecret);
  start({{"JOB_WORKERS", "0"}});  // nothing executes: runs stay queued
  ASSERT_EQ(put_job("acme", "feed.csv", {{"notify", {receiver.url("/acme")}}}).status, 201);
  ASSERT_EQ(put_job("quiet", "feed.csv", {{"notify", {receiver.url("/quiet")}}, {"notify_on", {"failed"}}}).status,
            201);

  const auto queued = client().request("POST", "/jobs/acme/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string run_id = queued.json()["run_id"];
  const auto cancelled = client().request("POST", "/runs/" + run_id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["status"], "cancelled");
  ASSERT_EQ(cancelled.json()["notifications"].size(), 1u) << "queued with the cancel: " << cancelled.body;
  EXPECT_EQ(cancelled.json()["notifications"][0]["url"], receiver.url("/acme"));

  const auto quiet = client().request("POST", "/jobs/quiet/run");
  ASSERT_EQ(quiet.status, 202) << quiet.body;
  const auto quiet_cancelled = client().request("POST", "/runs/" + quiet.json()["run_id"].get<std::string>() + "/cancel");
  ASSERT_EQ(quiet_cancelled.status, 200) << quiet_cancelled.body;
  EXPECT_TRUE(quiet_cancelled.json()["notifications"].empty()) << "notify_on: failed only: " << quiet_cancelled.body;

  const auto hooks = receiver.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_TRUE(hooks[0].signature_valid) << hooks[0].signature_problem;
  EXPECT_EQ(hooks[0].path, "/acme");
  const auto body = hooks[0].json();
  EXPECT_EQ(body["event"], "run.finished");
  EXPECT_EQ(body["run"]["run_id"], run_id);
  EXPECT_EQ(body["run"]["status"], "cancelled");
  EXPECT_EQ(body["run"]["error"], "cancelled before it started") << body.dump();
  const auto shown = run_when_notified(run_id);
  EXPECT_EQ(shown["notifications"][0]["status"], "delivered") << shown.dump();
  // The quiet job's cancel was never queued, so never arrives late either:
  // the receiver has seen exactly the one delivery when the first is final.
  EXPECT_EQ(receiver.received().size(), 1u);
}

// Deleting a job cancels its queued run; that run ended, so it is heard of
// like any cancelled run (it used to end silently).
TEST_F(NotificationsTest, AQueuedRunCancelledByDeletingItsJobIsPostedSigned) {
  WebhookReceiver receiver(kSecret);
  start({{"JOB_WORKERS", "0"}});  // nothing executes: the run stays queued
  ASSERT_EQ(put_job("doomed", "feed.csv", {{"notify", {receiver.url("/doomed")}}}).status, 201);
  const auto queued = client().request("POST", "/jobs/doomed/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string run_id = queued.json()["run_id"];
  ASSERT_EQ(client().request("DELETE", "/jobs/doomed").status, 204);

  const auto hooks = receiver.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 1u) << "the cancelled run was never posted";
  EXPECT_TRUE(hooks[0].signature_valid) << hooks[0].signature_problem;
  EXPECT_EQ(hooks[0].path, "/doomed");
  const auto body = hooks[0].json();
  EXPECT_EQ(body["run"]["run_id"], run_id);
  EXPECT_EQ(body["run"]["status"], "cancelled");
  EXPECT_EQ(body["run"]["error"], "cancelled before it started: its job was deleted") << body.dump();
  const auto shown = run_when_notified(run_id);
  EXPECT_EQ(shown["notifications"][0]["status"], "delivered") << shown.dump();
}

// The stale-heartbeat sweep ends a dead worker's run that had committed its
// rows (failed) and one whose cancel was requested (cancelled): both notify.
TEST_F(NotificationsTest, RunsTheStaleHeartbeatSweepEndsArePostedSigned) {
  WebhookReceiver receiver(kSecret);
  start({{"JOB_WORKERS", "0"}});
  ASSERT_EQ(put_job("indexing", "feed.csv", {{"notify", {receiver.url("/indexing")}}}).status, 201);
  ASSERT_EQ(put_job("doomed", "feed.csv", {{"notify", {receiver.url("/doomed")}}}).status, 201);
  const auto indexing = client().request("POST", "/jobs/indexing/run");
  const auto doomed = client().request("POST", "/jobs/doomed/run");
  ASSERT_EQ(indexing.status, 202) << indexing.body;
  ASSERT_EQ(doomed.status, 202) << doomed.body;
  const std::string indexing_id = indexing.json()["run_id"], doomed_id = doomed.json()["run_id"];

  // Another task's worker took both and died: one while building indexes,
  // the other after a cancel was requested. Their heartbeats are an hour old.
  query("UPDATE job_runs SET status = 'running', worker_id = 'ghost/1/0', started_at = now(), "
        "heartbeat_at = now() - interval '1 hour', phase = 'indexes' WHERE id = '" + indexing_id + "'");
  query("UPDATE job_runs SET status = 'running', worker_id = 'ghost/1/1', started_at = now(), "
        "heartbeat_at = now() - interval '1 hour', cancel_requested = true WHERE id = '" + doomed_id + "'");
  start({{"JOB_WORKERS", "1"}, {"RUN_STALE_AFTER", "5"}});

  const auto hooks = receiver.wait_for(2, std::chrono::seconds(30));
  ASSERT_EQ(hooks.size(), 2u);
  std::map<std::string, std::string> status_by_path;
  for (const auto& hook : hooks) {
    EXPECT_TRUE(hook.signature_valid) << hook.signature_problem;
    const auto body = hook.json();
    EXPECT_EQ(body["event"], "run.finished");
    status_by_path[hook.path] = body["run"]["status"];
    EXPECT_EQ(body["run"]["run_id"], hook.path == "/indexing" ? indexing_id : doomed_id) << body.dump();
  }
  EXPECT_EQ(status_by_path["/indexing"], "failed");
  EXPECT_EQ(status_by_path["/doomed"], "cancelled");
  EXPECT_EQ(run_when_notified(indexing_id)["notifications"][0]["status"], "delivered");
  EXPECT_EQ(run_when_notified(doomed_id)["notifications"][0]["status"], "delivered");
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
