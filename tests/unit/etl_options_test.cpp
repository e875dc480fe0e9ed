#include <gtest/gtest.h>

#include "catalog/core/errors.hpp"
#include "catalog/etl/job_options.hpp"

using catalog::ValidationError;
using catalog::etl::JobOptions;
using catalog::etl::MissingRows;
using nlohmann::json;

namespace {

std::string field_of(const json& j) {
  try {
    JobOptions::from_json(j);
  } catch (const ValidationError& e) {
    return e.field();
  }
  return "(no error)";
}

}  // namespace

TEST(EtlOptions, DefaultsWhenEmptyOrNull) {
  for (const json& j : {json::object(), json()}) {
    const JobOptions o = JobOptions::from_json(j);
    EXPECT_EQ(o.delimiter, ',');
    EXPECT_TRUE(o.header.empty());
    EXPECT_EQ(o.key, "sku");
    EXPECT_FALSE(o.max_rejects.is_ratio);
    EXPECT_EQ(o.max_rejects.count, 0u);
    EXPECT_EQ(o.missing_rows, MissingRows::keep);
  }
}

TEST(EtlOptions, ParsesEveryOption) {
  const JobOptions o = JobOptions::from_json(json::parse(R"({
    "delimiter": ";", "header": {" Item Title ": "product_name", "Cost": "PRICE"},
    "key": " Item_ID ", "max_rejects": 25, "missing_rows": "soft_delete"})"));
  EXPECT_EQ(o.delimiter, ';');
  ASSERT_EQ(o.header.size(), 2u);
  EXPECT_EQ(o.header.at("item title"), "product_name");
  EXPECT_EQ(o.header.at("cost"), "price");
  EXPECT_EQ(o.key, "item_id");
  EXPECT_EQ(o.max_rejects.count, 25u);
  EXPECT_EQ(o.missing_rows, MissingRows::soft_delete);
}

TEST(EtlOptions, MaxRejectsCountOrRatio) {
  const JobOptions ratio = JobOptions::from_json(json::parse(R"({"max_rejects": 0.05})"));
  EXPECT_TRUE(ratio.max_rejects.is_ratio);
  EXPECT_FALSE(ratio.max_rejects.exceeded(5, 100));
  EXPECT_TRUE(ratio.max_rejects.exceeded(6, 100));
  EXPECT_FALSE(ratio.max_rejects.exceeded_early(1000));  // a ratio is judged at the end

  const JobOptions count = JobOptions::from_json(json::parse(R"({"max_rejects": 3})"));
  EXPECT_FALSE(count.max_rejects.exceeded_early(3));
  EXPECT_TRUE(count.max_rejects.exceeded_early(4));
  EXPECT_EQ(JobOptions::from_json(json::parse(R"({"max_rejects": 2.0})")).max_rejects.count, 2u);
  EXPECT_TRUE(JobOptions().max_rejects.exceeded(1, 1000));  // default 0: any bad row fails
}

TEST(EtlOptions, RejectsBadValuesNamingTheOption) {
  EXPECT_EQ(field_of(json::parse(R"({"colour": "red"})")), "options.colour");
  EXPECT_EQ(field_of(json::parse(R"({"delimiter": ";;"})")), "options.delimiter");
  EXPECT_EQ(field_of(json::parse(R"({"delimiter": "\""})")), "options.delimiter");
  EXPECT_EQ(field_of(json::parse(R"({"delimiter": 5})")), "options.delimiter");
  EXPECT_EQ(field_of(json::parse(R"({"max_rejects": -1})")), "options.max_rejects");
  EXPECT_EQ(field_of(json::parse(R"({"max_rejects": 1.5})")), "options.max_rejects");
  EXPECT_EQ(field_of(json::parse(R"({"max_rejects": "5"})")), "options.max_rejects");
  EXPECT_EQ(field_of(json::parse(R"({"missing_rows": "delete"})")), "options.missing_rows");
  EXPECT_EQ(field_of(json::parse(R"({"key": ""})")), "options.key");
  EXPECT_EQ(field_of(json::parse(R"({"header": {"a": "colour"}})")), "options.header");
  EXPECT_EQ(field_of(json::parse(R"({"header": {"a": "brand", "b": "brand"}})")), "options.header");
  EXPECT_EQ(field_of(json::parse(R"({"header": {"A": "brand", " a": "category"}})")), "options.header");
  EXPECT_EQ(field_of(json::parse(R"({"header": []})")), "options.header");
  EXPECT_EQ(field_of(json::parse(R"({"key": "id", "header": {"id": "brand"}})")), "options.key");
  EXPECT_EQ(field_of(json::parse("[1]")), "options");
}

TEST(EtlOptions, UnknownOptionMessageNamesIt) {
  try {
    JobOptions::from_json(json::parse(R"({"delimeter": ";"})"));
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("delimeter"), std::string::npos) << e.what();
  }
}

