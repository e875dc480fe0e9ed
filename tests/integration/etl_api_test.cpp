// The ETL as operators drive it: job definitions, runs through the HTTP API
// and `catalog-api run-job`, against the real PostgreSQL and the real
// S3-compatible server (every request signature-checked by botocore).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <vector>
#include <cctype>
#include <chrono>
#include <thread>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <pqxx/pqxx>

#include "support/feed_builder.hpp"
#include "support/s3_app_test.hpp"
#include "support/timing.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

std::string feed(int rows, int changed_from = -1) {
  auto columns = kPartnerColumns;
  columns.push_back("color");
  return FeedBuilder(columns).rows(1, rows, [&](int i) -> std::vector<std::string> {
    const bool changed = changed_from >= 0 && i >= changed_from;
    return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "Line one, with comma", "Acme", "Tools",
            "$1," + std::to_string(100 + i) + ".50", "usd", changed ? "Out of Stock" : "In Stock", "red"};
  });
}

class EtlApiTest : public S3AppTest {
 protected:
  EtlApiTest() : S3AppTest("etl_api") {}

  // A first load of 30,000 rows held in its index phase: the rows are
  // committed and served, and this transaction's lock on the partition keeps
  // CREATE INDEX waiting until `tx` ends.
  struct HeldIndexPhase {
    std::string run_id;
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<pqxx::work> tx;
  };
  HeldIndexPhase first_load_held_in_its_index_phase() {
    HeldIndexPhase hold;
    // Enough rows that the index builds take a moment (feed() is valid up to 899 rows).
    put_object("feed.csv", FeedBuilder().rows(0, 29999, [](int i) -> std::vector<std::string> {
      return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "", "Acme", "Tools", "1.50", "usd", "In Stock"};
    }));
    EXPECT_EQ(put_job("acme-daily", {{"source", "acme"}, {"uri", uri("feed.csv")}}).status,
              201);
    const auto triggered = client().request("POST", "/jobs/acme-daily/run");
    EXPECT_EQ(triggered.status, 202) << triggered.body;
    hold.run_id = triggered.json()["run_id"];

    // Hold the index phase: CREATE INDEX needs a SHARE lock on the partition,
    // which this one excludes (readers' ACCESS SHARE it does not). Taken as
    // soon as the load's commit attaches the partition.
    hold.conn = std::make_unique<pqxx::connection>(dsn_);
    hold.tx = std::make_unique<pqxx::work>(*hold.conn);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      const auto state = hold.tx->exec1("SELECT products_partition_state('acme'), "
                                        "(SELECT count(*) FROM job_runs WHERE status NOT IN ('queued', 'running'))");
      if (state[0].as<std::string>() == "attached") break;
      if (state[1].as<int>() != 0 || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the load ended or never committed: " << client().get("/runs/" + hold.run_id).body;
        return hold;
      }
    }
    hold.tx->exec("LOCK TABLE products_acme_53bce4f1 IN SHARE ROW EXCLUSIVE MODE");
    EXPECT_GT(count("SELECT count(*) FROM products_missing_indexes('acme')"), 0) << "the index phase was already over";
    return hold;
  }
};

TEST_F(EtlApiTest, FirstLoadThenSkippedThenForcedRerunWritesNothing) {
  start();
  put_object("feed.csv", feed(200));
  auto r = put_job("acme-daily", {{"source", "acme"}, {"uri", uri("feed.csv")}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("location"), "/jobs/acme-daily");
  EXPECT_EQ(put_job("acme-daily", {{"source", "acme"}, {"uri", uri("feed.csv")}}).status, 200)
      << "PUT is idempotent";

  auto first = run_and_wait("acme-daily");
  EXPECT_EQ(first["status"], "succeeded") << first.dump();
  EXPECT_EQ(first["counts"]["read"], 200);
  EXPECT_EQ(first["counts"]["inserted"], 200);
  EXPECT_EQ(first["counts"]["updated"], 0);
  EXPECT_EQ(first["source"]["uri"], uri("feed.csv"));
  EXPECT_FALSE(first["source"]["etag"].get<std::string>().empty());
  EXPECT_EQ(first["progress"]["bytes"], feed(200).size());
  EXPECT_EQ(first["source"]["size"], feed(200).size());
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'acme'"), 200);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE price = 1101.50 AND currency = 'USD' AND availability = 'in_stock'"), 1);

  auto skipped = run_and_wait("acme-daily");
  EXPECT_EQ(skipped["status"], "skipped") << "same ETag and options: no download";
  EXPECT_EQ(skipped["progress"]["bytes"], 0);

  const long xmin_before = count("SELECT sum(xmin::text::bigint) FROM products");
  auto forced = run_and_wait("acme-daily", "&force=true");
  EXPECT_EQ(forced["status"], "succeeded");
  EXPECT_EQ(forced["counts"]["unchanged"], 200);
  EXPECT_EQ(forced["counts"]["inserted"], 0);
  EXPECT_EQ(forced["counts"]["updated"], 0);
  EXPECT_EQ(count("SELECT sum(xmin::text::bigint) FROM products"), xmin_before) << "no row was rewritten";

  // A changed feed updates exactly the changed rows.
  put_object("feed.csv", feed(200, 199));
  auto changed = run_and_wait("acme-daily");
  EXPECT_EQ(changed["status"], "succeeded");
  EXPECT_EQ(changed["counts"]["updated"], 2);
  EXPECT_EQ(changed["counts"]["unchanged"], 198);

  const auto history = client().get("/jobs/acme-daily/runs").json();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0]["run_id"], changed["run_id"]) << "newest first";
  EXPECT_EQ(client().get("/runs/" + first["run_id"].get<std::string>()).json()["counts"]["inserted"], 200);
}

