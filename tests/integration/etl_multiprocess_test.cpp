// Several real `catalog-api serve` processes sharing one database, as ECS runs
// them: each run executes exactly once across processes, a run whose process
// is killed with SIGKILL is re-queued and finished by another, and cancel and
// SIGTERM mid-run leave products exactly as before.
//
// To hold a run "mid-run" deterministically (whatever the machine's speed),
// the test keeps one product row locked (SELECT … FOR UPDATE) while a feed
// that changes every row runs: the worker streams the whole feed (its
// progress shows every row) and then blocks in the apply step, inside its
// transaction, until the test lets go.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "support/feed_builder.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/s3_app_test.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Partner format: quoted fields with commas, a price with a thousands separator.
// `version` changes every row's name and price.
std::string feed(int rows, int version) { return versioned_feed(rows, version, "Line one, with comma"); }

struct Server {
  std::unique_ptr<ChildProcess> process;
  std::uint16_t port = 0;
  HttpClient client() const { return HttpClient(port); }
  std::string pid_part() const { return "/" + std::to_string(process->pid()) + "/"; }
};

class EtlMultiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("etl_mp");
    s3_ = s3_env();
    bucket_ = s3_["S3_RAW_BUCKET"];
    prefix_ = "etl-mp/" + current_test_name() + "-" + std::to_string(::getpid()) + "/";
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& s : servers_) {
        if (s->process) std::cerr << "---- server pid " << s->process->pid() << " output:\n" << s->process->output();
      }
    }
  }

  Server& start_server(int workers, bool wait = true) {
    auto server = std::make_unique<Server>();
    server->port = free_port();
    std::map<std::string, std::string> env = s3_;
    env["DATABASE_URL"] = dsn_;
    env["PORT"] = std::to_string(server->port);
    env["BIND_ADDRESS"] = "127.0.0.1";
    env["AUTH_DISABLED"] = "1";
    env["JOB_WORKERS"] = std::to_string(workers);
    env["RUN_STALE_AFTER"] = "5";
    env["SHUTDOWN_TIMEOUT"] = std::to_string(kShutdownTimeout.count());
    env["DB_POOL_SIZE"] = "4";
    env["LOG_LEVEL"] = "info";
    server->process = std::make_unique<ChildProcess>(std::vector<std::string>{CATALOG_API_BINARY, "serve"}, env);
    servers_.push_back(std::move(server));
    auto& s = *servers_.back();
    if (wait) wait_healthy(s);
    return s;
  }

  static void wait_healthy(const Server& s) {
    if (testing::wait_healthy(s.port, 30s)) return;
    FAIL() << "server on port " << s.port << " not healthy in 30 s:\n" << s.process->output();
  }

  std::string uri(const std::string& key) const { return "s3://" + bucket_ + "/" + prefix_ + key; }
  void put_object(const std::string& key, const std::string& body) { store_.put(prefix_ + key, body); }

  static void put_job(const Server& s, const std::string& id, const std::string& source, const std::string& uri) {
    const auto r = s.client().request("PUT", "/jobs/" + id, nlohmann::json{{"source", source}, {"uri", uri}}.dump(),
                                      {"Content-Type: application/json"});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }

  static nlohmann::json get_run(const Server& s, const std::string& run_id) {
    const auto r = s.client().get("/runs/" + run_id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json() : nlohmann::json::object();
  }

  // Polls GET /runs/{id} until `done` holds or the deadline passes; returns the last state.
  template <typename Pred>
  static nlohmann::json poll_run(const Server& s, const std::string& run_id, std::chrono::seconds limit, Pred done) {
    const auto deadline = Clock::now() + limit;
    nlohmann::json run;
    while (true) {
      run = get_run(s, run_id);
      if (done(run) || Clock::now() >= deadline) return run;
      std::this_thread::sleep_for(50ms);
    }
  }

  static bool finished(const nlohmann::json& run) {
    const auto status = run.value("status", std::string());
    return status != "queued" && status != "running";
  }

  pqxx::result query(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::read_transaction tx(c);
    return tx.exec(sql);
  }
  long count(const std::string& sql) { return query(sql)[0][0].as<long>(); }

  // Everything a run could change about one source's products, row versions included.
  std::string fingerprint(const std::string& source) {
    return query("SELECT count(*)::text || ':' || coalesce(md5(string_agg(sku || '|' || name || '|' || "
                 "coalesce(price::text, '') || '|' || xmin::text || '|' || updated_at::text, ',' ORDER BY sku)), '') "
                 "FROM products WHERE source = '" + source + "'")[0][0]
        .as<std::string>();
  }

  // Preloads `rows` rows (version 1) through `s`, then uploads version 2 of
  // the feed and locks one product row, so a run of it stops in its apply step.
  struct HeldRun {
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<pqxx::work> tx;
    std::string before;
    void release() {
      if (tx) tx->commit();
      tx.reset();
    }
  };
  HeldRun prepare_held_run(const Server& s, const std::string& job, int rows) {
    put_object(job + ".csv", feed(rows, 1));
    put_job(s, job, job, uri(job + ".csv"));
    const auto first = s.client().request("POST", "/jobs/" + job + "/run?wait=true");
    EXPECT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.json()["status"], "succeeded") << first.body;
    EXPECT_EQ(first.json()["counts"]["inserted"], rows) << first.body;
    put_object(job + ".csv", feed(rows, 2));
    HeldRun held;
    held.before = fingerprint(job);
    held.conn = std::make_unique<pqxx::connection>(dsn_);
    held.tx = std::make_unique<pqxx::work>(*held.conn);
    held.tx->exec("SELECT 1 FROM products WHERE source = '" + job + "' AND sku = 'SKU-" + std::to_string(rows) +
                  "' FOR UPDATE");
    return held;
  }

  // Triggers a run of `job` on `s` and waits until it has streamed all `rows`.
  std::string trigger_and_wait_running(const Server& s, const std::string& job, int rows) {
    const auto r = s.client().request("POST", "/jobs/" + job + "/run?force=true");
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string run_id = r.json()["run_id"];
    const auto run = poll_run(s, run_id, 60s, [&](const nlohmann::json& j) {
      return finished(j) || (j["status"] == "running" && j["progress"]["rows"].get<long>() >= rows);
    });
    EXPECT_EQ(run["status"], "running") << run.dump();
    EXPECT_EQ(run["progress"]["rows"], rows) << "every row streamed, the run is inside its transaction: " << run.dump();
    return run_id;
  }

  static constexpr std::chrono::seconds kShutdownTimeout{10};
  std::string dsn_;
  std::map<std::string, std::string> s3_;
  std::string bucket_, prefix_;
  TestS3 store_;
  std::vector<std::unique_ptr<Server>> servers_;
};

