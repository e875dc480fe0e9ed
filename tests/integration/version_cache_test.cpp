// The in-memory catalog versions (db::VersionCache) and the I/O-thread 304
// they allow, against a real PostgreSQL: a write committed on another
// connection reaches the cache within a bound; a killed or stuck listener
// makes the cache unusable (revalidations read the database again, never a
// stale 304 beyond the documented bound) and it recovers by itself; the fast
// 304 carries the same headers as the pool's, and parameters are validated
// exactly as before.
#include <gtest/gtest.h>

#include <thread>

#include <pqxx/pqxx>

#include "catalog/auth/key_store.hpp"
#include "catalog/db/catalog_versions.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/db/version_cache.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"
#include "support/timing.hpp"

namespace catalog::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Polls `done` every 5 ms for at most `limit`; returns the time it took, or
/// `limit` when it never came true.
template <typename Fn>
milliseconds time_until(Fn&& done, milliseconds limit) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (done()) return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    std::this_thread::sleep_for(milliseconds(5));
  }
  return limit;
}

/// Waits until `n` sessions of this test's database wait for a lock, so a
/// test of what happens to a blocked writer knows the writer is blocked.
bool wait_for_lock_waiters(const std::string& dsn, int n) {
  pqxx::connection conn(dsn);
  return wait_until(
      [&] {
        pqxx::nontransaction tx(conn);
        return tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")[0]
                   .as<int>() >= n;
      },
      std::chrono::seconds(20));
}

/// Bumps a scope the way a write on another connection (another task, a
/// `run-job` process, an operator) does; returns the committed versions.
db::ScopeVersions bump_products(const std::string& dsn, const std::string& source) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  auto versions = db::bump_products_version(tx, source);
  tx.commit();
  return versions;
}

std::int64_t version_of(const db::ScopeVersions& versions, const std::string& scope) {
  for (const auto& v : versions) {
    if (v.scope == scope) return v.version;
  }
  return -1;
}

/// Terminates the listener's backend; returns how many were terminated.
int kill_listener(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  return tx.exec_params1("SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity "
                         "WHERE application_name = $1 AND datname = current_database()",
                         std::string(db::VersionCache::kListenerApplicationName))[0]
      .as<int>();
}

class VersionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("vcache");
  }
  db::VersionCache::Options options() const {
    db::VersionCache::Options o;
    o.dsn = dsn_;
    return o;
  }
  std::string dsn_;
};

TEST_F(VersionCacheTest, WritesOnOtherConnectionsReachTheCacheWithinTheBound) {
  db::VersionCache cache(options());
  EXPECT_FALSE(cache.version("items")) << "not usable before the listener confirmed anything";
  cache.start();
  ASSERT_LT(time_until([&] { return cache.valid(); }, milliseconds(5000)), milliseconds(5000));
  EXPECT_EQ(cache.version("products:acme"), 0) << "a scope never written is version 0, as in SQL";

  for (int i = 0; i < 5; ++i) {
    const auto bumped = bump_products(dsn_, "acme");
    const auto want = version_of(bumped, "products:acme");
    const auto took = time_until([&] { return cache.version("products:acme") == want; }, milliseconds(3000));
    // The notification usually lands within milliseconds; the full re-read
    // every second bounds it even if one were lost.
    EXPECT_LT(took, scaled(milliseconds(2500))) << "write " << i;
    EXPECT_EQ(cache.version("products"), version_of(bumped, "products"));
  }

  // This process's own commit is visible at once (read-your-writes).
  pqxx::connection conn(dsn_);
  pqxx::work tx(conn);
  const auto mine = db::bump_items_version(tx);
  tx.commit();
  cache.observe(mine);
  EXPECT_EQ(cache.version("items"), mine.at(0).version);
  // Versions only grow: an older value heard late changes nothing.
  cache.observe({{"items", 1}});
  EXPECT_EQ(cache.version("items"), mine.at(0).version);
}