TEST_F(EtlApiTest, FirstLoadServesItsRowsWhileItsIndexesBuildAndACancelThenKeepsThem) {
  start();
  auto hold = first_load_held_in_its_index_phase();
  ASSERT_FALSE(HasFailure());
  const std::string run_id = hold.run_id;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);

  const auto page = client().get("/products?source=acme&limit=1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json()["items"].size(), 1u) << page.body;
  auto running = client().get("/runs/" + run_id).json();
  EXPECT_EQ(running["status"], "running") << running.dump();
  EXPECT_EQ(running["counts"]["inserted"], 30000) << "counts are recorded when the rows become visible";

  // A cancel interrupts the blocked CREATE INDEX; the rows stay.
  EXPECT_LT(client().request("POST", "/runs/" + run_id + "/cancel").status, 300);
  nlohmann::json ended;
  while (std::chrono::steady_clock::now() < deadline) {
    ended = client().get("/runs/" + run_id).json();
    if (ended["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  hold.tx->abort();
  EXPECT_EQ(ended["status"], "cancelled") << ended.dump();
  EXPECT_NE(ended["error"].get<std::string>().find("rows are loaded and served"), std::string::npos) << ended.dump();
  EXPECT_EQ(ended["counts"]["inserted"], 30000);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'acme'"), 30000);
  EXPECT_GT(count("SELECT count(*) FROM products_missing_indexes('acme')"), 0);

  // The next run finds every row unchanged and builds what is missing.
  const auto next = run_and_wait("acme-daily", "&force=true");
  EXPECT_EQ(next["status"], "succeeded") << next.dump();
  EXPECT_EQ(next["counts"]["unchanged"], 30000);
  EXPECT_EQ(count("SELECT count(*) FROM products_missing_indexes('acme')"), 0);
}

// A shutdown in the index phase ends the run `cancelled` with the load's
// counts: it is not re-queued, since a re-run would find every row unchanged
// and record zeros over them.
TEST_F(EtlApiTest, ShutdownDuringTheIndexPhaseKeepsTheLoadsCountsAndDoesNotRequeue) {
  start();
  auto hold = first_load_held_in_its_index_phase();
  ASSERT_FALSE(HasFailure());
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    hold.tx->abort();  // in case the interrupt does not reach CREATE INDEX
  });
  app_->shutdown(std::chrono::milliseconds(10000));
  release.join();
  pqxx::connection c(dsn_);
  pqxx::read_transaction tx(c);
  const auto row = tx.exec_params1("SELECT status, inserted, error FROM job_runs WHERE id = $1", hold.run_id);
  EXPECT_EQ(row[0].as<std::string>(), "cancelled");
  EXPECT_EQ(row[1].as<long>(), 30000);
  EXPECT_NE(row[2].as<std::string>("").find("rows are loaded and served"), std::string::npos) << row[2].c_str();
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM products WHERE source = 'acme'")[0].as<long>(), 30000);
}

TEST_F(EtlApiTest, TriggeredRunsStartAtOnceNotAtTheNextQueuePoll) {
  // The worker polls the queue every second when idle; a trigger on this
  // process must wake it. An operator running ?wait=true back to back sees
  // each skipped run answer in milliseconds, not after the poll interval.
  start();
  put_object("feed.csv", feed(5));
  ASSERT_EQ(put_job("prompt", {{"source", "prompt"}, {"uri", uri("feed.csv")}}).status, 201);
  EXPECT_EQ(run_and_wait("prompt")["status"], "succeeded");
  std::vector<long> took_ms;
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(run_and_wait("prompt")["status"], "skipped");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    took_ms.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  }
  // The median, not the slowest: one run slowed by a loaded machine says
  // nothing, while waiting for the 1 s poll would put the median near 500 ms
  // plus the run itself.
  std::sort(took_ms.begin(), took_ms.end());
  EXPECT_LT(took_ms[2], scaled(std::chrono::milliseconds(450)).count())
      << "median of 5 skipped runs, in ms (slowest " << took_ms[4] << ")";
}

