// The log fields docs/runbook.md ("8. Logs") documents, read from the real
// server's stdout (LOG_FORMAT=json, one object per line): every access-log
// field with a value that matches the request it describes, and the run
// start/end lines with their counts and timings. An operator's CloudWatch
// queries (`$.request_id = ...`, `fields route, status, latency_ms`) depend on
// these names.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/app_fixture.hpp"
#include "support/feed_builder.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/s3_app_test.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;

const std::string kToken = "log-fields-test-token-0123456789abcdef";
const std::string kTrace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1";

/// Every JSON object the server printed (other lines are not JSON logs).
std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

/// The line with `field` == `value` and msg == `msg`, or null.
nlohmann::json find_line(const std::string& output, const std::string& msg, const std::string& field,
                         const nlohmann::json& value) {
  for (auto& j : json_lines(output)) {
    if (j.value("msg", "") == msg && j.contains(field) && j[field] == value) return j;
  }
  return nullptr;
}

// YYYY-MM-DDTHH:MM:SS[.fraction]Z, checked by shape (no <regex>: GCC 12's
// std::function internals warn under -Wmaybe-uninitialized).
bool is_rfc3339_utc(const nlohmann::json& ts) {
  if (!ts.is_string()) return false;
  const auto s = ts.get<std::string>();
  const std::string shape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < shape.size() + 1 || s.back() != 'Z') return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return false;
  }
  const auto rest = s.substr(shape.size(), s.size() - shape.size() - 1);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest[0] != '.') return false;
  return rest.find_first_not_of("0123456789", 1) == std::string::npos;
}

class LogFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("log_fields");
    port_ = free_port();
    env_ = token_env(dsn_, kToken);
    for (const auto& [k, v] : s3_env()) env_[k] = v;
    env_["PORT"] = std::to_string(port_);
    env_["LOG_LEVEL"] = "info";
    env_["LOG_FORMAT"] = "json";
    env_["JOB_WORKERS"] = "1";
    server_ = std::make_unique<ChildProcess>(std::vector<std::string>{CATALOG_API_BINARY, "serve"}, env_);
    client_ = std::make_unique<HttpClient>(port_);
    ASSERT_TRUE(wait_until(
        [&] {
          try {
            return client_->get("/health").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        60s))
        << server_->output();
  }

  std::vector<std::string> auth(std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + kToken);
    return headers;
  }

  /// Waits for the line (the access log is written as the response goes out).
  nlohmann::json wait_for_line(const std::string& msg, const std::string& field, const nlohmann::json& value) {
    nlohmann::json found;
    wait_until([&] { return !(found = find_line(server_->output(), msg, field, value)).is_null(); }, 30s);
    return found;
  }

  std::string dsn_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(LogFieldsTest, AccessLogCarriesRequestIdTraceIdRouteStatusLatencyAndKey) {
  const auto items = client_->get("/items?limit=5", auth({"X-Request-Id: log-fields-items-1", "X-Amzn-Trace-Id: " + kTrace}));
  ASSERT_EQ(items.status, 200) << items.body;
  EXPECT_EQ(items.header("x-request-id"), "log-fields-items-1");
  const auto line = wait_for_line("request", "request_id", "log-fields-items-1");
  ASSERT_FALSE(line.is_null()) << server_->output();
  EXPECT_TRUE(is_rfc3339_utc(line["ts"])) << line.dump();
  EXPECT_EQ(line["level"], "info") << line.dump();
  EXPECT_EQ(line["module"], "http") << line.dump();
  EXPECT_EQ(line["trace_id"], kTrace) << line.dump();
  EXPECT_EQ(line["route"], "/items") << line.dump();
  EXPECT_EQ(line["method"], "GET") << line.dump();
  EXPECT_EQ(line["status"], 200) << line.dump();
  ASSERT_TRUE(line["latency_ms"].is_number()) << line.dump();
  EXPECT_GE(line["latency_ms"].get<double>(), 0.0) << line.dump();
  EXPECT_LT(line["latency_ms"].get<double>(), 60000.0) << line.dump();
  EXPECT_FALSE(line.contains("key")) << "GET /items is a public route: " << line.dump();

  // An authenticated route: `key` names who made the request, never the secret.
  const auto jobs = client_->get("/jobs", auth({"X-Request-Id: log-fields-jobs"}));
  ASSERT_EQ(jobs.status, 200) << jobs.body;
  const auto jobs_line = wait_for_line("request", "request_id", "log-fields-jobs");
  ASSERT_FALSE(jobs_line.is_null()) << server_->output();
  EXPECT_EQ(jobs_line["key"], "api_token") << jobs_line.dump();
  EXPECT_EQ(server_->output().find(kToken), std::string::npos) << "the secret is never logged";

  // The route is the matched pattern, not the path; a 404 of an unknown job
  // is logged with its status; without a client id the server's own id is
  // logged, the one the response carries; no trace header, no trace_id.
  const auto missing = client_->get("/jobs/no-such-job", auth());
  ASSERT_EQ(missing.status, 404) << missing.body;
  const std::string generated = missing.header("x-request-id");
  ASSERT_FALSE(generated.empty());
  const auto line404 = wait_for_line("request", "request_id", generated);
  ASSERT_FALSE(line404.is_null()) << server_->output();
  EXPECT_EQ(line404["route"], "/jobs/{id}") << line404.dump();
  EXPECT_EQ(line404["status"], 404) << line404.dump();
  EXPECT_FALSE(line404.contains("trace_id")) << line404.dump();

  // A public route: no key.
  const auto live = client_->get("/health/live", {"X-Request-Id: log-fields-live"});
  ASSERT_EQ(live.status, 200);
  const auto live_line = wait_for_line("request", "request_id", "log-fields-live");
  ASSERT_FALSE(live_line.is_null()) << server_->output();
  EXPECT_FALSE(live_line.contains("key")) << live_line.dump();
}

