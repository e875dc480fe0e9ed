// GET /products and GET /products/{source}/{sku} against a real PostgreSQL:
// the router and dispatcher are called directly (what the server does after
// parsing the request), rows are inserted with plain SQL.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "catalog/db/pool.hpp"
#include "catalog/db/products_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/message.hpp"
#include "catalog/http/router.hpp"
#include "catalog/http/request_helpers.hpp"
#include "support/dispatch.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

constexpr const char* kInsert =
    "INSERT INTO products (source, sku, name, description, brand, category, price, currency, availability, "
    "attributes, content_hash, created_at, updated_at, deleted_at, last_run_id) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9, $10::jsonb, 1, $11::timestamptz, $12::timestamptz, "
    "$13::timestamptz, $14::uuid)";

struct Row {
  std::string source, sku, name;
  std::optional<std::string> description, brand, category, price, currency, availability;
  std::string attributes = "{}";
  std::string created_at = "2024-01-01T00:00:00Z";
  std::string updated_at = "2024-01-01T00:00:00Z";
  std::optional<std::string> deleted_at, last_run_id;
};

Row row(std::string source, std::string sku, std::string name) {
  Row r;
  r.source = std::move(source);
  r.sku = std::move(sku);
  r.name = std::move(name);
  return r;
}

class ProductsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("products");
    pool_ = std::make_unique<db::Pool>(db::Pool::Options{Secret(dsn_), 2});
    repository_ = std::make_unique<db::ProductsRepository>(*pool_);
    http::Router router;
    handlers::add_product_routes(router, *repository_);
    dispatcher_ = std::make_unique<http::Dispatcher>(std::move(router), http::Dispatcher::Options{});
    client_ = std::make_unique<InProcessClient>(*dispatcher_);
  }

  void insert(const Row& r) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params("SELECT products_ensure_partition($1)", r.source);
    tx.exec_params(kInsert, r.source, r.sku, r.name, r.description, r.brand, r.category, r.price, r.currency,
                   r.availability, r.attributes, r.created_at, r.updated_at, r.deleted_at, r.last_run_id);
    tx.commit();
  }

  /// 60 rows with ties on every sort column, NULL prices and brands, soft
  /// deletes, the same sku under several sources and LIKE metacharacters.
  void insert_mixed_catalog() {
    static const char* kSources[] = {"acme", "beta", "zeta"};
    static const char* kNames[] = {"Blue Lamp", "blue lamp", "Red Chair", "50% off", "5000 off", "a_b", "axb"};
    static const char* kPrices[] = {"12.50", "0.10", "12.50", "9999999999.99"};
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    for (const char* source : kSources) tx.exec_params("SELECT products_ensure_partition($1)", source);
    for (int i = 0; i < 60; ++i) {
      Row r;
      r.source = kSources[i % 3];
      r.sku = "sku-" + std::to_string(i % 20);
      r.name = kNames[i % 7];
      if (i % 5 != 0) r.price = kPrices[i % 4];
      if (i % 4 != 3) r.brand = "brand-" + std::to_string(i % 3);
      r.category = "cat-" + std::to_string(i % 2);
      r.availability = i % 2 == 0 ? "in_stock" : "out_of_stock";
      r.updated_at = "2024-01-0" + std::to_string(1 + i % 4) + "T10:00:00.123456Z";
      if (i % 11 == 0) r.deleted_at = "2024-02-01T00:00:00Z";
      tx.exec_params(kInsert, r.source, r.sku, r.name, r.description, r.brand, r.category, r.price, r.currency,
                     r.availability, r.attributes, r.created_at, r.updated_at, r.deleted_at, r.last_run_id);
    }
    tx.commit();
  }

  http::Response get(const std::string& target) { return client_->get(target); }
  nlohmann::json get_json(const std::string& target) { return client_->get_json(target); }
  void expect_bad_request(const std::string& target, const std::string& needle) {
    client_->expect_bad_request(target, needle);
  }

  /// (source, sku) in the given SQL order: an independent statement of the
  /// order each sort promises.
  std::vector<std::string> expected_keys(const std::string& where, const std::string& order_by) {
    pqxx::connection c(dsn_);
    pqxx::read_transaction tx(c);
    std::vector<std::string> keys;
    for (const auto& row : tx.exec("SELECT source || '/' || sku FROM products WHERE " + where + " ORDER BY " +
                                   order_by)) {
      keys.push_back(row[0].as<std::string>());
    }
    return keys;
  }

  /// Follows next_cursor to the end; returns every (source/sku) in order.
  std::vector<std::string> page_through(const std::string& query, std::size_t limit) {
    std::vector<std::string> keys;
    for (const auto& item : client_->all_items("/products?" + query, limit)) {
      keys.push_back(item["source"].get<std::string>() + "/" + item["sku"].get<std::string>());
    }
    return keys;
  }

  static std::vector<std::string> keys_of(const nlohmann::json& body) {
    std::vector<std::string> keys;
    for (const auto& item : body["items"]) {
      keys.push_back(item["source"].get<std::string>() + "/" + item["sku"].get<std::string>());
    }
    return keys;
  }

  std::string dsn_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::ProductsRepository> repository_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<InProcessClient> client_;
};

