// Partner feed formats end to end (issue 25): TSV, NDJSON and Google
// Merchant XML feeds through the HTTP API, against the real PostgreSQL and the
// signature-checking S3 server; hostile XML; switching a partner's format.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <thread>

#include <pqxx/pqxx>

#include "catalog/core/clock.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "support/app_fixture.hpp"
#include "support/merchant_feeds.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

class FeedFormatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("feed_formats");
    auto env = base_env(dsn_);
    for (const auto& [k, v] : s3_env()) env[k] = v;
    env["JOB_WORKERS"] = "1";
    bucket_ = env["S3_RAW_BUCKET"];
    prefix_ = "feed-formats/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
              std::to_string(::getpid()) + "/";
    s3::S3Config config;
    config.endpoint = env["S3_ENDPOINT"];
    config.region = env["AWS_REGION"];
    config.force_path_style = true;
    store_ = std::make_unique<s3::CurlS3Client>(
        config,
        std::make_shared<s3::StaticCredentialsProvider>(
            s3::Credentials{env["AWS_ACCESS_KEY_ID"], Secret(env["AWS_SECRET_ACCESS_KEY"]), {}, {}, "static"}),
        clock_);
    app_ = std::make_unique<RunningApp>(env);
  }

  std::string uri(const std::string& key) { return "s3://" + bucket_ + "/" + prefix_ + key; }
  void put_object(const std::string& key, const std::string& body) { store_->put_object(bucket_, prefix_ + key, body); }

  HttpResult put_job(const std::string& id, const std::string& key, nlohmann::json options) {
    const nlohmann::json body = {{"source", "acme"}, {"uri", uri(key)}, {"options", std::move(options)}};
    return app_->client().request("PUT", "/jobs/" + id, body.dump(), {"Content-Type: application/json"});
  }

  nlohmann::json run(const std::string& job, const std::string& flags = "") {
    const auto r = app_->client().request("POST", "/jobs/" + job + "/run?wait=true" + flags);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  pqxx::row row(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::read_transaction tx(c);
    return tx.exec1(sql);
  }
  long count(const std::string& sql) { return row(sql)[0].as<long>(); }

  std::string dsn_, bucket_, prefix_;
  SystemClock clock_;
  std::unique_ptr<s3::CurlS3Client> store_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(FeedFormatsTest, GoogleMerchantXmlFeedLoadsWithItsRejectsByLine) {
  // Item 4 has no id and item 5 a price that is not one; their <item> lines are 89 and 93.
  const std::string bad = "<item>\n<title>No id</title>\n<g:price>1.00 USD</g:price>\n</item>\n"
                          "<item>\n<g:id>G-5</g:id>\n<title>Bad price</title>\n<g:price>cheap</g:price>\n</item>\n";
  const std::string xml = merchant_xml(3, bad);
  put_object("products.xml", xml);
  ASSERT_EQ(put_job("acme-xml", "products.xml", {{"profile", "google_merchant"}, {"max_rejects", 2}}).status, 201);
  const auto r = run("acme-xml");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["read"], 5);
  EXPECT_EQ(r["counts"]["inserted"], 3);
  EXPECT_EQ(r["counts"]["rejected"], 2);
  ASSERT_EQ(r["rejects"].size(), 2u) << r.dump();
  const auto line_of = [&](const std::string& marker) {
    return static_cast<int>(std::count(xml.begin(), xml.begin() + static_cast<long>(xml.find(marker)), '\n')) + 1;
  };
  EXPECT_EQ(r["rejects"][0]["line"], line_of("<item>\n<title>No id"));
  EXPECT_EQ(r["rejects"][0]["reason"], "no key field 'id' (the sku)");
  EXPECT_EQ(r["rejects"][1]["line"], line_of("<item>\n<g:id>G-5"));
  EXPECT_NE(r["rejects"][1]["reason"].get<std::string>().find("price 'cheap'"), std::string::npos) << r.dump();

  const auto p = app_->client().get("/products/acme/G-2").json();
  EXPECT_EQ(p["name"], "Widget 2 & Co");
  EXPECT_EQ(p["description"], "Fits <b>everything</b>");
  EXPECT_EQ(p["brand"], "Acme");
  EXPECT_EQ(p["category"], "Hardware > Tools");
  EXPECT_EQ(p["currency"], "USD");
  EXPECT_EQ(p["availability"], "in_stock");
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE sku = 'G-2' AND price = 1212.50"), 1);
  EXPECT_EQ(p["attributes"]["link"], "https://acme.example/p/2");
  EXPECT_EQ(p["attributes"]["shipping"], R"({"country":"US","price":"4.95 USD"})");
}

