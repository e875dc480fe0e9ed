// Runs on exactly one object: POST /events/s3 (EventBridge "Object Created"),
// POST /feeds/{feed_id}/run and `catalog-api run-object`, against the real
// PostgreSQL and the signature-checking S3 server.
#include <gtest/gtest.h>

#include <chrono>

#include "support/process.hpp"
#include "support/s3_app_test.hpp"

namespace catalog::testing {
namespace {

std::string feed(int first, int count, bool one_bad_row = false) {
  std::string csv = "sku,product_name,description,brand,category,price,currency,availability\n";
  for (int i = first; i < first + count; ++i) {
    csv += "O-" + std::to_string(i) + ",Product " + std::to_string(i) + ",,Acme,Tools,1.50,usd,In Stock\n";
  }
  if (one_bad_row) csv += "O-bad,Bad price,,Acme,Tools,not-a-price,usd,In Stock\n";
  return csv;
}

class ObjectRunsTest : public S3AppTest {
 protected:
  ObjectRunsTest() : S3AppTest("object_runs") {}

  /// PUT /jobs/{id} reading `key` (an object or a prefix) under this test's prefix, with `options`.
  void put_job(const std::string& id, const std::string& key, const nlohmann::json& options = nlohmann::json::object()) {
    const auto r = S3AppTest::put_job(id, nlohmann::json{{"source", id}, {"uri", uri(key)}, {"options", options}});
    ASSERT_LT(r.status, 300) << r.body;
  }

  // As EventBridge sends it (docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
  nlohmann::json event(const std::string& key) {
    return {{"version", "0"},
            {"id", "17793124-05d4-b198-2fde-7ededc63b103"},
            {"detail-type", "Object Created"},
            {"source", "aws.s3"},
            {"account", "111122223333"},
            {"time", "2026-12-06T04:00:00Z"},
            {"region", "eu-west-1"},
            {"resources", {"arn:aws:s3:::" + bucket_}},
            {"detail",
             {{"version", "0"},
              {"bucket", {{"name", bucket_}}},
              {"object", {{"key", prefix_ + key}, {"size", 100}, {"etag", "x"}, {"sequencer", "00617F08299329D189"}}},
              {"request-id", "N4N7GDK58NMKJ12R"},
              {"requester", "123456789012"},
              {"reason", "PutObject"}}}};
  }