TEST_F(EtlApiTest, PrefixUriTakesTheNewestObjectAndBareKeysUseTheRawBucket) {
  start();
  put_object("daily/2026-11-01.csv", feed(3));
  // S3 LastModified has second resolution: (re)write the newer object until
  // S3 says it is newer, instead of sleeping a second and hoping.
  const auto last_modified = [&](const std::string& key) {
    std::tm tm{};
    std::istringstream in(s3_.client().head_object(bucket_, prefix_ + key).last_modified);
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
    EXPECT_FALSE(in.fail()) << "unparsable Last-Modified";
    return timegm(&tm);
  };
  const auto older = last_modified("daily/2026-11-01.csv");
  ASSERT_TRUE(wait_until(
      [&] {
        put_object("daily/2026-11-02.csv", feed(5));
        return last_modified("daily/2026-11-02.csv") > older;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(200)));
  ASSERT_EQ(put_job("prefixed", {{"source", "p"}, {"uri", uri("daily/")}}).status, 201);
  auto r = run_and_wait("prefixed");
  EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["inserted"], 5);
  EXPECT_NE(r["source"]["uri"].get<std::string>().find("2026-11-02.csv"), std::string::npos);

  ASSERT_EQ(put_job("bare", {{"source", "b"}, {"uri", prefix_ + "daily/2026-11-01.csv"}}).status, 201);
  r = run_and_wait("bare");
  EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["inserted"], 3);
}

