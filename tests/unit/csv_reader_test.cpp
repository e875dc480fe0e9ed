#include "catalog/csv/csv_reader.hpp"

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace catalog::csv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// Owning copy of a Record (the views die with the callback).
struct Row {
  std::uint64_t line = 0;
  std::vector<std::string> fields;
  std::string error;

  bool operator==(const Row& o) const {
    return line == o.line && fields == o.fields && error == o.error;
  }
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  os << "{line " << r.line << ", [";
  for (const auto& f : r.fields) os << '"' << f << "\" ";
  return os << "], error '" << r.error << "'}";
}

/// Feeds `chunks` in order and collects the records.
std::vector<Row> parse_chunks(const std::vector<std::string_view>& chunks, Options opts = {}) {
  std::vector<Row> rows;
  Reader reader(opts, [&](const Record& r) {
    Row row{r.line, {}, r.error};
    for (auto f : r.fields) row.fields.emplace_back(f);
    rows.push_back(std::move(row));
  });
  for (auto c : chunks) reader.feed(c);
  reader.finish();
  return rows;
}

std::vector<Row> parse(std::string_view input, Options opts = {}) {
  return parse_chunks({input}, opts);
}

std::vector<Row> parse_bytewise(std::string_view input, Options opts = {}) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return parse_chunks(chunks, opts);
}

/// Every split of `input` into two chunks, and byte by byte, must give the
/// same records as one chunk.
void expect_split_invariant(std::string_view input, Options opts = {}) {
  const auto whole = parse(input, opts);
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    ASSERT_EQ(parse_chunks({input.substr(0, cut), input.substr(cut)}, opts), whole)
        << "split at byte " << cut;
  }
  ASSERT_EQ(parse_bytewise(input, opts), whole) << "byte by byte";
}

Row row(std::uint64_t line, std::vector<std::string> fields, std::string error = {}) {
  return Row{line, std::move(fields), std::move(error)};
}

TEST(CsvReader, SimpleRecordsWithHeader) {
  EXPECT_THAT(parse("sku,name\nA1,Widget\nB2,Gadget\n"),
              ElementsAre(row(1, {"sku", "name"}), row(2, {"A1", "Widget"}),
                          row(3, {"B2", "Gadget"})));
}

TEST(CsvReader, LastRecordWithoutTrailingNewline) {
  EXPECT_THAT(parse("a,b\nc,d"), ElementsAre(row(1, {"a", "b"}), row(2, {"c", "d"})));
  EXPECT_THAT(parse("a,b\r\nc,\"d\""), ElementsAre(row(1, {"a", "b"}), row(2, {"c", "d"})));
}

TEST(CsvReader, EmptyInputGivesNoRecords) {
  EXPECT_THAT(parse(""), IsEmpty());
  EXPECT_THAT(parse("\n\r\n\r"), IsEmpty());
}

TEST(CsvReader, EmptyFields) {
  EXPECT_THAT(parse(",\na,,b,\n\"\",x\n"),
              ElementsAre(row(1, {"", ""}), row(2, {"a", "", "b", ""}), row(3, {"", "x"})));
  EXPECT_THAT(parse("a,"), ElementsAre(row(1, {"a", ""})));
}

TEST(CsvReader, QuotedFieldsWithDelimitersAndDoubledQuotes) {
  EXPECT_THAT(parse(R"("a,b","say ""hi""","""",x)" "\n"),
              ElementsAre(row(1, {"a,b", "say \"hi\"", "\"", "x"})));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  EXPECT_THAT(parse("12\" pizza,x\"y\"\n"), ElementsAre(row(1, {"12\" pizza", "x\"y\""})));
}

TEST(CsvReader, WhitespaceIsKept) {
  EXPECT_THAT(parse(" a , \"b\"\n"), ElementsAre(row(1, {" a ", " \"b\""})));
}