// run_id → how many times a process logged "run started" for it.
std::map<std::string, int> runs_started(const std::string& log) {
  constexpr std::string_view kRunId = "\"run_id\":\"";
  std::map<std::string, int> started;
  std::size_t from = 0;
  while (from < log.size()) {
    auto to = log.find('\n', from);
    if (to == std::string::npos) to = log.size();
    const std::string line = log.substr(from, to - from);
    const auto id = line.find(kRunId);
    if (line.find("\"run started\"") != std::string::npos && id != std::string::npos) {
      ++started[line.substr(id + kRunId.size(), 36)];
    }
    from = to + 1;
  }
  return started;
}

TEST_F(EtlMultiProcessTest, TwoServerProcessesExecuteEachRunExactlyOnce) {
  // Both tasks start together on an empty database (migrations race too).
  auto& a = start_server(2, false);
  auto& b = start_server(2, false);
  wait_healthy(a);
  wait_healthy(b);
  ASSERT_FALSE(HasFatalFailure());

  constexpr int kJobs = 6;
  constexpr int kRunsPerJob = 4;
  auto rows_of = [](int j) { return 40 + 15 * j; };
  for (int j = 0; j < kJobs; ++j) {
    const auto id = "mp-" + std::to_string(j);
    put_object(id + ".csv", feed(rows_of(j), 1));
    put_job(j % 2 == 0 ? a : b, id, "src-" + std::to_string(j), uri(id + ".csv"));
  }

  // Keep every job busy: as soon as a job's run has ended, queue the next one,
  // alternating between the servers; the four workers of the two processes
  // compete for every queued run.
  std::vector<std::string> active(kJobs);
  std::vector<int> queued(kJobs, 0);
  std::set<std::string> all_runs;
  int trigger = 0;
  const auto deadline = Clock::now() + 90s;
  while (Clock::now() < deadline) {
    bool all_done = true;
    for (int j = 0; j < kJobs; ++j) {
      const Server& via = (trigger % 2 == 0) ? a : b;
      if (!active[j].empty()) {
        if (!finished(get_run(via, active[j]))) {
          all_done = false;
          continue;
        }
        active[j].clear();
      }
      if (queued[j] == kRunsPerJob) continue;
      all_done = false;
      ++trigger;
      const auto r = via.client().request("POST", "/jobs/mp-" + std::to_string(j) + "/run?force=true");
      ASSERT_EQ(r.status, 202) << r.body;
      active[j] = r.json()["run_id"];
      all_runs.insert(active[j]);
      ++queued[j];
    }
    if (all_done) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(all_runs.size(), static_cast<std::size_t>(kJobs * kRunsPerJob)) << "every run was queued in time";

  // The database: every run ended succeeded, once, on a worker of one of the two processes.
  const auto rows = query("SELECT id::text, job_id, status, coalesce(worker_id, ''), inserted, unchanged, rows_read "
                          "FROM job_runs ORDER BY queued_at");
  ASSERT_EQ(rows.size(), all_runs.size());
  std::set<std::string> pids;
  std::map<std::string, long> inserted_per_job;
  for (const auto& r : rows) {
    const auto id = r[0].as<std::string>();
    const auto job = r[1].as<std::string>();
    const auto worker = r[3].as<std::string>();
    EXPECT_EQ(r[2].as<std::string>(), "succeeded") << id;
    const bool on_a = worker.find(a.pid_part()) != std::string::npos;
    const bool on_b = worker.find(b.pid_part()) != std::string::npos;
    EXPECT_TRUE(on_a != on_b) << "run " << id << " worker '" << worker << "'";
    if (on_a) pids.insert("a");
    if (on_b) pids.insert("b");
    const int j = std::stoi(job.substr(3));
    EXPECT_EQ(r[6].as<long>(), rows_of(j)) << id;
    EXPECT_EQ(r[4].as<long>() + r[5].as<long>(), rows_of(j)) << id;
    inserted_per_job[job] += r[4].as<long>();
  }
  EXPECT_EQ(pids.size(), 2u) << "workers of both processes took part";

  // Across both processes' logs each run started exactly once.
  auto started = runs_started(a.process->output());
  for (const auto& [id, n] : runs_started(b.process->output())) started[id] += n;
  EXPECT_EQ(started.size(), all_runs.size());
  for (const auto& id : all_runs) EXPECT_EQ(started[id], 1) << "run " << id << " started " << started[id] << " times";

  for (int j = 0; j < kJobs; ++j) {
    const auto source = "src-" + std::to_string(j);
    EXPECT_EQ(inserted_per_job["mp-" + std::to_string(j)], rows_of(j)) << "first run inserts, the others change nothing";
    EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = '" + source + "'"), rows_of(j));
  }
  EXPECT_EQ(count("SELECT count(*) FROM products"), [&] {
    long n = 0;
    for (int j = 0; j < kJobs; ++j) n += rows_of(j);
    return n;
  }());

  a.process->signal(SIGTERM);
  b.process->signal(SIGTERM);
  EXPECT_EQ(a.process->wait(kShutdownTimeout + 5s), 0);
  EXPECT_EQ(b.process->wait(kShutdownTimeout + 5s), 0);
}

TEST_F(EtlMultiProcessTest, KillDashNineMidRunLeavesProductsUnchangedAndTheOtherProcessFinishesIt) {
  constexpr int kRows = 60'000;
  auto& a = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  auto held = prepare_held_run(a, "killed", kRows);
  ASSERT_FALSE(HasFailure());
  const auto run_id = trigger_and_wait_running(a, "killed", kRows);
  ASSERT_FALSE(HasFailure());
  ASSERT_NE(query("SELECT worker_id FROM job_runs WHERE id = '" + run_id + "'")[0][0].as<std::string>().find(a.pid_part()),
            std::string::npos);

  auto& b = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  a.process->signal(SIGKILL);
  EXPECT_EQ(a.process->wait(10s), 128 + SIGKILL);

  // Right after the kill: nothing of the run is visible, to a new connection or the held one.
  EXPECT_EQ(fingerprint("killed"), held.before);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'killed' AND name LIKE '% v2'"), 0);
  held.release();

  // B re-queues the run once its heartbeat is stale (RUN_STALE_AFTER=5) and finishes it.
  const auto run = poll_run(b, run_id, 60s, finished);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["read"], kRows) << run.dump();
  EXPECT_EQ(run["counts"]["updated"], kRows) << run.dump();
  EXPECT_EQ(run["counts"]["inserted"], 0) << run.dump();
  const auto worker = query("SELECT coalesce(worker_id, '') FROM job_runs WHERE id = '" + run_id + "'")[0][0].as<std::string>();
  EXPECT_NE(worker.find(b.pid_part()), std::string::npos) << worker;
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'killed'"), kRows);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'killed' AND name LIKE '% v2' AND price = 1102.50"),
            kRows);
  EXPECT_EQ(count("SELECT count(*) FROM job_runs WHERE status IN ('queued', 'running')"), 0) << "never stuck";
  EXPECT_NE(b.process->output().find("re-queued runs whose worker stopped heartbeating"), std::string::npos);

  b.process->signal(SIGTERM);
  EXPECT_EQ(b.process->wait(kShutdownTimeout + 5s), 0);
}

