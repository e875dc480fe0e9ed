// The format readers (src/feeds): records, line numbers, hostile XML.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/feeds/record_reader.hpp"

using catalog::feeds::Format;
using catalog::feeds::FormatError;

namespace {

struct Rec {
  std::uint64_t line;
  std::vector<std::string> fields;
  std::string error;
};

/// Reads `text` in chunks of `chunk` bytes (1 = byte by byte) and returns every record.
std::vector<Rec> read_all(Format format, const std::string& text, std::size_t chunk = 7,
                          std::size_t max_record_bytes = 1 << 20) {
  std::vector<Rec> out;
  catalog::feeds::ReaderOptions options;
  options.max_record_bytes = max_record_bytes;
  auto reader = catalog::feeds::make_record_reader(format, options, [&](const catalog::csv::Record& r) {
    out.push_back(Rec{r.line, {r.fields.begin(), r.fields.end()}, r.error});
  });
  for (std::size_t i = 0; i < text.size(); i += chunk) reader->feed(std::string_view(text).substr(i, chunk));
  reader->finish();
  return out;
}

std::string read_error(Format format, const std::string& text) {
  try {
    read_all(format, text, 64);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

/// The value of `name` in a keyed record, or "(absent)".
std::string value_of(const Rec& r, const std::string& name) {
  for (std::size_t i = 0; i + 1 < r.fields.size(); i += 2) {
    if (r.fields[i] == name) return r.fields[i + 1];
  }
  return "(absent)";
}

const std::string kRss = R"(<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
  <channel>
    <title>Acme store</title>
    <link>https://acme.example</link>
    <description>Every Acme product</description>
    <item>
      <g:id>A-1</g:id>
      <title>Widget &amp; Co &#233;t&#xE9;</title>
      <description><![CDATA[A <b>nice</b> widget]]></description>
      <link>https://acme.example/a1</link>
      <g:price>15.00 USD</g:price>
      <g:availability>in stock</g:availability>
      <g:shipping>
        <g:country>US</g:country>
        <g:service>Standard</g:service>
        <g:price>4.95 USD</g:price>
      </g:shipping>
      <g:additional_image_link>https://acme.example/1.jpg</g:additional_image_link>
      <g:additional_image_link>https://acme.example/2.jpg</g:additional_image_link>
    </item>
    <item>
      <g:id>A-2</g:id>
      <g:title>Gadget (g: wins)</g:title>
      <title>Gadget (plain)</title>
    </item>
  </channel>
</rss>
)";

}  // namespace

TEST(FeedFormat, DefaultFromTheObjectName) {
  using catalog::feeds::format_for_object;
  EXPECT_EQ(format_for_object("raw/a/feed.csv"), Format::csv);
  EXPECT_EQ(format_for_object("feed"), Format::csv);
  EXPECT_EQ(format_for_object("feed.tsv"), Format::tsv);
  EXPECT_EQ(format_for_object("feed.TXT.gz"), Format::tsv);
  EXPECT_EQ(format_for_object("feed.ndjson"), Format::ndjson);
  EXPECT_EQ(format_for_object("feed.jsonl.gz"), Format::ndjson);
  EXPECT_EQ(format_for_object("products.xml.gz"), Format::xml);
  EXPECT_EQ(format_for_object("products.xml.zip"), Format::csv);
  EXPECT_EQ(catalog::feeds::parse_format("xml"), Format::xml);
  EXPECT_FALSE(catalog::feeds::parse_format("XML"));
  EXPECT_FALSE(catalog::feeds::parse_format("json"));
}

TEST(FeedTsv, TabDelimitedWithHeader) {
  const auto recs = read_all(Format::tsv, "id\ttitle\tprice\nA-1\tWidget, large\t1,299.99 USD\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"A-1", "Widget, large", "1,299.99 USD"}));
  EXPECT_EQ(recs[1].line, 2u);
}

TEST(FeedNdjson, ObjectsBecomeNameValuePairsWithExactNumbers) {
  const auto recs = read_all(
      Format::ndjson,
      "{\"sku\":\"A-1\",\"price\":15,\"cost\":1.10,\"big\":123456789012345678901234567890,\"on_sale\":true,"
      "\"gone\":null,\"tags\":[\"a\", 1.50, {\"k\": null}],\"dims\":{\"w\": 2.0, \"h\":[]}}\r\n");
  ASSERT_EQ(recs.size(), 1u);
  const Rec& r = recs[0];
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.line, 1u);
  EXPECT_EQ(value_of(r, "sku"), "A-1");
  EXPECT_EQ(value_of(r, "price"), "15");
  EXPECT_EQ(value_of(r, "cost"), "1.10");  // the source text, not a double's
  EXPECT_EQ(value_of(r, "big"), "123456789012345678901234567890");
  EXPECT_EQ(value_of(r, "on_sale"), "true");
  EXPECT_EQ(value_of(r, "gone"), "");
  EXPECT_EQ(value_of(r, "tags"), "[\"a\",1.50,{\"k\":null}]");
  EXPECT_EQ(value_of(r, "dims"), "{\"w\":2.0,\"h\":[]}");
}

TEST(FeedNdjson, ALineThatIsNotAnObjectIsARejectWithItsLine) {
  const auto recs = read_all(Format::ndjson,
                             "{\"sku\":\"A\"}\n\n[1,2]\n{\"sku\":\"B\"\n\"text\"\n{\"sku\":\"C\"} trailing\n{\"sku\":\"D\"}",
                             3);
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[0].error, "");
  EXPECT_EQ(recs[1].line, 3u);  // the blank line 2 is skipped but counted
  EXPECT_NE(recs[1].error.find("not a JSON object"), std::string::npos) << recs[1].error;
  EXPECT_EQ(recs[2].line, 4u);
  EXPECT_NE(recs[2].error.find("not a JSON object"), std::string::npos);
  EXPECT_EQ(recs[3].line, 5u);
  EXPECT_NE(recs[3].error, "");
  EXPECT_EQ(recs[4].line, 6u);
  EXPECT_NE(recs[4].error, "");
  EXPECT_EQ(recs[5].line, 7u);
  EXPECT_EQ(recs[5].error, "");
  EXPECT_EQ(value_of(recs[5], "sku"), "D");
}