TEST_F(FeedFormatsTest, SwitchingAPartnersFormatWritesNothing) {
  put_object("feed.tsv", merchant_tsv(50));
  put_object("feed.xml", merchant_xml(50));
  put_object("feed.ndjson", merchant_ndjson(50));
  // The format comes from the object's name; the profile from the job.
  ASSERT_EQ(put_job("acme", "feed.tsv", {{"profile", "google_merchant"}}).status, 201);
  auto r = run("acme");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["inserted"], 50);
  const long xmin_before = count("SELECT sum(xmin::text::bigint) FROM products");
  const std::string updated_before = row("SELECT max(updated_at)::text FROM products")[0].c_str();

  ASSERT_EQ(put_job("acme", "feed.xml", {{"profile", "google_merchant"}}).status, 200);
  r = run("acme");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["unchanged"], 50) << r.dump();
  EXPECT_EQ(r["counts"]["updated"], 0);

  // The same rows under an explicit format, in another object name.
  put_object("feed-latest", merchant_ndjson(50));
  ASSERT_EQ(put_job("acme", "feed-latest", {{"profile", "google_merchant"}, {"format", "ndjson"}}).status, 200);
  r = run("acme");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["unchanged"], 50) << r.dump();
  EXPECT_EQ(r["counts"]["updated"], 0);
  EXPECT_EQ(count("SELECT sum(xmin::text::bigint) FROM products"), xmin_before) << "no row was rewritten";
  EXPECT_EQ(row("SELECT max(updated_at)::text FROM products")[0].c_str(), updated_before);
}

TEST_F(FeedFormatsTest, ALargeXmlFeedParsedInPiecesSideBySideKeepsEveryItemAndItsLine) {
  // About 1.2 MB: parsed in several pieces on the worker threads, their
  // records handed to the run in whole batches (docs/etl.md "XML pieces").
  constexpr int kItems = 3000;
  std::string xml = merchant_xml(kItems);
  const std::size_t at = xml.find("<item>\n<g:id>G-1501<");
  ASSERT_NE(at, std::string::npos);
  xml.insert(at, "<item>\n<g:id>G-BAD</g:id>\n<title>Bad price</title>\n<g:price>cheap</g:price>\n</item>\n");
  const long bad_line = std::count(xml.begin(), xml.begin() + static_cast<long>(at), '\n') + 1;
  put_object("big.tsv", merchant_tsv(kItems));
  put_object("big.xml", xml);
  ASSERT_EQ(put_job("acme", "big.tsv", {{"profile", "google_merchant"}}).status, 201);
  auto r = run("acme");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  ASSERT_EQ(r["counts"]["inserted"], kItems);

  ASSERT_EQ(put_job("acme", "big.xml", {{"profile", "google_merchant"}, {"max_rejects", 1}}).status, 200);
  r = run("acme");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["read"], kItems + 1);
  EXPECT_EQ(r["counts"]["unchanged"], kItems) << "every item read, none changed: " << r.dump();
  EXPECT_EQ(r["counts"]["updated"], 0);
  EXPECT_EQ(r["counts"]["inserted"], 0);
  ASSERT_EQ(r["rejects"].size(), 1u) << r.dump();
  EXPECT_EQ(r["rejects"][0]["line"], bad_line);
  EXPECT_NE(r["rejects"][0]["reason"].get<std::string>().find("price 'cheap'"), std::string::npos) << r.dump();
}