// A worker killed while its first load builds the secondary indexes: the rows
// are committed and served, so the other process's stale check ends the run
// with the load's counts instead of re-queueing it (a re-run would find every
// row unchanged and record zeros over them); the source's next run builds the
// missing indexes.
TEST_F(EtlMultiProcessTest, KillDashNineDuringAFirstLoadsIndexPhaseKeepsTheLoadsCounts) {
  constexpr int kRows = 30'000;
  auto& a = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  put_object("first.csv", feed(kRows, 1));
  put_job(a, "first", "first", uri("first.csv"));
  const auto triggered = a.client().request("POST", "/jobs/first/run");
  ASSERT_EQ(triggered.status, 202) << triggered.body;
  const std::string run_id = triggered.json()["run_id"];

  // Hold the index phase: CREATE INDEX needs a SHARE lock on the partition,
  // which this one excludes. Taken as soon as the load's commit attaches it.
  pqxx::connection holder(dsn_);
  pqxx::work hold(holder);
  const auto deadline = Clock::now() + 60s;
  while (hold.exec1("SELECT products_partition_state('first')")[0].as<std::string>() != "attached") {
    ASSERT_LT(Clock::now(), deadline) << get_run(a, run_id).dump();
  }
  hold.exec("LOCK TABLE " + holder.quote_name(hold.exec1("SELECT products_partition_name('first')")[0].as<std::string>()) +
            " IN SHARE ROW EXCLUSIVE MODE");
  ASSERT_GT(count("SELECT count(*) FROM products_missing_indexes('first')"), 0) << "the index phase was already over";
  const auto loading = poll_run(a, run_id, 30s, [](const nlohmann::json& j) {
    return finished(j) || j["counts"]["inserted"].get<long>() == kRows;
  });
  ASSERT_EQ(loading["status"], "running") << loading.dump();
  ASSERT_EQ(loading["counts"]["inserted"], kRows) << "counts are recorded when the rows become visible";

  a.process->signal(SIGKILL);
  EXPECT_EQ(a.process->wait(10s), 128 + SIGKILL);
  hold.abort();

  // B's stale check (RUN_STALE_AFTER=5) ends the run with the load's counts.
  auto& b = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  const auto ended = poll_run(b, run_id, 60s, finished);
  EXPECT_EQ(ended["status"], "failed") << ended.dump();
  EXPECT_EQ(ended["counts"]["inserted"], kRows) << ended.dump();
  EXPECT_EQ(ended["counts"]["unchanged"], 0) << ended.dump();
  EXPECT_NE(ended.value("error", "").find("rows are loaded and served"), std::string::npos) << ended.dump();
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'first'"), kRows);
  EXPECT_EQ(count("SELECT count(*) FROM job_runs WHERE status IN ('queued', 'running')"), 0) << "never re-queued";
  EXPECT_NE(b.process->output().find("ended runs whose worker stopped heartbeating while building indexes"),
            std::string::npos);

  // The source's next run finds every row and builds the missing indexes.
  const auto next = b.client().request("POST", "/jobs/first/run?wait=true&force=true");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.json()["status"], "succeeded") << next.body;
  EXPECT_EQ(next.json()["counts"]["unchanged"], kRows) << next.body;
  EXPECT_EQ(count("SELECT count(*) FROM products_missing_indexes('first')"), 0);

  b.process->signal(SIGTERM);
  EXPECT_EQ(b.process->wait(kShutdownTimeout + 5s), 0);
}

