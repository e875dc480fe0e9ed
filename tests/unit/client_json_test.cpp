// The limits every client JSON document and URL component is parsed with.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/message.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::http {
namespace {

// The 422's field, or "" when something else is thrown.
std::string rejected_field(std::string_view text) {
  try {
    parse_client_json(text);
  } catch (const ValidationError& e) {
    return e.field();
  } catch (...) {
  }
  return "";
}

bool is_bad_request(std::string_view text) {
  try {
    parse_client_json(text);
  } catch (const BadRequest&) {
    return true;
  } catch (...) {
  }
  return false;
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ClientJsonTest, ParsesOrdinaryDocuments) {
  const auto j = parse_client_json(R"({"name":"Widget","n":[1,-2,3.5,1e300],"o":{"a":null,"b":true}})");
  EXPECT_EQ(j["name"], "Widget");
  EXPECT_EQ(j["n"][3], 1e300);
  EXPECT_TRUE(j["o"]["b"].get<bool>());
  EXPECT_EQ(parse_client_json("\"caf\xC3\xA9\""), "caf\xC3\xA9");
}

TEST(ClientJsonTest, NestingBeyondTheLimitIsABadRequest) {
  EXPECT_NO_THROW(parse_client_json(nested(kMaxJsonDepth)));
  EXPECT_TRUE(is_bad_request(nested(kMaxJsonDepth + 1)));
  // The reproduction of issue 11: 150,000 levels used to be built in full
  // and then overflow the stack when copied. Refused, not built.
  const std::string deep = R"({"options":)" + nested(150000) + "}";
  try {
    parse_client_json(deep);
    FAIL() << "accepted";
  } catch (const BadRequest& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 64"), std::string::npos) << e.what();
  }
  // Objects count as levels too.
  std::string objects;
  for (std::size_t i = 0; i <= kMaxJsonDepth; ++i) objects += R"({"a":)";
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  EXPECT_TRUE(is_bad_request(objects));
}

TEST(ClientJsonTest, NumbersOutOfRangeNameTheirField) {
  EXPECT_EQ(rejected_field(R"({"name": 1e400})"), "name");
  EXPECT_EQ(rejected_field(R"({"name": -1e400})"), "name");
  EXPECT_EQ(rejected_field(R"({"options": {"max_rejects": 2e999}})"), "options.max_rejects");
  EXPECT_EQ(rejected_field(R"({"a": [1, 2, 1e400]})"), "a[2]");
  EXPECT_EQ(rejected_field(R"({"a": [[0], {"b": 1e400}]})"), "a[1].b");
  EXPECT_EQ(rejected_field("1e400"), "body");
  // Big integers that still fit a double are numbers, not errors.
  EXPECT_NO_THROW(parse_client_json(R"({"n": 123456789012345678901234567890})"));
}

TEST(ClientJsonTest, NulInStringsAndKeysNamesTheField) {
  EXPECT_EQ(rejected_field(R"({"name": "a\u0000b"})"), "name");
  EXPECT_EQ(rejected_field(R"({"options": {"header": {"sku": "x\u0000"}}})"), "options.header.sku");
  EXPECT_NE(rejected_field(R"({"a\u0000": 1})"), "");
}

TEST(ClientJsonTest, DuplicateKeysNameTheField) {
  EXPECT_EQ(rejected_field(R"({"name": "a", "name": "b"})"), "name");
  EXPECT_EQ(rejected_field(R"({"o": {"k": 1, "k": 2}})"), "o.k");
  // The same key in sibling objects is fine.
  EXPECT_NO_THROW(parse_client_json(R"([{"k": 1}, {"k": 2}])"));
}

TEST(ClientJsonTest, InvalidUtf8AndMalformedJsonAreBadRequests) {
  EXPECT_TRUE(is_bad_request("{\"name\": \"a\xFF\"}"));
  EXPECT_TRUE(is_bad_request("{\"name\": \"\xC0\xAF\"}"));   // overlong
  EXPECT_TRUE(is_bad_request("{\"name\": \"\xED\xA0\x80\"}"));  // raw surrogate
  EXPECT_TRUE(is_bad_request(R"({"name": "\ud800"})"));  // lone escaped surrogate
  EXPECT_TRUE(is_bad_request(R"({"name": )"));
  EXPECT_TRUE(is_bad_request(""));
  EXPECT_TRUE(is_bad_request(R"({"a":1} trailing)"));
}

TEST(ClientJsonTest, JsonObjectBodyChecksMediaTypeAndShape) {
  Request r;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  r.body = R"({"name": 1e400})";
  try {
    json_object_body(r);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "name");
  }
  r.body = "[1]";
  EXPECT_THROW(json_object_body(r), BadRequest);
}

TEST(UrlDecodingTest, InvalidUtf8AndNulAreBadRequests) {
  EXPECT_THROW(percent_decode("%FF%FE", false), BadRequest);
  EXPECT_THROW(percent_decode("a%00b", false), BadRequest);
  EXPECT_THROW(percent_decode("\xC3", false), BadRequest);  // raw, truncated sequence
  EXPECT_THROW(parse_query("q=%C3%28"), BadRequest);
  EXPECT_THROW(parse_query("%FF=1"), BadRequest);
  EXPECT_EQ(percent_decode("caf%C3%A9%2F..%2F", false), "caf\xC3\xA9/../");
}

}  // namespace
}  // namespace catalog::http