TEST_F(VersionCacheTest, ConcurrentWritersOfOneScopeCommitGrowingVersions) {
  // Two transactions bump one scope; the one that commits last must carry
  // the larger version, or a cache that keeps the maximum would miss it.
  pqxx::connection a(dsn_), b(dsn_);
  pqxx::work first(a);
  const auto v_first = db::bump_products_version(first, "acme");
  std::int64_t v_second = 0;
  std::thread second([&] {
    pqxx::work tx(b);
    v_second = version_of(db::bump_products_version(tx, "acme"), "products:acme");  // waits for `first`
    tx.commit();
  });
  EXPECT_TRUE(wait_for_lock_waiters(dsn_, 1)) << "the second writer never waited for the first";
  first.commit();
  second.join();
  EXPECT_GT(v_second, version_of(v_first, "products:acme"));
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(db::read_version(tx, "products:acme"), v_second);
}

TEST_F(VersionCacheTest, AnOldStyleBumpStillCommitsAGrowingVersion) {
  // A writer that draws its version before the row lock (an older binary
  // during a rolling deploy, an operator's SQL with EXCLUDED.version) must
  // not commit a smaller version after a larger one: migration 9's trigger
  // draws it again under the lock.
  pqxx::connection a(dsn_), b(dsn_);
  pqxx::work first(a);
  first.exec("INSERT INTO catalog_versions (scope, version) VALUES ('products:acme', 1) ON CONFLICT DO NOTHING");
  first.commit();
  pqxx::work holder(a);
  holder.exec("SELECT version FROM catalog_versions WHERE scope = 'products:acme' FOR UPDATE");
  std::thread old_style([&] {
    pqxx::work tx(b);
    tx.exec("INSERT INTO catalog_versions (scope, version) VALUES ('products:acme', nextval('catalog_version_seq')) "
            "ON CONFLICT (scope) DO UPDATE SET version = EXCLUDED.version");  // drawn before it waits for `holder`
    tx.commit();
  });
  EXPECT_TRUE(wait_for_lock_waiters(dsn_, 1)) << "the old-style writer never waited for the row lock";
  // Drawn after the old-style writer's value, committed before it.
  const auto v_first = version_of(db::bump_products_version(holder, "acme"), "products:acme");
  holder.commit();
  old_style.join();
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  EXPECT_GT(db::read_version(tx, "products:acme"), v_first);
}

TEST_F(VersionCacheTest, KilledListenerInvalidatesAtOnceAndRecovers) {
  auto o = options();
  o.retry_every = milliseconds(300);
  // A window far longer than any scheduling delay: noticing the closed socket
  // "at once" and waiting out the window are then seconds apart, not 500 ms.
  o.valid_for = milliseconds(60000);
  o.poll_every = milliseconds(30000);
  db::VersionCache cache(o);
  cache.start();
  ASSERT_LT(time_until([&] { return cache.valid(); }, milliseconds(5000)), milliseconds(5000));

  ASSERT_EQ(kill_listener(dsn_), 1);
  // The terminated backend closes the socket; the listener sees it at once,
  // not at the end of the validity window.
  const auto lost = time_until([&] { return !cache.version("products:acme").has_value(); }, scaled(milliseconds(20000)));
  EXPECT_LT(lost, scaled(milliseconds(5000))) << "noticed at once, not after the 60 s window";

  // Written while the listener is away: no notification reaches anyone...
  const auto bumped = bump_products(dsn_, "acme");
  // ...yet once it is back, the cache has it (LISTEN, then a full read).
  const auto back = time_until([&] { return cache.version("products:acme").has_value(); }, milliseconds(5000));
  EXPECT_LT(back, milliseconds(5000)) << "recovers by itself";
  EXPECT_EQ(cache.version("products:acme"), version_of(bumped, "products:acme"));
}

