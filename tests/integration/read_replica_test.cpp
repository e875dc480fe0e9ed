// DATABASE_READ_URL against a real streaming replica (scripts/test.sh starts a
// primary and a pg_basebackup -R replica of it): list/detail reads run on the
// replica, writes on the primary, and reads fall back to the primary when the
// replica is down or lags more than READ_MAX_LAG.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "support/app_fixture.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string with_dbname(std::string dsn, const std::string& name) {
  const auto pos = dsn.find("dbname=");
  const auto end = dsn.find(' ', pos);
  dsn.replace(pos, end == std::string::npos ? std::string::npos : end - pos, "dbname=" + name);
  return dsn;
}

/// The value of the sample whose line starts with `series` in /metrics, -1 if absent.
double metric(const HttpClient& c, const std::string& series) {
  std::istringstream lines(c.get("/metrics").body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

double reads_on(const HttpClient& c, const std::string& pool) {
  return metric(c, "catalog_db_read_requests_total{pool=\"" + pool + "\"}");
}

void run_command(const char* env_name) {
  const auto command = required_env(env_name) + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

// Once the replica is usable again, every read runs there, the first one
// included: none meets a pooled connection that died in the outage (which
// would fail it over to the primary).
void expect_reads_on_the_replica_at_once(const HttpClient& c) {
  const double on_replica = reads_on(c, "replica");
  const double on_primary = reads_on(c, "primary");
  for (int i = 0; i < 5; ++i) {
    const auto r = c.get("/items");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().size(), 1u);
  }
  EXPECT_EQ(reads_on(c, "replica"), on_replica + 5);
  EXPECT_EQ(reads_on(c, "primary"), on_primary);
}

class ReadReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One replica for all these tests, and they pause and stop it: take turns.
    // Close-on-exec: a replica restarted by a test must not inherit the lock.
    lock_fd_ = ::open(required_env("CATALOG_TEST_PG_REPLICA_LOCK").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    ASSERT_GE(lock_fd_, 0);
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX), 0);
    restore_replica();

    static std::atomic<unsigned> counter{0};
    const std::string name = "rr_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    {
      pqxx::connection admin(required_env("CATALOG_TEST_PG_REPLICA_PRIMARY_DSN"));
      pqxx::nontransaction tx(admin);
      tx.exec("CREATE DATABASE " + admin.quote_name(name) + " TEMPLATE template0 ENCODING 'UTF8'");
    }
    primary_dsn_ = with_dbname(required_env("CATALOG_TEST_PG_REPLICA_PRIMARY_DSN"), name);
    replica_dsn_ = with_dbname(required_env("CATALOG_TEST_PG_REPLICA_DSN"), name);
  }

  void TearDown() override {
    restore_replica();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  // Running and replaying, whatever a failed test left behind.
  void restore_replica() {
    try {
      replica_admin("SELECT pg_wal_replay_resume()");
    } catch (const std::exception&) {
      run_command("CATALOG_TEST_PG_REPLICA_START");
    }
  }

  void replica_admin(const std::string& sql) {
    pqxx::connection conn(required_env("CATALOG_TEST_PG_REPLICA_DSN") + " connect_timeout=3");
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
  }

  // The service on the primary with the replica as DATABASE_READ_URL, once
  // the replica has the migrated schema and the service sends reads there.
  std::unique_ptr<RunningApp> start_app(const std::string& max_lag) {
    auto env = base_env(primary_dsn_);
    env["DATABASE_READ_URL"] = replica_dsn_;
    env["READ_MAX_LAG"] = max_lag;
    // These tests count which pool each read went to: every read must reach
    // one, not the response cache.
    env["RESPONSE_CACHE_BYTES"] = "0";
    auto app = std::make_unique<RunningApp>(env);
    EXPECT_TRUE(wait_until(
        [&] {
          try {
            pqxx::connection conn(replica_dsn_);
            pqxx::nontransaction tx(conn);
            return tx.exec1("SELECT to_regclass('products') IS NOT NULL AND to_regclass('items') IS NOT NULL")[0]
                .as<bool>();
          } catch (const std::exception&) {
            return false;
          }
        },
        10s))
        << "the replica never replayed the migrations";
    EXPECT_TRUE(wait_until([&] { return metric(app->client(), "catalog_db_replica_usable") == 1; }, 5s))
        << app->client().get("/metrics").body;
    return app;
  }

  int lock_fd_ = -1;
  std::string primary_dsn_;
  std::string replica_dsn_;
};

TEST_F(ReadReplicaTest, ListAndDetailReadsRunOnTheReplica) {
  auto app = start_app("60");
  const auto& c = app->client();
  const auto seen = c.post_json("/items", {{"name", "replicated"}});
  ASSERT_EQ(seen.status, 201) << seen.body;
  const auto seen_id = seen.json()["id"].get<std::string>();
  ASSERT_TRUE(wait_until([&] { return c.get("/items/" + seen_id).status == 200; }, 5s));
  EXPECT_EQ(c.get("/products?limit=5").status, 200);
  EXPECT_EQ(c.get("/products/nosource/nosku").status, 404);
  EXPECT_GE(reads_on(c, "replica"), 3);

  // With replay paused the replica does not have a row the primary just
  // committed, and reads do not see it: they really run on the replica.
  replica_admin("SELECT pg_wal_replay_pause()");
  const auto hidden = c.post_json("/items", {{"name", "not replayed yet"}});
  ASSERT_EQ(hidden.status, 201) << hidden.body;
  const auto hidden_id = hidden.json()["id"].get<std::string>();
  const double primary_before = reads_on(c, "primary");
  EXPECT_EQ(c.get("/items/" + hidden_id).status, 404);
  const auto list = c.get("/items?limit=10");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json().size(), 1u) << list.body;
  EXPECT_EQ(reads_on(c, "primary"), primary_before);

  replica_admin("SELECT pg_wal_replay_resume()");
  EXPECT_TRUE(wait_until([&] { return c.get("/items/" + hidden_id).status == 200; }, 5s));
}