  nlohmann::json finished(const std::string& run_id) { return wait_run(run_id); }
};

TEST_F(ObjectRunsTest, S3EventRunsEveryJobThatTakesTheObjectOnExactlyThatObject) {
  start();
  put_object("partners/acme/a.csv", feed(1, 5));
  put_object("partners/acme/z-newer.csv", feed(100, 7));
  put_job("acme-prefix", "partners/acme/");
  put_job("acme-exact", "partners/acme/a.csv");
  put_job("other", "partners/other/");

  auto r = client().post_json("/events/s3", event("partners/acme/a.csv"));
  ASSERT_EQ(r.status, 202) << r.body;
  const auto runs = r.json()["runs"];
  ASSERT_EQ(runs.size(), 2u) << r.body;
  EXPECT_EQ(runs[0]["job_id"], "acme-exact");
  EXPECT_EQ(runs[1]["job_id"], "acme-prefix");
  for (const auto& queued : runs) {
    const auto run = finished(queued["run_id"]);
    EXPECT_EQ(run["status"], "succeeded") << run.dump();
    EXPECT_EQ(run["source"]["uri"], uri("partners/acme/a.csv")) << "not the newest object under the prefix";
    EXPECT_EQ(run["counts"]["inserted"], 5);
  }

  r = client().post_json("/events/s3", event("partners/nobody/a.csv"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["runs"], nlohmann::json::array());

  auto bad = event("partners/acme/a.csv");
  bad["detail-type"] = "Object Deleted";
  r = client().post_json("/events/s3", bad);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("detail-type"), std::string::npos);
  bad = event("partners/acme/a.csv");
  bad["detail"]["object"].erase("key");
  r = client().post_json("/events/s3", bad);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("detail.object.key"), std::string::npos);
  EXPECT_NE(client().get("/metrics").body.find("catalog_etl_triggered_runs_total{trigger=\"s3_event\"} 2"),
            std::string::npos);
}

TEST_F(ObjectRunsTest, TwoFilesArrivingTogetherQueueOneRunEachInOrderAndARepeatIsSkipped) {
  env_["JOB_WORKERS"] = "2";  // two idle workers: only the queue keeps the job's runs apart and in order
  start();
  put_object("drop/1.csv", feed(1, 300));
  put_object("drop/2.csv", feed(1000, 4));
  put_job("acme", "drop/");
  const auto first = client().post_json("/events/s3", event("drop/1.csv"));
  const auto second = client().post_json("/events/s3", event("drop/2.csv"));
  ASSERT_EQ(first.status, 202) << first.body;
  ASSERT_EQ(second.status, 202) << second.body << " (a second file must queue, not be refused)";

  const auto one = finished(first.json()["runs"][0]["run_id"]);
  const auto two = finished(second.json()["runs"][0]["run_id"]);
  EXPECT_EQ(one["status"], "succeeded") << one.dump();
  EXPECT_EQ(two["status"], "succeeded") << two.dump();
  EXPECT_EQ(one["source"]["uri"], uri("drop/1.csv"));
  EXPECT_EQ(two["source"]["uri"], uri("drop/2.csv"));
  EXPECT_EQ(two["counts"]["inserted"], 4);
  EXPECT_LE(one["finished_at"].get<std::string>(), two["started_at"].get<std::string>()) << "one at a time, in order";

  const auto again = client().post_json("/events/s3", event("drop/2.csv"));
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(finished(again.json()["runs"][0]["run_id"])["status"], "skipped") << "same object, same ETag";
}

TEST_F(ObjectRunsTest, AFailedUploadIsRetriedOnItsOwnObjectAfterRaisingMaxRejects) {
  start();
  put_object("current.csv", feed(1, 3));
  put_job("acme", "current.csv");
  const auto upload = client().request("POST", "/feeds?job=acme", feed(50, 10, true), {"Content-Type: text/csv"});
  ASSERT_EQ(upload.status, 201) << upload.body;
  const auto feed_id = upload.json()["feed_id"].get<std::string>();
  const auto failed = finished(upload.json()["run_id"]);
  ASSERT_EQ(failed["status"], "failed") << failed.dump();

  put_job("acme", "current.csv", {{"max_rejects", 1}});
  const auto retried = client().request("POST", "/feeds/" + feed_id + "/run?force=true");
  ASSERT_EQ(retried.status, 202) << retried.body;
  EXPECT_EQ(retried.header("location"), "/runs/" + retried.json()["run_id"].get<std::string>());
  const auto run = finished(retried.json()["run_id"]);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["source"]["uri"], upload.json()["uri"]) << "the uploaded file, not the job's uri";
  EXPECT_EQ(run["counts"]["inserted"], 10);
  EXPECT_EQ(run["counts"]["rejected"], 1);

  EXPECT_EQ(client().request("POST", "/feeds/00000000-0000-4000-8000-000000000000/run").status, 404);
  EXPECT_EQ(client().request("POST", "/feeds/not-a-uuid/run").status, 400);
  EXPECT_NE(client().get("/metrics").body.find("catalog_etl_triggered_runs_total{trigger=\"feed_rerun\"} 1"),
            std::string::npos);
}

TEST_F(ObjectRunsTest, RunObjectRunsTheMatchingJobsAndSaysWhenNoneMatches) {
  start();
  put_object("inbox/acme.csv", feed(1, 6));
  put_job("acme", "inbox/");
  auto env = env_;
  auto [code, out] = run_process({CATALOG_API_BINARY, "run-object", uri("inbox/acme.csv")}, env, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"inserted\": 6"), std::string::npos) << out;
  EXPECT_NE(out.find(uri("inbox/acme.csv")), std::string::npos) << out;

  std::tie(code, out) = run_process({CATALOG_API_BINARY, "run-object", uri("elsewhere/x.csv")}, env, std::chrono::seconds(60));
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("no job matches " + uri("elsewhere/x.csv")), std::string::npos) << out;

  std::tie(code, out) = run_process({CATALOG_API_BINARY, "run-object", "s3://" + bucket_ + "/inbox/"}, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("is not s3://bucket/key"), std::string::npos) << out;
}

}  // namespace
}  // namespace catalog::testing
