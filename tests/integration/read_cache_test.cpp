// ETags and 304 of GET /items* and GET /products* through the running
// service, with rows written by the API and by ETL runs against the real
// PostgreSQL and S3: a page's ETag changes whenever a row it would return
// changes (insert, update, soft delete, revival, item writes), stays put when
// nothing changed, and a matching If-None-Match gets 304 with no body.
#include <gtest/gtest.h>

#include <unistd.h>

#include <pqxx/pqxx>

#include "support/feed_builder.hpp"
#include "support/s3_app_test.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

/// `rows` rows SKU-1..SKU-rows; rows from `changed_from` on are out of stock.
std::string feed(int rows, int changed_from = -1, int first = 1) {
  return FeedBuilder({"sku", "product_name", "price", "currency", "availability"})
      .rows(first, rows, [&](int i) -> std::vector<std::string> {
        const bool changed = changed_from >= 0 && i >= changed_from;
        return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "1" + std::to_string(i) + ".50", "USD",
                changed ? "out_of_stock" : "in_stock"};
      });
}

class ReadCacheTest : public S3AppTest {
 protected:
  ReadCacheTest() : S3AppTest("read_cache") {}

  /// Points job `source` at a feed with this content (missing rows soft-deleted).
  void set_feed(const std::string& source, const std::string& csv) {
    put_object(source + ".csv", csv);
    const auto r = put_job(source, {{"source", source},
                                    {"uri", uri(source + ".csv")},
                                    {"options", {{"missing_rows", "soft_delete"}, {"max_deletes", "100%"}}}});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  /// A run that must succeed.
  nlohmann::json run(const std::string& source, const std::string& flags = "") {
    const auto body = run_and_wait(source, flags);
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