TEST(CsvReader, LineEndings) {
  const std::vector<Row> expected = {row(1, {"a", "b"}), row(2, {"c", "d"}), row(3, {"e"})};
  EXPECT_EQ(parse("a,b\nc,d\ne\n"), expected);
  EXPECT_EQ(parse("a,b\r\nc,d\r\ne\r\n"), expected);
  EXPECT_EQ(parse("a,b\rc,d\re\r"), expected);
  EXPECT_EQ(parse("a,b\r\nc,d\ne\r"), expected);
}

TEST(CsvReader, EmptyLinesAreSkippedButCounted) {
  EXPECT_THAT(parse("\na,b\n\n\r\n\rc,d\n\n"),
              ElementsAre(row(2, {"a", "b"}), row(6, {"c", "d"})));
}

TEST(CsvReader, EmbeddedNewlinesAdvanceLineNumbers) {
  const std::string input =
      "id,text\n"
      "1,\"two\nlines\"\n"
      "2,\"crlf\r\ninside\r\nthree\"\r\n"
      "3,\"lone\rcr\"\n"
      "4,after\n";
  EXPECT_THAT(parse(input), ElementsAre(row(1, {"id", "text"}), row(2, {"1", "two\nlines"}),
                                        row(4, {"2", "crlf\r\ninside\r\nthree"}),
                                        row(7, {"3", "lone\rcr"}), row(9, {"4", "after"})));
  expect_split_invariant(input);
}

TEST(CsvReader, BomAtStartIsStripped) {
  EXPECT_THAT(parse("\xEF\xBB\xBFsku,name\n1,x\n"),
              ElementsAre(row(1, {"sku", "name"}), row(2, {"1", "x"})));
  EXPECT_THAT(parse("\xEF\xBB\xBF"), IsEmpty());
  expect_split_invariant("\xEF\xBB\xBFsku,name\n1,x\n");
}

TEST(CsvReader, BomElsewhereIsData) {
  // U+FEFF later in the input is an ordinary (valid) character.
  EXPECT_THAT(parse("a\n\xEF\xBB\xBF" "b\n"), ElementsAre(row(1, {"a"}), row(2, {"\xEF\xBB\xBF" "b"})));
  // A second BOM right after the first one is data too.
  EXPECT_THAT(parse("\xEF\xBB\xBF\xEF\xBB\xBFx"), ElementsAre(row(1, {"\xEF\xBB\xBFx"})));
}

TEST(CsvReader, PartialBomPrefixIsData) {
  EXPECT_THAT(parse("\xEF\xBBx,y\n"),
              ElementsAre(row(1, {"\xEF\xBBx", "y"}, "invalid UTF-8 in field 1")));
  EXPECT_THAT(parse("\xEF"), ElementsAre(row(1, {"\xEF"}, "invalid UTF-8 in field 1")));
  EXPECT_THAT(parse("ab"), ElementsAre(row(1, {"ab"})));
  expect_split_invariant("\xEF\xBBx,y\n");
  expect_split_invariant("\xEF\xBB");
}

TEST(CsvReader, ValidUtf8IsAccepted) {
  const std::string input = "caf\xC3\xA9,\xE2\x82\xAC 5,\xF0\x9F\x98\x80,\"\xE6\x97\xA5\xE6\x9C\xAC, \"\"x\"\"\"\n";
  EXPECT_THAT(parse(input),
              ElementsAre(row(1, {"caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
                                  "\xE6\x97\xA5\xE6\x9C\xAC, \"x\""})));
  expect_split_invariant(input);  // includes cuts inside every multi-byte sequence
}

