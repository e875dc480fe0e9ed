// The ETL engine against a real PostgreSQL: counts, change detection (xmin),
// soft delete, malformed rows, encodings, all-or-nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <pqxx/pqxx>
#include <zlib.h>

#include "catalog/db/migrations.hpp"
#include "catalog/etl/engine.hpp"
#include "support/engine_runs.hpp"
#include "support/scratch.hpp"
#include "support/test_env.hpp"

using namespace catalog::etl;
using namespace catalog::testing;  // create_migrated_database, make_temp_dir, kPartnerHeader, kRun1, ...

namespace {


std::string read_file(const std::string& name) {
  std::ifstream in(std::string(CATALOG_TEST_DATA_DIR) + "/feeds/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gzip(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// n generated rows; `variant` changes the price of the rows whose index is in `changed`.
std::string generated_feed(int n, const std::vector<int>& changed = {}, int skip_from = -1) {
  std::string s = kPartnerHeader;
  for (int i = 0; i < n; ++i) {
    if (skip_from >= 0 && i >= skip_from) break;
    bool is_changed = false;
    for (int c : changed) is_changed = is_changed || c == i;
    s += "SKU-" + std::to_string(i) + ",Product " + std::to_string(i) + ",Description " + std::to_string(i) +
         ",Brand " + std::to_string(i % 7) + ",Cat " + std::to_string(i % 5) + "," +
         (is_changed ? "99.99" : std::to_string(i) + ".50") + ",USD,In Stock\n";
  }
  return s;
}

class EtlEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("etl");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
  }

  RunResult run(const std::string& csv, const std::string& options_json = "{}", const std::string& run_id = kRun1,
                const std::string& source = "acme", std::size_t chunk = 64 * 1024) {
    RunRequest req;
    req.source = string_source(csv, chunk);
    req.object_name = "feed.csv";
    req.source_name = source;
    req.options = JobOptions::from_json(nlohmann::json::parse(options_json));
    req.run_id = run_id;
    return run_feed(*conn_, req);
  }

  // Every product's row version and content, to prove "untouched".
  std::vector<std::string> snapshot() {
    pqxx::work tx(*conn_);
    std::vector<std::string> rows;
    for (const auto& r : tx.exec("SELECT concat_ws('|', source, sku, xmin::text, name, description, brand, category, "
                                 "price, currency, availability, attributes::text, content_hash, created_at, "
                                 "updated_at, deleted_at, last_run_id) FROM products ORDER BY source, sku")) {
      rows.push_back(r[0].as<std::string>());
    }
    return rows;
  }

  std::map<std::string, std::string> column(const std::string& expr, const std::string& source = "acme") {
    pqxx::work tx(*conn_);
    std::map<std::string, std::string> out;
    for (const auto& r : tx.exec_params("SELECT sku, (" + expr + ")::text FROM products WHERE source = $1", source)) {
      out[r[0].as<std::string>()] = r[1].is_null() ? "NULL" : r[1].as<std::string>();
    }
    return out;
  }

  std::string scalar(const std::string& sql) {
    pqxx::work tx(*conn_);
    const auto r = tx.exec1(sql);
    return r[0].is_null() ? "NULL" : r[0].as<std::string>();
  }

  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

void expect_counts(const RunResult& r, std::uint64_t read, std::uint64_t inserted, std::uint64_t updated,
                   std::uint64_t unchanged, std::uint64_t rejected, std::uint64_t deleted) {
  EXPECT_EQ(r.read, read);
  EXPECT_EQ(r.inserted, inserted);
  EXPECT_EQ(r.updated, updated);
  EXPECT_EQ(r.unchanged, unchanged);
  EXPECT_EQ(r.rejected, rejected);
  EXPECT_EQ(r.deleted, deleted);
}

/// Sets TMPDIR for the test's lifetime (each test runs in its own process, and
/// no other thread reads the environment meanwhile).
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const std::string& dir) {
    const char* old = std::getenv("TMPDIR");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (had_) {
      ::setenv("TMPDIR", old_.c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }
  ScopedTmpdir(const ScopedTmpdir&) = delete;
  ScopedTmpdir& operator=(const ScopedTmpdir&) = delete;

 private:
  bool had_ = false;
  std::string old_;
};

}  // namespace

TEST_F(EtlEngine, FirstLoadInsertsNormalisedRows) {
  const auto r = run(read_file("partner_basic.csv"));
  expect_counts(r, 5, 5, 0, 0, 0, 0);
  EXPECT_EQ(r.bytes, read_file("partner_basic.csv").size());
  const auto price = column("price");
  EXPECT_EQ(price.at("A-1"), "1299.99");
  EXPECT_EQ(price.at("A-2"), "19.50");
  EXPECT_EQ(price.at("B-2"), "NULL");
  EXPECT_EQ(price.at("C-1"), "2500.00");
  EXPECT_EQ(column("currency").at("B-1"), "EUR");
  EXPECT_EQ(column("availability").at("A-2"), "out_of_stock");
  EXPECT_EQ(column("availability").at("B-1"), "pre_order");
  EXPECT_EQ(column("description").at("B-1"), "Desk lamp, 12\" shade");
  EXPECT_EQ(column("description").at("A-2"), "NULL");
  EXPECT_EQ(column("attributes").at("A-1"), "{}");
  EXPECT_EQ(column("last_run_id").at("A-1"), kRun1);
  EXPECT_EQ(column("deleted_at").at("A-1"), "NULL");
}

TEST_F(EtlEngine, FirstLoadOfEachSourceBuildsItsOwnIndexedPartition) {
  const std::string partitions =
      "SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '') FROM pg_inherits i "
      "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'products'::regclass";
  EXPECT_EQ(scalar(partitions), "");
  const auto r = run(generated_feed(200));
  expect_counts(r, 200, 200, 0, 0, 0, 0);
  EXPECT_GT(r.timings.visible, 0.0);
  EXPECT_GT(r.timings.build_indexes, 0.0);
  EXPECT_EQ(scalar(partitions), "products_acme_53bce4f1");
  // The attached table carries products' primary key and its own eight
  // secondary indexes (products has only the key since migration 12).
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'products'::regclass"), "1");
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'products_acme_53bce4f1'::regclass"), "9");
  EXPECT_EQ(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "0");
  EXPECT_EQ(scalar("SELECT string_agg(conname || ':' || contype::text, ' ' ORDER BY conname) FROM pg_constraint "
                   "WHERE conrelid = 'products_acme_53bce4f1'::regclass"),
            "products_acme_53bce4f1_pkey:p");
  EXPECT_EQ(scalar("SELECT products_partition_state('acme')"), "attached");
  // The pre-built indexes serve products: duplicates are refused, names are searched by trigram.
  {
    pqxx::work tx(*conn_);
    EXPECT_THROW(tx.exec("INSERT INTO products (source, sku, name, content_hash) VALUES ('acme', 'SKU-1', 'x', 0)"),
                 pqxx::unique_violation);
  }
  {
    pqxx::work tx(*conn_);
    for (const char* scan : {"seqscan", "indexscan", "indexonlyscan"}) {
      tx.exec(std::string("SET LOCAL enable_") + scan + " = off");  // leaves the GIN bitmap scan
    }
    const auto plan =
        tx.exec1("EXPLAIN (FORMAT JSON) SELECT 1 FROM products WHERE name ILIKE '%duct 19%'")[0].as<std::string>();
    EXPECT_NE(plan.find("products_acme_53bce4f1_name_idx"), std::string::npos) << plan;
  }
  const auto acme = snapshot();
  // Another source's first load leaves acme's rows alone; its re-run takes
  // the regular path and finds every row unchanged.
  expect_counts(run(generated_feed(20), "{}", kRun1, "Other Partner"), 20, 20, 0, 0, 0, 0);
  EXPECT_EQ(scalar(partitions), "products_acme_53bce4f1 products_other_partner_6e164d52");
  const auto second = run(generated_feed(20), "{}", kRun2, "Other Partner");
  expect_counts(second, 20, 0, 0, 20, 0, 0);
  EXPECT_LT(second.timings.build_indexes, 0.5);  // one catalog query: nothing is missing
  std::vector<std::string> acme_now;
  for (const auto& row : snapshot()) {
    if (row.rfind("acme|", 0) == 0) acme_now.push_back(row);
  }
  EXPECT_TRUE(acme_now == acme);
}

TEST_F(EtlEngine, AnySourceNameGetsAValidPartition) {
  // Quotes, non-ASCII and the longest name a job accepts (255 bytes) all map
  // to a partition name within PostgreSQL's 63-byte limit.
  const std::vector<std::string> sources = {"O'Reilly \"Books\" / Ünï", std::string(255, 'x'), "!!!"};
  for (const auto& source : sources) {
    expect_counts(run(generated_feed(10), "{}", kRun1, source), 10, 10, 0, 0, 0, 0);
    expect_counts(run(generated_feed(10), "{}", kRun2, source), 10, 0, 0, 10, 0, 0);
    pqxx::work tx(*conn_);
    const auto part = tx.exec_params1("SELECT products_partition_name($1)", source)[0].as<std::string>();
    EXPECT_LE(part.size(), 63u) << part;
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM products WHERE source = $1", source)[0].as<int>(), 10);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'products'::regclass"), "3");
}