TEST_F(VersionCacheTest, AListenerThatCannotConfirmIsNotTrustedPastTheWindow) {
  auto o = options();
  o.poll_every = milliseconds(200);
  o.valid_for = milliseconds(1000);
  o.statement_timeout = milliseconds(10000);
  db::VersionCache cache(o);
  cache.start();
  ASSERT_LT(time_until([&] { return cache.valid(); }, milliseconds(5000)), milliseconds(5000));
  // The connection stays up but its re-read hangs (as on a stalled network):
  // the lock blocks the listener's SELECT.
  pqxx::connection conn(dsn_);
  pqxx::work locker(conn);
  locker.exec("LOCK TABLE catalog_versions IN ACCESS EXCLUSIVE MODE");
  const auto locked_at = Clock::now();
  const auto invalid = time_until([&] { return !cache.valid(); }, scaled(milliseconds(10000)));
  // valid_for after the last confirmation (which came before the lock), plus
  // this thread's own polling and scheduling delay on a loaded machine.
  EXPECT_LE(invalid, o.valid_for + scaled(milliseconds(500))) << "at most valid_for after the last confirmation";
  EXPECT_FALSE(cache.version("items").has_value());
  locker.abort();
  EXPECT_LT(time_until([&] { return cache.valid(); }, milliseconds(3000)), milliseconds(3000));
  (void)locked_at;
}

// Through the running service: the fast 304, its fallback, and that nothing
// about validation or auth changed.
class FastRevalidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_test_database("fast304");
    env_ = base_env(dsn_);
    env_["CACHE_CONTROL"] = "max-age=5, must-revalidate";
    env_["JOB_WORKERS"] = "0";
  }
  void start() { app_ = std::make_unique<RunningApp>(env_); }
  const HttpClient& c() { return app_->client(); }

  /// Rows for source `source` written straight into products (what a run
  /// does, without S3), with the version bump in the same transaction.
  void write_products(const std::string& source, int n) {
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    tx.exec_params("SELECT products_ensure_partition($1)", source);
    for (int i = 0; i < n; ++i) {
      tx.exec_params("INSERT INTO products (source, sku, name, content_hash) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (source, sku) DO UPDATE SET name = EXCLUDED.name || '!'",
                     source, "SKU-" + std::to_string(i), "Product " + std::to_string(i), i);
    }
    db::bump_products_version(tx, source);
    tx.commit();
  }

  std::uint64_t metric(const std::string& series) {
    // /metrics needs a key when API_TOKEN is set.
    const auto token = env_.find("API_TOKEN");
    const auto text = token == env_.end() ? c().get("/metrics").body
                                          : c().get("/metrics", {"Authorization: Bearer " + token->second}).body;
    const std::string name = series + " ";
    const auto at = text.find("\n" + name);
    if (at == std::string::npos) return 0;
    return std::stoull(text.substr(at + 1 + name.size()));
  }
  std::uint64_t fast_responses() { return metric("catalog_http_fast_responses_total"); }
  std::uint64_t cache_hits() { return metric("catalog_response_cache_hits_total"); }

  /// Waits until the service's cache answers (a revalidation of `target`
  /// with its ETag is answered on the I/O thread); returns the ETag.
  std::string wait_fast(const std::string& target) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      const auto page = c().get(target);
      const auto before = fast_responses();
      const auto again = c().get(target, {"If-None-Match: " + page.header("etag")});
      if (again.status == 304 && fast_responses() == before + 1) return page.header("etag");
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << target << " never answered from memory";
    return {};
  }

  std::string dsn_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<RunningApp> app_;
};