TEST(CsvReader, InvalidUtf8NamesTheField) {
  struct Case {
    const char* input;
    const char* error;
  };
  const Case cases[] = {
      {"ok,bad\xFF,x\n", "invalid UTF-8 in field 2"},
      {"\xC3\n", "invalid UTF-8 in field 1"},                    // truncated at field end
      {"a,\xC3,\xA9\n", "invalid UTF-8 in field 2"},             // sequence split by a delimiter
      {"a,b,\xC0\xAF\n", "invalid UTF-8 in field 3"},            // overlong '/'
      {"a,\xE0\x80\xAF\n", "invalid UTF-8 in field 2"},          // overlong 3-byte
      {"\xED\xA0\x80\n", "invalid UTF-8 in field 1"},            // UTF-16 surrogate
      {"a,\xF4\x90\x80\x80\n", "invalid UTF-8 in field 2"},      // above U+10FFFF
      {"a,\"x\xA9y\"\n", "invalid UTF-8 in field 2"},            // lone continuation byte
      {"a,b,c,d,e,f,g,h,i,j,k,\xF8\x88\x80\x80\x80\n", "invalid UTF-8 in field 12"},
      {"0123456789abcdef\xE2\x82\n", "invalid UTF-8 in field 1"},  // after the 8-byte fast path
  };
  for (const auto& c : cases) {
    const auto rows = parse(c.input);
    ASSERT_EQ(rows.size(), 1u) << c.input;
    EXPECT_EQ(rows[0].error, c.error) << c.input;
  }
}

TEST(CsvReader, InvalidUtf8RecordIsDeliveredAndParsingContinues) {
  EXPECT_THAT(parse("h1,h2\nx,\"multi\nline \xFF\"\ny,z\n"),
              ElementsAre(row(1, {"h1", "h2"}),
                          row(2, {"x", "multi\nline \xFF"}, "invalid UTF-8 in field 2"),
                          row(4, {"y", "z"})));
}

TEST(CsvReader, Utf8ValidationCanBeDisabled) {
  Options opts;
  opts.validate_utf8 = false;
  EXPECT_THAT(parse("a\xFF\n", opts), ElementsAre(row(1, {"a\xFF"})));
}

TEST(CsvReader, StrayCharacterAfterClosingQuote) {
  const std::string input = "a,\"b\"x y,c\n\"q\"\"\" z\nnext,ok\n";
  EXPECT_THAT(parse(input),
              ElementsAre(row(1, {"a", "b", "c"}, "unexpected character after closing quote in field 2"),
                          row(2, {"q\""}, "unexpected character after closing quote in field 1"),
                          row(3, {"next", "ok"})));
  expect_split_invariant(input);
}

TEST(CsvReader, StrayQuoteAfterClosingQuoteDoesNotReopenTheField) {
  EXPECT_THAT(parse("\"a\"b\"c,d\ne\n"),
              ElementsAre(row(1, {"a", "d"}, "unexpected character after closing quote in field 1"),
                          row(2, {"e"})));
}

TEST(CsvReader, UnterminatedQuoteAtEndOfInput) {
  const std::string input = "h\nok,1\nbad,\"never\nclosed,2\n";
  EXPECT_THAT(parse(input), ElementsAre(row(1, {"h"}), row(2, {"ok", "1"}),
                                        row(3, {"bad", "never\nclosed,2\n"},
                                            "unterminated quoted field 2")));
  expect_split_invariant(input);
  EXPECT_THAT(parse("\""), ElementsAre(row(1, {""}, "unterminated quoted field 1")));
  EXPECT_THAT(parse("a,\"x\r"), ElementsAre(row(1, {"a", "x\r"}, "unterminated quoted field 2")));
}

TEST(CsvReader, ClosingQuoteAtEndOfInputIsFine) {
  EXPECT_THAT(parse("a,\"b\""), ElementsAre(row(1, {"a", "b"})));
  EXPECT_THAT(parse("a,\"b\"\"\""), ElementsAre(row(1, {"a", "b\""})));
}

TEST(CsvReader, MaxRecordSizeGivesErrorRecordAndContinues) {
  Options opts;
  opts.max_record_bytes = 16;
  const std::string input =
      "short,1\n"
      "this-record-is-far-too-long,2\n"
      "\"quoted\nvalue that is too long\",3\n"
      ",,,,,,,,,,,,,,,,,,,,,,,,\n"
      "tail,4\n";
  const std::string err = "record exceeds the maximum size of 16 bytes";
  EXPECT_THAT(parse(input, opts),
              ElementsAre(row(1, {"short", "1"}), row(2, {}, err), row(3, {}, err),
                          row(5, {}, err), row(6, {"tail", "4"})));
  expect_split_invariant(input, opts);
}