TEST_F(EtlEngine, FailedFirstLoadLeavesNoPartitionBehind) {
  std::string feed = generated_feed(50);
  feed += "BAD,Row,,,,$x,USD,\n";
  EXPECT_THROW(run(feed, R"({"max_rejects": 0})"), TooManyRejects);
  EXPECT_EQ(scalar("SELECT to_regclass('products_acme_53bce4f1') IS NULL"), "t");
  // A header-only feed still creates the (empty) partition; later runs insert into it.
  expect_counts(run(kPartnerHeader), 0, 0, 0, 0, 0, 0);
  EXPECT_EQ(scalar("SELECT to_regclass('products_acme_53bce4f1') IS NULL"), "f");
  expect_counts(run(generated_feed(50)), 50, 50, 0, 0, 0, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE source = 'acme'"), "50");
}

TEST_F(EtlEngine, FirstLoadFailingToBuildAnIndexLeavesNothing) {
  // An index products itself has (an operator's unique one) is built by the
  // attach, in the load's transaction: the feed violating it leaves nothing.
  {
    pqxx::work tx(*conn_);
    tx.exec("CREATE UNIQUE INDEX products_one_name ON products (source, name)");
    tx.commit();
  }
  const std::string feed = std::string(kPartnerHeader) + "A-1,Same name,,,,1.00,USD,\nA-2,Same name,,,,2.00,USD,\n";
  EXPECT_THROW(run(feed), pqxx::unique_violation);
  EXPECT_EQ(scalar("SELECT to_regclass('products_acme_53bce4f1') IS NULL"), "t");
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "0");
  // Distinct names load; of the two unique indexes, the one defined like
  // products' primary key becomes the partition's.
  expect_counts(run(generated_feed(20)), 20, 20, 0, 0, 0, 0);
  EXPECT_EQ(scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = 'products_acme_53bce4f1'::regclass AND contype = 'p'"),
            "PRIMARY KEY (source, sku)");
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_inherits WHERE inhrelid IN "
                   "(SELECT indexrelid FROM pg_index WHERE indrelid = 'products_acme_53bce4f1'::regclass)"),
            "2");
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'products_acme_53bce4f1'::regclass"), "10");
}

