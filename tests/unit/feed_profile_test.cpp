// google_merchant profile, keyed records, prices with a currency code, and
// the format-independent content hash (src/etl/normalizer).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/core/errors.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/feeds/record_reader.hpp"

using namespace catalog::etl;

namespace {

std::vector<std::string_view> sv(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

JobOptions google() { return JobOptions::from_json({{"profile", "google_merchant"}}); }

struct Result {
  bool ok;
  ProductRow row;
  std::string reason;
  std::string attributes;  ///< taken at once: the row's attribute names live in its normaliser
  std::uint64_t hash = 0;
};

Result run(const RowMapper& m, const std::vector<std::string>& fields) {
  Result r;
  r.ok = m.normalize(sv(fields), r.row, r.reason);
  return r;
}

std::string attrs(const ProductRow& row) {
  std::string out;
  for (const auto& [k, v] : row.attributes) out += std::string(k) + "=" + v + ";";
  return out;
}

/// Every keyed record `format` reads from `text`, normalised with `options`.
std::vector<Result> read_rows(catalog::feeds::Format format, const std::string& text, const JobOptions& options) {
  std::vector<Result> out;
  KeyedRowNormalizer mapper(options);
  auto reader = catalog::feeds::make_record_reader(format, {}, [&](const catalog::csv::Record& r) {
    Result res;
    res.ok = r.error.empty() && mapper.normalize(r.fields, res.row, res.reason);
    if (!r.error.empty()) res.reason = r.error;
    if (res.ok) {
      res.attributes = attrs(res.row);
      res.hash = content_hash(res.row);
    }
    out.push_back(std::move(res));
  });
  reader->feed(text);
  reader->finish();
  return out;
}

}  // namespace

TEST(FeedOptions, FormatAndProfileAreValidatedNamingTheOption) {
  const auto field_of = [](const nlohmann::json& o) {
    try {
      JobOptions::from_json(o);
    } catch (const catalog::ValidationError& e) {
      return e.field();
    }
    return std::string("(valid)");
  };
  EXPECT_EQ(field_of({{"format", "json"}}), "options.format");
  EXPECT_EQ(field_of({{"format", 1}}), "options.format");
  EXPECT_EQ(field_of({{"profile", "amazon"}}), "options.profile");
  EXPECT_EQ(field_of({{"format", "xml"}, {"profile", "google_merchant"}}), "(valid)");
  const auto o = JobOptions::from_json({{"format", "ndjson"}, {"profile", "google_merchant"}});
  EXPECT_EQ(o.format_for("feed.csv"), catalog::feeds::Format::ndjson);
  EXPECT_EQ(o.key, "id");
  EXPECT_EQ(o.to_json()["format"], "ndjson");
  EXPECT_EQ(o.to_json()["profile"], "google_merchant");
  // Jobs without them keep the canonical text they had (no format/profile keys).
  EXPECT_FALSE(JobOptions{}.to_json().contains("format"));
  EXPECT_FALSE(JobOptions{}.to_json().contains("profile"));
  EXPECT_EQ(JobOptions::from_json({{"profile", "google_merchant"}, {"key", "mpn"}}).key, "mpn");
}

TEST(FeedProfile, GoogleMerchantTsvHeader) {
  const RowNormalizer n(sv({"id", "title", "description", "link", "image_link", "price", "sale_price", "brand",
                            "gtin", "availability", "condition", "google_product_category", "product_type"}),
                        google());
  const auto r = run(n, {"A-1", "Widget", "Nice", "https://x/a1", "https://x/a1.jpg", "1,299.99 USD", "999.00 USD",
                         "Acme", "0001", "out of stock", "new", "Hardware > Tools", "Tools > Widgets"});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.row.sku, "A-1");
  EXPECT_EQ(r.row.name, "Widget");
  EXPECT_EQ(r.row.description, "Nice");
  EXPECT_EQ(r.row.brand, "Acme");
  EXPECT_EQ(r.row.category, "Tools > Widgets");  // product_type first
  EXPECT_EQ(r.row.price_cents, 129999);
  EXPECT_EQ(r.row.currency, "USD");
  EXPECT_EQ(r.row.availability, "out_of_stock");
  EXPECT_EQ(attrs(r.row),
            "condition=new;google_product_category=Hardware > Tools;gtin=0001;image_link=https://x/a1.jpg;"
            "link=https://x/a1;sale_price=999.00 USD;");
  // Without a product_type, google_product_category is the category (and not an attribute).
  const auto g = run(n, {"A-2", "Gadget", "", "", "", "", "", "", "", "in_stock", "", "Hardware > Tools", ""});
  ASSERT_TRUE(g.ok) << g.reason;
  EXPECT_EQ(g.row.category, "Hardware > Tools");
  EXPECT_EQ(attrs(g.row), "");
  EXPECT_EQ(g.row.availability, "in_stock");
}

TEST(FeedProfile, HeaderAndKeyOptionsOverrideTheProfile) {
  const auto o = JobOptions::from_json(
      {{"profile", "google_merchant"}, {"key", "mpn"}, {"header", {{"short_title", "product_name"}}}});
  const RowNormalizer n(sv({"id", "mpn", "title", "short_title"}), o);
  const auto r = run(n, {"A-1", "M-9", "Long title", "Short"});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.row.sku, "M-9");
  EXPECT_EQ(r.row.name, "Short");
  EXPECT_EQ(attrs(r.row), "id=A-1;title=Long title;");
  try {
    RowNormalizer(sv({"id", "name"}), google());
    FAIL() << "no error";
  } catch (const FeedError& e) {
    EXPECT_EQ(std::string(e.what()), "feed header has no 'title' column (product_name)");
  }
}

