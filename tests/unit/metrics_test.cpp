// Registry and Prometheus text exposition format (0.0.4).
#include "catalog/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

namespace catalog::metrics {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

TEST(MetricsTest, CountsRequestsByRouteMethodStatus) {
  Registry r;
  r.record_request("/items", "GET", 200, 0.002);
  r.record_request("/items", "GET", 200, 0.003);
  r.record_request("/items/{id}", "DELETE", 404, 0.001);
  const auto text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, "# TYPE catalog_http_requests_total counter")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_requests_total{route="/items",method="GET",status="200"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_requests_total{route="/items/{id}",method="DELETE",status="404"} 1)"))
      << text;
}

TEST(MetricsTest, UnknownMethodsCollapseToOther) {
  Registry r;
  r.record_request("unmatched", "BREW", 404, 0.001);
  r.record_request("unmatched", "PROPFIND", 404, 0.001);
  EXPECT_TRUE(has_line(r.render(std::nullopt),
                       R"(catalog_http_requests_total{route="unmatched",method="other",status="404"} 2)"));
}

// Every refusal reason renders from 0 and counts apart; "other" took an
// unknown reason and once read past the counters' end (1.4e19 on a scrape).
TEST(MetricsTest, EveryRefusalReasonStartsAtZeroAndCountsApart) {
  Registry r;
  for (const auto reason : kRefusalReasons) {
    const std::string line = "catalog_http_refusals_total{reason=\"" + std::string(reason) + "\"} 0";
    EXPECT_TRUE(has_line(r.render(std::nullopt), line)) << line;
  }
  r.record_refusal("client_share");
  r.record_refusal("no such reason");
  r.record_refusal("other");
  const auto text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, R"(catalog_http_refusals_total{reason="client_share"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_refusals_total{reason="other"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_refusals_total{reason="queue_full"} 0)")) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  r.record_request("/health", "GET", 200, 0.0005);  // le 0.001
  r.record_request("/health", "GET", 200, 0.02);    // le 0.025
  r.record_request("/health", "GET", 503, 0.3);     // le 0.5
  r.record_request("/health", "GET", 503, 42.0);    // only +Inf
  const auto text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, "# TYPE catalog_http_request_duration_seconds histogram"));
  const auto bucket = [](const char* le) {
    return std::string(R"(catalog_http_request_duration_seconds_bucket{route="/health",le=")") + le + "\"}";
  };
  EXPECT_TRUE(has_line(text, bucket("0.001") + " 1")) << text;
  EXPECT_TRUE(has_line(text, bucket("0.01") + " 1")) << text;
  EXPECT_TRUE(has_line(text, bucket("0.025") + " 2")) << text;
  EXPECT_TRUE(has_line(text, bucket("0.5") + " 3")) << text;
  EXPECT_TRUE(has_line(text, bucket("2.5") + " 3")) << text;
  EXPECT_TRUE(has_line(text, bucket("10") + " 3")) << text;
  EXPECT_TRUE(has_line(text, bucket("+Inf") + " 4")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_request_duration_seconds_count{route="/health"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_http_request_duration_seconds_sum{route="/health"} 42.3205)")) << text;
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(escape_label_value("line\nbreak"), "line\\nbreak");
  EXPECT_EQ(escape_label_value("/products/{source}/{sku}"), "/products/{source}/{sku}");
  Registry r;
  r.record_request("we\"ird\\route\n", "GET", 200, 0.1);
  EXPECT_TRUE(has_line(r.render(std::nullopt),
                       R"(catalog_http_requests_total{route="we\"ird\\route\n",method="GET",status="200"} 1)"));
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(format_value(0.001), "0.001");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(10), "10");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
}

TEST(MetricsTest, PoolGaugesOnlyWhenGiven) {
  Registry r;
  EXPECT_EQ(r.render(std::nullopt).find("catalog_db_pool"), std::string::npos);
  const auto text = r.render(PoolGauges{3, 1, 2, 5});
  EXPECT_TRUE(has_line(text, "# TYPE catalog_db_pool_connections gauge"));
  EXPECT_TRUE(has_line(text, R"(catalog_db_pool_connections{state="open"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_db_pool_connections{state="idle"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_db_pool_connections{state="in_use"} 2)")) << text;
  EXPECT_TRUE(has_line(text, "catalog_db_pool_waiting 5")) << text;
}

TEST(MetricsTest, EtlRunsAndRows) {
  Registry r;
  auto text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="succeeded",dry_run="false"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="deleted"} 0)")) << text;
  r.record_run("succeeded", {10, 4, 3, 2, 1, 0});
  r.record_run("succeeded", {5, 0, 0, 5, 0, 2});
  r.record_run("failed", {7, 0, 0, 0, 7, 0});
  text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, "# TYPE catalog_etl_runs_total counter"));
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="succeeded",dry_run="false"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="failed",dry_run="false"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="cancelled",dry_run="false"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="read"} 22)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="inserted"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="updated"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="unchanged"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="rejected"} 8)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="deleted"} 2)")) << text;
}

TEST(MetricsTest, DryRunsCountedApartWithoutRows) {
  Registry r;
  r.record_run("succeeded", {10, 4, 3, 2, 1, 0}, false, 7);
  r.record_run("succeeded", {10, 10, 0, 0, 0, 0}, true, 10);
  const auto text = r.render(std::nullopt);
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="succeeded",dry_run="false"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="succeeded",dry_run="true"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(catalog_etl_runs_total{status="failed",dry_run="true"} 0)")) << text;
  // A dry run wrote nothing: its rows are not counted, its change log is.
  EXPECT_TRUE(has_line(text, R"(catalog_etl_rows_total{kind="inserted"} 4)")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE catalog_changes_recorded_total counter")) << text;
  EXPECT_TRUE(has_line(text, "catalog_changes_recorded_total 17")) << text;
}

TEST(MetricsTest, EveryLineIsCommentOrSample) {
  Registry r;
  r.record_request("/items", "POST", 201, 0.01);
  r.record_run("skipped", {});
  std::istringstream in(r.render(PoolGauges{1, 1, 0, 0}));
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty());
    if (line[0] == '#') {
      EXPECT_TRUE(line.rfind("# HELP catalog_", 0) == 0 || line.rfind("# TYPE catalog_", 0) == 0) << line;
    } else {
      EXPECT_EQ(line.rfind("catalog_", 0), 0u) << line;
      EXPECT_NE(line.rfind(' '), std::string::npos) << line;
    }
  }
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  Registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) r.record_request("/items", "GET", 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(has_line(r.render(std::nullopt), R"(catalog_http_requests_total{route="/items",method="GET",status="200"} 8000)"));
}

}  // namespace
}  // namespace catalog::metrics