TEST_F(FastRevalidationTest, MatchingETagIs304FromMemoryWithTheSameHeaders) {
  start();
  write_products("acme", 3);
  const std::string page = "/products?source=acme&limit=2";
  const auto tag = wait_fast(page);
  const auto before = fast_responses();
  const auto r = c().get(page, {"If-None-Match: " + tag, "X-Request-Id: fast-1"});
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("etag"), tag);
  EXPECT_EQ(r.header("cache-control"), "max-age=5, must-revalidate");
  EXPECT_EQ(r.header("x-request-id"), "fast-1");
  EXPECT_EQ(c().request("HEAD", page, "", {"If-None-Match: W/" + tag}).status, 304) << "HEAD, weak form";
  EXPECT_EQ(fast_responses(), before + 2);

  // The same ETag the pool computes: equal query, equal tag, either way.
  const auto one = c().get("/products/acme/SKU-1");
  ASSERT_EQ(one.status, 200);
  const auto one_fast = c().get("/products/acme/SKU-1", {"If-None-Match: " + one.header("etag")});
  EXPECT_EQ(one_fast.status, 304);
  EXPECT_EQ(one_fast.header("etag"), one.header("etag"));
  const auto created = c().post_json("/items", {{"name", "lamp"}});
  ASSERT_EQ(created.status, 201);
  const auto items = c().get("/items");
  EXPECT_EQ(c().get("/items", {"If-None-Match: " + items.header("etag")}).status, 304);
  const auto item = "/items/" + created.json()["id"].get<std::string>();
  EXPECT_EQ(c().get(item, {"If-None-Match: " + c().get(item).header("etag")}).status, 304);
  EXPECT_EQ(fast_responses(), before + 5);

  // `*` goes to the pool, which answers as before; a mismatch gets the page,
  // which the response cache holds since wait_fast() read it.
  EXPECT_EQ(c().get(page, {"If-None-Match: *"}).status, 304);
  EXPECT_EQ(c().get("/products/acme/NOPE", {"If-None-Match: *"}).status, 404);
  EXPECT_EQ(fast_responses(), before + 5);
  const auto mismatch = c().get(page, {"If-None-Match: \"p1-0000000000000000\""});
  EXPECT_EQ(mismatch.status, 200);
  EXPECT_EQ(mismatch.header("etag"), tag);
  EXPECT_EQ(mismatch.json()["items"].size(), 2u);
  EXPECT_EQ(fast_responses(), before + 6);
}

TEST_F(FastRevalidationTest, RepeatedPagesComeFromMemoryAndNeverOutliveTheirRows) {
  start();
  write_products("acme", 3);
  const std::string page = "/products?source=acme&limit=2&with_count=true";
  const auto tag = wait_fast(page);
  const auto first = c().get(page);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.json()["count"], 3);

  // The same page again: from memory, byte for byte, with its own request id.
  const auto hits = cache_hits();
  const auto fast = fast_responses();
  const auto again = c().get(page, {"X-Request-Id: cached-1"});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("etag"), tag);
  EXPECT_EQ(again.header("cache-control"), "max-age=5, must-revalidate");
  EXPECT_EQ(again.header("content-type"), first.header("content-type"));
  EXPECT_EQ(again.header("x-request-id"), "cached-1");
  const auto head = c().request("HEAD", page);
  EXPECT_EQ(head.body, "") << "HEAD from memory: headers only";
  EXPECT_EQ(head.header("content-length"), std::to_string(first.body.size())) << "the GET's length, not zero";
  EXPECT_EQ(cache_hits(), hits + 2);
  // The cached bytes are written as they are kept (no copy): many hits, each whole.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c().get(page).body, first.body) << "hit " << i;
  EXPECT_EQ(fast_responses(), fast + 22);
  // The next page is another page: its own entry, its own cursor.
  const auto next = c().get("/products?source=acme&limit=2&with_count=true&cursor=" +
                            first.json()["next_cursor"].get<std::string>());
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(next.json()["items"].size(), 1u);
  EXPECT_NE(next.body, first.body);

  // Rows written by another process: the cached page (count 3) is not
  // served once the version moves, within the bound of the 304 path.
  write_products("acme", 5);
  const auto took = time_until([&] { return c().get(page).json()["count"] == 5; }, scaled(milliseconds(10000)));
  EXPECT_LT(took, scaled(milliseconds(2500))) << "a stale page for at most the notification delay";
  EXPECT_NE(c().get(page).header("etag"), tag);

  // Errors are never kept: the same bad request is answered by the pool each time.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c().get("/products?source=acme&limit=0").status, 400);
}