TEST_F(EtlApiTest, JobDefinitionsAreValidated) {
  start();
  auto r = put_job("Bad_Slug", {{"source", "a"}, {"uri", "s3://bucket-b/k.csv"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["field"], "id");
  r = put_job("ok", {{"source", "a"}, {"uri", "s3://bucket-only"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["field"], "uri");
  r = put_job("ok", {{"source", "a"}, {"uri", "https://example.com/x.csv"}});
  EXPECT_EQ(r.json()["error"]["field"], "uri");
  r = put_job("ok", {{"uri", "s3://bucket-b/k.csv"}});
  EXPECT_EQ(r.json()["error"]["field"], "source");
  r = put_job("ok", {{"source", "a"}, {"uri", "s3://bucket-b/k.csv"}, {"options", {{"colour", "red"}}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["field"], "options.colour");
  r = put_job("ok", {{"source", "a"}, {"uri", "s3://bucket-b/k.csv"}, {"options", {{"missing_rows", "explode"}}}});
  EXPECT_EQ(r.json()["error"]["field"], "options.missing_rows");
  EXPECT_EQ(client().get("/jobs").json().size(), 0u) << "nothing was stored";
  EXPECT_EQ(client().get("/jobs/ok").status, 404);
  EXPECT_EQ(client().request("POST", "/jobs/ok/run").status, 404);
}

TEST_F(EtlApiTest, JobUriMustNameAValidS3Bucket) {
  start();
  // On AWS the bucket becomes the request's host: these pointed the service
  // at arbitrary hosts and ports inside the VPC.
  const std::vector<std::string> uris = {
      "s3://localhost:9444#/k.csv", "s3://2130706433:9444#/k.csv", "s3://2130706433/k.csv", "s3://0x7f000001/k.csv",
        "s3://127.0.0.1/k.csv", "s3://192.168.5.4/k.csv", "s3://user:pw@bucket/k.csv", "s3://bucket:443/k.csv",
        "s3://[::1]/k.csv", "s3://Bucket/k.csv", "s3://ab/k.csv", "s3://two..dots/k.csv", "s3://-bucket/k.csv",
        "s3://xn--bucket/k.csv", "s3://bucket-s3alias/k.csv", "s3://" + std::string(64, 'a') + "/k.csv",
        "s3://raw-feeds/k.csv?versionId=1", "s3://raw-feeds/k.csv#frag", "partners/k.csv#x"};
  for (const auto& uri : uris) {
    const auto r = put_job("hosty", {{"source", "a"}, {"uri", uri}});
    EXPECT_EQ(r.status, 422) << uri << ": " << r.body;
    EXPECT_EQ(r.json()["error"]["field"], "uri") << uri;
  }
  const auto r = put_job("hosty", {{"source", "a"}, {"uri", "s3://localhost:9444#/k.csv"}});
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("'?' or '#'"), std::string::npos) << r.body;
  const auto ip = put_job("hosty", {{"source", "a"}, {"uri", "s3://2130706433/k.csv"}});
  EXPECT_NE(ip.json()["error"]["message"].get<std::string>().find("must not be an IP address"), std::string::npos)
      << ip.body;
  EXPECT_EQ(client().get("/jobs").json().size(), 0u) << "nothing was stored";
  // Valid names still work, dotted ones included.
  EXPECT_EQ(put_job("hosty", {{"source", "a"}, {"uri", "s3://my.raw-feeds.2026/partners/k.csv"}}).status, 201);
  EXPECT_EQ(put_job("hosty", {{"source", "a"}, {"uri", uri("k.csv")}}).status, 200);
}

// libcurl resolved "." and ".." segments before sending, so a job could
// read another key (or, path-style, another bucket) than the one it names;
// S3 keys are at most 1,024 bytes.
TEST_F(EtlApiTest, JobUriWithDotSegmentsOrAnOverlongKeyIs422) {
  start();
  const std::vector<std::string> uris = {
      "s3://" + bucket_ + "/partners/../other-bucket/k.csv", "s3://" + bucket_ + "/./k.csv",
      "s3://" + bucket_ + "/a/..",  "s3://" + bucket_ + "/../k.csv", "partners/./k.csv", "../k.csv",
      "s3://" + bucket_ + "/" + std::string(1025, 'k'), std::string(1025, 'k')};
  for (const auto& uri : uris) {
    const auto r = put_job("dotty", {{"source", "a"}, {"uri", uri}});
    EXPECT_EQ(r.status, 422) << uri.substr(0, 80) << ": " << r.body;
    EXPECT_EQ(r.json()["error"]["field"], "uri") << uri.substr(0, 80);
  }
  EXPECT_EQ(client().get("/jobs").json().size(), 0u) << "nothing was stored";
  // Dots inside a segment are ordinary characters.
  EXPECT_EQ(put_job("dotty", {{"source", "a"}, {"uri", "s3://" + bucket_ + "/a..b/.hidden/k.v1.csv"}}).status, 201);
  EXPECT_EQ(put_job("dotty", {{"source", "a"}, {"uri", "s3://" + bucket_ + "/" + std::string(1024, 'k')}}).status, 200);
}

/// RFC 3986 percent-encoding of one path segment (every byte but unreserved ones).
std::string encode_segment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

TEST_F(EtlApiTest, SqlLikeAndPathCharactersInCsvValuesRoundTripVerbatim) {
  start();
  // source, sku, name and an attribute carrying SQL quoting, COPY escapes and
  // its NULL marker, LIKE wildcards, and path traversal, all through S3 ->
  // CSV -> COPY -> PostgreSQL -> JSON.
  const std::string source = "o'reilly%_\\ ../src";
  const std::vector<std::string> nasty = {
      "'; DROP TABLE products; --",
      "100%_off\\",
      "../../etc/passwd",
      "..%2F..%2Fetc%2Fshadow",
      "\\N",
      "a\tb\\tc \"quoted\" $1 $$x$$ E'\\x00' %s {}",
      "/leading/slash/",
      "x' OR '1'='1",
      "_%\\_%",
      "..\\..\\windows\\win.ini",
      "zürich 東京 \xF0\x9F\x98\x80",
  };
  std::string csv = "sku,product_name,brand,notes\n";
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    csv += csv_field(nasty[i]) + "," + csv_field("name " + nasty[i]) + "," + csv_field(nasty[(i + 1) % nasty.size()]) +
           "," + csv_field("note " + nasty[i]) + "\n";
  }
  put_object("nasty.csv", csv);
  ASSERT_EQ(put_job("nasty", {{"source", source}, {"uri", uri("nasty.csv")}}).status, 201);
  const auto result = run_and_wait("nasty");
  ASSERT_EQ(result["status"], "succeeded") << result.dump();
  EXPECT_EQ(result["counts"]["inserted"], nasty.size());

  for (std::size_t i = 0; i < nasty.size(); ++i) {
    const auto r = client().get("/products/" + encode_segment(source) + "/" + encode_segment(nasty[i]));
    ASSERT_EQ(r.status, 200) << nasty[i] << ": " << r.body;
    const auto p = r.json();
    EXPECT_EQ(p["source"], source);
    EXPECT_EQ(p["sku"], nasty[i]);
    EXPECT_EQ(p["name"], "name " + nasty[i]);
    EXPECT_EQ(p["brand"], nasty[(i + 1) % nasty.size()]);
    EXPECT_EQ(p["attributes"], (nlohmann::json{{"notes", "note " + nasty[i]}}));
  }
  // Nothing else was touched, and the wildcards are literal in a search.
  EXPECT_EQ(count("SELECT count(*) FROM products"), static_cast<long>(nasty.size()));
  EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
  const auto found = client().get("/products?q=" + encode_segment("_%\\_%")).json();
  ASSERT_TRUE(found.contains("items")) << found.dump();
  ASSERT_EQ(found["items"].size(), 1u) << found.dump();
  EXPECT_EQ(found["items"][0]["sku"], "_%\\_%");
}

TEST_F(EtlApiTest, SecondTriggerConflictsAndQueuedRunsCanBeCancelled) {
  start({{"JOB_WORKERS", "0"}});  // nothing executes: runs stay queued
  put_object("feed.csv", feed(3));
  ASSERT_EQ(put_job("held", {{"source", "h"}, {"uri", uri("feed.csv")}}).status, 201);
  const auto first = client().request("POST", "/jobs/held/run");
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string run_id = first.json()["run_id"];
  EXPECT_EQ(first.json()["status"], "queued");
  EXPECT_EQ(first.header("location"), "/runs/" + run_id);

  const auto second = client().request("POST", "/jobs/held/run");
  EXPECT_EQ(second.status, 409);
  EXPECT_NE(second.json()["error"]["message"].get<std::string>().find(run_id), std::string::npos) << second.body;
  // DELETE /jobs/{id} with a queued run: db_limits_test.cpp (it cancels the run).

  const auto cancelled = client().request("POST", "/runs/" + run_id + "/cancel");
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["status"], "cancelled");
  EXPECT_EQ(client().request("POST", "/runs/" + run_id + "/cancel").status, 409) << "already ended";
  EXPECT_EQ(client().get("/runs/" + run_id).json()["status"], "cancelled");
  EXPECT_EQ(client().get("/runs/00000000-0000-0000-0000-000000000000").status, 404);
  EXPECT_EQ(client().get("/runs/not-a-uuid").status, 400);
  EXPECT_EQ(client().request("DELETE", "/jobs/held").status, 204);
}

TEST_F(EtlApiTest, FailuresAreExplainedAndWriteNothing) {
  start();
  ASSERT_EQ(put_job("missing", {{"source", "m"}, {"uri", uri("nope.csv")}}).status, 201);
  auto r = run_and_wait("missing");
  EXPECT_EQ(r["status"], "failed");
  const std::string error = r["error"];
  EXPECT_NE(error.find(uri("nope.csv")), std::string::npos) << error;
  EXPECT_NE(error.find("404"), std::string::npos) << error;

  put_object("bad.csv", "sku,product_name,price\nA,Alpha,1.00\nB,Beta,not-a-price\n,NoKey,2.00\nD,Delta\n");
  ASSERT_EQ(put_job("bad", {{"source", "bad"}, {"uri", uri("bad.csv")}}).status, 201);
  r = run_and_wait("bad");
  EXPECT_EQ(r["status"], "failed") << r.dump();
  EXPECT_GE(r["counts"]["rejected"], 1) << "max_rejects=0: the first bad row fails the run";
  EXPECT_EQ(r["counts"]["inserted"], 0);
  ASSERT_GE(r["rejects"].size(), 1u) << r.dump();
  EXPECT_EQ(r["rejects"][0]["line"], 3);
  EXPECT_NE(r["error"].get<std::string>().find("reject"), std::string::npos) << r.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'bad'"), 0) << "too many rejects writes nothing";

  // With a tolerance the good row lands and the bad ones are reported.
  ASSERT_EQ(put_job("bad", {{"source", "bad"}, {"uri", uri("bad.csv")},
                            {"options", {{"max_rejects", 3}}}})
                .status,
            200);
  r = run_and_wait("bad");
  EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["inserted"], 1);
  EXPECT_EQ(r["counts"]["rejected"], 3);
  ASSERT_EQ(r["rejects"].size(), 3u) << r.dump();
  EXPECT_EQ(r["rejects"][0]["line"], 3);
  EXPECT_EQ(r["rejects"][1]["line"], 4);
  EXPECT_EQ(r["rejects"][2]["line"], 5);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'bad'"), 1);
}

TEST_F(EtlApiTest, RunJobCommandRunsInTheForeground) {
  start({{"JOB_WORKERS", "0"}});
  put_object("feed.csv", feed(25));
  ASSERT_EQ(put_job("cli-job", {{"source", "cli"}, {"uri", uri("feed.csv")}}).status, 201);
  auto env = env_;
  env.erase("AUTH_DISABLED");
  auto [code, out] = run_process({CATALOG_API_BINARY, "run-job", "cli-job"}, env, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"inserted\": 25"), std::string::npos) << out;
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'cli'"), 25);

  // The same object again: skipped, and a skip is a success for the
  // scheduler (exit 0, README "run-job").
  std::tie(code, out) = run_process({CATALOG_API_BINARY, "run-job", "cli-job"}, env, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << "a skipped run exits 0:\n" << out;
  EXPECT_NE(out.find("\"status\": \"skipped\""), std::string::npos) << out;
  // --force re-reads it: every row unchanged, nothing written.
  std::tie(code, out) =
      run_process({CATALOG_API_BINARY, "run-job", "cli-job", "--force"}, env, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"status\": \"succeeded\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"unchanged\": 25"), std::string::npos) << out;
  EXPECT_EQ(count("SELECT count(*) FROM job_runs WHERE job_id = 'cli-job'"), 3) << "three runs recorded";

  std::tie(code, out) = run_process({CATALOG_API_BINARY, "run-job", "no-such-job"}, env, std::chrono::seconds(60));
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("job 'no-such-job' does not exist"), std::string::npos) << out;
}

