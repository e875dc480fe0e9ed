#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/etl/hash.hpp"
#include "catalog/etl/normalizer.hpp"

using namespace catalog::etl;

namespace {

std::vector<std::string_view> sv(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

const std::vector<std::string> kHeader = {"sku", "product_name", "description", "brand", "category",
                                          "price", "currency", "availability"};

struct Normalised {
  bool ok;
  ProductRow row;
  std::string reason;
};

Normalised run(const RowNormalizer& n, const std::vector<std::string>& fields) {
  Normalised r;
  r.ok = n.normalize(sv(fields), r.row, r.reason);
  return r;
}

std::string feed_error(const std::vector<std::string>& header, const JobOptions& o = {}) {
  try {
    RowNormalizer n(sv(header), o);
  } catch (const FeedError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(EtlHash, Xxh64KnownAnswers) {
  EXPECT_EQ(xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(xxh64("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(EtlNormalizer, PartnerFormatRow) {
  const RowNormalizer n(sv(kHeader), JobOptions{});
  const auto r = run(n, {" A-1 ", " Widget ", "A nice widget", "Acme", "Tools", "$1,299.99", "usd", "In Stock"});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.row.sku, "A-1");
  EXPECT_EQ(r.row.name, "Widget");
  EXPECT_EQ(r.row.description, "A nice widget");
  EXPECT_EQ(r.row.brand, "Acme");
  EXPECT_EQ(r.row.category, "Tools");
  ASSERT_TRUE(r.row.has_price);
  EXPECT_EQ(r.row.price_cents, 129999);
  EXPECT_EQ(r.row.price_text(), "1299.99");
  EXPECT_EQ(r.row.currency, "USD");
  EXPECT_EQ(r.row.availability, "in_stock");
  EXPECT_TRUE(r.row.attributes.empty());
}

TEST(EtlNormalizer, HeaderTrimmedAndLowerCased) {
  const RowNormalizer n(sv({" SKU", "Product_Name ", "PRICE"}), JobOptions{});
  const auto r = run(n, {"x", "y", "5"});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.row.price_cents, 500);
}

TEST(EtlNormalizer, EmptyOptionalFieldsAreNull) {
  const RowNormalizer n(sv(kHeader), JobOptions{});
  const auto r = run(n, {"a", "b", "", " ", "", "", "", ""});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_FALSE(r.row.has_price);
  EXPECT_TRUE(r.row.brand.empty());
  EXPECT_TRUE(r.row.currency.empty());
  EXPECT_TRUE(r.row.availability.empty());
}

TEST(EtlNormalizer, HeaderErrors) {
  EXPECT_EQ(feed_error({"sku", "product_name", "Brand", "brand "}), "duplicated header column 'brand'");
  EXPECT_NE(feed_error({"id", "product_name"}).find("no key column 'sku'"), std::string::npos);
  EXPECT_EQ(feed_error({"sku", "name"}), "feed header has no 'product_name' column");
}

TEST(EtlNormalizer, MappingKeyAndAttributes) {
  JobOptions o = JobOptions::from_json(nlohmann::json::parse(
      R"({"header": {"Title": "product_name", "Cost": "price"}, "key": "Item ID"})"));
  const RowNormalizer n(sv({"Item ID", "Title", "Cost", "sku", "Colour", "Size"}), o);
  EXPECT_EQ(n.attribute_columns(), (std::vector<std::string>{"colour", "size", "sku"}));
  const auto r = run(n, {"I-9", "Lamp", "12", "legacy-9", "red", ""});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.row.sku, "I-9");
  EXPECT_EQ(r.row.name, "Lamp");
  EXPECT_EQ(r.row.price_cents, 1200);
  ASSERT_EQ(r.row.attributes.size(), 2u);  // empty "size" is left out
  EXPECT_EQ(r.row.attributes[0].first, "colour");
  EXPECT_EQ(r.row.attributes[0].second, "red");
  EXPECT_EQ(r.row.attributes[1].first, "sku");
  EXPECT_EQ(r.row.attributes[1].second, "legacy-9");
}

TEST(EtlNormalizer, RejectReasons) {
  const RowNormalizer n(sv(kHeader), JobOptions{});
  auto r = run(n, {"a", "b"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "expected 8 fields, got 2");
  r = run(n, {" ", "b", "", "", "", "", "", ""});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "empty key (column 'sku')");
  r = run(n, {"a", "", "", "", "", "", "", ""});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("empty product_name"), std::string::npos);
  r = run(n, {"a", "b", "", "", "", "12,34", "", ""});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("price '12,34'"), std::string::npos) << r.reason;
  r = run(n, {"a", "b", "", "", "", "", "dollars", ""});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("currency 'dollars'"), std::string::npos) << r.reason;
  r = run(n, {"a", "b", std::string("x\0y", 3), "", "", "", "", ""});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("NUL"), std::string::npos) << r.reason;
}