TEST_F(FastRevalidationTest, OwnWritesAreInTheNextPageAtOnce) {
  start();
  ASSERT_EQ(c().post_json("/items", {{"name", "lamp"}}).status, 201);
  wait_fast("/items");
  const auto hits = cache_hits();
  for (int i = 0; i < 20; ++i) {
    const auto page = c().get("/items");
    ASSERT_EQ(page.status, 200);
    ASSERT_EQ(page.json().size(), static_cast<std::size_t>(i + 1)) << "write " << i;
    EXPECT_EQ(c().get("/items").body, page.body) << "unchanged: the same page, from memory";
    ASSERT_EQ(c().post_json("/items", {{"name", "chair " + std::to_string(i)}}).status, 201);
  }
  EXPECT_GE(cache_hits(), hits + 20);
}

TEST_F(FastRevalidationTest, ResponseCacheOffServesEveryPageFromTheDatabase) {
  env_["RESPONSE_CACHE_BYTES"] = "0";
  start();
  write_products("acme", 3);
  const std::string page = "/products?source=acme";
  wait_fast(page);  // the 304 path works without the cache
  const auto fast = fast_responses();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c().get(page).status, 200);
  EXPECT_EQ(fast_responses(), fast);
  EXPECT_EQ(cache_hits(), 0u);
  EXPECT_EQ(metric("catalog_response_cache_capacity_bytes"), 0u);
}

TEST_F(FastRevalidationTest, BadParametersAre400EvenWithAMatchingETag) {
  start();
  write_products("acme", 2);
  const auto tag = wait_fast("/products?source=acme");
  const auto items_tag = wait_fast("/items");
  const std::pair<std::string, std::string> bad[] = {
      {"/products?source=acme&limit=0", tag},
      {"/products?source=acme&sort_by=colour", tag},
      {"/products?source=acme&typo=1", tag},
      {"/products?source=acme&source=beta", tag},
      {"/products?source=acme&cursor=garbage", tag},
      {"/products?source=acme&updated_since=yesterday", tag},
      {"/products?source=%ZZ", tag},
      {"/items?limit=100000", items_tag},
      {"/items?cursor=x", items_tag},
  };
  for (const auto& [target, etag] : bad) {
    const auto r = c().get(target, {"If-None-Match: " + etag});
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "bad_request") << target;
  }
  EXPECT_EQ(c().get("/items/not-a-uuid", {"If-None-Match: " + items_tag}).status, 400);
}

TEST_F(FastRevalidationTest, AWriteElsewhereEndsThe304WithinTheBound) {
  start();
  write_products("acme", 3);
  const std::string page = "/products?source=acme";
  const auto tag = wait_fast(page);
  // Another process (a `run-job` task, another API task) commits a change.
  write_products("acme", 4);
  const auto took = time_until([&] { return c().get(page, {"If-None-Match: " + tag}).status == 200; },
                               scaled(milliseconds(10000)));
  // The notification or, failing it, the once-a-second re-read.
  EXPECT_LT(took, scaled(milliseconds(2500))) << "a stale 304 for at most the notification delay";
  const auto fresh = c().get(page, {"If-None-Match: " + tag});
  EXPECT_EQ(fresh.json()["items"].size(), 4u);
  // Unrelated scopes keep theirs.
  EXPECT_EQ(c().get(page, {"If-None-Match: " + fresh.header("etag")}).status, 304);
}

TEST_F(FastRevalidationTest, OwnWritesAreSeenByTheNextRevalidationAtOnce) {
  start();
  const auto created = c().post_json("/items", {{"name", "lamp"}});
  ASSERT_EQ(created.status, 201);
  const auto tag = wait_fast("/items");
  // No waiting for the notification: the process that commits updates its
  // cache before it answers the write.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(c().post_json("/items", {{"name", "chair " + std::to_string(i)}}).status, 201);
    const auto r = c().get("/items", {"If-None-Match: " + tag});
    ASSERT_EQ(r.status, 200) << "write " << i;
    EXPECT_EQ(r.json().size(), static_cast<std::size_t>(i + 2));
  }
}

