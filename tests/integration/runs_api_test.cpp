// GET /runs against a real PostgreSQL: the list of runs across jobs, newest
// first, keyset-paged, with status/job/since filters. The router and
// dispatcher are called directly; runs are inserted with plain SQL so that
// queued_at ties and every status are present.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "catalog/db/pool.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/message.hpp"
#include "catalog/http/router.hpp"
#include "catalog/http/request_helpers.hpp"
#include "support/dispatch.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

constexpr const char* kToken = "runs-list-test-token";

class RunsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("runs");
    pool_ = std::make_unique<db::Pool>(db::Pool::Options{Secret(dsn_), 2});
    runs_ = std::make_unique<db::RunsRepository>(*pool_);
    http::Router router;
    handlers::add_run_routes(router, *runs_);
    dispatcher_ = std::make_unique<http::Dispatcher>(std::move(router),
                                                     http::Dispatcher::Options{Secret(kToken), nullptr});
    client_ = std::make_unique<InProcessClient>(
        *dispatcher_, InProcessClient::Headers{{"Authorization", std::string("Bearer ") + kToken}});
    seed();
  }

  /// 30 runs of two jobs: queued_at advances one minute every third run (so
  /// ties are broken by id), every finished status, plus one queued run of
  /// `alpha` and one running run of `beta` (the newest two minutes).
  void seed() {
    static const char* kFinished[] = {"succeeded", "failed", "skipped", "cancelled"};
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (id, source, uri) VALUES ('alpha', 'acme', 'a.csv'), ('beta', 'globex', 'b.csv')");
    for (int i = 0; i < 30; ++i) {
      tx.exec_params(
          "INSERT INTO job_runs (id, job_id, status, queued_at, started_at, finished_at) VALUES "
          "(gen_random_uuid(), $1, $2, '2026-01-01T00:00:00Z'::timestamptz + make_interval(mins => $3), "
          "'2026-01-01T00:00:00Z'::timestamptz + make_interval(mins => $3), "
          "'2026-01-01T00:00:30Z'::timestamptz + make_interval(mins => $3))",
          i % 2 == 0 ? "alpha" : "beta", kFinished[i % 4], i / 3);
    }
    tx.exec("INSERT INTO job_runs (id, job_id, status, queued_at) VALUES "
            "(gen_random_uuid(), 'alpha', 'queued', '2026-01-01T00:11:00Z')");
    tx.exec("INSERT INTO job_runs (id, job_id, status, queued_at, started_at, worker_id, heartbeat_at) VALUES "
            "(gen_random_uuid(), 'beta', 'running', '2026-01-01T00:10:00.000001Z', now(), 'w1', now())");
    tx.commit();
  }

  http::Response get(const std::string& target, bool with_token = true) { return client_->get(target, with_token); }
  nlohmann::json get_json(const std::string& target) { return client_->get_json(target); }
  void expect_bad_request(const std::string& target, const std::string& needle) {
    client_->expect_bad_request(target, needle);
  }

  /// Run ids in the promised order, by an independent query.
  std::vector<std::string> expected_ids(const std::string& where) {
    pqxx::connection c(dsn_);
    pqxx::read_transaction tx(c);
    std::vector<std::string> ids;
    for (const auto& row : tx.exec("SELECT id::text FROM job_runs WHERE " + where + " ORDER BY queued_at DESC, id DESC")) {
      ids.push_back(row[0].as<std::string>());
    }
    return ids;
  }

  /// Follows next_cursor to the end; every run id in order.
  std::vector<std::string> page_through(const std::string& query, std::size_t limit) {
    std::vector<std::string> ids;
    for (const auto& run : client_->all_items("/runs?" + query, limit)) ids.push_back(run["run_id"]);
    return ids;
  }

  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::RunsRepository> runs_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<InProcessClient> client_;
};

TEST_F(RunsApiTest, ListsEveryJobsRunsNewestFirstAsGetRunShowsThem) {
  const auto body = get_json("/runs");
  EXPECT_TRUE(body["next_cursor"].is_null());
  ASSERT_EQ(body["items"].size(), 32u);
  std::vector<std::string> ids;
  for (const auto& run : body["items"]) ids.push_back(run["run_id"]);
  EXPECT_EQ(ids, expected_ids("TRUE"));
  EXPECT_EQ(body["items"][0]["status"], "queued");
  EXPECT_EQ(body["items"][0]["job_id"], "alpha");
  EXPECT_EQ(body["items"][1]["status"], "running");
  EXPECT_EQ(body["items"][1]["queued_at"], "2026-01-01T00:10:00.000001Z");
  // The same run JSON as GET /runs/{id} (no rejects were recorded).
  for (const auto& run : body["items"]) {
    EXPECT_EQ(run, get_json("/runs/" + run["run_id"].get<std::string>())) << run;
  }
}