TEST(FeedNdjson, OverlongAndOverdeepLinesAreRejectsAndReadingGoesOn) {
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  const auto recs = read_all(Format::ndjson, "{\"sku\":\"" + std::string(1100, 'x') + "\"}\n" + deep + "\n{\"sku\":\"B\"}\n",
                             5, 1000);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_NE(recs[0].error.find("longer than 1000 bytes"), std::string::npos) << recs[0].error;
  EXPECT_NE(recs[1].error.find("nested deeper than 64"), std::string::npos) << recs[1].error;
  EXPECT_EQ(value_of(recs[2], "sku"), "B");
}

TEST(FeedXml, RssItemsWithGoogleAttributes) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{13}, std::size_t{4096}}) {
    const auto recs = read_all(Format::xml, kRss, chunk);
    ASSERT_EQ(recs.size(), 2u);
    const Rec& a = recs[0];
    EXPECT_EQ(a.line, 7u);  // where <item> starts
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(value_of(a, "id"), "A-1");
    EXPECT_EQ(value_of(a, "title"), "Widget & Co \xC3\xA9t\xC3\xA9");  // predefined and numeric entities
    EXPECT_EQ(value_of(a, "description"), "A <b>nice</b> widget");     // CDATA, literally
    EXPECT_EQ(value_of(a, "link"), "https://acme.example/a1");
    EXPECT_EQ(value_of(a, "price"), "15.00 USD");
    EXPECT_EQ(value_of(a, "shipping"), R"({"country":"US","service":"Standard","price":"4.95 USD"})");
    EXPECT_EQ(value_of(a, "additional_image_link"), R"(["https://acme.example/1.jpg","https://acme.example/2.jpg"])");
    EXPECT_EQ(recs[1].line, 22u);
    EXPECT_EQ(value_of(recs[1], "title"), "Gadget (g: wins)");
  }
}

TEST(FeedXml, AtomEntries) {
  const auto recs = read_all(Format::xml, R"(<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
  <title>Acme</title>
  <entry>
    <id>tag:acme.example,2026:a1</id>
    <g:id>A-1</g:id>
    <title>Widget</title>
    <summary>A widget</summary>
    <link href="https://acme.example/a1"/>
    <g:price>USD 15.00</g:price>
  </entry>
</feed>)");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].line, 4u);
  EXPECT_EQ(value_of(recs[0], "id"), "A-1");  // g:id wins over Atom's id
  EXPECT_EQ(value_of(recs[0], "summary"), "A widget");
  EXPECT_EQ(value_of(recs[0], "link"), "https://acme.example/a1");
}

TEST(FeedXml, AnHrefWithEscapedAmpersandsAndAnXml11DeclarationReadAsWritten) {
  // XML 1.1 is only a warning to the parser: the feed is read, not refused.
  const auto recs = read_all(Format::xml, R"(<?xml version="1.1"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry>
    <id>A-1</id>
    <link href="https://acme.example/p?id=1&amp;utm=x&#38;y=&lt;2&gt;&amp;#38;"/>
    <title>Fish &amp; chips</title>
  </entry>
</feed>)");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(value_of(recs[0], "link"), "https://acme.example/p?id=1&utm=x&y=<2>&#38;");
  EXPECT_EQ(value_of(recs[0], "title"), "Fish & chips");
}

