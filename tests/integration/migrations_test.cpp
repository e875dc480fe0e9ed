// Schema migrations against a real PostgreSQL: products written under the
// unpartitioned schema (version 2) survive the move to one partition per
// source (version 3), keys stay unique, and the ETL carries on from there.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <pqxx/pqxx>

#include "catalog/db/migrations.hpp"
#include "catalog/etl/engine.hpp"
#include "support/test_env.hpp"

namespace {

/// Brings a fresh database to `version` the way an older release did.
void migrate_to(pqxx::connection& conn, int version) {
  pqxx::work tx(conn);
  tx.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())");
  for (const auto& m : catalog::db::all_migrations()) {
    if (m.version > version) break;
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
  }
  tx.commit();
}

/// How many migrations come after `version` (what migrate() then applies).
int migrations_after(int version) {
  int n = 0;
  for (const auto& m : catalog::db::all_migrations()) n += m.version > version ? 1 : 0;
  return n;
}

std::string scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::work tx(conn);
  const auto r = tx.exec1(sql);
  return r[0].is_null() ? "NULL" : r[0].as<std::string>();
}

TEST(Migrations, PartitioningBySourceKeepsEveryProduct) {
  pqxx::connection conn(catalog::testing::create_test_database("migrate"));
  migrate_to(conn, 2);
  {
    pqxx::work tx(conn);
    tx.exec("INSERT INTO products (source, sku, name, price, attributes, content_hash, deleted_at) "
            "SELECT s, 'SKU-' || i, 'Name ' || i, i * 1.5, jsonb_build_object('i', i), i, "
            "       CASE WHEN i % 10 = 0 THEN '2024-01-01'::timestamptz END "
            "FROM unnest(ARRAY['acme', 'Ünïcode Partner / EU', 'x']) AS s, generate_series(1, 50) AS i");
    tx.commit();
  }
  const std::string before = scalar(conn, "SELECT md5(string_agg(p::text, ',' ORDER BY source, sku)) FROM products p");

  EXPECT_EQ(catalog::db::migrate(conn), migrations_after(2));

  EXPECT_EQ(scalar(conn, "SELECT md5(string_agg(p::text, ',' ORDER BY source, sku)) FROM products p"), before);
  EXPECT_EQ(scalar(conn, "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i "
                         "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'products'::regclass"),
            "products_acme_53bce4f1 products_n_code_partner_eu_5d4525cb products_x_9dd4e461");
  // Keys still compare bytewise, and defaults survive the move.
  EXPECT_EQ(scalar(conn, "SELECT string_agg(a.attname || ':' || c.collname, ' ' ORDER BY a.attname) "
                         "FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
                         "WHERE a.attrelid = 'products'::regclass AND a.attname IN ('source', 'sku')"),
            "sku:C source:C");
  EXPECT_EQ(scalar(conn, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'products'::regclass "
                         "AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'products'::regclass "
                         "AND attname = 'attributes')"),
            "'{}'::jsonb");
  // Every partition has the primary key and the eight secondary indexes.
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = to_regclass('products_acme_53bce4f1')"), "9");
  pqxx::work tx(conn);
  EXPECT_THROW(tx.exec("INSERT INTO products (source, sku, name, content_hash) VALUES ('x', 'SKU-1', 'dup', 0)"),
               pqxx::unique_violation);
}

TEST(Migrations, PartitionsFirstLoadedUnderVersion3AreNeverTakenForLeftovers) {
  pqxx::connection conn(catalog::testing::create_test_database("migrate"));
  migrate_to(conn, 3);
  {
    pqxx::work tx(conn);  // a first load as version 3 did it
    tx.exec("SELECT products_begin_bulk_load('acme')");
    tx.exec("INSERT INTO products_acme_53bce4f1 (source, sku, name, content_hash) VALUES ('acme', 'A-1', 'a', 0)");
    tx.exec("SELECT products_attach_bulk_load('acme')");
    tx.commit();
  }
  EXPECT_EQ(catalog::db::migrate(conn), migrations_after(3));
  EXPECT_EQ(scalar(conn, "SELECT products_partition_state('acme')"), "attached");
  {
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE products DETACH PARTITION products_acme_53bce4f1");
    tx.commit();
  }
  // An operator's detached table is not an interrupted first load: kept.
  EXPECT_EQ(scalar(conn, "SELECT products_partition_state('acme')"), "detached");
  EXPECT_EQ(scalar(conn, "SELECT products_discard_first_load('acme')"), "f");
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM products_acme_53bce4f1"), "1");
}