TEST(EtlOptions, CanonicalFormIsStableAndComplete) {
  const JobOptions a = JobOptions::from_json(json::parse(R"({"missing_rows":"keep","key":"SKU","header":{"Title":"product_name"}})"));
  const JobOptions b = JobOptions::from_json(json::parse(R"({"header":{" title":"PRODUCT_NAME"}})"));
  EXPECT_EQ(a.canonical(), b.canonical());
  EXPECT_EQ(a.canonical(),
            R"({"delimiter":",","header":{"title":"product_name"},"key":"sku","max_deletes":0.5,"max_rejects":0,"missing_rows":"keep"})");
  const JobOptions c = JobOptions::from_json(json::parse(R"({"max_rejects":3})"));
  EXPECT_NE(a.canonical(), c.canonical());
  // Round trip.
  EXPECT_EQ(JobOptions::from_json(c.to_json()).canonical(), c.canonical());
  const JobOptions r = JobOptions::from_json(json::parse(R"({"max_rejects":0.25})"));
  EXPECT_EQ(JobOptions::from_json(r.to_json()).canonical(), r.canonical());
}

TEST(EtlOptions, MaxDeletesIsACountOrARatioOfLiveRows) {
  const JobOptions d;  // default: half of the live rows
  EXPECT_TRUE(d.max_deletes.is_ratio);
  EXPECT_EQ(d.max_deletes.allowed(1000), 500u);
  EXPECT_FALSE(d.max_deletes.exceeded(500, 1000));
  EXPECT_TRUE(d.max_deletes.exceeded(501, 1000));
  EXPECT_TRUE(d.max_deletes.exceeded(1, 1)) << "deleting a source's only product is more than half";
  EXPECT_EQ(d.max_deletes.describe(), "0.5");

  auto parse = [](const char* text) { return JobOptions::from_json(json::parse(text)).max_deletes; };
  EXPECT_FALSE(parse(R"({"max_deletes": 10})").is_ratio);
  EXPECT_EQ(parse(R"({"max_deletes": 10})").allowed(1000000), 10u);
  EXPECT_EQ(parse(R"({"max_deletes": 10})").describe(), "10");
  EXPECT_EQ(parse(R"({"max_deletes": 0})").allowed(1000), 0u);
  // A decimal point means a ratio: 1.0 is every live row, 1 is one row.
  EXPECT_EQ(parse(R"({"max_deletes": 1.0})").allowed(1000), 1000u);
  EXPECT_EQ(parse(R"({"max_deletes": 1})").allowed(1000), 1u);
  EXPECT_EQ(parse(R"({"max_deletes": 0.0})").allowed(1000), 0u);
  EXPECT_EQ(parse(R"({"max_deletes": 0.1})").allowed(999), 99u);
  // Percent strings, for clients whose JSON writer prints 1.0 as 1.
  EXPECT_EQ(parse(R"({"max_deletes": "100%"})").allowed(1000), 1000u);
  EXPECT_EQ(parse(R"({"max_deletes": "12.5%"})").allowed(1000), 125u);

  for (const char* bad : {R"({"max_deletes": -1})", R"({"max_deletes": 1.5})", R"({"max_deletes": -0.5})",
                          R"({"max_deletes": "all"})", R"({"max_deletes": "101%"})", R"({"max_deletes": "%"})",
                          R"({"max_deletes": "1.2.3%"})", R"({"max_deletes": "50"})", R"({"max_deletes": true})",
                          R"({"max_deletes": null})"}) {
    EXPECT_EQ(field_of(json::parse(bad)), "options.max_deletes") << bad;
  }
}

TEST(EtlOptions, MaxDeletesIsPartOfTheCanonicalForm) {
  const auto canonical = [](const char* text) { return JobOptions::from_json(json::parse(text)).canonical(); };
  EXPECT_EQ(canonical("{}"), canonical(R"({"max_deletes": 0.5})"));
  EXPECT_EQ(canonical(R"({"max_deletes": "50%"})"), canonical(R"({"max_deletes": 0.5})"));
  EXPECT_NE(canonical("{}"), canonical(R"({"max_deletes": 1.0})"));
  EXPECT_NE(canonical(R"({"max_deletes": 1})"), canonical(R"({"max_deletes": 1.0})"));
  // The canonical form reads back as the same options (it is what the runner stores and compares).
  for (const char* text : {R"({"max_deletes": 1.0})", R"({"max_deletes": 0.0})", R"({"max_deletes": 7})",
                           R"({"max_deletes": "100%"})", "{}"}) {
    const auto once = JobOptions::from_json(json::parse(text));
    const auto again = JobOptions::from_json(json::parse(once.canonical()));
    EXPECT_EQ(again.canonical(), once.canonical()) << text;
    EXPECT_EQ(again.max_deletes.allowed(1000), once.max_deletes.allowed(1000)) << text;
  }
}