TEST_F(EtlEngine, FirstLoadWithoutASecondConnectionBuildsItsIndexesAlone) {
  // A role allowed one connection: the index builder's cannot open, and the
  // run's own connection builds every index.
  const std::string db = catalog::testing::create_test_database("etl_one_conn");
  const std::string name = db.substr(db.find("dbname=") + 7);
  const std::string role = "r_" + name;
  {
    pqxx::connection admin(db);
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE ROLE " + tx.quote_name(role) + " LOGIN CONNECTION LIMIT 1");
    tx.exec("ALTER DATABASE " + tx.quote_name(name) + " OWNER TO " + tx.quote_name(role));
  }
  std::string role_dsn = db;
  role_dsn.replace(role_dsn.find("user=postgres"), 13, "user=" + role);
  {
    pqxx::connection conn(role_dsn);
    catalog::db::migrate(conn);
    RunRequest req;
    req.source = string_source(generated_feed(300));
    req.source_name = "acme";
    expect_counts(run_feed(conn, req), 300, 300, 0, 0, 0, 0);
    pqxx::nontransaction tx(conn);
    EXPECT_EQ(tx.exec1("SELECT products_partition_state('acme')")[0].as<std::string>(), "attached");
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_index WHERE indrelid = 'products_acme_53bce4f1'::regclass")[0].as<int>(),
              9);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM products_missing_indexes('acme')")[0].as<int>(), 0);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM products")[0].as<int>(), 300);
  }
  pqxx::nontransaction tx(*conn_);
  tx.exec("DROP DATABASE " + tx.quote_name(name) + " WITH (FORCE)");
  tx.exec("DROP ROLE " + tx.quote_name(role));
}

TEST_F(EtlEngine, RowsAreVisibleBeforeTheSecondaryIndexesAreBuilt) {
  // When the load commits, another connection sees every row through
  // products while the partition has its key only; the run then builds the rest.
  pqxx::connection watcher(dsn_);
  RunRequest req;
  req.source = string_source(generated_feed(500));
  req.source_name = "acme";
  std::string seen;
  req.on_visible = [&](const RunResult& r) {
    pqxx::nontransaction tx(watcher);
    seen = tx.exec1("SELECT count(*) FROM products WHERE source = 'acme'")[0].as<std::string>() + " rows, " +
           tx.exec1("SELECT count(*) FROM products_missing_indexes('acme')")[0].as<std::string>() + " missing, " +
           tx.exec1("SELECT products_partition_state('acme')")[0].as<std::string>() + ", inserted " +
           std::to_string(r.inserted);
  };
  const auto r = run_feed(*conn_, req);
  EXPECT_EQ(seen, "500 rows, 8 missing, attached, inserted 500");
  EXPECT_GT(r.timings.visible, 0.0);
  EXPECT_GT(r.timings.build_indexes, 0.0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "0");
}