TEST_F(RunsApiTest, PagingReturnsEveryRunOnceAcrossTies) {
  const auto expected = expected_ids("TRUE");
  for (std::size_t limit : {1u, 2u, 3u, 7u, 31u, 32u, 1000u}) {
    const auto ids = page_through("", limit);
    EXPECT_EQ(ids, expected) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  }
  // The default page is 100 runs.
  pqxx::connection c(dsn_);
  pqxx::work tx(c);
  tx.exec("INSERT INTO job_runs (id, job_id, status, queued_at) "
          "SELECT gen_random_uuid(), 'gamma', 'succeeded', '2025-01-01T00:00:00Z' FROM generate_series(1, 80)");
  tx.commit();
  const auto first = get_json("/runs");
  EXPECT_EQ(first["items"].size(), 100u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(get_json("/runs?cursor=" + first["next_cursor"].get<std::string>())["items"].size(), 12u);
}

TEST_F(RunsApiTest, EveryFilterAloneAndCombinedWhilePaging) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"status=failed", "status = 'failed'"},
      {"status=queued", "status = 'queued'"},
      {"status=running", "status = 'running'"},
      {"job=beta", "job_id = 'beta'"},
      {"job=nobody", "FALSE"},
      {"since=2026-01-01T00:05:00Z", "queued_at >= '2026-01-01T00:05:00Z'"},
      {"since=2026-01-01T02:05:00%2B02:00", "queued_at >= '2026-01-01T00:05:00Z'"},
      {"since=2026-01-01T00:10:00.000001Z", "queued_at >= '2026-01-01T00:10:00.000001Z'"},
      {"status=succeeded&job=alpha&since=2026-01-01T00:02:00Z",
       "status = 'succeeded' AND job_id = 'alpha' AND queued_at >= '2026-01-01T00:02:00Z'"},
  };
  for (const auto& [query, where] : cases) {
    const auto expected = expected_ids(where);
    EXPECT_EQ(page_through(query, 2), expected) << query;
    EXPECT_EQ(page_through(query, 1000), expected) << query;
    if (where != "FALSE") {
      EXPECT_FALSE(expected.empty()) << query;
    }
  }
}

TEST_F(RunsApiTest, BadFiltersAreBadRequestsNamingTheParameter) {
  expect_bad_request("/runs?status=done", "'status' must be one of queued, running, succeeded, failed, skipped, cancelled");
  expect_bad_request("/runs?status=FAILED", "'status'");
  expect_bad_request("/runs?status=", "'status'");
  expect_bad_request("/runs?status=failed&status=queued", "'status'");
  expect_bad_request("/runs?job=", "'job'");
  expect_bad_request("/runs?job=%FF", "'job'");
  expect_bad_request("/runs?since=yesterday", "'since' must be an RFC 3339 date-time");
  expect_bad_request("/runs?since=2026-02-30T00:00:00Z", "'since'");
  expect_bad_request("/runs?since=2026-01-01", "'since'");
  expect_bad_request("/runs?limit=0", "'limit'");
  expect_bad_request("/runs?limit=1001", "'limit'");
  expect_bad_request("/runs?jobs=alpha", "unknown query parameter 'jobs'");
  expect_bad_request("/runs?cursor=not-a-cursor", "malformed cursor");
  auto forge = [](const nlohmann::json& array) { return http::base64url_encode(array.dump()); };
  for (const auto& bad : {nlohmann::json::array({1, "2026-01-01T00:00:00Z", "not-a-uuid"}),
                          nlohmann::json::array({1, "yesterday", "2f1c8a0e-5a0b-4b5e-9c1d-0123456789ab"}),
                          nlohmann::json::array({2, "2026-01-01T00:00:00Z", "2f1c8a0e-5a0b-4b5e-9c1d-0123456789ab"}),
                          nlohmann::json::array({1, "2026-01-01T00:00:00Z"}), nlohmann::json::object()}) {
    expect_bad_request("/runs?cursor=" + forge(bad), "malformed cursor");
  }
  // A well-formed cursor continues strictly after its position.
  const auto after = forge({1, "2026-01-01T00:01:00Z", "00000000-0000-0000-0000-000000000000"});
  const auto page = get_json("/runs?cursor=" + after);
  std::vector<std::string> ids;
  for (const auto& run : page["items"]) ids.push_back(run["run_id"]);
  EXPECT_EQ(ids, expected_ids("queued_at < '2026-01-01T00:01:00Z'"));
}

TEST_F(RunsApiTest, NeedsTheTokenLikeTheRestOfRuns) {
  const auto r = get("/runs", false);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "unauthorized");
  EXPECT_EQ(get("/runs?status=failed").status, 200);
}

// The sweep of runs whose worker died: a run asked to cancel ends
// cancelled, the others go back to the queue, and the counts the worker logs
// say which was which.
TEST_F(RunsApiTest, TheStaleSweepCountsRequeuedAndCancelledRunsApart) {
  {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (id, source, uri) VALUES ('gamma', 'g', 'g.csv'), ('delta', 'd', 'd.csv')");
    tx.exec("INSERT INTO job_runs (id, job_id, status, queued_at, started_at, worker_id, heartbeat_at, "
            "cancel_requested) VALUES "
            "('11111111-1111-1111-1111-111111111111', 'gamma', 'running', now(), now(), 'dead/1', "
            "now() - interval '1 hour', false), "
            "('22222222-2222-2222-2222-222222222222', 'delta', 'running', now(), now(), 'dead/2', "
            "now() - interval '1 hour', true)");
    tx.commit();
  }
  const auto stale = runs_->handle_stale(std::chrono::seconds(60));
  EXPECT_EQ(stale.requeued, 1u);
  EXPECT_EQ(stale.cancelled, 1u);
  EXPECT_EQ(stale.finished, 0u);
  EXPECT_EQ(get_json("/runs/11111111-1111-1111-1111-111111111111")["status"], "queued");
  EXPECT_EQ(get_json("/runs/22222222-2222-2222-2222-222222222222")["status"], "cancelled");
  // beta's running run beats on: not stale.
  EXPECT_EQ(runs_->handle_stale(std::chrono::seconds(60)).requeued, 0u);
}

}  // namespace
}  // namespace catalog::testing
