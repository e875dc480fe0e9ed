// The list statements of GET /products and GET /items against a real
// PostgreSQL: prepared once per connection and run with one generic plan
// (no planning per request), and at most a bounded number of texts prepared.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "catalog/db/items_repository.hpp"
#include "catalog/db/migrations.hpp"
#include "catalog/db/pool.hpp"
#include "catalog/db/prepared_statements.hpp"
#include "catalog/db/products_repository.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

struct PlanCounts {
  std::int64_t statements = 0, generic = 0, custom = 0;
};

class PreparedStatementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("prepared");
    // One connection: every statement below runs on the one we inspect.
    pool_ = std::make_unique<db::Pool>(db::Pool::Options{Secret(dsn_), 1});
  }

  /// Enough rows that a plan for a whole tenth of the table (PostgreSQL's
  /// guess for an unknown LIMIT) costs far more than one for a page.
  void insert_products(int n) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec("SELECT products_ensure_partition(s) FROM unnest(ARRAY['acme','globex']) AS s");
    tx.exec_params(
        "INSERT INTO products (source, sku, name, brand, price, attributes, content_hash, created_at, updated_at) "
        "SELECT (ARRAY['acme','globex'])[i % 2 + 1], 'SKU-' || lpad(i::text, 6, '0'), 'name ' || (i % 97), "
        "'brand ' || (i % 7), (i % 1000) / 10.0, '{}', i, now(), now() - make_interval(secs => i) "
        "FROM generate_series(1, $1) AS i",
        n);
    tx.exec("ANALYZE products");
    tx.commit();
  }

  void insert_items(int n) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO items (id, name, description, created_at) SELECT gen_random_uuid(), 'item ' || i, NULL, "
        "now() - make_interval(secs => i) FROM generate_series(1, $1) AS i",
        n);
    tx.exec("ANALYZE items");
    tx.commit();
  }

  /// Prepared statements on the pool's one connection whose text contains `like`.
  PlanCounts plans(const std::string& like) {
    return pool_->with_connection([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto row = tx.exec_params1(
          "SELECT count(*), coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
          "FROM pg_prepared_statements WHERE statement LIKE $1",
          "%" + like + "%");
      return PlanCounts{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>()};
    });
  }

  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
};

TEST_F(PreparedStatementsTest, ProductPagesRunOnOneGenericPlanPerConnection) {
  insert_products(20000);
  db::ProductsRepository products(*pool_);
  for (const auto sort : {db::ProductSort::sku, db::ProductSort::name, db::ProductSort::updated_at}) {
    db::ProductQuery q;
    q.sort = sort;
    q.order = db::SortOrder::desc;
    q.limit = 101;
    for (int i = 0; i < 10; ++i) ASSERT_EQ(products.list(q).items.size(), 101u);
  }
  // PostgreSQL plans a prepared statement for its values five times, then
  // keeps the generic plan when it is no costlier. A LIMIT parameter made
  // that plan look like a tenth of the table: every execution was re-planned.
  const auto counts = plans("FROM products p");
  EXPECT_EQ(counts.statements, 3);
  EXPECT_EQ(counts.custom, 3 * 5);
  EXPECT_EQ(counts.generic, 3 * 5);
}

TEST_F(PreparedStatementsTest, ValueDependentFiltersKeepAPlanForTheirValues) {
  insert_products(2000);
  db::ProductsRepository products(*pool_);
  db::ProductQuery q;
  q.filter.brand = "brand 3";
  q.limit = 11;
  for (int i = 0; i < 8; ++i) ASSERT_EQ(products.list(q).items.size(), 11u);
  // A brand can match a handful of rows or most of the catalog: no plan is
  // shared between values.
  EXPECT_EQ(plans("p.brand = ").statements, 0);
}

TEST_F(PreparedStatementsTest, ItemPagesRunOnOneGenericPlanPerConnection) {
  insert_items(20000);
  db::ItemsRepository items(*pool_);
  std::optional<db::ItemCursor> after;
  for (int i = 0; i < 10; ++i) {
    const auto page = items.list(101, after);
    ASSERT_EQ(page.size(), 101u);
    if (i % 2 == 1) after = db::ItemCursor{std::string(page.back().created_at.text()), std::string(page.back().id)};
  }
  const auto counts = plans("FROM items");
  EXPECT_EQ(counts.statements, 2);  // the first page and the next ones
  EXPECT_GE(counts.generic, 1);
}

TEST_F(PreparedStatementsTest, AtMostCapacityTextsArePreparedAndTheRestStillRun) {
  db::PreparedStatements statements("bounded_", 2);
  pool_->with_connection([&](pqxx::connection& c) {
    for (int round = 0; round < 2; ++round) {
      for (int k = 1; k <= 3; ++k) {
        pqxx::nontransaction tx(c);
        const auto sql = "SELECT $1::int + " + std::to_string(k);
        EXPECT_EQ(statements.exec(c, tx, sql, {"40"})[0][0].as<int>(), 40 + k);
      }
    }
    return 0;
  });
  EXPECT_EQ(statements.size(), 2u);
  EXPECT_EQ(plans("SELECT $1::int + ").statements, 2);
}

}  // namespace
}  // namespace catalog::testing