TEST_F(ProductsApiTest, GetOneReturnsEveryField) {
  Row r = row("acme", "sku-1", "Desk Lamp");
  r.description = "brass";
  r.brand = "Lumen";
  r.category = "lighting";
  r.price = "12.50";
  r.currency = "USD";
  r.availability = "in_stock";
  r.attributes = R"({"color": "gold", "watts": 40})";
  r.created_at = "2024-03-01T08:00:00.5+02:00";
  r.updated_at = "2024-03-02T09:30:00.123456Z";
  r.last_run_id = "2f1c8a0e-5a0b-4b5e-9c1d-0123456789ab";
  insert(r);

  const auto r1 = get("/products/acme/sku-1");
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(nlohmann::json::parse(r1.body),
            nlohmann::json::parse(R"({"source":"acme","sku":"sku-1","name":"Desk Lamp","description":"brass",
              "brand":"Lumen","category":"lighting","price":"12.50","currency":"USD","availability":"in_stock",
              "attributes":{"color":"gold","watts":40},"created_at":"2024-03-01T06:00:00.500000Z",
              "updated_at":"2024-03-02T09:30:00.123456Z","deleted_at":null,
              "last_run_id":"2f1c8a0e-5a0b-4b5e-9c1d-0123456789ab"})"));
  EXPECT_NE(r1.body.find("\"price\":\"12.50\","), std::string::npos) << r1.body;
  // Compact like the rest of the body, though PostgreSQL prints jsonb with spaces.
  EXPECT_NE(r1.body.find(R"("attributes":{"color":"gold","watts":40})"), std::string::npos) << r1.body;
}

// Money is an exact decimal string with two decimals everywhere a price is
// shown, as payment APIs write it; an unpriced product has null.
TEST_F(ProductsApiTest, PricesAreExactTwoDecimalStrings) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"12.5", "12.50"},   {"0.10", "0.10"},       {"19.99", "19.99"},           {"0.07", "0.07"},
      {"1299", "1299.00"}, {"1234567.89", "1234567.89"}, {"9999999999.99", "9999999999.99"}, {"-3.3", "-3.30"},
      {"0", "0.00"}};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Row r = row("acme", "p" + std::to_string(i), "n");
    r.price = cases[i].first;
    insert(r);
    const auto response = get("/products/acme/p" + std::to_string(i));
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_NE(response.body.find("\"price\":\"" + cases[i].second + "\","), std::string::npos)
        << cases[i].first << " → " << response.body;
  }
  insert(row("acme", "unpriced", "n"));
  EXPECT_TRUE(get_json("/products/acme/unpriced")["price"].is_null());

  // The list shows the same strings, and sorts by the numeric value, not the text.
  const auto page = get_json("/products?sort_by=price&order=desc&limit=3");
  ASSERT_EQ(page["items"].size(), 3u);
  EXPECT_EQ(page["items"][0]["price"], "9999999999.99");
  EXPECT_EQ(page["items"][1]["price"], "1234567.89");
  EXPECT_EQ(page["items"][2]["price"], "1299.00");
  const auto next = get_json("/products?sort_by=price&order=desc&limit=3&cursor=" +
                             page["next_cursor"].get<std::string>());
  EXPECT_EQ(next["items"][0]["price"], "19.99");
}

