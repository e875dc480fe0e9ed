// The response cache on its own: what it keeps, what it refuses, the order
// it evicts in, and the figures /metrics shows.
#include <gtest/gtest.h>

#include <string>

#include "catalog/http/response_cache.hpp"

namespace catalog::http {
namespace {

Response page(std::size_t body_bytes, char fill = 'x') {
  auto r = json_text_response(200, std::string(body_bytes, fill));
  r.set_header("ETag", "\"p1-0\"");
  return r;
}

TEST(ResponseCache, NamesTellRoutesAndQueriesApart) {
  EXPECT_NE(ResponseCache::name('p', "q"), ResponseCache::name('i', "q"));
  EXPECT_NE(ResponseCache::name('p', "q"), ResponseCache::name('p', "r"));
}

TEST(ResponseCache, APageIsServedOnlyAtTheVersionItWasReadAt) {
  ResponseCache cache(1 << 20);
  cache.insert("p", 5, page(10, 'a'));
  EXPECT_EQ(cache.find("p", 4), nullptr) << "a version cache behind the page: no hit";
  ASSERT_NE(cache.find("p", 5), nullptr);
  EXPECT_EQ(cache.find("p", 6), nullptr) << "the rows moved on";
  EXPECT_EQ(cache.find("p", 5), nullptr) << "the page older than a version asked for is dropped";
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ResponseCache, OnePageOneEntryTheNewestWins) {
  ResponseCache cache(1 << 20);
  cache.insert("p", 5, page(10, 'a'));
  cache.insert("p", 7, page(10, 'b'));
  cache.insert("p", 6, page(10, 'c'));  // a replica behind the primary answered it
  EXPECT_EQ(cache.stats().entries, 1u) << "writes must not fill the cache with dead versions";
  const auto found = cache.find("p", 7);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->body, std::string(10, 'b'));
}

TEST(ResponseCache, AKeptPageComesBackWholeAndCountsAHit) {
  ResponseCache cache(1 << 20);
  auto original = page(100);
  original.set_header("Link", "</items?cursor=abc>; rel=\"next\"");
  cache.insert("k", 1, original);
  const auto found = cache.find("k", 1);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->status, 200);
  EXPECT_EQ(found->body, original.body);
  EXPECT_EQ(found->header("Link"), original.header("Link"));
  EXPECT_EQ(found->header("ETag"), "\"p1-0\"");
  EXPECT_EQ(cache.find("other", 1), nullptr);
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_GT(s.bytes, 100u);
}

TEST(ResponseCache, ErrorsAndNotModifiedAreNeverKept) {
  ResponseCache cache(1 << 20);
  cache.insert("400", 1, json_text_response(400, R"({"error":{}})"));
  cache.insert("503", 1, json_text_response(503, R"({"error":{}})"));
  Response not_modified;
  not_modified.status = 304;
  cache.insert("304", 1, not_modified);
  EXPECT_EQ(cache.find("400", 1), nullptr);
  EXPECT_EQ(cache.find("503", 1), nullptr);
  EXPECT_EQ(cache.find("304", 1), nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ResponseCache, StaysWithinItsBytesEvictingTheLeastRecentlyUsed) {
  ResponseCache cache(40000);  // an eighth: 5,000 bytes a page at most; 8 of these fit
  for (int i = 0; i < 10; ++i) cache.insert("page-" + std::to_string(i), 1, page(4500));
  EXPECT_LE(cache.stats().bytes, 40000u);
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_EQ(cache.find("page-0", 1), nullptr) << "the oldest went first";
  EXPECT_EQ(cache.find("page-1", 1), nullptr);
  ASSERT_NE(cache.find("page-2", 1), nullptr);
  // Reading a page keeps it: page-2 was the next to go, page-3 goes instead.
  cache.insert("page-10", 1, page(4500));
  EXPECT_NE(cache.find("page-2", 1), nullptr);
  EXPECT_EQ(cache.find("page-3", 1), nullptr);
  EXPECT_NE(cache.find("page-10", 1), nullptr);
  EXPECT_LE(cache.stats().bytes, 40000u);
}

TEST(ResponseCache, APageOverAnEighthOfTheCapacityIsNotKept) {
  ResponseCache cache(80000);
  cache.insert("small", 1, page(1000));
  cache.insert("huge", 1, page(20000));
  EXPECT_EQ(cache.find("huge", 1), nullptr);
  EXPECT_NE(cache.find("small", 1), nullptr) << "a huge page must not push out the small ones";
}

TEST(ResponseCache, ZeroCapacityKeepsNothing) {
  ResponseCache cache(0);
  cache.insert("k", 1, page(1));
  EXPECT_EQ(cache.find("k", 1), nullptr);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(ResponseCache, MetricsShowHitsMissesEvictionsAndBytes) {
  ResponseCache cache(40000);
  for (int i = 0; i < 12; ++i) cache.insert("p" + std::to_string(i), 1, page(4500));
  (void)cache.find("p11", 1);
  (void)cache.find("p0", 1);
  const auto text = cache.render_metrics();
  const auto s = cache.stats();
  EXPECT_NE(text.find("catalog_response_cache_hits_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("catalog_response_cache_misses_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("catalog_response_cache_evictions_total " + std::to_string(s.evictions) + "\n"),
            std::string::npos);
  EXPECT_NE(text.find("catalog_response_cache_bytes " + std::to_string(s.bytes) + "\n"), std::string::npos);
  EXPECT_NE(text.find("catalog_response_cache_capacity_bytes 40000\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE catalog_response_cache_bytes gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace catalog::http