TEST_F(EtlMultiProcessTest, CancelMidRunEndsCancelledAndLeavesProductsAsBefore) {
  constexpr int kRows = 20'000;
  auto& a = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  auto held = prepare_held_run(a, "cancelled", kRows);
  ASSERT_FALSE(HasFailure());
  const auto run_id = trigger_and_wait_running(a, "cancelled", kRows);
  ASSERT_FALSE(HasFailure());

  const auto r = a.client().request("POST", "/runs/" + run_id + "/cancel");
  ASSERT_EQ(r.status, 202) << "a running run is cancelled asynchronously: " << r.body;
  EXPECT_EQ(r.json()["cancel_requested"], true) << r.body;
  // The run is inside a statement that waits (for the held row): cancel must
  // interrupt it, not wait for it.
  const auto run = poll_run(a, run_id, 20s, finished);
  EXPECT_EQ(run["status"], "cancelled") << run.dump();
  EXPECT_EQ(fingerprint("cancelled"), held.before);
  held.release();
  EXPECT_EQ(fingerprint("cancelled"), held.before) << "nothing committed later either";
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = 'cancelled' AND name LIKE '% v2'"), 0);

  // The job is free again and the same feed then loads in full.
  const auto queued = a.client().request("POST", "/jobs/cancelled/run");
  ASSERT_EQ(queued.status, 202) << queued.body;
  const auto again = poll_run(a, queued.json()["run_id"], 60s, finished);
  EXPECT_EQ(again["status"], "succeeded") << again.dump();
  EXPECT_EQ(again["counts"]["updated"], kRows) << again.dump();

  a.process->signal(SIGTERM);
  EXPECT_EQ(a.process->wait(kShutdownTimeout + 5s), 0);
}