TEST_F(EtlApiTest, TruncatedSnapshotFailsTheRunUntilTheOperatorAcceptsTheDelete) {
  start();
  const std::string snapshot = uri("snapshot.csv");
  const nlohmann::json soft = {{"missing_rows", "soft_delete"}};
  put_object("snapshot.csv", feed(200));
  ASSERT_EQ(put_job("snap", {{"source", "snap"}, {"uri", snapshot}, {"options", soft}}).status, 201);
  EXPECT_EQ(run_and_wait("snap")["status"], "succeeded");

  // The partner's export was cut short: header and two rows.
  put_object("snapshot.csv", feed(2));
  auto failed = run_and_wait("snap");
  EXPECT_EQ(failed["status"], "failed") << failed.dump();
  EXPECT_NE(failed["error"].get<std::string>().find(
                "would soft-delete 198 of 200 live rows, more than max_deletes=0.5 (100)"),
            std::string::npos)
      << failed.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'snap' AND deleted_at IS NULL"), 200);
  EXPECT_EQ(run_and_wait("snap")["status"], "failed") << "the same file fails again; it is never skipped";

  // The operator confirms the feed is right and lets this run delete everything missing.
  nlohmann::json accept = soft;
  accept["max_deletes"] = "100%";
  ASSERT_EQ(put_job("snap", {{"source", "snap"}, {"uri", snapshot}, {"options", accept}}).status, 200);
  auto accepted = run_and_wait("snap");
  EXPECT_EQ(accepted["status"], "succeeded") << accepted.dump();
  EXPECT_EQ(accepted["counts"]["deleted"], 198);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'snap' AND deleted_at IS NULL"), 2);
  EXPECT_EQ(run_and_wait("snap")["status"], "skipped") << "same object, same options";
  // Back to the default: the options differ from the last success's, so the file is read again.
  ASSERT_EQ(put_job("snap", {{"source", "snap"}, {"uri", snapshot}, {"options", soft}}).status, 200);
  auto again = run_and_wait("snap");
  EXPECT_EQ(again["status"], "succeeded") << again.dump();
  EXPECT_EQ(again["counts"]["unchanged"], 2);
  EXPECT_EQ(again["counts"]["deleted"], 0);
}

}  // namespace
}  // namespace catalog::testing
