// SIGTERM as ECS sends it, to the real binary, while a run that would take far
// longer than SHUTDOWN_TIMEOUT executes and a client waits on it with
// ?wait=true: the run is cancelled at once (rolled back, re-queued), the
// waiting client gets the run's state (202), and the process exits 0 within
// SHUTDOWN_TIMEOUT.
//
// The run is held deterministically: it streams its whole feed, then its
// apply waits for a product row the test keeps locked, for as long as the
// test wants (like the multi-process ETL test).
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <pqxx/pqxx>

#include "support/feed_builder.hpp"
#include "support/timing.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/s3_app_test.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string feed(int rows, int version) { return versioned_feed(rows, version); }

TEST(ShutdownTest, SigtermCancelsALongRunAnswersItsWaiterAndExitsZeroWithinTheTimeout) {
  constexpr int kRows = 20'000;
  constexpr auto kShutdownTimeout = 3s;
  const auto dsn = create_test_database("shutdown");
  auto env = s3_env();
  const auto bucket = env["S3_RAW_BUCKET"];
  const auto key = "shutdown/" + std::to_string(::getpid()) + "/feed.csv";
  TestS3 store(env);

  const auto port = free_port();
  env["DATABASE_URL"] = dsn;
  env["PORT"] = std::to_string(port);
  env["BIND_ADDRESS"] = "127.0.0.1";
  env["AUTH_DISABLED"] = "1";
  env["JOB_WORKERS"] = "1";
  env["DB_POOL_SIZE"] = "4";
  env["LOG_LEVEL"] = "info";
  env["SHUTDOWN_TIMEOUT"] = std::to_string(kShutdownTimeout.count());
  ChildProcess server({CATALOG_API_BINARY, "serve"}, env);
  HttpClient client(port);
  ASSERT_TRUE(wait_healthy(port, 30s)) << server.output();

  // Version 1 loaded; version 2 changes every row; one row stays locked.
  store.put(key, feed(kRows, 1));
  ASSERT_EQ(client.request("PUT", "/jobs/long", nlohmann::json{{"source", "long"}, {"uri", "s3://" + bucket + "/" + key}}.dump(),
                           {"Content-Type: application/json"}).status, 201);
  const auto first = client.request("POST", "/jobs/long/run?wait=true");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.json()["status"], "succeeded") << first.body;
  store.put(key, feed(kRows, 2));
  auto fingerprint = [&] {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT count(*)::text || ':' || md5(string_agg(sku || '|' || name || '|' || price::text || '|' || "
                    "xmin::text, ',' ORDER BY sku)) FROM products WHERE source = 'long'")[0].as<std::string>();
  };
  const auto before = fingerprint();
  pqxx::connection lock_conn(dsn);
  auto lock_tx = std::make_unique<pqxx::work>(lock_conn);
  lock_tx->exec("SELECT 1 FROM products WHERE source = 'long' AND sku = 'SKU-" + std::to_string(kRows) + "' FOR UPDATE");

  // The operator's ?wait=true request, waiting on the run.
  auto waiter = std::async(std::launch::async, [&] {
    const auto r = HttpClient(port).request("POST", "/jobs/long/run?wait=true&force=true");
    return std::make_pair(r, Clock::now());
  });
  pqxx::connection probe(dsn);
  auto run_state = [&] {
    pqxx::read_transaction tx(probe);
    const auto r = tx.exec("SELECT id::text, status, rows_read, worker_id IS NULL FROM job_runs WHERE job_id = 'long' "
                           "ORDER BY queued_at DESC LIMIT 1");
    return r.empty() ? std::make_tuple(std::string(), std::string(), 0L, true)
                     : std::make_tuple(r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<long>(),
                                       r[0][3].as<bool>());
  };
  const auto streamed_by = Clock::now() + 60s;
  while (Clock::now() < streamed_by) {
    const auto [id, status, rows, no_worker] = run_state();
    if (status == "running" && rows == kRows) break;
    std::this_thread::sleep_for(50ms);
  }
  const auto [run_id, status, rows, no_worker] = run_state();
  ASSERT_EQ(status, "running");
  ASSERT_EQ(rows, kRows) << "the run streamed its feed and waits in its apply";
  EXPECT_EQ(waiter.wait_for(0s), std::future_status::timeout) << "the waiter is still waiting";

  const auto signalled = Clock::now();
  server.signal(SIGTERM);
  const int code = server.wait(kShutdownTimeout + scaled(5s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  if (code == -1) lock_tx.reset();  // let go so that the process can end
  EXPECT_EQ(code, 0) << "took " << took.count() << " ms\n" << server.output();
  // Past the timeout the orchestrator kills the task; the margin covers the
  // exit itself (and ASan's leak check in that build).
  EXPECT_LE(took, kShutdownTimeout + scaled(1000ms)) << "SHUTDOWN_TIMEOUT=" << kShutdownTimeout.count() << " s";

  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready) << "the waiter was answered";
  const auto [answer, answered_at] = waiter.get();
  EXPECT_EQ(answer.status, 202) << answer.body;
  ASSERT_FALSE(answer.body.empty());
  const auto json = answer.json();
  EXPECT_EQ(json["run_id"], run_id) << answer.body;
  EXPECT_EQ(json["status"], "queued") << "re-queued for another task: " << answer.body;
  EXPECT_LE(answered_at - signalled, kShutdownTimeout) << "answered before the process went away";

  // Re-queued, nothing of it committed, then or later.
  const auto [id_after, status_after, rows_after, no_worker_after] = run_state();
  EXPECT_EQ(status_after, "queued");
  EXPECT_TRUE(no_worker_after);
  EXPECT_EQ(fingerprint(), before);
  if (lock_tx) lock_tx->commit();
  EXPECT_EQ(fingerprint(), before);
  EXPECT_NE(server.output().find("run re-queued by shutdown"), std::string::npos) << server.output();
}

// "In every case": a request whose statement will not end (DB_STATEMENT_TIMEOUT
// off, waiting on a row lock the test never releases in time) must not keep
// the process past SHUTDOWN_TIMEOUT; its transaction rolls back.
TEST(ShutdownTest, ARequestThatWillNotEndDoesNotKeepTheProcessPastTheTimeout) {
  constexpr auto kShutdownTimeout = 2s;
  const auto dsn = create_test_database("shutdown_stuck");
  const auto port = free_port();
  ChildProcess server({CATALOG_API_BINARY, "serve"},
                      {{"DATABASE_URL", dsn}, {"PORT", std::to_string(port)}, {"BIND_ADDRESS", "127.0.0.1"},
                       {"AUTH_DISABLED", "1"}, {"DB_STATEMENT_TIMEOUT", "0"}, {"LOG_LEVEL", "info"},
                       {"SHUTDOWN_TIMEOUT", std::to_string(kShutdownTimeout.count())}});
  HttpClient client(port);
  ASSERT_TRUE(wait_healthy(port, 30s)) << server.output();
  const auto created = client.post_json("/items", {{"name", "before"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];

  pqxx::connection lock_conn(dsn);
  auto lock_tx = std::make_unique<pqxx::work>(lock_conn);
  lock_tx->exec("SELECT 1 FROM items WHERE id = '" + id + "' FOR UPDATE");
  auto stuck = std::async(std::launch::async, [&] {
    try {
      return HttpClient(port).request("PATCH", "/items/" + id, R"({"name":"after"})", {"Content-Type: application/json"}).status;
    } catch (const std::exception&) {
      return 0L;  // the connection closed with the process
    }
  });
  pqxx::connection probe(dsn);
  const auto waiting_by = Clock::now() + 10s;
  long waiting = 0;
  while (Clock::now() < waiting_by && waiting == 0) {
    pqxx::read_transaction tx(probe);
    waiting = tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'UPDATE items%' AND wait_event_type = 'Lock'")[0]
                  .as<long>();
    if (waiting == 0) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(waiting, 1) << "the PATCH waits on the locked row";

  const auto signalled = Clock::now();
  server.signal(SIGTERM);
  const int code = server.wait(kShutdownTimeout + scaled(5s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  if (code == -1) lock_tx.reset();
  EXPECT_EQ(code, 0) << "took " << took.count() << " ms\n" << server.output();
  EXPECT_LE(took, kShutdownTimeout + scaled(1000ms));
  EXPECT_NE(server.output().find("shutdown deadline passed"), std::string::npos) << server.output();
  EXPECT_NE(stuck.wait_for(5s), std::future_status::timeout);
  if (lock_tx) lock_tx->commit();
  // The abandoned PATCH's backend had its chance: it got the lock and ended
  // (it is gone from pg_stat_activity) before its row is looked at.
  EXPECT_TRUE(wait_until(
      [&] {
        pqxx::read_transaction tx(probe);
        return tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'UPDATE items%' "
                        "AND pid <> pg_backend_pid()")[0]
                   .as<long>() == 0;
      },
      20s))
      << "the abandoned PATCH's session never ended";
  pqxx::read_transaction tx(probe);
  EXPECT_EQ(tx.exec1("SELECT name FROM items WHERE id = '" + id + "'")[0].as<std::string>(), "before")
      << "the abandoned request's transaction rolled back";
}

}  // namespace
}  // namespace catalog::testing