TEST_F(EtlMultiProcessTest, SigtermMidRunExitsZeroInTimeAndRequeuesTheRun) {
  constexpr int kRows = 20'000;
  auto& a = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  auto held = prepare_held_run(a, "stopped", kRows);
  ASSERT_FALSE(HasFailure());
  const auto run_id = trigger_and_wait_running(a, "stopped", kRows);
  ASSERT_FALSE(HasFailure());

  const auto signalled = Clock::now();
  a.process->signal(SIGTERM);
  // The held row stays locked: shutdown must interrupt the waiting statement.
  const int code = a.process->wait(kShutdownTimeout);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  EXPECT_EQ(code, 0) << "exit within SHUTDOWN_TIMEOUT=" << kShutdownTimeout.count() << " s (took " << took.count()
                     << " ms)";
  if (code == -1) {
    held.release();  // let it go so the process can be reaped
    a.process->wait(kShutdownTimeout);
  }

  const auto state = query("SELECT status, worker_id IS NULL, started_at IS NULL FROM job_runs WHERE id = '" + run_id + "'");
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0][0].as<std::string>(), "queued") << "re-queued for another task, not lost";
  EXPECT_TRUE(state[0][1].as<bool>());
  EXPECT_TRUE(state[0][2].as<bool>());
  EXPECT_EQ(fingerprint("stopped"), held.before);
  held.release();
  EXPECT_EQ(fingerprint("stopped"), held.before);

  // The next task picks it up and finishes it.
  auto& b = start_server(1);
  ASSERT_FALSE(HasFatalFailure());
  const auto run = poll_run(b, run_id, 30s, finished);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["updated"], kRows) << run.dump();
  b.process->signal(SIGTERM);
  EXPECT_EQ(b.process->wait(kShutdownTimeout + 5s), 0);
}

}  // namespace
}  // namespace catalog::testing