TEST(CsvReader, MaxRecordSizeBoundary) {
  Options opts;
  opts.max_record_bytes = 4;
  // Raw size counts bytes before the line end; exactly the limit is fine.
  EXPECT_THAT(parse("abcd\nabcde\n", opts),
              ElementsAre(row(1, {"abcd"}),
                          row(2, {}, "record exceeds the maximum size of 4 bytes")));
}

TEST(CsvReader, UnterminatedQuoteIsBoundedByMaxRecordSize) {
  Options opts;
  opts.max_record_bytes = 1024;
  std::string input = "a,\"";
  input.append(1 << 20, 'x');
  const auto rows = parse(input, opts);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].error, "record exceeds the maximum size of 1024 bytes");
  EXPECT_THAT(rows[0].fields, IsEmpty());
}

TEST(CsvReader, CustomDelimiterAndQuote) {
  Options opts;
  opts.delimiter = '\t';
  opts.quote = '\'';
  EXPECT_THAT(parse("a\t'b\tc'\t'it''s'\t\"x\"\n", opts),
              ElementsAre(row(1, {"a", "b\tc", "it's", "\"x\""})));
  opts.delimiter = ';';
  opts.quote = '"';
  EXPECT_THAT(parse("1,5;\"x;y\"\n", opts), ElementsAre(row(1, {"1,5", "x;y"})));
}

TEST(CsvReader, RejectsInvalidOptions) {
  auto noop = [](const Record&) {};
  Options same;
  same.delimiter = '"';
  EXPECT_THROW(Reader(same, noop), std::invalid_argument);
  Options newline;
  newline.delimiter = '\n';
  EXPECT_THROW(Reader(newline, noop), std::invalid_argument);
  Options zero;
  zero.max_record_bytes = 0;
  EXPECT_THROW(Reader(zero, noop), std::invalid_argument);
  EXPECT_THROW(Reader(Options{}, nullptr), std::invalid_argument);
}

TEST(CsvReader, Counters) {
  int calls = 0;
  Reader reader(Options{}, [&](const Record&) { ++calls; });
  reader.feed("\xEF\xBB\xBF" "a,b\n");
  reader.feed("c,\"d");
  EXPECT_EQ(reader.records_emitted(), 1u);
  reader.feed("\"\n\ne");
  reader.finish();
  EXPECT_EQ(reader.bytes_consumed(), 15u);
  EXPECT_EQ(reader.records_emitted(), 3u);
  EXPECT_EQ(calls, 3);
}

TEST(CsvReader, FieldViewsAreValidDuringCallbackAcrossChunks) {
  // A record spread over many chunks is delivered as contiguous views.
  std::vector<std::string> got;
  Reader reader(Options{}, [&](const Record& r) {
    for (auto f : r.fields) got.emplace_back(f);
  });
  for (const char* c : {"al", "pha,\"be", "\"\"ta\"", ",gam", "ma\r", "\n"}) reader.feed(c);
  reader.finish();
  EXPECT_THAT(got, ElementsAre("alpha", "be\"ta", "gamma"));
}

