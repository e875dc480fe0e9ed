// Dry runs and the per-run change log (issue 23, docs/change-log.md), end to
// end through the API against the real PostgreSQL and the signature-checked
// S3 server: what a preview counts and leaves alone, what each run records,
// how the changes page, a product's history, and who may see them.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/feed_builder.hpp"
#include "support/merchant_feeds.hpp"
#include "support/process.hpp"
#include "support/s3_app_test.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using Row = std::vector<std::string>;

Row product(const std::string& sku, const std::string& name, const std::string& price,
            const std::string& availability = "In Stock") {
  return {sku, name, "desc", "Acme", "Tools", price, "usd", availability};
}

std::string feed_of(const std::vector<Row>& rows) {
  FeedBuilder b;
  for (const auto& r : rows) b.row(r);
  return b;
}

// Five products, then the same with SKU-1's price and SKU-2's name changed,
// SKU-3 gone and SKU-6, SKU-7 new.
const std::vector<Row> kFirst = {product("SKU-1", "One", "$10.00"), product("SKU-2", "Two", "$20.00"),
                                 product("SKU-3", "Three", "$30.00"), product("SKU-4", "Four", "$40.00"),
                                 product("SKU-5", "Five", "$50.00")};
const std::vector<Row> kSecond = {product("SKU-1", "One", "$12.50"),  product("SKU-2", "Two v2", "$20.00"),
                                  product("SKU-4", "Four", "$40.00"),  product("SKU-5", "Five", "$50.00"),
                                  product("SKU-6", "Six", "$60.00"),   product("SKU-7", "Seven", "$70.00")};

class ChangeLogTest : public S3AppTest {
 protected:
  ChangeLogTest() : S3AppTest("changes") {}

  /// A soft_delete job `id` into `source` reading `key`.
  void snapshot_job(const std::string& id, const std::string& source, const std::string& key,
                    const nlohmann::json& extra = nlohmann::json::object()) {
    nlohmann::json options = {{"missing_rows", "soft_delete"}};
    options.update(extra);
    const auto r = put_job(id, nlohmann::json{{"source", source}, {"uri", uri(key)}, {"options", options}});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  /// Everything a run could change about the source's products, as one text.
  std::string products_state(const std::string& source) {
    return query("SELECT coalesce(string_agg(concat_ws('|', sku, name, price, content_hash, deleted_at, updated_at, "
                 "last_run_id), ',' ORDER BY sku), '') FROM products WHERE source = '" + source + "'")[0][0]
        .as<std::string>();
  }

  /// Every page of GET /runs/{id}/changes with `params`, following next_cursor.
  std::vector<nlohmann::json> all_changes(const std::string& run_id, const std::string& params = "") {
    std::vector<nlohmann::json> items;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      const auto r = client().get("/runs/" + run_id + "/changes?limit=2" + params +
                                  (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const auto body = r.json();
      for (const auto& item : body["items"]) items.push_back(item);
      if (body["next_cursor"].is_null()) break;
      cursor = body["next_cursor"].get<std::string>();
    }
    return items;
  }

  static std::map<std::string, nlohmann::json> by_sku(const std::vector<nlohmann::json>& items) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& i : items) out[i["sku"].get<std::string>()] = i;
    return out;
  }
};

