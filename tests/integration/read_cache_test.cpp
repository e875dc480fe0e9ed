// ETags and 304 of GET /items* and GET /products* through the running
// service, with rows written by the API and by ETL runs against the real
// PostgreSQL and S3: a page's ETag changes whenever a row it would return
// changes (insert, update, soft delete, revival, item writes), stays put when
// nothing changed, and a matching If-None-Match gets 304 with no body.
#include <gtest/gtest.h>

#include <unistd.h>

#include <pqxx/pqxx>

#include "catalog/core/clock.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

/// `rows` rows SKU-1..SKU-rows; rows from `changed_from` on are out of stock.
std::string feed(int rows, int changed_from = -1, int first = 1) {
  std::string csv = "sku,product_name,price,currency,availability\n";
  for (int i = first; i <= rows; ++i) {
    const bool changed = changed_from >= 0 && i >= changed_from;
    csv += "SKU-" + std::to_string(i) + ",Product " + std::to_string(i) + ",1" + std::to_string(i) + ".50,USD," +
           (changed ? "out_of_stock" : "in_stock") + "\n";
  }
  return csv;
}

class ReadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("read_cache");
    env_ = base_env(dsn_);
    for (const auto& [k, v] : s3_env()) env_[k] = v;
    env_["JOB_WORKERS"] = "1";
    bucket_ = env_["S3_RAW_BUCKET"];
    prefix_ = "read-cache/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
              std::to_string(::getpid()) + "/";
    credentials_ = std::make_shared<s3::StaticCredentialsProvider>(
        s3::Credentials{env_["AWS_ACCESS_KEY_ID"], Secret(env_["AWS_SECRET_ACCESS_KEY"]), {}, {}, "static"});
    s3::S3Config config;
    config.endpoint = env_["S3_ENDPOINT"];
    config.region = env_["AWS_REGION"];
    config.force_path_style = true;
    store_ = std::make_unique<s3::CurlS3Client>(config, credentials_, clock_);
  }

  void start(std::map<std::string, std::string> overrides = {}) {
    for (const auto& [k, v] : overrides) env_[k] = v;
    app_ = std::make_unique<RunningApp>(env_);
  }
  const HttpClient& client() { return app_->client(); }

  /// Points job `source` at a feed with this content (missing rows soft-deleted).
  void set_feed(const std::string& source, const std::string& csv) {
    store_->put_object(bucket_, prefix_ + source + ".csv", csv);
    const nlohmann::json job = {{"source", source},
                                {"uri", "s3://" + bucket_ + "/" + prefix_ + source + ".csv"},
                                {"options", {{"missing_rows", "soft_delete"}, {"max_deletes", "100%"}}}};
    const auto r = client().request("PUT", "/jobs/" + source, job.dump(), {"Content-Type: application/json"});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  nlohmann::json run(const std::string& source, const std::string& flags = "") {
    const auto r = client().request("POST", "/jobs/" + source + "/run?wait=true" + flags);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto body = r.json();
    EXPECT_EQ(body["status"], "succeeded") << body.dump();
    return body;
  }

  /// The ETag of a 200 answer to GET `target` (checked to be a revalidatable one).
  std::string etag(const std::string& target) {
    const auto r = client().get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    const auto tag = r.header("etag");
    EXPECT_FALSE(tag.empty()) << target;
    const auto again = client().get(target, {"If-None-Match: " + tag});
    EXPECT_EQ(again.status, 304) << target << " revalidated with its own ETag";
    EXPECT_EQ(again.body, "") << target;
    EXPECT_EQ(again.header("etag"), tag) << target;
    return tag;
  }

  std::string dsn_;
  std::map<std::string, std::string> env_;
  std::string bucket_, prefix_;
  SystemClock clock_;
  std::shared_ptr<s3::CredentialsProvider> credentials_;
  std::unique_ptr<s3::CurlS3Client> store_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(ReadCacheTest, ItemPagesChangeTheirETagOnEveryItemWrite) {
  start();
  const auto created = client().request("POST", "/items", R"({"name":"lamp"})", {"Content-Type: application/json"});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = created.json()["id"].get<std::string>();
  const std::string one = "/items/" + id;

  const auto list0 = etag("/items");
  const auto one0 = etag(one);
  EXPECT_NE(list0, one0) << "different bodies, different ETags";
  EXPECT_EQ(etag("/items"), list0) << "nothing changed";
  const auto page = client().get("/items");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  EXPECT_NE(etag("/items?limit=1"), list0) << "the query is part of the ETag";

  // A new item: the list (where it appears) changes.
  ASSERT_EQ(client().request("POST", "/items", R"({"name":"chair"})", {"Content-Type: application/json"}).status, 201);
  const auto list1 = etag("/items");
  EXPECT_NE(list1, list0);
  const auto stale = client().get("/items", {"If-None-Match: " + list0});
  EXPECT_EQ(stale.status, 200) << "an old ETag gets the new page";
  EXPECT_EQ(stale.json().size(), 2u);
  EXPECT_EQ(stale.header("etag"), list1);

  // A patch: the list and the item change.
  ASSERT_EQ(client().request("PATCH", one, R"({"description":"red"})", {"Content-Type: application/json"}).status, 200);
  const auto list2 = etag("/items");
  EXPECT_NE(list2, list1);
  const auto patched = client().get(one, {"If-None-Match: " + one0});
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(patched.json()["description"], "red");
  EXPECT_NE(patched.header("etag"), one0);
  EXPECT_EQ(client().get(one, {"If-None-Match: W/" + patched.header("etag") + ", \"x\""}).status, 304)
      << "a list of ETags, weak comparison";

  // A delete: the list changes and the old ETag of the item no longer answers 304.
  EXPECT_EQ(client().request("DELETE", one).status, 204);
  EXPECT_NE(etag("/items"), list2);
  EXPECT_EQ(client().get(one, {"If-None-Match: " + patched.header("etag")}).status, 404);
  EXPECT_EQ(client().get(one, {"If-None-Match: *"}).status, 404) << "* matches only an existing item";
  // A write that changes nothing (a missing id) moves nothing.
  const auto list3 = etag("/items");
  EXPECT_EQ(client().request("DELETE", one).status, 404);
  EXPECT_EQ(etag("/items"), list3);
}

TEST_F(ReadCacheTest, ProductPagesChangeTheirETagWithEveryRunThatChangesTheirRows) {
  start({{"CACHE_CONTROL", "max-age=5, must-revalidate"}});
  const std::string a_page = "/products?source=acme";
  const std::string a_row = "/products/acme/SKU-3";
  const std::string b_page = "/products?source=beta&sort_by=price&order=desc";
  const std::string all = "/products?include_deleted=true&with_count=true";
  set_feed("beta", feed(5));
  run("beta");
  const auto b0 = etag(b_page);

  // First load of acme: its (empty) page and the global one change.
  const auto a_empty = etag(a_page);
  const auto all_before = etag(all);
  set_feed("acme", feed(10));
  run("acme");
  auto a = etag(a_page);
  EXPECT_NE(a, a_empty) << "first load";
  auto all_now = etag(all);
  EXPECT_NE(all_now, all_before);
  auto row = etag(a_row);
  EXPECT_EQ(client().get(a_page).header("cache-control"), "max-age=5, must-revalidate");
  EXPECT_EQ(client().get(a_page, {"If-None-Match: " + a}).header("cache-control"), "max-age=5, must-revalidate");

  // A forced re-run that changes nothing keeps every ETag.
  const auto unchanged = run("acme", "&force=true");
  EXPECT_EQ(unchanged["counts"]["unchanged"], 10);
  EXPECT_EQ(etag(a_page), a);
  EXPECT_EQ(etag(a_row), row);
  EXPECT_EQ(etag(all), all_now);

  // Each kind of change moves acme's ETags and the global ones, not beta's.
  struct Step {
    const char* what;
    std::string csv;
    const char* counter;
  };
  const Step steps[] = {
      {"update", feed(10, 3), "updated"},          // SKU-3..10 out of stock
      {"soft delete", feed(10, 3, 4), "deleted"},  // SKU-1..3 gone
      {"revival", feed(10, 3), "updated"},         // SKU-1..3 back
      {"insert", feed(11, 3), "inserted"},
  };
  for (const auto& step : steps) {
    set_feed("acme", step.csv);
    const auto result = run("acme");
    EXPECT_GT(result["counts"][step.counter].get<int>(), 0) << step.what << ": " << result.dump();
    const auto page = client().get(a_page, {"If-None-Match: " + a});
    EXPECT_EQ(page.status, 200) << step.what;
    EXPECT_NE(page.header("etag"), a) << step.what;
    a = etag(a_page);
    EXPECT_EQ(page.header("etag"), a) << step.what;
    const auto new_all = etag(all);
    EXPECT_NE(new_all, all_now) << step.what;
    all_now = new_all;
    if (std::string(step.what) != "insert") {
      const auto one = client().get(a_row, {"If-None-Match: " + row});
      EXPECT_EQ(one.status, 200) << step.what << ": SKU-3 changed";
      row = one.header("etag");
    }
    EXPECT_EQ(etag(b_page), b0) << step.what << ": beta's rows did not change";
  }
  const auto revived = client().get(a_row).json();
  EXPECT_EQ(revived["deleted_at"], nullptr);
  EXPECT_EQ(revived["availability"], "out_of_stock");
}

}  // namespace
}  // namespace catalog::testing