TEST(EtlNormalizer, Prices) {
  std::int64_t c = 0;
  EXPECT_TRUE(parse_price("1,299.99", c));
  EXPECT_EQ(c, 129999);
  EXPECT_TRUE(parse_price("$1,234,567.5", c));
  EXPECT_EQ(c, 123456750);
  EXPECT_TRUE(parse_price(" -$5 ", c));
  EXPECT_EQ(c, -500);
  EXPECT_TRUE(parse_price("$-5.01", c));
  EXPECT_EQ(c, -501);
  EXPECT_TRUE(parse_price(".99", c));
  EXPECT_EQ(c, 99);
  EXPECT_TRUE(parse_price("0.125", c));  // rounded like numeric(12,2)
  EXPECT_EQ(c, 13);
  EXPECT_TRUE(parse_price("9999999999.99", c));
  EXPECT_EQ(c, 999999999999);
  EXPECT_FALSE(parse_price("9999999999.995", c));  // rounds out of range
  EXPECT_FALSE(parse_price("10000000000", c));
  EXPECT_FALSE(parse_price("12,34", c));
  EXPECT_FALSE(parse_price("1,2345", c));
  EXPECT_FALSE(parse_price(",123", c));
  EXPECT_FALSE(parse_price("abc", c));
  EXPECT_FALSE(parse_price("$", c));
  EXPECT_FALSE(parse_price("1.2.3", c));
  EXPECT_FALSE(parse_price("1e5", c));
}

TEST(EtlNormalizer, Availability) {
  EXPECT_EQ(normalize_availability("In Stock"), "in_stock");
  EXPECT_EQ(normalize_availability("  OUT-OF-STOCK "), "out_of_stock");
  EXPECT_EQ(normalize_availability("pre  order"), "pre_order");
  EXPECT_EQ(normalize_availability("discontinued"), "discontinued");
}

TEST(EtlNormalizer, ContentHashStableAndSensitive) {
  const RowNormalizer n(sv({"sku", "product_name", "price", "colour", "size"}), JobOptions{});
  const RowNormalizer reordered(sv({"size", "price", "colour", "product_name", "sku"}), JobOptions{});
  const auto a = run(n, {"k", "Lamp", "$12.00", "red", "L"});
  const auto b = run(reordered, {"L", "12", "red", "Lamp", "other-key"});
  ASSERT_TRUE(a.ok && b.ok);
  // Column order, price spelling and the key itself do not change the content hash.
  EXPECT_EQ(content_hash(a.row), content_hash(b.row));
  // Pinned: stored in products.content_hash, so it must not drift between builds.
  EXPECT_EQ(content_hash(a.row), 0x7F9B1D778F8EBD07ULL);
  const auto c = run(n, {"k", "Lamp", "12.01", "red", "L"});
  const auto d = run(n, {"k", "Lamp", "12", "red", "M"});
  const auto e = run(n, {"k", "Lamp", "", "red", "L"});
  EXPECT_NE(content_hash(a.row), content_hash(c.row));
  EXPECT_NE(content_hash(a.row), content_hash(d.row));
  EXPECT_NE(content_hash(a.row), content_hash(e.row));
  // Field boundaries matter: ("ab","") vs ("a","b").
  const RowNormalizer m(sv({"sku", "product_name", "brand", "category"}), JobOptions{});
  EXPECT_NE(content_hash(run(m, {"k", "n", "ab", ""}).row), content_hash(run(m, {"k", "n", "a", "b"}).row));
  EXPECT_NE(key_hash("a"), key_hash("b"));
  EXPECT_NE(key_check("a"), key_check("b"));
}

TEST(EtlNormalizer, FieldsOverTheirByteLimitRejectTheRow) {
  const std::vector<std::string> header = {"sku", "product_name", "description", "brand", "category",
                                           "price", "currency", "availability", "color"};
  const RowNormalizer n(sv(header), JobOptions{});
  const std::vector<std::string> good = {"A-1", "Lamp", "Desc", "Acme", "Home", "1.00", "USD", "in_stock", "red"};
  ASSERT_TRUE(run(n, good).ok);
  struct Case {
    std::size_t column;
    std::size_t limit;
    std::string reason_start;
  };
  const std::vector<Case> cases = {
      {0, kMaxSkuBytes, "sku longer than 255 bytes"},
      {1, kMaxNameBytes, "product_name longer than 1000 bytes"},
      {2, kMaxDescriptionBytes, "description longer than 10000 bytes"},
      {3, kMaxBrandBytes, "brand longer than 255 bytes"},
      {4, kMaxCategoryBytes, "category longer than 500 bytes"},
      {7, kMaxAvailabilityBytes, "availability longer than 64 bytes"},
      {8, kMaxAttributeValueBytes, "attribute 'color' longer than 2000 bytes"},
  };
  for (const auto& c : cases) {
    auto fields = good;
    // Multi-byte characters: the limit counts bytes, not characters.
    fields[c.column] = std::string(c.limit - 1, 'x') + "é";
    EXPECT_FALSE(run(n, fields).ok) << c.reason_start;
    EXPECT_EQ(run(n, fields).reason.rfind(c.reason_start, 0), 0u) << run(n, fields).reason;
    fields[c.column] = std::string(c.limit, 'x');
    EXPECT_TRUE(run(n, fields).ok) << c.reason_start << ": exactly the limit is accepted";
    // Surrounding spaces are trimmed before the check (attributes are kept verbatim).
    if (c.column != 8) {
      fields[c.column] = "  " + std::string(c.limit, 'x') + "  ";
      EXPECT_TRUE(run(n, fields).ok) << c.reason_start;
    }
  }
  EXPECT_EQ(run(n, {std::string(300, 's'), "Lamp", "", "", "", "", "", "", ""}).reason,
            "sku longer than 255 bytes (300 bytes, column 'sku')");
}

TEST(EtlNormalizer, OverlongAttributeColumnNameFailsAtTheHeader) {
  auto header = kHeader;
  header.push_back(std::string(256, 'c'));
  EXPECT_NE(feed_error(header).find("is longer than 255 bytes"), std::string::npos) << feed_error(header);
  header.back() = std::string(255, 'c');
  EXPECT_EQ(feed_error(header), "(no error)");
}