TEST_F(ChangeLogTest, DryRunWritesNothingAndCountsWhatTheRunWould) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  snapshot_job("dry", "dry-src", "feed.csv");

  // A first load previewed: counted, no partition made, nothing written.
  auto preview = run_and_wait("dry", "&dry_run=true");
  EXPECT_EQ(preview["status"], "succeeded") << preview.dump();
  EXPECT_EQ(preview["dry_run"], true);
  EXPECT_EQ(preview["first_load"], true);
  EXPECT_EQ(preview["counts"]["inserted"], 5) << preview.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'dry-src'"), 0);
  EXPECT_EQ(query("SELECT products_partition_state('dry-src')")[0][0].as<std::string>(), "missing")
      << "a dry run of a first load creates no partition";

  auto loaded = run_and_wait("dry");
  ASSERT_EQ(loaded["status"], "succeeded") << loaded.dump();
  EXPECT_EQ(loaded["dry_run"], false);
  EXPECT_EQ(loaded["counts"]["inserted"], 5);

  // The second snapshot previewed: the same counts the real run then has.
  put_object("feed.csv", feed_of(kSecond));
  const auto before = products_state("dry-src");
  preview = run_and_wait("dry", "&dry_run=true");
  ASSERT_EQ(preview["status"], "succeeded") << preview.dump();
  EXPECT_EQ(preview["first_load"], false);
  EXPECT_EQ(products_state("dry-src"), before) << "a dry run writes nothing to products";
  const auto real = run_and_wait("dry");
  ASSERT_EQ(real["status"], "succeeded") << real.dump();
  EXPECT_EQ(preview["counts"], real["counts"]) << preview.dump() << "\n" << real.dump();
  EXPECT_EQ(real["counts"]["inserted"], 2);
  EXPECT_EQ(real["counts"]["updated"], 2);
  EXPECT_EQ(real["counts"]["deleted"], 1);
  EXPECT_EQ(real["counts"]["unchanged"], 2);
  EXPECT_NE(products_state("dry-src"), before);

  // Both recorded the same change list.
  const auto previewed = all_changes(preview["run_id"]);
  EXPECT_EQ(previewed, all_changes(real["run_id"]));
  EXPECT_EQ(previewed.size(), 5u);

  // Dry runs are counted apart in the metrics, with their change log.
  const auto metrics = client().get("/metrics").body;
  EXPECT_NE(metrics.find("catalog_etl_runs_total{status=\"succeeded\",dry_run=\"true\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("catalog_etl_runs_total{status=\"succeeded\",dry_run=\"false\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("catalog_changes_recorded_total 10\n"), std::string::npos) << metrics;
}

TEST_F(ChangeLogTest, DryRunNeverSatisfiesTheUnchangedSourceShortcut) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  put_job("short", "short-src", "feed.csv");
  const auto preview = run_and_wait("short", "&dry_run=true");
  ASSERT_EQ(preview["status"], "succeeded") << preview.dump();
  // The same object again: a real run loads it, it was only previewed.
  const auto real = run_and_wait("short");
  EXPECT_EQ(real["status"], "succeeded") << real.dump();
  EXPECT_EQ(real["counts"]["inserted"], 5);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'short-src'"), 5);
  // Now it is loaded: the next plain run takes the shortcut, a dry run never does.
  EXPECT_EQ(run_and_wait("short")["status"], "skipped");
  const auto again = run_and_wait("short", "&dry_run=true");
  EXPECT_EQ(again["status"], "succeeded") << again.dump();
  EXPECT_EQ(again["counts"]["unchanged"], 5) << again.dump();
  EXPECT_EQ(run_and_wait("short")["status"], "skipped") << "a dry run does not reset the shortcut";
}

TEST_F(ChangeLogTest, DryRunPastMaxDeletesReportsTheGuardInsteadOfFailing) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  snapshot_job("guard", "guard-src", "feed.csv");
  ASSERT_EQ(run_and_wait("guard")["status"], "succeeded");
  put_object("feed.csv", feed_of({kFirst[0]}));  // a truncated snapshot: 4 of 5 would go

  const auto preview = run_and_wait("guard", "&dry_run=true");
  EXPECT_EQ(preview["status"], "succeeded") << preview.dump();
  EXPECT_EQ(preview["counts"]["deleted"], 4) << preview.dump();
  ASSERT_TRUE(preview["delete_guard"].is_string()) << preview.dump();
  EXPECT_NE(preview["delete_guard"].get<std::string>().find("would soft-delete 4 of 5"), std::string::npos)
      << preview.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'guard-src' AND deleted_at IS NULL"), 5);
  EXPECT_EQ(all_changes(preview["run_id"], "&kind=deleted").size(), 4u);

  // The real run is stopped by the guard, as the preview said.
  const auto real = run_and_wait("guard");
  EXPECT_EQ(real["status"], "failed") << real.dump();
  EXPECT_TRUE(real["delete_guard"].is_null());
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'guard-src' AND deleted_at IS NULL"), 5);
}