TEST_F(ProductsApiTest, AttributesAreCompactJsonWithStringsKeptIntact) {
  Row r = row("acme", "attrs", "n");
  r.attributes = R"({"a b": "c, d: e", "q": "say \"hi\", ok\t\\", "n": [1, 2.5, {"x": null, "y": true}], "e": {}})";
  insert(r);
  const auto response = get("/products/acme/attrs");
  ASSERT_EQ(response.status, 200) << response.body;
  // jsonb orders keys by length, then bytes.
  EXPECT_NE(response.body.find(R"("attributes":{"e":{},"n":[1,2.5,{"x":null,"y":true}],"q":"say \"hi\", ok\t\\",)"
                               R"("a b":"c, d: e"})"),
            std::string::npos)
      << response.body;
  EXPECT_EQ(nlohmann::json::parse(response.body)["attributes"], nlohmann::json::parse(r.attributes));
  const auto list = get("/products?source=acme");
  EXPECT_NE(list.body.find(R"("attributes":{"e":{},"n":[1,2.5,)"), std::string::npos) << list.body;
}

TEST_F(ProductsApiTest, GetOneIsNotFoundWhenAbsentAndDecodesThePath) {
  const auto r = get("/products/acme/sku-1");
  EXPECT_EQ(r.status, 404);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "not_found");
  EXPECT_EQ(body["error"]["message"], "product 'acme/sku-1' does not exist");

  insert(row("big box", "sku 7%", "Spaced"));
  EXPECT_EQ(get_json("/products/big%20box/sku%207%25")["name"], "Spaced");
  EXPECT_EQ(get("/products/big%20box/sku%207").status, 404);
  EXPECT_EQ(get("/products/acme/%FF%00").status, 400) << "invalid UTF-8 and NUL in a path are 400";
  // An encoded slash stays inside its segment: SKUs like "AB/12" are common.
  insert(row("acme", "AB/12", "Slashed"));
  EXPECT_EQ(get_json("/products/acme/AB%2F12")["name"], "Slashed");
  EXPECT_EQ(get("/products/acme/AB/12").status, 404);
  expect_bad_request("/products/big%20box/sku%207%25?verbose=1", "'verbose'");
}

TEST_F(ProductsApiTest, GetOneShowsASoftDeletedProduct) {
  Row r = row("acme", "gone", "Old");
  r.deleted_at = "2024-05-01T00:00:00Z";
  insert(r);
  EXPECT_EQ(get_json("/products/acme/gone")["deleted_at"], "2024-05-01T00:00:00.000000Z");
}

TEST_F(ProductsApiTest, DefaultListIsBySkuWithoutDeletedRows) {
  insert_mixed_catalog();
  const auto body = get_json("/products");
  EXPECT_TRUE(body["next_cursor"].is_null());
  EXPECT_FALSE(body.contains("count"));
  EXPECT_EQ(keys_of(body), expected_keys("deleted_at IS NULL", "sku, source"));
  EXPECT_EQ(body["items"].size(), 54u);
  for (const auto& item : body["items"]) EXPECT_TRUE(item["deleted_at"].is_null());

  const auto all = get_json("/products?include_deleted=true");
  EXPECT_EQ(all["items"].size(), 60u);
  EXPECT_EQ(keys_of(all), expected_keys("TRUE", "sku, source"));
}