TEST(FeedPrice, CurrencyCodeBeforeOrAfterTheAmount) {
  std::int64_t cents = 0;
  std::string code;
  EXPECT_TRUE(parse_price_with_currency("15.00 USD", cents, code));
  EXPECT_EQ(cents, 1500);
  EXPECT_EQ(code, "USD");
  EXPECT_TRUE(parse_price_with_currency("USD 15.00", cents, code));
  EXPECT_EQ(code, "USD");
  EXPECT_TRUE(parse_price_with_currency(" 1,299.99 eur ", cents, code));
  EXPECT_EQ(cents, 129999);
  EXPECT_EQ(code, "EUR");
  EXPECT_TRUE(parse_price_with_currency("$15", cents, code));
  EXPECT_EQ(code, "");
  EXPECT_FALSE(parse_price_with_currency("USD", cents, code));
  EXPECT_FALSE(parse_price_with_currency("15.00 US", cents, code));
  EXPECT_FALSE(parse_price_with_currency("15.00 USD USD", cents, code));
  EXPECT_FALSE(parse_price_with_currency("15.00USD", cents, code));
}

TEST(FeedPrice, ACodeContradictingTheCurrencyColumnRejectsNamingBoth) {
  const RowNormalizer n(sv({"sku", "product_name", "price", "currency"}), JobOptions{});
  const auto same = run(n, {"A", "Widget", "15.00 usd", "USD"});
  ASSERT_TRUE(same.ok) << same.reason;
  const auto only_code = run(n, {"A", "Widget", "USD 15.00", ""});
  ASSERT_TRUE(only_code.ok);
  EXPECT_EQ(only_code.row.currency, "USD");
  const auto clash = run(n, {"A", "Widget", "15.00 USD", "eur"});
  ASSERT_FALSE(clash.ok);
  EXPECT_EQ(clash.reason, "price currency 'USD' (column 'price') contradicts currency 'EUR' (column 'currency')");
}

TEST(FeedKeyed, NdjsonRowsWithOurNames) {
  const auto rows = read_rows(catalog::feeds::Format::ndjson,
                              "{\"SKU\":\"A-1\",\"product_name\":\"Widget\",\"price\":15,\"in_box\":true,"
                              "\"dims\":{\"w\":2}}\n"
                              "{\"sku\":\"A-2\"}\n"
                              "{\"sku\":\"A-3\",\"product_name\":\"X\",\"color\":\"red\",\"Color\":\"blue\"}\n"
                              "{\"product_name\":\"No key\"}\n"
                              "{\"sku\":\"A-5\",\"product_name\":\"X\",\"price\":\"abc\"}\n",
                              JobOptions{});
  ASSERT_EQ(rows.size(), 5u);
  ASSERT_TRUE(rows[0].ok) << rows[0].reason;
  EXPECT_EQ(rows[0].row.sku, "A-1");
  EXPECT_EQ(rows[0].row.price_text(), "15.00");
  EXPECT_EQ(rows[0].attributes, "dims={\"w\":2};in_box=true;");
  EXPECT_EQ(rows[1].reason, "no 'product_name' field");
  EXPECT_EQ(rows[2].reason, "field 'color' is given twice");
  EXPECT_EQ(rows[3].reason, "no key field 'sku' (the sku)");
  EXPECT_NE(rows[4].reason.find("unparsable or out-of-range price 'abc'"), std::string::npos);
}

TEST(FeedKeyed, TheSameProductHashesTheSameInEveryFormat) {
  const JobOptions o = google();
  const RowNormalizer tsv(sv({"id", "title", "description", "link", "price", "availability", "brand", "shipping"}), o);
  const auto from_tsv =
      run(tsv, {"A-1", "Widget", "Nice", "https://x/a1", "15.00 USD", "in stock", "Acme",
                R"({"country":"US","price":"4.95 USD"})"});
  ASSERT_TRUE(from_tsv.ok) << from_tsv.reason;
  const auto from_xml = read_rows(catalog::feeds::Format::xml, R"(<rss xmlns:g="http://base.google.com/ns/1.0"><channel>
<item>
  <g:id>A-1</g:id><title> Widget </title><description>Nice</description><link>https://x/a1</link>
  <g:price>15.00 USD</g:price><g:availability>in_stock</g:availability><g:brand>Acme</g:brand>
  <g:shipping><g:country>US</g:country><g:price>4.95 USD</g:price></g:shipping>
</item></channel></rss>)",
                                  o);
  const auto from_ndjson = read_rows(catalog::feeds::Format::ndjson,
                                     R"({"id":"A-1","title":"Widget","description":"Nice","link":"https://x/a1",)"
                                     R"("price":"USD 15.00","availability":"In Stock","brand":"Acme",)"
                                     R"("shipping":{"country":"US","price":"4.95 USD"}})",
                                     o);
  ASSERT_EQ(from_xml.size(), 1u);
  ASSERT_TRUE(from_xml[0].ok) << from_xml[0].reason;
  ASSERT_EQ(from_ndjson.size(), 1u);
  ASSERT_TRUE(from_ndjson[0].ok) << from_ndjson[0].reason;
  EXPECT_EQ(from_xml[0].attributes, attrs(from_tsv.row));
  EXPECT_EQ(from_xml[0].hash, content_hash(from_tsv.row));
  EXPECT_EQ(from_ndjson[0].attributes, attrs(from_tsv.row));
  EXPECT_EQ(from_ndjson[0].hash, content_hash(from_tsv.row));
}