TEST_F(ReadReplicaTest, WritesRunOnThePrimary) {
  auto app = start_app("5");
  const auto& c = app->client();
  // The replica is read-only (a write there fails with SQLSTATE 25006): these
  // succeed only because they run on the primary.
  const auto created = c.post_json("/items", {{"name", "written"}, {"description", "on the primary"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = created.json()["id"].get<std::string>();
  const auto patched = c.request("PATCH", "/items/" + id, R"({"name":"renamed"})", {"Content-Type: application/json"});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["name"], "renamed");
  {
    pqxx::connection conn(primary_dsn_);
    pqxx::nontransaction tx(conn);
    EXPECT_EQ(tx.exec_params1("SELECT name FROM items WHERE id = $1", id)[0].as<std::string>(), "renamed");
  }
  EXPECT_TRUE(wait_until([&] { return c.get("/items/" + id).json().value("name", "") == "renamed"; }, 5s));
  EXPECT_EQ(c.request("DELETE", "/items/" + id).status, 204);
  EXPECT_TRUE(wait_until([&] { return c.get("/items/" + id).status == 404; }, 5s));
}

TEST_F(ReadReplicaTest, ReadsFallBackToThePrimaryWhileTheReplicaIsDown) {
  auto app = start_app("5");
  const auto& c = app->client();
  ASSERT_EQ(c.post_json("/items", {{"name", "survives"}}).status, 201);
  ASSERT_TRUE(wait_until([&] { return c.get("/items").json().size() == 1; }, 5s));
  const double on_replica = reads_on(c, "replica");
  EXPECT_GE(on_replica, 1);

  run_command("CATALOG_TEST_PG_REPLICA_STOP");
  // Every read answers, from the primary, including the first one after the
  // stop (whose pooled replica connection is dead).
  for (int i = 0; i < 5; ++i) {
    const auto started = steady_clock::now();
    const auto r = c.get("/items");
    EXPECT_LT(steady_clock::now() - started, 2s);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().size(), 1u);
    EXPECT_EQ(c.get("/products?limit=1").status, 200);
  }
  EXPECT_EQ(reads_on(c, "replica"), on_replica);
  EXPECT_GE(reads_on(c, "primary"), 10);
  EXPECT_EQ(metric(c, "catalog_db_replica_usable"), 0);
  EXPECT_EQ(c.get("/health").status, 200) << "a replica outage does not take the service out of the load balancer";

  run_command("CATALOG_TEST_PG_REPLICA_START");
  EXPECT_TRUE(wait_until([&] { return metric(c, "catalog_db_replica_usable") == 1; }, 10s));
  expect_reads_on_the_replica_at_once(c);
}

TEST_F(ReadReplicaTest, ReadsGoBackToTheReplicaAtOnceWhenItReturns) {
  auto app = start_app("5");
  const auto& c = app->client();
  ASSERT_EQ(c.post_json("/items", {{"name", "survives"}}).status, 201);
  ASSERT_TRUE(wait_until([&] { return c.get("/items").json().size() == 1; }, 5s));
  // Several pooled replica connections, all idle when the replica stops.
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      HttpClient own(app->port());
      for (int j = 0; j < 5; ++j) EXPECT_EQ(own.get("/items").status, 200);
    });
  }
  for (auto& t : readers) t.join();

  // The outage is found by the replica check alone: no read meets it.
  run_command("CATALOG_TEST_PG_REPLICA_STOP");
  ASSERT_TRUE(wait_until([&] { return metric(c, "catalog_db_replica_usable") == 0; }, 10s));
  run_command("CATALOG_TEST_PG_REPLICA_START");
  ASSERT_TRUE(wait_until([&] { return metric(c, "catalog_db_replica_usable") == 1; }, 10s));
  expect_reads_on_the_replica_at_once(c);
}

TEST_F(ReadReplicaTest, ReadsFallBackToThePrimaryWhileTheReplicaLags) {
  auto app = start_app("1");
  const auto& c = app->client();
  replica_admin("SELECT pg_wal_replay_pause()");
  const auto late = c.post_json("/items", {{"name", "late on the replica"}});
  ASSERT_EQ(late.status, 201) << late.body;
  const auto id = late.json()["id"].get<std::string>();

  // The replica cannot show the row until replay resumes; once its lag passes
  // READ_MAX_LAG (1 s) reads go to the primary, which has it.
  const auto started = steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return c.get("/items/" + id).status == 200; }, 5s));
  EXPECT_LT(steady_clock::now() - started, 3s);
  EXPECT_EQ(metric(c, "catalog_db_replica_usable"), 0);
  EXPECT_TRUE(wait_until([&] { return metric(c, "catalog_db_replica_lag_seconds") > 1; }, 2s))
      << c.get("/metrics").body;
  const double on_primary = reads_on(c, "primary");
  EXPECT_EQ(c.get("/items?limit=10").json().size(), 1u);
  EXPECT_EQ(reads_on(c, "primary"), on_primary + 1);

  replica_admin("SELECT pg_wal_replay_resume()");
  EXPECT_TRUE(wait_until([&] { return metric(c, "catalog_db_replica_usable") == 1; }, 5s));
  const double on_replica = reads_on(c, "replica");
  EXPECT_EQ(c.get("/items/" + id).status, 200);
  EXPECT_EQ(reads_on(c, "replica"), on_replica + 1);
}

}  // namespace
}  // namespace catalog::testing