TEST_F(ProductsApiTest, EveryFilter) {
  insert_mixed_catalog();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"source=beta", "source = 'beta'"},
      {"sku=sku-3", "sku = 'sku-3'"},
      {"brand=brand-1", "brand = 'brand-1'"},
      {"category=cat-0", "category = 'cat-0'"},
      {"availability=out_of_stock", "availability = 'out_of_stock'"},
      {"q=LAMP", "name ILIKE '%lamp%'"},
      {"q=e%20l", "name ILIKE '%e l%'"},
      {"updated_since=2024-01-03T10:00:00.123456Z", "updated_at >= '2024-01-03T10:00:00.123456Z'"},
      {"updated_since=2024-01-03T12:00:00%2B02:00", "updated_at >= '2024-01-03T10:00:00Z'"},
      {"updated_since=2024-01-03t10:00:00.123457z", "updated_at > '2024-01-03T10:00:00.123456Z'"},
      {"source=acme&brand=brand-0&availability=in_stock", "source = 'acme' AND brand = 'brand-0' AND "
                                                           "availability = 'in_stock'"},
      {"brand=nobody", "FALSE"},
  };
  for (const auto& [query, where] : cases) {
    const auto keys = keys_of(get_json("/products?" + query));
    EXPECT_EQ(keys, expected_keys("deleted_at IS NULL AND " + where, "sku, source")) << query;
    EXPECT_EQ(keys_of(get_json("/products?include_deleted=1&" + query)), expected_keys(where, "sku, source"))
        << query;
  }
  EXPECT_FALSE(expected_keys("deleted_at IS NULL AND name ILIKE '%lamp%'", "sku").empty());
}

// Stored availability and currency are normalised by the ETL (`In Stock` →
// in_stock, `usd` → USD): the filters accept what a feed would contain.
TEST_F(ProductsApiTest, AvailabilityAndCurrencyFiltersAcceptFeedSpellings) {
  insert_mixed_catalog();
  const std::vector<std::pair<std::string, std::string>> availability = {
      {"In%20Stock", "in_stock"},      {"in_stock", "in_stock"},         {"IN-STOCK", "in_stock"},
      {"%20in%20%20stock%20", "in_stock"}, {"Out%20of%20Stock", "out_of_stock"}, {"out-of_stock", "out_of_stock"}};
  for (const auto& [value, stored] : availability) {
    const auto keys = keys_of(get_json("/products?availability=" + value));
    EXPECT_EQ(keys, expected_keys("deleted_at IS NULL AND availability = '" + stored + "'", "sku, source")) << value;
    EXPECT_FALSE(keys.empty());
  }

  for (const auto& [sku, currency] : {std::pair<const char*, const char*>{"c-usd", "USD"}, {"c-eur", "EUR"}}) {
    Row r = row("acme", sku, "priced");
    r.price = "1.00";
    r.currency = currency;
    insert(r);
  }
  for (const auto* value : {"USD", "usd", "Usd", "%20usd%20"}) {
    EXPECT_EQ(keys_of(get_json(std::string("/products?currency=") + value)), std::vector<std::string>{"acme/c-usd"})
        << value;
  }
  EXPECT_EQ(keys_of(get_json("/products?currency=eur&availability=In%20Stock")), std::vector<std::string>{});
  EXPECT_EQ(keys_of(get_json("/products?currency=eur")), std::vector<std::string>{"acme/c-eur"});
  EXPECT_EQ(get_json("/products?currency=USD&with_count=true")["count"], 1);

  expect_bad_request("/products?currency=dollars", "'currency' must be a 3-letter currency code");
  expect_bad_request("/products?currency=U5D", "'currency'");
  expect_bad_request("/products?currency=", "'currency'");
  expect_bad_request("/products?availability=%20-%20", "'availability'");
}

TEST_F(ProductsApiTest, QueryTextIsTakenLiterally) {
  insert_mixed_catalog();
  insert(row("acme", "slash", "back\\slash"));
  insert(row("acme", "noslash", "backslash"));
  // '%' and '_' match themselves only: "50% off" but not "5000 off"; "a_b" but not "axb".
  EXPECT_EQ(keys_of(get_json("/products?q=0%25%20o")), expected_keys("deleted_at IS NULL AND name = '50% off'", "sku, source"));
  EXPECT_EQ(keys_of(get_json("/products?q=a_b")), expected_keys("deleted_at IS NULL AND name = 'a_b'", "sku, source"));
  EXPECT_EQ(keys_of(get_json("/products?q=%25")), expected_keys("deleted_at IS NULL AND name = '50% off'", "sku, source"));
  EXPECT_EQ(keys_of(get_json("/products?q=_")), expected_keys("deleted_at IS NULL AND name = 'a_b'", "sku, source"));
  EXPECT_EQ(keys_of(get_json("/products?q=k%5Cs")), std::vector<std::string>{"acme/slash"});
  // An empty q is no filter.
  EXPECT_EQ(get_json("/products?q=")["items"].size(), 56u);
}