// The preview and the change log read every format the service reads: a
// Google Merchant XML and an NDJSON feed, one product renamed and one new.
TEST_F(ChangeLogTest, EveryFeedFormatPreviewsAndRecordsItsChanges) {
  start();
  const auto rename = [](std::string feed, const std::string& from, const std::string& to) {
    const auto at = feed.find(from);
    if (at != std::string::npos) feed.replace(at, from.size(), to);
    return feed;
  };
  const std::vector<std::pair<std::string, std::string>> formats = {
      {"xml", rename(merchant_xml(6), "Widget 2 &amp; Co", "Widget 2 v2 &amp; Co")},
      {"ndjson", rename(merchant_ndjson(6), "Widget 2 & Co", "Widget 2 v2 & Co")}};
  for (const auto& [format, update] : formats) {
    SCOPED_TRACE(format);
    const std::string job = "fmt-" + format;
    put_object(job + "/first." + format, format == "xml" ? merchant_xml(5) : merchant_ndjson(5));
    auto r = put_job(job, nlohmann::json{{"source", job}, {"uri", uri(job + "/first." + format)},
                                         {"options", {{"profile", "google_merchant"}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_EQ(run_and_wait(job)["counts"]["inserted"], 5);

    put_object(job + "/second." + format, update);
    r = put_job(job, nlohmann::json{{"source", job}, {"uri", uri(job + "/second." + format)},
                                    {"options", {{"profile", "google_merchant"}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto preview = run_and_wait(job, "&dry_run=true");
    ASSERT_EQ(preview["status"], "succeeded") << preview.dump();
    EXPECT_EQ(preview["counts"]["inserted"], 1) << preview.dump();
    EXPECT_EQ(preview["counts"]["updated"], 1) << preview.dump();
    EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = '" + job + "'"), 5) << "the preview wrote nothing";
    const auto changes = by_sku(all_changes(preview["run_id"]));
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes.at("G-6")["kind"], "inserted");
    EXPECT_EQ(changes.at("G-2")["fields"],
              nlohmann::json({{"name", {{"before", "Widget 2 & Co"}, {"after", "Widget 2 v2 & Co"}}}}));

    const auto real = run_and_wait(job);
    ASSERT_EQ(real["status"], "succeeded") << real.dump();
    EXPECT_EQ(all_changes(real["run_id"]), all_changes(preview["run_id"]));
    const auto history = client().get("/products/" + job + "/G-2/history").json();
    ASSERT_EQ(history["items"].size(), 1u) << history.dump();
    EXPECT_EQ(history["items"][0]["run_id"], real["run_id"]);
  }
}

TEST_F(ChangeLogTest, ChangesListKindsFieldsAndPages) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  snapshot_job("list", "list-src", "feed.csv");
  const auto first = run_and_wait("list");
  ASSERT_EQ(first["status"], "succeeded");

  // A first load records only its count.
  auto r = client().get("/runs/" + first["run_id"].get<std::string>() + "/changes");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["first_load"], true);
  EXPECT_TRUE(r.json()["items"].empty()) << r.body;
  EXPECT_EQ(count("SELECT count(*) FROM run_changes"), 0);

  put_object("feed.csv", feed_of(kSecond));
  const auto second = run_and_wait("list");
  ASSERT_EQ(second["status"], "succeeded") << second.dump();
  const std::string run_id = second["run_id"];
  const auto items = all_changes(run_id);
  std::vector<std::string> skus;
  for (const auto& i : items) skus.push_back(i["sku"]);
  EXPECT_EQ(skus, (std::vector<std::string>{"SKU-1", "SKU-2", "SKU-3", "SKU-6", "SKU-7"})) << "sku order, every page";
  auto c = by_sku(items);
  EXPECT_EQ(c["SKU-1"]["kind"], "updated");
  EXPECT_EQ(c["SKU-1"]["fields"], (nlohmann::json{{"price", {{"before", "10.00"}, {"after", "12.50"}}}}))
      << c["SKU-1"].dump();
  EXPECT_EQ(c["SKU-2"]["fields"], (nlohmann::json{{"name", {{"before", "Two"}, {"after", "Two v2"}}}}))
      << c["SKU-2"].dump();
  EXPECT_EQ(c["SKU-3"]["kind"], "deleted");
  EXPECT_EQ(c["SKU-6"]["kind"], "inserted");
  EXPECT_TRUE(c["SKU-6"]["fields"].empty()) << "an insert records its key only";

  const auto inserted = all_changes(run_id, "&kind=inserted");
  ASSERT_EQ(inserted.size(), 2u);
  EXPECT_EQ(inserted[0]["sku"], "SKU-6");

  // SKU-3 comes back: revived.
  const auto third_feed = kSecond;
  auto with_three = third_feed;
  with_three.push_back(product("SKU-3", "Three", "$30.00"));
  put_object("feed.csv", feed_of(with_three));
  const auto third = run_and_wait("list");
  ASSERT_EQ(third["status"], "succeeded") << third.dump();
  const auto revived = all_changes(third["run_id"]);
  ASSERT_EQ(revived.size(), 1u);
  EXPECT_EQ(revived[0]["sku"], "SKU-3");
  EXPECT_EQ(revived[0]["kind"], "revived");

  // An unchanged re-run records nothing.
  const auto rerun = run_and_wait("list", "&force=true");
  ASSERT_EQ(rerun["status"], "succeeded");
  EXPECT_TRUE(all_changes(rerun["run_id"]).empty());

  // Bad parameters: 400 naming them.
  const auto bad = [&](const std::string& query, const std::string& named) {
    const auto res = client().get("/runs/" + run_id + "/changes?" + query);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
    EXPECT_NE(res.body.find(named), std::string::npos) << query << ": " << res.body;
  };
  bad("cursor=not-a-cursor", "cursor");
  bad("kind=moved", "kind");
  bad("limit=0", "limit");
  bad("colour=red", "colour");
  EXPECT_EQ(client().get("/runs/00000000-0000-4000-8000-000000000000/changes").status, 404);
  EXPECT_EQ(client().get("/runs/not-a-uuid/changes").status, 400);
}

TEST_F(ChangeLogTest, ARowRewrittenAfterItWasMatchedFailsTheRunAndAppliesNothing) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  put_job("moved", "moved-src", "feed.csv");
  ASSERT_EQ(run_and_wait("moved")["status"], "succeeded");
  const auto before = products_state("moved-src");
  // A writer that ignores the run's source lock rewrites SKU-1 after the run
  // matched it: here a trigger on the change log's INSERT, which comes
  // between the match and the UPDATE, moves the row to a new address.
  query(R"sql(CREATE FUNCTION test_rewrite_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE products SET name = name WHERE source = NEW.source AND sku = NEW.sku; RETURN NEW; END $$)sql");
  query("CREATE TRIGGER test_rewrite_product BEFORE INSERT ON run_changes FOR EACH ROW WHEN (NEW.sku = 'SKU-1') "
        "EXECUTE FUNCTION test_rewrite_product()");
  put_object("feed.csv", feed_of(kSecond));
  const auto run = run_and_wait("moved");
  query("DROP TRIGGER test_rewrite_product ON run_changes");
  EXPECT_EQ(run["status"], "failed") << run.dump();
  const std::string error = run.value("error", "");
  EXPECT_NE(error.find("1 changed rows were rewritten by another writer during the run; nothing was applied"),
            std::string::npos)
      << error;
  EXPECT_EQ(products_state("moved-src"), before) << "SKU-2's new name and the new rows rolled back with it";
  EXPECT_EQ(count("SELECT count(*) FROM run_changes WHERE run_id = '" + run["run_id"].get<std::string>() + "'"), 0);
  // Without the other writer the same feed applies.
  EXPECT_EQ(run_and_wait("moved")["status"], "succeeded");
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'moved-src' AND name = 'Two v2'"), 1);
}

TEST_F(ChangeLogTest, ProductHistoryIsNewestFirstWithoutDryRuns) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  put_job("hist", "hist-src", "feed.csv");
  ASSERT_EQ(run_and_wait("hist")["status"], "succeeded");
  put_object("feed.csv", feed_of(kSecond));
  const auto second = run_and_wait("hist");
  ASSERT_EQ(second["status"], "succeeded");
  auto third_rows = kSecond;
  third_rows[0] = product("SKU-1", "One", "$15.00");
  put_object("feed.csv", feed_of(third_rows));
  const auto third = run_and_wait("hist");
  ASSERT_EQ(third["status"], "succeeded");
  third_rows[0] = product("SKU-1", "One", "$99.00");
  put_object("feed.csv", feed_of(third_rows));
  ASSERT_EQ(run_and_wait("hist", "&dry_run=true")["status"], "succeeded");

  const auto r = client().get("/products/hist-src/SKU-1/history");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto items = r.json()["items"];
  ASSERT_EQ(items.size(), 2u) << "a dry run changed nothing: " << r.body;
  EXPECT_EQ(items[0]["run_id"], third["run_id"]);
  EXPECT_EQ(items[0]["fields"]["price"], (nlohmann::json{{"before", "12.50"}, {"after", "15.00"}}));
  EXPECT_EQ(items[1]["run_id"], second["run_id"]);
  EXPECT_EQ(items[1]["fields"]["price"], (nlohmann::json{{"before", "10.00"}, {"after", "12.50"}}));
  EXPECT_EQ(items[0]["job_id"], "hist");
  EXPECT_TRUE(client().get("/products/hist-src/NO-SUCH/history").json()["items"].empty());
  EXPECT_EQ(client().get("/products/hist-src/SKU-1/history?limit=abc").status, 400);
}

TEST_F(ChangeLogTest, FeedsKeyMayPreviewItsOwnJobAndReadItsRunsChanges) {
  const std::string token = "change-log-test-bootstrap-token";
  env_ = with_token(env_, token);
  start();
  const std::vector<std::string> admin = {"Authorization: Bearer " + token};
  const auto key = [&](const std::string& name, const std::string& scope) {
    const auto r = client().post_json("/keys", {{"name", name}, {"scopes", {scope}}}, admin);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::vector<std::string>{"Authorization: Bearer " + r.json().value("secret", "")};
  };
  put_object("feed.csv", feed_of(kFirst));
  for (const auto* id : {"job-a", "job-b"}) {
    const auto r = client().request("PUT", std::string("/jobs/") + id,
                                    nlohmann::json{{"source", std::string("src-") + id}, {"uri", uri("feed.csv")}}.dump(),
                                    {"Content-Type: application/json", admin[0]});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  const auto a = key("partner-a", "feeds:job-a");
  const auto reader = key("dashboard", "read");
  const auto wait_as = [&](const std::string& run_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    nlohmann::json run;
    while (std::chrono::steady_clock::now() < deadline) {
      run = client().get("/runs/" + run_id, admin).json();
      if (run["status"] != "queued" && run["status"] != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "run " << run_id << " did not finish";
    return run;
  };

  // Its own job: a dry run yes, a real run no; another job's: neither.
  auto r = client().request("POST", "/jobs/job-a/run?dry_run=true", {}, a);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["dry_run"], true);
  const std::string own_run = r.json()["run_id"];
  r = client().request("POST", "/jobs/job-a/run", {}, a);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("needs scope"), std::string::npos) << r.body;
  EXPECT_EQ(client().request("POST", "/jobs/job-b/run?dry_run=true", {}, a).status, 403);
  EXPECT_EQ(wait_as(own_run)["counts"]["inserted"], 5);

  // An upload previewed, then previewed again through its feed.
  r = client().request("POST", "/feeds?job=job-a&dry_run=true", feed_of(kSecond), {"Content-Type: text/csv", a[0]});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["dry_run"], true);
  const std::string feed_id = r.json()["feed_id"];
  const auto upload_run = wait_as(r.json()["run_id"]);
  EXPECT_EQ(upload_run["dry_run"], true);
  EXPECT_EQ(upload_run["status"], "succeeded") << upload_run.dump();

  // Changes of its own job's runs; not another job's; history needs read.
  const auto b_run = client().request("POST", "/jobs/job-b/run?wait=true", {}, admin).json();
  ASSERT_EQ(b_run["status"], "succeeded") << b_run.dump();
  EXPECT_EQ(client().get("/runs/" + own_run + "/changes", a).status, 200);
  r = client().get("/runs/" + b_run["run_id"].get<std::string>() + "/changes", a);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(client().get("/runs/" + b_run["run_id"].get<std::string>() + "/changes", reader).status, 200);
  EXPECT_EQ(client().get("/products/src-job-b/SKU-1/history", a).status, 403);
  EXPECT_EQ(client().get("/products/src-job-b/SKU-1/history", reader).status, 200);
  EXPECT_EQ(client().get("/products/src-job-b/SKU-1/history").status, 401);

  r = client().request("POST", "/feeds/" + feed_id + "/run?dry_run=true", {}, a);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["dry_run"], true);
  EXPECT_EQ(wait_as(r.json()["run_id"])["counts"]["inserted"], 6);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'src-job-a'"), 0) << "previews only";
}

TEST_F(ChangeLogTest, RetentionPrunesOldRunsButKeepsEachJobsLastSucceededRun) {
  start();
  put_object("feed.csv", feed_of(kFirst));
  snapshot_job("keep", "keep-src", "feed.csv");
  const std::string first = run_and_wait("keep")["run_id"];
  put_object("feed.csv", feed_of(kSecond));
  const std::string last_ok = run_and_wait("keep")["run_id"];
  put_object("feed.csv", feed_of({kFirst[0]}));  // SKU-1 back to $10.00, five others gone
  const std::string old_dry = run_and_wait("keep", "&dry_run=true")["run_id"];
  const std::string failed = run_and_wait("keep")["run_id"];  // the mass-delete guard
  const std::string recent = run_and_wait("keep", "&dry_run=true")["run_id"];
  ASSERT_EQ(count("SELECT count(*) FROM run_changes WHERE run_id = '" + old_dry + "'"), 6);
  ASSERT_EQ(count("SELECT count(*) FROM job_runs WHERE id = '" + failed + "' AND status = 'failed'"), 1);
  // Four of them finished 40 days ago; the retention is 30 days.
  query("UPDATE job_runs SET finished_at = finished_at - interval '40 days' WHERE id IN ('" + first + "', '" + last_ok +
        "', '" + old_dry + "', '" + failed + "')");

  start({{"RUN_RETENTION_DAYS", "30"}});  // worker 0 prunes when it starts
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM job_runs WHERE job_id = 'keep'") == 2; },
                         std::chrono::seconds(20)))
      << count("SELECT count(*) FROM job_runs WHERE job_id = 'keep'");
  std::set<std::string> kept;
  for (const auto& row : query("SELECT id::text FROM job_runs WHERE job_id = 'keep'")) kept.insert(row[0].as<std::string>());
  EXPECT_EQ(kept, (std::set<std::string>{last_ok, recent})) << "the last succeeded run stays, however old";
  EXPECT_EQ(count("SELECT count(*) FROM run_changes WHERE run_id NOT IN ('" + last_ok + "', '" + recent + "')"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM run_changes WHERE run_id = '" + last_ok + "'"), 5);
  EXPECT_EQ(client().get("/runs/" + old_dry).status, 404);
  EXPECT_EQ(client().get("/runs/" + last_ok + "/changes").status, 200);
}

TEST_F(ChangeLogTest, RunJobDryRunCommandWritesNothing) {
  start({{"JOB_WORKERS", "0"}});
  put_object("feed.csv", feed_of(kFirst));
  put_job("cli-dry", "cli-dry-src", "feed.csv");
  auto env = env_;
  env.erase("AUTH_DISABLED");
  auto [code, out] =
      run_process({CATALOG_API_BINARY, "run-job", "cli-dry", "--dry-run"}, env, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"dry_run\": true"), std::string::npos) << out;
  EXPECT_NE(out.find("\"inserted\": 5"), std::string::npos) << out;
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'cli-dry-src'"), 0);
  std::tie(code, out) = run_process({CATALOG_API_BINARY, "run-job", "cli-dry", "--dry-runn"}, env,
                                    std::chrono::seconds(60));
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("unknown option '--dry-runn'"), std::string::npos) << out;
}

}  // namespace
}  // namespace catalog::testing
