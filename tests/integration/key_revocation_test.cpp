// A revoked key stops working on every task at once, wherever it was revoked
// (DELETE /keys on another task, `catalog-api keys revoke`): revocations
// travel over LISTEN/NOTIFY (migration 13) to each task's key cache. The
// caches here keep look-ups for 300 s (API_KEY_CACHE_TTL), so a key still
// accepted after the short deadlines below would be served from a stale
// cache. While a task's listener is down, the TTL is the bound again.
#include <gtest/gtest.h>

#include <thread>

#include <pqxx/pqxx>

#include "catalog/auth/key_store.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/db/version_cache.hpp"
#include "support/app_fixture.hpp"
#include "support/key_secret.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBootstrap = "bootstrap-token-for-revocation-test";
// Far below the 300 s cache TTL, generous for a notification on a loaded machine.
constexpr auto kAtOnce = 3s;

std::vector<std::string> bearer(const std::string& token) { return {"Authorization: Bearer " + token}; }

class KeyRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("revoke");
    auto env = base_env(dsn_);
    env.erase("AUTH_DISABLED");
    env["API_TOKEN"] = kBootstrap;
    env["API_KEY_CACHE_TTL"] = "300";
    first_ = std::make_unique<RunningApp>(env);
    second_ = std::make_unique<RunningApp>(env);
  }

  /// Both tasks accept `secret` (and so hold it in their caches).
  void expect_accepted_by_both(const std::string& secret) {
    EXPECT_EQ(first_->client().get("/jobs", bearer(secret)).status, 200);
    EXPECT_EQ(second_->client().get("/jobs", bearer(secret)).status, 200);
  }

  static bool refused(const RunningApp& app, const std::string& secret) {
    return app.client().get("/jobs", bearer(secret)).status == 401;
  }

  std::string dsn_;
  std::unique_ptr<RunningApp> first_, second_;
};

TEST_F(KeyRevocationTest, ARevocationOnOneTaskStopsTheKeyOnTheOtherAtOnce) {
  const auto created = first_->client().post_json("/keys", {{"name", "partner"}, {"scopes", {"read"}}},
                                                  bearer(kBootstrap));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto secret = created.json()["secret"].get<std::string>();
  expect_accepted_by_both(secret);

  ASSERT_EQ(first_->client().request("DELETE", "/keys/partner", {}, bearer(kBootstrap)).status, 204);
  EXPECT_TRUE(refused(*first_, secret)) << "the task that revoked it";
  EXPECT_TRUE(wait_until([&] { return refused(*second_, secret); }, kAtOnce)) << "the other task";
}

TEST_F(KeyRevocationTest, ARevocationWithTheCliStopsTheKeyOnEveryTaskAtOnce) {
  const std::map<std::string, std::string> env{{"DATABASE_URL", dsn_}};
  auto [code, out] = run_process({CATALOG_API_BINARY, "keys", "create", "--name", "cli-partner", "--scope", "read"}, env);
  ASSERT_EQ(code, 0) << out;
  const auto secret = find_key_secret(out);
  ASSERT_FALSE(secret.empty()) << out;
  expect_accepted_by_both(secret);

  std::tie(code, out) = run_process({CATALOG_API_BINARY, "keys", "revoke", "cli-partner"}, env);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(wait_until([&] { return refused(*first_, secret) && refused(*second_, secret); }, kAtOnce));
}

// The key cache and the listener alone: while the listener is down the TTL
// bounds a revocation made elsewhere; once it is back, entries read before
// are read again, so a revocation made during the outage takes effect.
TEST(KeyRevocationListenerTest, WhileTheListenerIsDownTheTtlIsTheBound) {
  const auto dsn = create_test_database("revoke_listener");
  {
    pqxx::connection conn(dsn);
    db::migrate(conn);
  }
  db::Pool pool(db::Pool::Options{Secret(dsn), 2});
  db::KeysRepository keys(pool);
  db::VersionCache listener(db::VersionCache::Options{dsn});
  auth::KeyStore store(keys, auth::KeyStore::Options{300s, 100, [&] { return listener.live_epoch(); }});
  listener.subscribe(db::kApiKeysChannel, [&](const std::string& name) { store.invalidate(name); });
  listener.start();
  ASSERT_TRUE(wait_until([&] { return listener.live_epoch() != 0; }, 10s));

  const auto revoke = [&](const std::string& name) {
    pqxx::connection conn(dsn);
    pqxx::work tx(conn);
    tx.exec_params("UPDATE api_keys SET revoked_at = now() WHERE name = $1", name);
    tx.commit();
  };
  const auto add_key = [&](const std::string& name) {
    const auto secret = auth::generate_secret();
    pqxx::connection conn(dsn);
    pqxx::work tx(conn);
    tx.exec_params("INSERT INTO api_keys (name, secret_sha256, scopes) VALUES ($1, $2, ARRAY['read'])", name,
                   auth::secret_digest_hex(secret));
    tx.commit();
    return secret;
  };

  // Listener live: a revocation elsewhere reaches the cache at once.
  const auto live = add_key("live");
  ASSERT_TRUE(store.authenticate(live));
  revoke("live");
  EXPECT_TRUE(wait_until([&] { return !store.try_cached(live) && !store.authenticate(live); }, kAtOnce));

  // Listener down: the cached look-up stands for its TTL.
  const auto outage = add_key("outage");
  ASSERT_TRUE(store.authenticate(outage));
  listener.stop();
  EXPECT_EQ(listener.live_epoch(), 0u);
  revoke("outage");
  EXPECT_TRUE(store.authenticate(outage)) << "served from the cache within its TTL while nothing announces changes";

  // Listener back: read again, refused.
  listener.start();
  EXPECT_TRUE(wait_until([&] { return !store.authenticate(outage); }, 10s));
}

}  // namespace
}  // namespace catalog::testing