TEST_F(FeedFormatsTest, NdjsonLinesThatAreNotObjectsAreRejectsWithTheirLine) {
  put_object("items.jsonl", "{\"sku\":\"A\",\"product_name\":\"Alpha\",\"price\":15,\"on_sale\":true}\n"
                            "\n"
                            "[\"not\",\"an\",\"object\"]\n"
                            "{\"sku\":\"B\",\"product_name\":\"Beta\",\"price\":\"15.00 EUR\",\"currency\":\"USD\"}\n"
                            "{\"sku\":\"C\",\"product_name\":\"Gamma\",\"price\":0.1}\n");
  ASSERT_EQ(put_job("acme-ndjson", "items.jsonl", {{"max_rejects", 5}}).status, 201);
  const auto r = run("acme-ndjson");
  ASSERT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["counts"]["inserted"], 2);
  ASSERT_EQ(r["rejects"].size(), 2u) << r.dump();
  EXPECT_EQ(r["rejects"][0]["line"], 3);
  EXPECT_NE(r["rejects"][0]["reason"].get<std::string>().find("not a JSON object"), std::string::npos);
  EXPECT_EQ(r["rejects"][1]["line"], 4);
  EXPECT_EQ(r["rejects"][1]["reason"],
            "price currency 'EUR' (column 'price') contradicts currency 'USD' (column 'currency')");
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE sku = 'A' AND price = 15.00 AND attributes->>'on_sale' = 'true'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE sku = 'C' AND price = 0.10"), 1);
}

TEST_F(FeedFormatsTest, HostileOrMalformedXmlFailsTheRunAndWritesNothing) {
  const std::string good = merchant_xml(5);
  put_object("good.xml", good);
  ASSERT_EQ(put_job("acme", "good.xml", {{"profile", "google_merchant"}}).status, 201);
  ASSERT_EQ(run("acme")["status"], "succeeded");
  const long xmin_before = count("SELECT sum(xmin::text::bigint) FROM products");

  std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) laughs += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    laughs += "\">\n";
  }
  laughs += "]>\n<rss><channel><item><id>X</id><title>&lol9;</title></item></channel></rss>\n";
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"laughs.xml", {laughs, "DOCTYPE declaration is not accepted"}},
      {"xxe.xml",
       {"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<rss><channel><item><id>X</id><title>&x;</title></item></channel></rss>",
        "DOCTYPE declaration is not accepted"}},
      {"malformed.xml",
       {good.substr(0, good.find("<title>Widget 2") + 15) + "</item></channel></rss>",
        "XML feed is malformed: Opening and ending tag mismatch: title line 18 and item at line 18"}},
  };
  for (const auto& [name, c] : cases) {
    put_object(name, c.first);
    ASSERT_EQ(put_job("acme", name, {{"profile", "google_merchant"}}).status, 200);
    const auto r = run("acme");
    EXPECT_EQ(r["status"], "failed") << name << ": " << r.dump();
    const std::string error = r.value("error", "");
    EXPECT_NE(error.find(c.second), std::string::npos) << name << ": " << error;
    EXPECT_EQ(error.find("root:"), std::string::npos) << name << ": " << error;
  }
  EXPECT_EQ(count("SELECT count(*) FROM products"), 5);
  EXPECT_EQ(count("SELECT sum(xmin::text::bigint) FROM products"), xmin_before) << "nothing was applied";
}

TEST_F(FeedFormatsTest, AnUploadedXmlFeedIsStoredAsXmlAndRead) {
  ASSERT_EQ(put_job("acme-upload", "unused.csv", {{"profile", "google_merchant"}}).status, 201);
  const auto up = app_->client().request("POST", "/feeds?job=acme-upload", merchant_xml(3),
                                         {"Content-Type: application/xml"});
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string uri = up.json()["uri"];
  EXPECT_EQ(uri.substr(uri.size() - 9), "/feed.xml") << uri;  // the default name carries the format
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  nlohmann::json run;
  while (std::chrono::steady_clock::now() < deadline) {
    run = app_->client().get("/runs/" + up.json()["run_id"].get<std::string>()).json();
    if (run["status"] != "queued" && run["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["inserted"], 3) << run.dump();
}

TEST_F(FeedFormatsTest, UnknownFormatOrProfileIs422NamingTheOption) {
  auto r = put_job("acme", "feed.xml", {{"format", "yaml"}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "options.format");
  r = put_job("acme", "feed.xml", {{"profile", "amazon"}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "options.profile");
  r = put_job("acme", "feed.xml", {{"format", "xml"}, {"profile", "google_merchant"}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["options"]["format"], "xml");
}

}  // namespace
}  // namespace catalog::testing