TEST_F(ProductsApiTest, EverySortOrderPagesEveryRowExactlyOnce) {
  insert_mixed_catalog();
  const std::vector<std::tuple<std::string, std::string, std::string>> sorts = {
      {"sku", "asc", "sku ASC, source ASC"},
      {"sku", "desc", "sku DESC, source DESC"},
      {"name", "asc", "name ASC, source ASC, sku ASC"},
      {"name", "desc", "name DESC, source DESC, sku DESC"},
      {"price", "asc", "price ASC NULLS LAST, source ASC, sku ASC"},
      {"price", "desc", "price DESC NULLS LAST, source DESC, sku DESC"},
      {"updated_at", "asc", "updated_at ASC, source ASC, sku ASC"},
      {"updated_at", "desc", "updated_at DESC, source DESC, sku DESC"},
  };
  const std::vector<std::pair<std::string, std::string>> filters = {
      {"", "deleted_at IS NULL"},
      {"include_deleted=true", "TRUE"},
      {"brand=brand-2", "deleted_at IS NULL AND brand = 'brand-2'"},
      {"category=cat-1&q=o", "deleted_at IS NULL AND category = 'cat-1' AND name ILIKE '%o%'"},
  };
  for (const auto& [sort, order, sql_order] : sorts) {
    for (const auto& [filter, where] : filters) {
      const auto expected = expected_keys(where, sql_order);
      const std::string query = "sort_by=" + sort + "&order=" + order + (filter.empty() ? "" : "&" + filter);
      for (std::size_t limit : {1u, 4u, 7u, 1000u}) {
        const auto keys = page_through(query, limit);
        EXPECT_EQ(keys, expected) << query << " limit " << limit;
        EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << query;
      }
    }
  }
  // Default order is ascending.
  EXPECT_EQ(keys_of(get_json("/products?sort_by=price")), expected_keys("deleted_at IS NULL", "price, source, sku"));
}

TEST_F(ProductsApiTest, OnlyUnpricedRowsPageCleanly) {
  for (int i = 0; i < 5; ++i) insert(row("acme", "u" + std::to_string(i), "n"));
  for (const auto* order : {"asc", "desc"}) {
    auto keys = page_through(std::string("sort_by=price&order=") + order, 2);
    ASSERT_EQ(keys.size(), 5u);
    if (std::string(order) == "desc") std::reverse(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"acme/u0", "acme/u1", "acme/u2", "acme/u3", "acme/u4"}));
  }
}

TEST_F(ProductsApiTest, WithCountCountsEveryMatchIgnoringTheCursor) {
  insert_mixed_catalog();
  auto body = get_json("/products?with_count=true&limit=5");
  EXPECT_EQ(body["count"], 54);
  EXPECT_EQ(body["items"].size(), 5u);
  body = get_json("/products?with_count=true&limit=5&cursor=" + body["next_cursor"].get<std::string>());
  EXPECT_EQ(body["count"], 54);
  EXPECT_EQ(get_json("/products?with_count=1&include_deleted=1")["count"], 60);
  EXPECT_EQ(get_json("/products?with_count=true&source=acme")["count"],
            expected_keys("deleted_at IS NULL AND source = 'acme'", "sku").size());
  EXPECT_EQ(get_json("/products?with_count=true&brand=nobody")["count"], 0);
  EXPECT_FALSE(get_json("/products?with_count=false").contains("count"));
}