TEST_F(LogFieldsTest, RunStartAndEndLinesCarryIdsCountsAndTimings) {
  TestS3 s3;
  const std::string key = "log_fields/" + current_test_name() + "-" + std::to_string(::getpid()) + "/feed.csv";
  const std::string feed = FeedBuilder().rows(1, 20, [](int i) -> std::vector<std::string> {
    return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "", "Acme", "Tools", "1.50", "usd", "In Stock"};
  });
  s3.put(key, feed);
  const auto put = client_->request("PUT", "/jobs/acme-logs",
                                    nlohmann::json{{"source", "acme"}, {"uri", "s3://" + s3.bucket() + "/" + key}}.dump(),
                                    auth({"Content-Type: application/json"}));
  ASSERT_EQ(put.status, 201) << put.body;
  const auto ran = client_->request("POST", "/jobs/acme-logs/run?wait=true", {}, auth({"X-Request-Id: log-fields-run"}));
  ASSERT_EQ(ran.status, 200) << ran.body;
  const std::string run_id = ran.json()["run_id"];

  const auto started = wait_for_line("run started", "run_id", run_id);
  ASSERT_FALSE(started.is_null()) << server_->output();
  EXPECT_EQ(started["module"], "etl") << started.dump();
  EXPECT_EQ(started["job_id"], "acme-logs") << started.dump();

  const auto finished = wait_for_line("run finished", "run_id", run_id);
  ASSERT_FALSE(finished.is_null()) << server_->output();
  EXPECT_EQ(finished["level"], "info") << finished.dump();
  EXPECT_EQ(finished["job_id"], "acme-logs") << finished.dump();
  EXPECT_EQ(finished["status"], "succeeded") << finished.dump();
  EXPECT_EQ(finished["read"], 20) << finished.dump();
  EXPECT_EQ(finished["inserted"], 20) << finished.dump();
  EXPECT_EQ(finished["updated"], 0) << finished.dump();
  EXPECT_EQ(finished["unchanged"], 0) << finished.dump();
  EXPECT_EQ(finished["rejected"], 0) << finished.dump();
  EXPECT_EQ(finished["deleted"], 0) << finished.dump();
  ASSERT_TRUE(finished["elapsed_ms"].is_number_integer()) << finished.dump();
  const auto elapsed = finished["elapsed_ms"].get<std::int64_t>();
  EXPECT_GE(elapsed, 0);
  // Every phase the runbook names, each a part of the run's time.
  for (const char* phase :
       {"load_keys_ms", "stream_ms", "visible_ms", "indexes_ms", "apply_ms", "soft_delete_ms", "vacuum_ms"}) {
    ASSERT_TRUE(finished.contains(phase) && finished[phase].is_number_integer()) << phase << ": " << finished.dump();
    EXPECT_GE(finished[phase].get<std::int64_t>(), 0) << phase;
    EXPECT_LE(finished[phase].get<std::int64_t>(), elapsed + 1) << phase << ": " << finished.dump();
  }
  // A first load makes its rows visible and builds its indexes: real time, not a placeholder 0.
  EXPECT_GT(finished["visible_ms"].get<std::int64_t>() + finished["indexes_ms"].get<std::int64_t>(), 0)
      << finished.dump();

  // The request that waited for the run took at least as long as the run.
  const auto access = wait_for_line("request", "request_id", "log-fields-run");
  ASSERT_FALSE(access.is_null()) << server_->output();
  EXPECT_EQ(access["route"], "/jobs/{id}/run") << access.dump();
  EXPECT_EQ(access["status"], 200) << access.dump();
  EXPECT_GE(access["latency_ms"].get<double>() + 1.0, static_cast<double>(elapsed)) << access.dump();
}

}  // namespace
}  // namespace catalog::testing