TEST_F(EtlEngine, CancelWhileIndexesBuildKeepsTheRowsAndTheNextRunBuildsThem) {
  // Cancel exactly when the rows have been committed, that is once another
  // connection sees the partition attached.
  pqxx::connection watcher(dsn_);
  std::mutex watcher_mutex;  // polled from both index-building threads
  RunRequest req;
  req.source = string_source(generated_feed(2000));
  req.source_name = "acme";
  bool seen = false;
  req.is_cancelled = [&] {
    std::lock_guard lock(watcher_mutex);
    if (!seen) {
      pqxx::nontransaction tx(watcher);
      seen = tx.exec1("SELECT products_partition_state('acme')")[0].as<std::string>() == "attached";
    }
    return seen;
  };
  try {
    run_feed(*conn_, req);
    ADD_FAILURE() << "the run did not stop";
  } catch (const IndexesIncomplete& e) {
    EXPECT_TRUE(e.cancelled());
    EXPECT_EQ(e.result().inserted, 2000u);
    EXPECT_NE(std::string(e.what()).find("next run builds the missing indexes"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "2000");
  EXPECT_NE(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "0");
  // The source's next run finds every row and builds what is missing.
  const auto next = run(generated_feed(2000), "{}", kRun2);
  expect_counts(next, 2000, 0, 0, 2000, 0, 0);
  EXPECT_GT(next.timings.build_indexes, 0.0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "0");
}

TEST_F(EtlEngine, IndexPhaseKilledWithItsConnectionIsRepairedByTheNextRun) {
  // What a worker killed during the index builds leaves in the database: its
  // backend gone (with the source's lock), the rows attached, indexes missing.
  pqxx::connection doomed(dsn_);
  pqxx::connection killer(dsn_);
  RunRequest req;
  req.source = string_source(generated_feed(300));
  req.source_name = "acme";
  req.on_visible = [&](const RunResult&) {
    pqxx::nontransaction tx(killer);
    tx.exec_params("SELECT pg_terminate_backend($1)", doomed.backendpid());
  };
  try {
    run_feed(doomed, req);
    ADD_FAILURE() << "the run survived its backend";
  } catch (const IndexesIncomplete& e) {
    EXPECT_FALSE(e.cancelled());
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE source = 'acme'"), "300");
  EXPECT_EQ(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "8");
  const auto next = run(generated_feed(300), "{}", kRun2);
  expect_counts(next, 300, 0, 0, 300, 0, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products_missing_indexes('acme')"), "0");
}

TEST_F(EtlEngine, EverySortAndQUsesEachPartitionsOwnIndexes) {
  // One first-loaded partition and one created for other writers: the
  // documented query shapes across sources merge each partition's indexes.
  expect_counts(run(generated_feed(300)), 300, 300, 0, 0, 0, 0);
  {
    pqxx::work tx(*conn_);
    tx.exec("SELECT products_ensure_partition('other')");
    tx.exec("INSERT INTO products (source, sku, name, brand, price, content_hash) "
            "SELECT 'other', 'O-' || i, 'Other ' || i, 'b' || (i % 7), i, i FROM generate_series(1, 300) AS i");
    tx.exec("ANALYZE products");
    tx.commit();
  }
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"ORDER BY p.sku, p.source", "sku_source_idx"},
      {"ORDER BY p.name, p.source, p.sku", "name_source_sku_idx"},
      {"ORDER BY p.price DESC, p.source DESC, p.sku DESC", "price_source_sku_idx"},
      {"ORDER BY p.updated_at, p.source, p.sku", "updated_at_source_sku_idx"},
  };
  pqxx::work tx(*conn_);
  tx.exec("SET LOCAL enable_seqscan = off");
  tx.exec("SET LOCAL enable_sort = off");
  for (const auto& [order, index] : shapes) {
    std::string all;
    for (const auto& row : tx.exec("EXPLAIN SELECT * FROM products p WHERE p.deleted_at IS NULL " + order + " LIMIT 100")) {
      all += row[0].as<std::string>() + "\n";
    }
    for (const char* part : {"products_acme_53bce4f1_", "products_other_"}) {
      EXPECT_NE(all.find(part), std::string::npos) << order << "\n" << all;
    }
    EXPECT_NE(all.find("Merge Append"), std::string::npos) << all;
    std::size_t uses = 0;
    for (auto at = all.find(index); at != std::string::npos; at = all.find(index, at + 1)) ++uses;
    EXPECT_EQ(uses, 2u) << order << "\n" << all;
  }
  tx.exec("SET LOCAL enable_indexscan = off");  // leaves the trigram GIN's bitmap scans
  std::string q;
  for (const auto& row : tx.exec("EXPLAIN SELECT * FROM products p WHERE p.deleted_at IS NULL "
                                 "AND p.name ILIKE '%duct 19%'")) {
    q += row[0].as<std::string>() + "\n";
  }
  EXPECT_NE(q.find("products_acme_53bce4f1_name_idx"), std::string::npos) << q;
  EXPECT_NE(q.find("_name_idx", q.find("products_other_")), std::string::npos) << q;
}

TEST_F(EtlEngine, TableLeftByAKilledFirstLoadIsReplaced) {
  // What a first load leaves when its process dies between its two commits.
  {
    pqxx::connection other(dsn_);
    pqxx::work tx(other);
    tx.exec("SELECT products_begin_bulk_load('acme')");
    tx.exec("INSERT INTO products_acme_53bce4f1 (source, sku, name, content_hash) VALUES ('acme', 'GHOST', 'g', 0)");
    tx.commit();
  }
  EXPECT_EQ(scalar("SELECT products_partition_state('acme')"), "interrupted");
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "0");
  expect_counts(run(generated_feed(30)), 30, 30, 0, 0, 0, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE source = 'acme' AND sku <> 'GHOST'"), "30");
  EXPECT_EQ(scalar("SELECT count(*) FROM products_acme_53bce4f1 WHERE sku = 'GHOST'"), "0");
}

TEST_F(EtlEngine, DetachedPartitionIsLeftAloneAndTheErrorSaysHowToFixIt) {
  expect_counts(run(generated_feed(20)), 20, 20, 0, 0, 0, 0);
  {
    pqxx::work tx(*conn_);
    tx.exec("ALTER TABLE products DETACH PARTITION products_acme_53bce4f1");
    tx.commit();
  }
  std::string message;
  try {
    run(generated_feed(20), "{}", kRun2);
  } catch (const catalog::Error& e) {
    message = e.what();
  }
  const std::string fix = R"(ALTER TABLE products ATTACH PARTITION "products_acme_53bce4f1" FOR VALUES IN ('acme'))";
  ASSERT_NE(message.find(fix), std::string::npos) << message;
  EXPECT_EQ(scalar("SELECT count(*) FROM products_acme_53bce4f1"), "20");
  {
    pqxx::work tx(*conn_);
    tx.exec(fix);
    tx.commit();
  }
  expect_counts(run(generated_feed(20), "{}", kRun2), 20, 0, 0, 20, 0, 0);
}

TEST_F(EtlEngine, ConcurrentFirstLoadsOfOneSourceRunOneAfterTheOther) {
  // The second waits for the first's attach, then finds every row there.
  std::vector<RunResult> results(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> runs;
  for (std::size_t i = 0; i < 2; ++i) {
    runs.emplace_back([&, i] {
      try {
        pqxx::connection c(dsn_);
        RunRequest req;
        req.source = string_source(generated_feed(3000), 4096);
        req.source_name = "acme";
        results[i] = run_feed(c, req);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : runs) t.join();
  EXPECT_EQ(errors[0] + errors[1], "");
  EXPECT_EQ(results[0].inserted + results[1].inserted, 3000u);
  EXPECT_EQ(results[0].unchanged + results[1].unchanged, 3000u);
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "3000");
}

TEST_F(EtlEngine, RerunOfSameFeedWritesNothing) {
  const std::string feed = generated_feed(500);
  expect_counts(run(feed), 500, 500, 0, 0, 0, 0);
  const auto before = snapshot();
  const auto r = run(feed, "{}", kRun2);
  expect_counts(r, 500, 0, 0, 500, 0, 0);
  EXPECT_TRUE(snapshot() == before);  // same xmin, updated_at and last_run_id for every row
}

TEST_F(EtlEngine, OnePercentChangedUpdatesExactlyThoseRows) {
  expect_counts(run(generated_feed(1000)), 1000, 1000, 0, 0, 0, 0);
  const auto xmin_before = column("xmin");
  const auto updated_before = column("updated_at");
  const auto created_before = column("created_at");
  std::vector<int> changed;
  for (int i = 0; i < 1000; i += 100) changed.push_back(i);  // 1%
  const auto r = run(generated_feed(1000, changed), "{}", kRun2);
  expect_counts(r, 1000, 0, 10, 990, 0, 0);
  const auto xmin_after = column("xmin");
  const auto updated_after = column("updated_at");
  const auto price = column("price");
  const auto run_id = column("last_run_id");
  int moved = 0;
  for (const auto& [sku, xmin] : xmin_after) {
    const bool is_changed = std::stoi(sku.substr(4)) % 100 == 0;
    EXPECT_EQ(xmin != xmin_before.at(sku), is_changed) << sku;
    EXPECT_EQ(updated_after.at(sku) != updated_before.at(sku), is_changed) << sku;
    EXPECT_EQ(run_id.at(sku), is_changed ? kRun2 : kRun1) << sku;
    if (is_changed) {
      EXPECT_EQ(price.at(sku), "99.99");
    }
    moved += xmin != xmin_before.at(sku);
  }
  EXPECT_EQ(moved, 10);
  EXPECT_EQ(column("created_at"), created_before);
}

TEST_F(EtlEngine, SoftDeleteAndRevival) {
  const std::string soft = R"({"missing_rows":"soft_delete"})";
  expect_counts(run(generated_feed(10), soft), 10, 10, 0, 0, 0, 0);
  // Rows 7..9 are absent: soft-deleted, content and updated_at untouched.
  const auto updated_before = column("updated_at");
  auto r = run(generated_feed(10, {}, 7), soft, kRun2);
  expect_counts(r, 7, 0, 0, 7, 0, 3);
  auto deleted = column("deleted_at IS NOT NULL");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(deleted.at("SKU-" + std::to_string(i)), i >= 7 ? "true" : "false");
  EXPECT_EQ(column("updated_at"), updated_before);
  EXPECT_EQ(column("last_run_id").at("SKU-8"), kRun2);
  // Still absent: nothing more to delete, nothing written.
  const auto snap = snapshot();
  expect_counts(run(generated_feed(10, {}, 7), soft), 7, 0, 0, 7, 0, 0);
  EXPECT_EQ(snapshot(), snap);
  // Back again (SKU-8 with new content): revived rows count as updated.
  r = run(generated_feed(10, {8}), soft);
  expect_counts(r, 10, 0, 3, 7, 0, 0);
  deleted = column("deleted_at IS NOT NULL");
  for (const auto& [sku, d] : deleted) EXPECT_EQ(d, "false") << sku;
  EXPECT_EQ(column("price").at("SKU-8"), "99.99");
  EXPECT_EQ(column("updated_at").at("SKU-7"), updated_before.at("SKU-7"));  // same content: updated_at kept
  EXPECT_NE(column("updated_at").at("SKU-8"), updated_before.at("SKU-8"));
}

TEST_F(EtlEngine, KeepModeNeverDeletesAndSourcesAreIndependent) {
  expect_counts(run(generated_feed(5)), 5, 5, 0, 0, 0, 0);
  expect_counts(run(generated_feed(3), R"({"missing_rows":"soft_delete"})", kRun1, "other"), 3, 3, 0, 0, 0, 0);
  expect_counts(run(generated_feed(5, {}, 2)), 2, 0, 0, 2, 0, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE deleted_at IS NOT NULL"), "0");
  // A soft-delete run of "other" never touches "acme" (2 of 3 is more than
  // the default max_deletes, hence 1.0).
  expect_counts(run(generated_feed(1), R"({"missing_rows":"soft_delete","max_deletes":1.0})", kRun1, "other"), 1, 0, 0,
                1, 0, 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE source = 'acme' AND deleted_at IS NULL"), "5");
}

TEST_F(EtlEngine, MalformedRowsAreRejectedWithLineNumbers) {
  const auto r = run(read_file("malformed.csv"), R"({"max_rejects": 10})");
  expect_counts(r, 8, 2, 0, 0, 6, 0);
  ASSERT_EQ(r.first_rejects.size(), 6u);
  std::map<std::uint64_t, std::string> by_line;
  for (const auto& rej : r.first_rejects) by_line[rej.line] = rej.reason;
  EXPECT_EQ(by_line.at(3), "expected 8 fields, got 4");
  EXPECT_EQ(by_line.at(4), "empty key (column 'sku')");
  EXPECT_NE(by_line.at(5).find("price 'twelve'"), std::string::npos) << by_line.at(5);
  EXPECT_NE(by_line.at(6).find("currency 'US Dollars'"), std::string::npos) << by_line.at(6);
  EXPECT_EQ(by_line.at(8), "duplicate key 'OK-1': first seen on line 2");
  EXPECT_NE(by_line.at(9).find("empty product_name"), std::string::npos) << by_line.at(9);
  EXPECT_EQ(r.first_rejects.front().raw, "BAD-1,Too few fields,,Acme");
  // The first of the duplicates wins.
  EXPECT_EQ(column("price").at("OK-1"), "1.00");
  EXPECT_EQ(column("name").size(), 2u);
}

TEST_F(EtlEngine, InvalidUtf8RowIsRejected) {
  const auto r = run(read_file("invalid_utf8.csv"), R"({"max_rejects": 1})");
  expect_counts(r, 3, 2, 0, 0, 1, 0);
  ASSERT_EQ(r.first_rejects.size(), 1u);
  EXPECT_EQ(r.first_rejects[0].line, 3u);
  EXPECT_NE(r.first_rejects[0].reason.find("UTF-8"), std::string::npos) << r.first_rejects[0].reason;
  EXPECT_NE(r.first_rejects[0].raw.find("\xEF\xBF\xBD"), std::string::npos);  // raw made storable
}

TEST_F(EtlEngine, BomCrlfAndQuotedNewlines) {
  const auto r = run(read_file("bom_crlf_quoted.csv"), R"({"max_rejects": 1})");
  expect_counts(r, 3, 2, 0, 0, 1, 0);
  ASSERT_EQ(r.first_rejects.size(), 1u);
  EXPECT_EQ(r.first_rejects[0].line, 5u);  // the quoted newline counts as a line
  EXPECT_EQ(column("description").at("Q-1"), "first line\r\nsecond line");
  EXPECT_EQ(column("name").at("Q-2"), "Comma, inside");
}

TEST_F(EtlEngine, GzipFeedByNameAndByMagic) {
  const std::string feed = read_file("partner_basic.csv");
  RunRequest req;
  req.source = string_source(gzip(feed), 7);  // tiny chunks: magic split across chunks
  req.object_name = "raw/feed.csv";            // no .gz: detected from the bytes
  req.source_name = "acme";
  expect_counts(run_feed(*conn_, req), 5, 5, 0, 0, 0, 0);
  req.object_name = "raw/feed.csv.gz";
  req.source_name = "acme2";
  expect_counts(run_feed(*conn_, req), 5, 5, 0, 0, 0, 0);
  // Two concatenated gzip members are one feed.
  const std::string body = feed.substr(feed.find('\n') + 1);
  req.source = string_source(gzip(std::string(kPartnerHeader)) + gzip(body));
  req.source_name = "acme3";
  expect_counts(run_feed(*conn_, req), 5, 5, 0, 0, 0, 0);
}

TEST_F(EtlEngine, TruncatedGzipFailsAndWritesNothing) {
  std::string z = gzip(generated_feed(2000));
  z.resize(z.size() / 2);
  RunRequest req;
  req.source = string_source(z);
  req.source_name = "acme";
  try {
    run_feed(*conn_, req);
    FAIL() << "expected FeedError";
  } catch (const FeedError& e) {
    EXPECT_NE(std::string(e.what()).find("gzip"), std::string::npos) << e.what();
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "0");
}

TEST_F(EtlEngine, MaxRejectsExceededLeavesProductsUntouched) {
  expect_counts(run(generated_feed(100)), 100, 100, 0, 0, 0, 0);
  const auto before = snapshot();
  std::string feed = generated_feed(150, {1, 2, 3});  // 50 new rows, 3 changed ...
  feed += "BAD,Row,,,,$x,USD,\n";                     // ... and two bad rows
  feed += "BAD2,Row,,,,1.00,USDX,\n";
  try {
    run(feed, R"({"max_rejects": 1, "missing_rows": "soft_delete"})", kRun2);
    FAIL() << "expected TooManyRejects";
  } catch (const TooManyRejects& e) {
    EXPECT_EQ(e.result().rejected, 2u);
    EXPECT_EQ(e.result().first_rejects.size(), 2u);
    EXPECT_EQ(e.result().first_rejects[1].line, 153u);
    EXPECT_NE(std::string(e.what()).find("max_rejects 1"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(snapshot() == before) << "products changed by a failed run";
  // A ratio is judged on the whole feed: 2 of 152 is under 5%.
  const auto r = run(feed, R"({"max_rejects": 0.05})", kRun2);
  expect_counts(r, 152, 50, 3, 97, 2, 0);
}

TEST_F(EtlEngine, CancelMidRunLeavesProductsUntouched) {
  expect_counts(run(generated_feed(3000)), 3000, 3000, 0, 0, 0, 0);
  const auto before = snapshot();
  // Poll 1 is before the key load, 3 early in the stream, 60 late in it.
  for (int cancel_at : {1, 3, 60}) {
    RunRequest req;
    req.source = string_source(generated_feed(6000, {5, 6, 7}), 4096);
    req.source_name = "acme";
    req.options = JobOptions::from_json(nlohmann::json::parse(R"({"missing_rows":"soft_delete"})"));
    int polls = 0;
    req.is_cancelled = [&] { return ++polls >= cancel_at; };
    EXPECT_THROW(run_feed(*conn_, req), RunCancelled) << cancel_at;
    EXPECT_EQ(polls, cancel_at);
    EXPECT_TRUE(snapshot() == before) << "products changed after a cancel at poll " << cancel_at;
  }
  // The connection is still usable after cancelled runs.
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "3000");
}

TEST_F(EtlEngine, CancelAtLastCheckRollsBackWrites) {
  expect_counts(run(generated_feed(300)), 300, 300, 0, 0, 0, 0);
  const auto before = snapshot();
  // Count the polls of an identical run on a throw-away source, then cancel
  // the real one at its very last poll: every write has been issued by then.
  auto make = [](const std::string& source) {
    RunRequest req;
    req.source = string_source(generated_feed(400, {1, 2}, -1), 1000);
    req.source_name = source;
    req.options = JobOptions::from_json(nlohmann::json::parse(R"({"missing_rows":"soft_delete"})"));
    return req;
  };
  int polls = 0;
  {
    pqxx::connection c(dsn_);
    RunRequest probe = make("acme");
    probe.is_cancelled = [&] { return ++polls < 0; };
    probe.source_name = "probe";  // same rows as acme, so the same steps and polls
    pqxx::work tx(c);
    tx.exec("SELECT products_ensure_partition('probe')");
    tx.exec("INSERT INTO products (source, sku, name, content_hash) "
            "SELECT 'probe', sku, name, content_hash FROM products WHERE source = 'acme'");
    tx.commit();
    run_feed(c, probe);
  }
  RunRequest req = make("acme");
  int n = 0;
  req.is_cancelled = [&] { return ++n >= polls; };
  EXPECT_THROW(run_feed(*conn_, req), RunCancelled);
  // Only the probe source changed meanwhile; acme is exactly as before.
  std::vector<std::string> acme_only;
  for (const auto& row : snapshot()) {
    if (row.rfind("acme|", 0) == 0) acme_only.push_back(row);
  }
  EXPECT_TRUE(acme_only == before) << "acme changed after a cancel at the last poll (" << polls << ")";
}

TEST_F(EtlEngine, HeaderMappingKeyAndExtraColumnsInAttributes) {
  const auto r = run(read_file("mapped_extra.csv"),
                     R"({"header": {"Title": "product_name", "Cost": "price"}, "key": "item id"})");
  expect_counts(r, 2, 2, 0, 0, 0, 0);
  EXPECT_EQ(column("name").at("M-1"), "Sofa");
  EXPECT_EQ(column("price").at("M-1"), "1000.00");
  EXPECT_EQ(column("attributes").at("M-1"), R"({"size": "XL", "colour": "Grey"})");
  EXPECT_EQ(column("attributes->>'material'").at("M-2"), "Wood");
  EXPECT_EQ(column("attributes ? 'size'").at("M-2"), "false");
}

TEST_F(EtlEngine, FeedErrorsFailTheRun) {
  auto message = [&](const std::string& csv, const std::string& opts = "{}") -> std::string {
    try {
      run(csv, opts);
    } catch (const FeedError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(message("sku,product_name,Brand,brand\n1,a,b,c\n"), "duplicated header column 'brand'");
  EXPECT_NE(message("id,product_name\n1,a\n").find("no key column 'sku'"), std::string::npos);
  EXPECT_EQ(message(""), "feed is empty: no header row");
  EXPECT_EQ(scalar("SELECT count(*) FROM products"), "0");
  // Header only: a valid, empty feed.
  expect_counts(run(kPartnerHeader), 0, 0, 0, 0, 0, 0);
}

TEST_F(EtlEngine, SemicolonDelimiterAndSpecialCharacters) {
  const std::string feed =
      "sku;product_name;description;notes\n"
      "T\\1;Tab\there;\"back\\slash; and \"\"quotes\"\"\";caf\xC3\xA9 \xE2\x82\xAC\n";
  expect_counts(run(feed, R"({"delimiter": ";"})"), 1, 1, 0, 0, 0, 0);
  EXPECT_EQ(column("name").at("T\\1"), "Tab\there");
  EXPECT_EQ(column("description").at("T\\1"), "back\\slash; and \"quotes\"");
  EXPECT_EQ(column("attributes->>'notes'").at("T\\1"), "caf\xC3\xA9 \xE2\x82\xAC");
  // Unchanged on re-run even with escapes in the key.
  const auto before = snapshot();
  expect_counts(run(feed, R"({"delimiter": ";"})"), 1, 0, 0, 1, 0, 0);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(EtlEngine, ProgressIsReported) {
  RunRequest req;
  req.source = string_source(generated_feed(2500), 1000);
  req.source_name = "acme";
  req.progress_every_rows = 1000;
  std::vector<Progress> seen;
  req.on_progress = [&](const Progress& p) { seen.push_back(p); };
  const auto r = run_feed(*conn_, req);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].rows, 1000u);
  EXPECT_EQ(seen[1].rows, 2000u);
  EXPECT_EQ(seen.back().rows, 2500u);
  EXPECT_EQ(seen.back().bytes, r.bytes);
  EXPECT_GT(seen[0].bytes, 0u);
}

TEST_F(EtlEngine, ManyChangedRowsSpillToDiskInTmpdirAndAllApply) {
  // ~130k changed rows are well over the default 8 MiB in-memory buffer of
  // changed rows; the temporary file goes to $TMPDIR (std::tmpfile() used to
  // ignore it, and failed where /tmp is not writable, as on Fargate).
  constexpr int kRows = 130000;
  expect_counts(run(generated_feed(kRows)), kRows, kRows, 0, 0, 0, 0);
  std::string feed = kPartnerHeader;
  for (int i = 0; i < kRows; ++i) {
    feed += "SKU-" + std::to_string(i) + ",Renamed product " + std::to_string(i) + ",Description " +
            std::to_string(i) + ",Brand " + std::to_string(i % 7) + ",Cat " + std::to_string(i % 5) + "," +
            std::to_string(i) + ".50,USD,In Stock\n";
  }
  const std::string renamed = "SELECT count(*) FROM products WHERE name LIKE 'Renamed product %'";
  const std::string dir = make_temp_dir("catalog-spill");
  const std::string missing = "/nonexistent-catalog-tmp-" + std::to_string(::getpid());
  {
    ScopedTmpdir bad(missing);
    try {
      run(feed, "{}", kRun2);
      ADD_FAILURE() << "a spill into a missing TMPDIR must fail";
    } catch (const catalog::Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "cannot create a temporary file in TMPDIR=" + missing + ": No such file or directory");
    }
  }
  EXPECT_EQ(scalar(renamed), "0") << "nothing was written";

  ScopedTmpdir good(dir);
  const auto r = run(feed, "{}", kRun2);
  expect_counts(r, kRows, 0, kRows, 0, 0, 0);
  EXPECT_GT(r.spilled_bytes, 0u);
  EXPECT_EQ(scalar(renamed + " AND last_run_id = '" + std::string(kRun2) + "'"), std::to_string(kRows));
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the spill file has no name and is gone after the run";
  std::filesystem::remove_all(dir);
}

TEST_F(EtlEngine, SpillGoesToTheConfiguredDirectoryAndFailsNamingIt) {
  expect_counts(run(generated_feed(300)), 300, 300, 0, 0, 0, 0);
  const auto before = snapshot();
  std::vector<int> all(300);
  for (int i = 0; i < 300; ++i) all[i] = i;
  const std::string changed = generated_feed(300, all);
  auto request = [&](const std::string& dir) {
    RunRequest req;
    req.source = string_source(changed);
    req.object_name = "feed.csv";
    req.source_name = "acme";
    req.run_id = kRun2;
    req.spill_after_bytes = 1024;
    req.temp_dir = dir;
    return req;
  };
  // A file where a directory is expected (root may write anywhere, so
  // permissions cannot make the directory unusable in this test).
  const std::string dir = make_temp_dir("catalog-spill");
  const std::string not_a_dir = dir + "/plain-file";
  std::ofstream(not_a_dir) << "x";
  try {
    run_feed(*conn_, request(not_a_dir));
    FAIL() << "expected a failure";
  } catch (const catalog::Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot create a temporary file in TMPDIR=" + not_a_dir + ": Not a directory");
  }
  EXPECT_EQ(snapshot(), before) << "products unchanged";

  const auto r = run_feed(*conn_, request(dir));
  expect_counts(r, 300, 0, 300, 0, 0, 0);
  EXPECT_GT(r.spilled_bytes, 20u * 1024) << "most rows went through the file";
  for (const auto& [sku, price] : column("price")) EXPECT_EQ(price, "99.99") << sku;

  // A run under the limit creates no file, so an unusable directory does not matter.
  auto small = request(not_a_dir);
  small.spill_after_bytes = kDefaultSpillAfterBytes;
  small.source = string_source(generated_feed(300));
  const auto r2 = run_feed(*conn_, small);
  expect_counts(r2, 300, 0, 300, 0, 0, 0);
  EXPECT_EQ(r2.spilled_bytes, 0u);
  std::filesystem::remove_all(dir);
}

TEST_F(EtlEngine, OverlongFieldsRejectOnlyTheirRow) {
  // Incompressible text, a few KB: before field limits, one such value in an
  // indexed column failed every run of the source with "index row size ...
  // exceeds btree maximum".
  std::uint64_t state = 42;
  auto noise = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      s.push_back("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(state >> 33) % 62]);
    }
    return s;
  };
  const std::string big = noise(5000);
  std::string feed = "sku,product_name,description,brand,category,price,currency,availability,color\n";
  feed += "OK-1,Fine,,,,1.00,USD,in_stock,red\n";                      // line 2
  feed += big + ",Long sku,,,,1.00,USD,,\n";                            // line 3
  feed += "L-NAME," + big + ",,,,1.00,USD,,\n";                         // line 4
  feed += "L-DESC,Long description," + noise(12000) + ",,,1.00,USD,,\n";  // line 5
  feed += "L-BRAND,Long brand,," + big + ",,1.00,USD,,\n";              // line 6
  feed += "L-CAT,Long category,,," + big + ",1.00,USD,,\n";             // line 7
  feed += "L-AVAIL,Long availability,,,,1.00,USD," + big + ",\n";       // line 8
  feed += "L-ATTR,Long attribute,,,,1.00,USD,," + big + "\n";           // line 9
  feed += "OK-2,Also fine,,,,2.00,USD,in_stock,blue\n";                 // line 10
  const std::map<std::uint64_t, std::string> expected = {
      {3, "sku longer than 255 bytes"},          {4, "product_name longer than 1000 bytes"},
      {5, "description longer than 10000 bytes"}, {6, "brand longer than 255 bytes"},
      {7, "category longer than 500 bytes"},      {8, "availability longer than 64 bytes"},
      {9, "attribute 'color' longer than 2000 bytes"}};
  // The first load (indexes built afterwards) and the update path (indexes
  // maintained row by row) both keep going.
  for (const char* run_id : {kRun1, kRun2}) {
    const auto r = run(feed, R"({"max_rejects": 7})", run_id);
    EXPECT_EQ(r.read, 9u);
    EXPECT_EQ(r.rejected, 7u);
    EXPECT_EQ(r.inserted + r.unchanged, 2u);
    ASSERT_EQ(r.first_rejects.size(), 7u);
    for (const auto& rej : r.first_rejects) {
      ASSERT_EQ(expected.count(rej.line), 1u) << rej.line;
      EXPECT_EQ(rej.reason.rfind(expected.at(rej.line), 0), 0u) << rej.line << ": " << rej.reason;
      EXPECT_LE(rej.raw.size(), 210u);
    }
  }
  EXPECT_EQ(column("name"), (std::map<std::string, std::string>{{"OK-1", "Fine"}, {"OK-2", "Also fine"}}));
  // Without enough max_rejects the run fails as usual, naming the count.
  EXPECT_THROW(run(feed, "{}", kRun2), TooManyRejects);
}

TEST_F(EtlEngine, TruncatedSnapshotCannotSoftDeleteTheCatalogue) {
  const std::string soft = R"({"missing_rows":"soft_delete"})";
  expect_counts(run(generated_feed(1000), soft), 1000, 1000, 0, 0, 0, 0);
  const auto before = snapshot();
  // A truncated but well-formed file: the header and two rows.
  const std::string truncated = generated_feed(2);
  try {
    run(truncated, soft, kRun2);
    FAIL() << "expected TooManyDeletes";
  } catch (const TooManyDeletes& e) {
    EXPECT_EQ(std::string(e.what()).rfind("would soft-delete 998 of 1000 live rows, more than max_deletes=0.5 (500)", 0),
              0u)
        << e.what();
  }
  EXPECT_EQ(snapshot(), before) << "nothing changed";
  // A count limit names itself; the check counts live rows only.
  try {
    run(truncated, R"({"missing_rows":"soft_delete","max_deletes":997})", kRun2);
    FAIL() << "expected TooManyDeletes";
  } catch (const TooManyDeletes& e) {
    EXPECT_EQ(std::string(e.what()).rfind("would soft-delete 998 of 1000 live rows, more than max_deletes=997;", 0),
              0u)
        << e.what();
  }
  EXPECT_EQ(snapshot(), before);
  // keep mode never deletes, so the guard does not apply.
  expect_counts(run(truncated, "{}", kRun2), 2, 0, 0, 2, 0, 0);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(EtlEngine, OperatorCanAcceptALargeSoftDelete) {
  const std::string soft = R"({"missing_rows":"soft_delete"})";
  expect_counts(run(generated_feed(1000), soft), 1000, 1000, 0, 0, 0, 0);
  // Exactly half is allowed by the default.
  expect_counts(run(generated_feed(500), soft, kRun2), 500, 0, 0, 500, 0, 500);
  // Of the 500 still live, deleting 498 needs the operator's consent.
  EXPECT_THROW(run(generated_feed(2), soft, kRun2), TooManyDeletes);
  expect_counts(run(generated_feed(2), R"({"missing_rows":"soft_delete","max_deletes":1.0})", kRun2), 2, 0, 0, 2, 0,
                498);
  EXPECT_EQ(scalar("SELECT count(*) FROM products WHERE source = 'acme' AND deleted_at IS NULL"), "2");
  // "100%" and a count that covers it work too; revived rows are not deletes.
  expect_counts(run(generated_feed(1000), soft), 1000, 0, 998, 2, 0, 0);
  expect_counts(run(generated_feed(0), R"({"missing_rows":"soft_delete","max_deletes":"100%"})"), 0, 0, 0, 0, 0,
                1000);
  expect_counts(run(generated_feed(1000), soft), 1000, 0, 1000, 0, 0, 0);
  expect_counts(run(generated_feed(10), R"({"missing_rows":"soft_delete","max_deletes":990})"), 10, 0, 0, 10, 0, 990);
}
