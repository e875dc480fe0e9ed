// The database under pressure: DB_STATEMENT_TIMEOUT on request work, the
// background pool that keeps heartbeats, /health and the run queue going when
// requests hold every request connection, WAIT_TIMEOUT for ?wait=true, and the
// run-queue races (cancel vs claim, stale re-queue of a cancelled run, a job
// deleted under a queued run, the unchanged-source shortcut after a source
// change). Real PostgreSQL and the signature-checking S3 server.
//
// "Slow" request work is made deterministic with a row lock the test holds:
// PATCH /items/{id} then waits inside its UPDATE exactly as long as the test
// wants, the way a request waits behind a long transaction in production.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <pqxx/pqxx>

#include "support/feed_builder.hpp"
#include "support/s3_app_test.hpp"
#include "support/timing.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string feed(int rows, int version = 1) { return versioned_feed(rows, version); }

long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

class DbLimitsTest : public S3AppTest {
 protected:
  DbLimitsTest() : S3AppTest("dblim") {}

  std::string value(const std::string& sql) {
    const auto r = query(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
  }

  // Polls `sql` (one text value) until it equals `want` or `limit` passes; returns the last value.
  std::string wait_value(const std::string& sql, const std::string& want, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    std::string v;
    while (true) {
      v = value(sql);
      if (v == want || Clock::now() >= deadline) return v;
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string create_item() {
    const auto r = client().post_json("/items", {{"name", "locked"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"];
  }

  // A transaction of the test's own that holds one row locked until release().
  struct RowLock {
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<pqxx::work> tx;
    RowLock(const std::string& dsn, const std::string& sql)
        : conn(std::make_unique<pqxx::connection>(dsn)), tx(std::make_unique<pqxx::work>(*conn)) {
      tx->exec(sql);
    }
    void release() {
      if (tx) tx->commit();
      tx.reset();
    }
  };
};

// 1. A request statement that runs past DB_STATEMENT_TIMEOUT is cut and
//    answered 503 `timeout` (JSON, Retry-After) instead of hanging; the
//    connection serves the next request; ETL runs are not subject to it.
TEST_F(DbLimitsTest, RequestStatementPastTheTimeoutAnswers503TimeoutAndEtlIsExempt) {
  start({{"DB_STATEMENT_TIMEOUT", "1s"}});
  const auto id = create_item();
  RowLock lock(dsn_, "SELECT 1 FROM items WHERE id = '" + id + "' FOR UPDATE");

  const auto started = Clock::now();
  const auto r = client().request("PATCH", "/items/" + id, R"({"name":"renamed"})", {"Content-Type: application/json"});
  const long took = ms_since(started);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "timeout") << r.body;
  EXPECT_FALSE(r.json()["error"]["request_id"].get<std::string>().empty());
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_GE(took, 900) << "cut by the 1 s statement_timeout, not earlier";
  EXPECT_LT(took, 2500) << "answered within DB_STATEMENT_TIMEOUT + 1.5 s";
  // The work stopped in PostgreSQL, not just the answer: with the lock still
  // held, no backend waits on it any more (a client that gave up on its
  // query without cancelling it would leave the UPDATE waiting here).
  EXPECT_TRUE(wait_until(
      [&] {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'") == 0;
      },
      5s))
      << "the timed-out UPDATE still waits in PostgreSQL";
  EXPECT_EQ(count("SELECT count(*) FROM items WHERE id = '" + id + "' AND name = 'renamed'"), 0)
      << "the cancelled UPDATE must not have been applied";
  lock.release();

  // The pool's connections survived their cancelled statements.
  for (int i = 0; i < 6; ++i) {
    const auto ok = client().request("PATCH", "/items/" + id, R"({"name":"renamed"})", {"Content-Type: application/json"});
    EXPECT_EQ(ok.status, 200) << ok.body;
  }

  // An ETL run whose apply waits 2.5 s on a row lock (longer than the
  // request timeout) still succeeds: runs use their own connections.
  put_object("feed.csv", feed(50, 1));
  put_job("exempt", "exempt", "feed.csv");
  ASSERT_EQ(run_and_wait("exempt")["status"], "succeeded");
  put_object("feed.csv", feed(50, 2));
  RowLock products_lock(dsn_, "SELECT 1 FROM products WHERE source = 'exempt' AND sku = 'SKU-50' FOR UPDATE");
  const auto queued = client().request("POST", "/jobs/exempt/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string run_id = queued.json()["run_id"];
  EXPECT_EQ(wait_value("SELECT status || ':' || rows_read FROM job_runs WHERE id = '" + run_id + "'", "running:50", 20s),
            "running:50");
  // The apply is blocked on the lock (seen in pg_stat_activity, not assumed),
  // and stays blocked for longer than the 1 s request statement timeout.
  EXPECT_TRUE(wait_until(
      [&] {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'") > 0;
      },
      20s))
      << "the run's apply never waited on the row lock";
  std::this_thread::sleep_for(2500ms);  // the wait that must outlast DB_STATEMENT_TIMEOUT
  products_lock.release();
  EXPECT_EQ(wait_value("SELECT status FROM job_runs WHERE id = '" + run_id + "'", "succeeded", 20s), "succeeded")
      << value("SELECT error FROM job_runs WHERE id = '" + run_id + "'");
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'exempt' AND name LIKE '% v2'"), 50);
}

// 2. Requests hold every request connection (DB_POOL_SIZE=2, each PATCH
//    waiting on a locked row, re-sent as soon as it is cut): /health stays
//    200, a running run keeps heartbeating and then finishes, a queued run is
//    claimed and finished, and GET /items answers within DB_ACQUIRE_TIMEOUT
//    (1 s) + 1 s instead of waiting for a connection.
TEST_F(DbLimitsTest, BackgroundWorkKeepsGoingWhileRequestsHoldEveryConnection) {
  start({{"DB_POOL_SIZE", "2"}, {"JOB_WORKERS", "2"}, {"DB_STATEMENT_TIMEOUT", "3s"}, {"DB_ACQUIRE_TIMEOUT", "1s"}});
  const auto item = create_item();
  put_object("held.csv", feed(200, 1));
  put_job("held", "held", "held.csv");
  ASSERT_EQ(run_and_wait("held")["status"], "succeeded");
  put_object("held.csv", feed(200, 2));
  put_object("other.csv", feed(5, 1));
  put_job("other", "other", "other.csv");

  // A run that streams its feed, then waits in its apply for a product row.
  RowLock products_lock(dsn_, "SELECT 1 FROM products WHERE source = 'held' AND sku = 'SKU-200' FOR UPDATE");
  const auto triggered = client().request("POST", "/jobs/held/run");
  ASSERT_EQ(triggered.status, 202) << triggered.body;
  const std::string held_run = triggered.json()["run_id"];
  ASSERT_EQ(wait_value("SELECT status || ':' || rows_read FROM job_runs WHERE id = '" + held_run + "'", "running:200", 20s),
            "running:200");

  // Saturate the request pool.
  RowLock item_lock(dsn_, "SELECT 1 FROM items WHERE id = '" + item + "' FOR UPDATE");
  std::atomic<bool> saturating{true};
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, port = app_->port()] {
      HttpClient c(port);
      while (saturating.load()) {
        try {
          c.request("PATCH", "/items/" + item, R"({"name":"x"})", {"Content-Type: application/json"});
        } catch (const std::exception&) {
        }
      }
    });
  }
  const std::string waiting_patches =
      "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'UPDATE items%' "
      "AND wait_event_type = 'Lock'";
  ASSERT_EQ(wait_value(waiting_patches, "2", 5s), "2") << "both request connections wait on the locked item";

  // While saturated: health, heartbeats, claims and a bounded /items.
  const auto beat_before = value("SELECT heartbeat_at::text FROM job_runs WHERE id = '" + held_run + "'");
  query("INSERT INTO job_runs (id, job_id, status, options) VALUES (gen_random_uuid(), 'other', 'queued', '{}')");
  int health_failures = 0;
  long slowest_items_ms = 0;
  const auto window_end = Clock::now() + 5s;
  while (Clock::now() < window_end) {
    const auto h = client().get("/health");
    if (h.status != 200) ++health_failures;
    const auto started = Clock::now();
    const auto items = client().get("/items?limit=1");
    slowest_items_ms = std::max(slowest_items_ms, ms_since(started));
    EXPECT_TRUE(items.status == 200 || items.status == 503) << items.body;
    if (items.status == 503) {
      const auto code = items.json()["error"]["code"].get<std::string>();
      EXPECT_TRUE(code == "overloaded" || code == "timeout") << items.body;
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(health_failures, 0) << "/health answered non-200 while requests held the pool";
  EXPECT_LT(slowest_items_ms, 2000) << "GET /items waited longer than DB_ACQUIRE_TIMEOUT + 1 s";
  EXPECT_EQ(value(waiting_patches), "2") << "the pool was still saturated at the end of the window";
  const auto beat_after = value("SELECT heartbeat_at::text FROM job_runs WHERE id = '" + held_run + "'");
  EXPECT_EQ(value("SELECT ('" + beat_after + "'::timestamptz > '" + beat_before + "'::timestamptz)::text"), "true")
      << "heartbeat stuck at " << beat_before;
  EXPECT_EQ(value("SELECT status FROM job_runs WHERE job_id = 'other'"), "succeeded")
      << "the queued run was claimed and finished while requests held the pool";

  // The held run finishes (its outcome is recorded on the background pool).
  products_lock.release();
  EXPECT_EQ(wait_value("SELECT status FROM job_runs WHERE id = '" + held_run + "'", "succeeded", 20s), "succeeded");
  EXPECT_EQ(value(waiting_patches), "2") << "still saturated while the run finished";

  saturating = false;
  item_lock.release();
  for (auto& t : clients) t.join();
  EXPECT_EQ(client().get("/items?limit=1").status, 200);
}

// 3. ?wait=true answers the run's current state with 202 after WAIT_TIMEOUT,
//    instead of holding a worker (and the ALB connection) until the run ends.
TEST_F(DbLimitsTest, WaitTrueAnswersTheCurrentStateAfterWaitTimeout) {
  start({{"JOB_WORKERS", "0"}, {"WAIT_TIMEOUT", "1s"}});  // nothing executes: the run stays queued
  put_object("feed.csv", feed(3));
  put_job("slow", "slow", "feed.csv");
  const auto started = Clock::now();
  const auto r = client().request("POST", "/jobs/slow/run?wait=true");
  const long took = ms_since(started);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["status"], "queued") << r.body;
  EXPECT_EQ(r.header("location"), "/runs/" + r.json()["run_id"].get<std::string>());
  EXPECT_GE(took, 900);
  EXPECT_LT(took, 2500) << "WAIT_TIMEOUT=1s";
}

// 5a + 5b. A cancel racing a claim: the cancel reads the run as queued while a
// worker's claim is committing. The cancel must not be lost (the run flagged
// for its worker); and when that worker dies, the stale re-queue must end the
// run cancelled instead of queueing it for another worker that would run it
// to completion.
TEST_F(DbLimitsTest, CancelRacingAClaimIsNeverLostAndAStaleCancelledRunIsNotRequeued) {
  start({{"JOB_WORKERS", "0"}});
  put_object("feed.csv", feed(5));
  put_job("race", "race", "feed.csv");
  const auto queued = client().request("POST", "/jobs/race/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string run_id = queued.json()["run_id"];

  // Another task's worker claims it (the same UPDATE as RunsRepository::claim_next)...
  RowLock claim(dsn_, "UPDATE job_runs SET status = 'running', worker_id = 'ghost/1/0', started_at = now(), "
                      "heartbeat_at = now() WHERE id = '" + run_id + "'");
  // ...while the cancel arrives.
  auto cancel = std::async(std::launch::async, [&] { return client().request("POST", "/runs/" + run_id + "/cancel"); });
  EXPECT_EQ(cancel.wait_for(500ms), std::future_status::timeout) << "the cancel waits for the claim";
  claim.release();
  const auto cancelled = cancel.get();
  EXPECT_EQ(cancelled.status, 202) << "a running run is cancelled by its worker: " << cancelled.body;
  EXPECT_EQ(cancelled.json()["cancel_requested"], true) << cancelled.body;
  EXPECT_EQ(value("SELECT cancel_requested::text FROM job_runs WHERE id = '" + run_id + "'"), "true");

  // The ghost dies without heartbeating; a live task's stale check ends the run.
  query("UPDATE job_runs SET heartbeat_at = now() - interval '1 hour' WHERE id = '" + run_id + "'");
  start({{"JOB_WORKERS", "1"}, {"RUN_STALE_AFTER", "5"}});
  EXPECT_EQ(wait_value("SELECT status FROM job_runs WHERE id = '" + run_id + "'", "cancelled", 10s), "cancelled")
      << "never re-queued and run";
  // The worker had its chance to pick the cancelled run: it claimed and
  // finished a later run of another job (a fixed sleep proved nothing on a
  // slow machine). The cancelled run is still cancelled and loaded nothing.
  put_job("witness", "witness", "feed.csv");
  EXPECT_EQ(run_and_wait("witness")["status"], "succeeded");
  EXPECT_EQ(value("SELECT status FROM job_runs WHERE id = '" + run_id + "'"), "cancelled");
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'race'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM job_runs WHERE status IN ('queued', 'running')"), 0) << "never stuck";
  // The job is free again.
  EXPECT_EQ(run_and_wait("race")["status"], "succeeded");
}

// 5c. DELETE /jobs/{id} with a queued run cancels that run and deletes the
// job (a running run still answers 409); a worker that meets a run whose job
// vanished fails it with a clear error and carries on.
TEST_F(DbLimitsTest, DeletingAJobCancelsItsQueuedRunAndAVanishedJobFailsItsRunClearly) {
  start({{"JOB_WORKERS", "0"}});
  put_object("feed.csv", feed(5));
  put_job("doomed", "doomed", "feed.csv");
  const auto queued = client().request("POST", "/jobs/doomed/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const std::string run_id = queued.json()["run_id"];
  const auto deleted = client().request("DELETE", "/jobs/doomed");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  const auto run = client().get("/runs/" + run_id).json();
  EXPECT_EQ(run["status"], "cancelled") << run.dump();
  EXPECT_NE(run["error"].get<std::string>().find("job was deleted"), std::string::npos) << run.dump();
  EXPECT_EQ(client().get("/jobs/doomed").status, 404);

  // A run whose job vanished under it (queued by an older task, say).
  query("INSERT INTO job_runs (id, job_id, status, options) VALUES ('11111111-1111-1111-1111-111111111111', "
        "'vanished', 'queued', '{}')");
  start({{"JOB_WORKERS", "1"}});
  EXPECT_EQ(wait_value("SELECT status FROM job_runs WHERE job_id = 'vanished'", "failed", 10s), "failed");
  EXPECT_NE(value("SELECT error FROM job_runs WHERE job_id = 'vanished'").find("job 'vanished' was deleted"),
            std::string::npos);
  put_job("alive", "alive", "feed.csv");
  EXPECT_EQ(run_and_wait("alive")["status"], "succeeded") << "the worker carries on";
}

// 5d. The unchanged-source shortcut must not skip a run after the job's
// `source` changed: the new source has never loaded that object.
TEST_F(DbLimitsTest, ChangingAJobsSourceDefeatsTheUnchangedSourceShortcut) {
  start();
  put_object("feed.csv", feed(5));
  put_job("moving", "old-partner", "feed.csv");
  EXPECT_EQ(run_and_wait("moving")["status"], "succeeded");
  EXPECT_EQ(run_and_wait("moving")["status"], "skipped") << "same object, same job: the shortcut applies";

  put_job("moving", "new-partner", "feed.csv");
  const auto moved = run_and_wait("moving");
  EXPECT_EQ(moved["status"], "succeeded") << moved.dump();
  EXPECT_EQ(moved["counts"]["inserted"], 5) << moved.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'new-partner'"), 5);
  EXPECT_EQ(run_and_wait("moving")["status"], "skipped") << "and then the shortcut applies to the new source";
}

}  // namespace
}  // namespace catalog::testing