TEST_F(ProductsApiTest, BadParametersAreBadRequests) {
  insert_mixed_catalog();
  expect_bad_request("/products?limit=0", "'limit'");
  expect_bad_request("/products?limit=1001", "'limit'");
  expect_bad_request("/products?limit=ten", "'limit'");
  expect_bad_request("/products?sort_by=color", "'sort_by'");
  expect_bad_request("/products?sort_by=price;DROP%20TABLE%20products", "'sort_by'");
  expect_bad_request("/products?order=up", "'order'");
  expect_bad_request("/products?cursor=not-a-cursor", "cursor");
  expect_bad_request("/products?cursor=%2A%2A", "cursor");
  expect_bad_request("/products?updated_since=yesterday", "'updated_since'");
  expect_bad_request("/products?updated_since=2024-02-30T00:00:00Z", "'updated_since'");
  expect_bad_request("/products?updated_since=2024-01-01", "'updated_since'");
  expect_bad_request("/products?updated_since=2024-01-01T00:00:00", "'updated_since'");
  expect_bad_request("/products?updated_since=2024-01-01T25:00:00Z", "'updated_since'");
  expect_bad_request("/products?brnad=acme", "unknown query parameter 'brnad'");
  expect_bad_request("/products?brnad=acme&colour=red", "'brnad', 'colour'");
  expect_bad_request("/products?brand=a&brand=b", "'brand'");
  expect_bad_request("/products?brand=", "'brand'");
  expect_bad_request("/products?source=%FF", "'source'");
  expect_bad_request("/products?sku=a%00b", "'sku'");
  expect_bad_request("/products?include_deleted=maybe", "'include_deleted'");
  expect_bad_request("/products?with_count=2", "'with_count'");

  // A cursor only continues the ordering it was issued for.
  const auto cursor = get_json("/products?sort_by=price&order=desc&limit=2")["next_cursor"].get<std::string>();
  expect_bad_request("/products?sort_by=price&cursor=" + cursor, "cursor belongs to sort_by=price&order=desc");
  expect_bad_request("/products?sort_by=name&order=desc&cursor=" + cursor, "cursor");
  EXPECT_EQ(get("/products?sort_by=price&order=desc&cursor=" + cursor).status, 200);
}

TEST_F(ProductsApiTest, TamperedCursorsAreBadRequestsNotServerErrors) {
  insert_mixed_catalog();
  auto forge = [](const nlohmann::json& array) { return http::base64url_encode(array.dump()); };
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"updated_at", {1, "updated_at", "asc", "2024-13-01T00:00:00Z", "acme", "sku-1"}},
      {"updated_at", {1, "updated_at", "asc", nullptr, "acme", "sku-1"}},
      {"price", {1, "price", "asc", "12.5x", "acme", "sku-1"}},
      {"price", {1, "price", "asc", "1e400", "acme", "sku-1"}},
      {"price", {1, "price", "asc", 12.5, "acme", "sku-1"}},
      {"name", {1, "name", "asc", nullptr, "acme", "sku-1"}},
      {"sku", {1, "sku", "asc", "x", "acme", "sku-1"}},
      {"sku", {2, "sku", "asc", nullptr, "acme", "sku-1"}},
      {"sku", {1, "sku", "asc", nullptr, "acme"}},
      {"sku", {1, "sku", "asc", nullptr, std::string("ac\0me", 5), "sku-1"}},
      {"sku", nlohmann::json::object()},
  };
  for (const auto& [sort, array] : cases) {
    expect_bad_request("/products?sort_by=" + sort + "&cursor=" + forge(array), "cursor");
  }
  // A well-formed cursor for a row that no longer exists still continues after it.
  const auto after = forge({1, "price", "asc", "12.49", "zzz", "zzz"});
  const auto keys = keys_of(get_json("/products?sort_by=price&cursor=" + after));
  EXPECT_EQ(keys, expected_keys("deleted_at IS NULL AND (price >= 12.50 OR price IS NULL)",
                                "price NULLS LAST, source, sku"));
}

TEST_F(ProductsApiTest, HeadAndOtherMethods) {
  insert_mixed_catalog();
  http::Request request;
  request.method = "POST";
  request.target = request.path = "/products";
  const auto r = dispatcher_->handle(request, std::chrono::steady_clock::now());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), std::optional<std::string_view>("GET, HEAD"));
}

}  // namespace
}  // namespace catalog::testing
