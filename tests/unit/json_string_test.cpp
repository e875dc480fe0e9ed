#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "catalog/core/json_string.hpp"

namespace catalog {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(AppendJsonString, WritesWhatNlohmannWritesForValidText) {
  // Every kind of character the products API returns: plain ASCII, the
  // escapes, other control bytes, DEL, 2/3/4-byte UTF-8 (incl. U+2028).
  const std::vector<std::string> palette = {"a", "Z", " ", "/", "\"", "\\", "\n", "\r", "\t", "\b", "\f",
                                            std::string(1, '\x01'), std::string(1, '\x1f'), "\x7f", "é", "€",
                                            "\xe2\x80\xa8", "😀", "汉"};
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 24);
    for (int i = 0; i < length; ++i) text += palette[rng() % palette.size()];
    ASSERT_EQ(as_json_string(text), nlohmann::json(text).dump()) << text;
  }
  EXPECT_EQ(as_json_string(""), "\"\"");
}

TEST(AppendJsonString, FindsEverySpecialByteWhereverItSitsInALongPlainRun) {
  // Plain runs are scanned eight bytes at a time: a byte that needs care at
  // every offset of a word, at both ends and alone, next to every boundary.
  const std::vector<std::string> specials = {"\"", "\\", "\n", std::string(1, '\x00'), std::string(1, '\x1f'),
                                             "\x7f", " ", "\x40", "é", "€", "😀"};
  for (const auto& special : specials) {
    for (std::size_t length = 0; length <= 40; ++length) {
      for (std::size_t at = 0; at <= length; ++at) {
        std::string text(length, 'a');
        text.insert(at, special);
        ASSERT_EQ(as_json_string(text), nlohmann::json(text).dump()) << length << " " << at;
      }
    }
  }
  const std::string invalid = std::string(19, 'x') + "\xff" + std::string(9, 'y');
  EXPECT_EQ(as_json_string(invalid), "\"" + std::string(19, 'x') + "\xEF\xBF\xBD" + std::string(9, 'y') + "\"");
}

TEST(AppendJsonString, InvalidUtf8BecomesReplacementCharactersNotBrokenJson) {
  for (const std::string bad : {"a\xff" "b", "\xc0\xaf", "\xed\xa0\x80", "x\xe2\x82", "\x80", "\xf4\x90\x80\x80"}) {
    const auto out = as_json_string(bad);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(out)) << out;
    EXPECT_NE(parsed.get<std::string>().find("\xef\xbf\xbd"), std::string::npos) << out;
  }
  EXPECT_EQ(nlohmann::json::parse(as_json_string("a\xff" "b")).get<std::string>(), "a\xef\xbf\xbd" "b");
}

std::string compact(std::string_view json) {
  std::string out = "prefix:";
  append_compact_json(out, json);
  return out.substr(7);
}

TEST(AppendCompactJson, DropsWhitespaceBetweenTokensOnly) {
  EXPECT_EQ(compact(R"({"color": "green", "sizes": [1, 2, 3]})"), R"({"color":"green","sizes":[1,2,3]})");
  EXPECT_EQ(compact("{\n\t\"a\" :\r\n {} }"), R"({"a":{}})");
  // Spaces, escaped quotes and backslashes inside strings stay as they are.
  EXPECT_EQ(compact(R"({"a b": "c, d: e", "q": "say \"x\", y\\", "z": "\\"})"),
            R"({"a b":"c, d: e","q":"say \"x\", y\\","z":"\\"})");
  EXPECT_EQ(compact("{}"), "{}");
  EXPECT_EQ(compact(""), "");
  const std::string jsonb = R"({"n": [1, 2.5, {"x": null}], "é €": "tab\t and  two spaces"})";
  EXPECT_EQ(compact(jsonb), nlohmann::json::parse(jsonb).dump());
}

// The list pages write their bodies with it: what it writes must be what
// nlohmann::json dumps for the same members in the same order.
TEST(JsonObjectWriter, WritesMembersInCallOrderAsNlohmannDumpsThem) {
  std::string out = "[";
  JsonObjectWriter json(out);
  json.string("name", "say \"hi\"\n\x01");
  json.nullable("missing", std::nullopt);
  json.nullable("present", std::string_view("caf\xc3\xa9"));
  json.member("count") += "42";
  append_compact_json(json.member("attributes"), R"({"a": [1, 2]})");
  json.close();
  EXPECT_EQ(out.substr(0, 1), "[") << "appends, never overwrites";
  const auto parsed = nlohmann::ordered_json::parse(out.substr(1));
  nlohmann::ordered_json expected;
  expected["name"] = "say \"hi\"\n\x01";
  expected["missing"] = nullptr;
  expected["present"] = "caf\xc3\xa9";
  expected["count"] = 42;
  expected["attributes"] = {{"a", {1, 2}}};
  EXPECT_EQ(parsed, expected);
  EXPECT_EQ(out.substr(1), expected.dump());

  std::string empty;
  JsonObjectWriter none(empty);
  none.close();
  EXPECT_EQ(empty, "{}");
}

}  // namespace
}  // namespace catalog