TEST(Migrations, SecondaryIndexesBecomeEachPartitionsOwnWithoutARebuild) {
  // Versions 10-12: products keeps only its primary key; every existing
  // partition keeps its rows and the very same index files, now its own.
  pqxx::connection conn(catalog::testing::create_test_database("migrate"));
  migrate_to(conn, 8);
  {
    pqxx::work tx(conn);
    for (const char* s : {"acme", "Ünïcode Partner / EU"}) tx.exec_params("SELECT products_ensure_partition($1)", s);
    tx.exec("INSERT INTO products (source, sku, name, brand, price, content_hash) "
            "SELECT s, 'SKU-' || i, 'Name ' || i, 'b' || (i % 5), i, i "
            "FROM unnest(ARRAY['acme', 'Ünïcode Partner / EU']) AS s, generate_series(1, 100) AS i");
    tx.commit();
  }
  const std::string rows = "SELECT md5(string_agg(p::text, ',' ORDER BY source, sku)) FROM products p";
  const std::string files =
      "SELECT string_agg(c.relname || '=' || c.relfilenode, ' ' ORDER BY c.relname) FROM pg_index i "
      "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid IN "
      "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'products'::regclass) AND i.indisvalid";
  const std::string before_rows = scalar(conn, rows);
  const std::string before_files = scalar(conn, files);
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = 'products'::regclass"), "9");

  catalog::db::migrate(conn);

  EXPECT_EQ(scalar(conn, rows), before_rows);
  EXPECT_EQ(scalar(conn, files), before_files);
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = 'products'::regclass"), "1");
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'products'::regclass"), "2");
  for (const char* s : {"acme", "Ünïcode Partner / EU"}) {
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec_params1("SELECT products_partition_state($1)", s)[0].as<std::string>(), "attached");
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM products_missing_indexes($1)", s)[0].as<int>(), 0);
  }
  // No CHECK left behind; keys still unique; a new partition gets every index.
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'products_m10_bound'"), "0");
  {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec("INSERT INTO products (source, sku, name, content_hash) VALUES ('acme', 'SKU-1', 'dup', 0)"),
                 pqxx::unique_violation);
  }
  pqxx::work tx(conn);
  tx.exec("SELECT products_ensure_partition('new')");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_index WHERE indrelid = 'products_new_22af645d'::regclass")[0].as<int>(),
            9);
}

// Migration 12 takes products for catalog changes only; behind a long run or
// query it gives up after its 5 s lock_timeout with a message saying what to
// do, instead of holding every reader in the queue behind it for as long.
TEST(Migrations, IndexMoveGivesUpBehindALongTransactionInsteadOfQueueingReaders) {
  const auto url = catalog::testing::create_test_database("migrate");
  pqxx::connection conn(url);
  migrate_to(conn, 11);
  {
    pqxx::work tx(conn);
    tx.exec("SELECT products_ensure_partition('acme')");
    tx.commit();
  }
  pqxx::connection holder(url);
  pqxx::work long_run(holder);
  long_run.exec("SELECT count(*) FROM products");  // ACCESS SHARE until it ends

  const auto started = std::chrono::steady_clock::now();
  try {
    catalog::db::migrate(conn);
    ADD_FAILURE() << "migration 12 ran under a concurrent transaction";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("needs products to itself"), std::string::npos) << e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::seconds(4));
  EXPECT_LT(waited, std::chrono::seconds(15));
  EXPECT_EQ(scalar(conn, "SELECT max(version) FROM schema_migrations"), "11");

  long_run.abort();
  EXPECT_EQ(catalog::db::migrate(conn), migrations_after(11));
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = 'products'::regclass"), "1");
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'products_m10_bound'"), "0");
}

TEST(Migrations, RowsForASourceWithoutPartitionAreRefused) {
  pqxx::connection conn(catalog::testing::create_test_database("migrate"));
  catalog::db::migrate(conn);
  {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec("INSERT INTO products (source, sku, name, content_hash) VALUES ('new', 'a', 'n', 0)"),
                 pqxx::check_violation);
  }
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT products_ensure_partition('new')")[0].as<std::string>(), "products_new_22af645d");
  EXPECT_EQ(tx.exec1("SELECT products_ensure_partition('new')")[0].as<std::string>(), "products_new_22af645d");
  tx.exec("INSERT INTO products (source, sku, name, content_hash) VALUES ('new', 'a', 'n', 0)");
  tx.commit();
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM products WHERE source = 'new'"), "1");
}

}  // namespace