// One input exercising every construct at once, split everywhere.
TEST(CsvReader, EverySplitGivesIdenticalRecords) {
  const std::string input =
      "\xEF\xBB\xBFsku,product_name,description,price\r\n"
      "A1,\"Widget, large\",\"He said \"\"hi\"\"\",$1,299.00\r\n"
      "\r\n"
      "B2,Caf\xC3\xA9 \xF0\x9F\x98\x80,\"line one\r\nline two\nthree\rfour\",9\n"
      "C3,\"\"\"\",bad\xE2\x82,1\r"
      "D4,\"x\"y,z\n"
      "E5,,,\n"
      "F6,\"unterminated\r\n";
  const auto whole = parse(input);
  ASSERT_EQ(whole.size(), 7u);
  EXPECT_EQ(whole[0], row(1, {"sku", "product_name", "description", "price"}));
  EXPECT_EQ(whole[1], row(2, {"A1", "Widget, large", "He said \"hi\"", "$1", "299.00"}));
  EXPECT_EQ(whole[2], row(4, {"B2", "Caf\xC3\xA9 \xF0\x9F\x98\x80",
                              "line one\r\nline two\nthree\rfour", "9"}));
  EXPECT_EQ(whole[3], row(8, {"C3", "\"", "bad\xE2\x82", "1"}, "invalid UTF-8 in field 3"));
  EXPECT_EQ(whole[4], row(9, {"D4", "x", "z"}, "unexpected character after closing quote in field 2"));
  EXPECT_EQ(whole[5], row(10, {"E5", "", "", ""}));
  EXPECT_EQ(whole[6], row(11, {"F6", "unterminated\r\n"}, "unterminated quoted field 2"));
  expect_split_invariant(input);
  // Three chunks at every pair of cut points.
  for (std::size_t i = 0; i <= input.size(); ++i) {
    for (std::size_t j = i; j <= input.size(); ++j) {
      const std::string_view in(input);
      ASSERT_EQ(parse_chunks({in.substr(0, i), in.substr(i, j - i), in.substr(j)}), whole)
          << "cuts at " << i << ", " << j;
    }
  }
}

/// RFC 4180 writer used as the oracle for the round-trip test.
std::string encode(const std::vector<std::vector<std::string>>& records, const char* eol) {
  std::string out;
  for (const auto& rec : records) {
    for (std::size_t i = 0; i < rec.size(); ++i) {
      if (i) out += ',';
      const auto& f = rec[i];
      if (f.find_first_of(",\"\r\n") != std::string::npos || f.empty()) {
        out += '"';
        for (char c : f) {
          if (c == '"') out += '"';
          out += c;
        }
        out += '"';
      } else {
        out += f;
      }
    }
    out += eol;
  }
  return out;
}

std::uint64_t count_lines(const std::string& s) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++n;
  }
  return n;
}

TEST(CsvReader, RandomRoundTripInRandomChunks) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> atoms = {"a", "Z", "0", " ", ",", "\"", "\r", "\n", "\r\n",
                                          "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "long text "};
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<std::vector<std::string>> records(1 + rng() % 20);
    for (auto& rec : records) {
      rec.resize(1 + rng() % 6);
      for (auto& f : rec) {
        const int len = static_cast<int>(rng() % 8);
        for (int k = 0; k < len; ++k) f += atoms[rng() % atoms.size()];
      }
    }
    const std::string input = encode(records, iter % 2 ? "\r\n" : "\n");
    std::vector<std::string_view> chunks;
    for (std::size_t pos = 0; pos < input.size();) {
      const std::size_t n = std::min<std::size_t>(input.size() - pos, 1 + rng() % 17);
      chunks.push_back(std::string_view(input).substr(pos, n));
      pos += n;
    }
    const auto rows = parse_chunks(chunks);
    ASSERT_EQ(rows.size(), records.size()) << input;
    std::uint64_t line = 1;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].fields, records[i]) << "record " << i << " of\n" << input;
      ASSERT_EQ(rows[i].error, "");
      ASSERT_EQ(rows[i].line, line);
      line += count_lines(encode({records[i]}, "\n"));
    }
  }
}

TEST(CsvReader, RandomGarbageIsSplitInvariant) {
  // Arbitrary byte soup (including errors) must still not depend on chunking.
  std::mt19937 rng(7);
  const char alphabet[] = {'a', ',', '"', '\r', '\n', '\xC3', '\xA9', '\xFF', '\xEF', '\xBB', '\xBF'};
  Options opts;
  opts.max_record_bytes = 12;
  for (int iter = 0; iter < 200; ++iter) {
    std::string input;
    const int len = static_cast<int>(rng() % 40);
    for (int k = 0; k < len; ++k) input += alphabet[rng() % sizeof alphabet];
    expect_split_invariant(input, opts);
  }
}

}  // namespace
}  // namespace catalog::csv