TEST(FeedXml, BytesTheDeclaredEncodingCannotReadNameTheProblemAndPrintNothing) {
  ::testing::internal::CaptureStderr();
  const auto error = read_error(Format::xml,
                                "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<rss><channel>\n"
                                "<item><title>caf\x81</title></item></channel></rss>");
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(error.find("XML feed is malformed: "), std::string::npos) << error;
  EXPECT_EQ(error.find("libxml2 error"), std::string::npos) << "the parser's own words: " << error;
  EXPECT_NE(error.find("conversion failed"), std::string::npos) << error;
  EXPECT_EQ(printed, "") << "libxml2 wrote to the process's stderr";
}

TEST(FeedXml, BillionLaughsFailsWithoutExpanding) {
  std::string doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  for (int i = 1; i < 10; ++i) {
    doc += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) doc += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    doc += "\">\n";
  }
  doc += "]>\n<rss><channel><item><g:id xmlns:g=\"http://base.google.com/ns/1.0\">&lol9;</g:id></item></channel></rss>\n";
  const auto error = read_error(Format::xml, doc);
  EXPECT_NE(error.find("DOCTYPE declaration is not accepted"), std::string::npos) << error;
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

TEST(FeedXml, ExternalEntitiesAndDtdsAreNeverLoaded) {
  const auto xxe = read_error(Format::xml,
                              "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                              "<rss><channel><item><title>&xxe;</title></item></channel></rss>");
  EXPECT_NE(xxe.find("DOCTYPE declaration is not accepted"), std::string::npos) << xxe;
  EXPECT_EQ(xxe.find("root:"), std::string::npos);
  const auto dtd = read_error(Format::xml,
                              "<?xml version=\"1.0\"?>\n<!DOCTYPE rss SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n"
                              "<rss><channel><item><title>&ext;</title></item></channel></rss>");
  EXPECT_NE(dtd.find("DOCTYPE declaration is not accepted"), std::string::npos) << dtd;
  // Without a DTD an unknown entity is simply malformed.
  const auto undefined = read_error(Format::xml, "<rss><channel>\n<item><title>&xxe;</title></item></channel></rss>");
  EXPECT_NE(undefined.find("Entity 'xxe' not defined at line 2"), std::string::npos) << undefined;
}

TEST(FeedXml, MalformedDocumentNamesTheParserErrorAndLine) {
  const auto error = read_error(Format::xml, "<rss>\n<channel>\n<item><title>A</titel></item>\n</channel></rss>");
  EXPECT_NE(error.find("XML feed is malformed: Opening and ending tag mismatch: title line 3 and titel at line 3"),
            std::string::npos)
      << error;
  const auto truncated = read_error(Format::xml, "<rss>\n<channel>\n<item><title>A</title></item>\n");
  EXPECT_NE(truncated.find("XML feed is malformed"), std::string::npos) << truncated;
}

TEST(FeedXml, AnOverlongItemIsARejectAndTheNextOneIsRead) {
  const std::string doc = "<rss><channel>\n<item><title>" + std::string(5000, 'x') +
                          "</title></item>\n<item><title>ok</title></item>\n</channel></rss>";
  const auto recs = read_all(Format::xml, doc, 100, 1000);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].line, 2u);
  EXPECT_NE(recs[0].error.find("item longer than 1000 bytes"), std::string::npos);
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_EQ(value_of(recs[1], "title"), "ok");
}

TEST(FeedXml, AnEndlessTagFailsInsteadOfGrowing) {
  std::string doc = "<rss><channel><item><title a=\"";
  doc += std::string(3 << 20, 'x');
  catalog::feeds::ReaderOptions options;
  options.max_record_bytes = 1000;
  auto reader = catalog::feeds::make_record_reader(Format::xml, options, [](const catalog::csv::Record&) {});
  EXPECT_THROW(
      {
        for (std::size_t i = 0; i < doc.size(); i += 65536) reader->feed(std::string_view(doc).substr(i, 65536));
      },
      FormatError);
}

TEST(FeedXml, ACallbackExceptionPropagates) {
  catalog::feeds::ReaderOptions options;
  auto reader = catalog::feeds::make_record_reader(Format::xml, options, [](const catalog::csv::Record&) {
    throw std::runtime_error("too many rejects");
  });
  EXPECT_THROW(reader->feed(kRss), std::runtime_error);
}