TEST_F(FastRevalidationTest, KilledListenerFallsBackToTheDatabaseAndRecovers) {
  start();
  write_products("acme", 3);
  const std::string page = "/products?source=acme";
  const auto tag = wait_fast(page);
  ASSERT_EQ(kill_listener(dsn_), 1);
  // The listener notices the closed socket: a revalidation is no longer
  // answered from memory (polled, not a fixed sleep).
  ASSERT_TRUE(wait_until(
      [&] {
        const auto before = fast_responses();
        return c().get(page, {"If-None-Match: " + tag}).status == 304 && fast_responses() == before;
      },
      milliseconds(10000)))
      << "the fast path kept answering after its listener was killed";
  // Written while nobody listens: only the database knows.
  write_products("acme", 4);
  const auto r = c().get(page, {"If-None-Match: " + tag});
  EXPECT_EQ(r.status, 200) << "never a stale 304: the revalidation read the version from the database";
  const auto new_tag = r.header("etag");
  // From SQL, or from memory if the listener is already back (it retries
  // after 500 ms, which a loaded machine can take between two requests).
  EXPECT_EQ(c().get(page, {"If-None-Match: " + new_tag}).status, 304);
  // The listener reconnects by itself and the fast path comes back, current.
  EXPECT_EQ(wait_fast(page), new_tag);
}

TEST_F(FastRevalidationTest, AuthIsUnchangedOnPublicReads) {
  // GET /products* and /items* are public (DESIGN.md "Auth"): a key, even a
  // revoked or unknown one, changes nothing, on either path.
  env_ = with_token(env_, "bootstrap-token-fast304");
  start();
  write_products("acme", 2);
  const auto tag = wait_fast("/products?source=acme");
  for (const std::string key : {"", "X-API-Key: cat_unknown", "Authorization: Bearer nope"}) {
    std::vector<std::string> headers = {"If-None-Match: " + tag};
    if (!key.empty()) headers.push_back(key);
    EXPECT_EQ(c().get("/products?source=acme", headers).status, 304) << key;
  }
  // Routes that need a key stay closed, If-None-Match or not.
  EXPECT_EQ(c().get("/jobs", {"If-None-Match: " + tag}).status, 401);
}

TEST_F(VersionCacheTest, KeyStoreTryCachedNeverLooksUpAndRememberedOutlivesFreshness) {
  db::Pool pool(db::Pool::Options{Secret(dsn_), 2});
  db::KeysRepository keys(pool);
  auth::KeyStore store(keys, auth::KeyStore::Options{milliseconds(500), 100, {}});
  const auto secret = auth::generate_secret();
  {
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    tx.exec_params("INSERT INTO api_keys (name, secret_sha256, scopes) VALUES ('p', $1, ARRAY['read'])",
                   auth::secret_digest_hex(secret));
    tx.commit();
  }
  EXPECT_FALSE(store.try_cached(secret)) << "not looked up yet: the caller must go off the I/O thread";
  ASSERT_TRUE(store.authenticate(secret));
  const auto cached = store.try_cached(secret);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->name, "p");
  EXPECT_TRUE(cached->read);
  EXPECT_FALSE(store.try_cached("cat_" + std::string(43, 'A'))) << "unknown";
  // Revoked elsewhere: the cached entry ages out after the TTL and
  // try_cached stops answering; the next look-up sees the revocation.
  {
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    tx.exec("UPDATE api_keys SET revoked_at = now() WHERE name = 'p'");
    tx.commit();
  }
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_FALSE(store.try_cached(secret)) << "stale entries are not used";
  // Its identity for the admission shares does not flicker with freshness.
  const auto remembered = store.remembered(secret);
  ASSERT_TRUE(remembered) << "a stale entry still names its key";
  EXPECT_EQ(remembered->name, "p");
  EXPECT_FALSE(store.remembered("cat_" + std::string(43, 'A'))) << "a made-up token names nobody";
  EXPECT_FALSE(store.authenticate(secret));
  EXPECT_FALSE(store.try_cached(secret)) << "revoked";
  EXPECT_FALSE(store.remembered(secret)) << "a revoked key names nobody";
}

}  // namespace
}  // namespace catalog::testing
