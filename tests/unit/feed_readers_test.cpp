// The format readers (src/feeds): records, line numbers, hostile XML.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/feeds/record_reader.hpp"
#include "feeds/parallel_xml_reader.hpp"

using catalog::feeds::Format;
using catalog::feeds::FormatError;

namespace {

struct Rec {
  std::uint64_t line;
  std::vector<std::string> fields;
  std::string error;
  bool operator==(const Rec& o) const { return line == o.line && fields == o.fields && error == o.error; }
};

void PrintTo(const Rec& r, std::ostream* os) {
  *os << "line " << r.line << " [";
  for (const std::string& f : r.fields) *os << f << "|";
  *os << "] " << r.error;
}

/// Reads `text` in chunks of `chunk` bytes (1 = byte by byte) and returns every record.
std::vector<Rec> read_all(Format format, const std::string& text, std::size_t chunk = 7,
                          std::size_t max_record_bytes = 1 << 20,
                          std::size_t xml_piece_bytes = catalog::feeds::ReaderOptions{}.xml_piece_bytes) {
  std::vector<Rec> out;
  catalog::feeds::ReaderOptions options;
  options.max_record_bytes = max_record_bytes;
  options.xml_piece_bytes = xml_piece_bytes;
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

namespace {

/// What a reader made of a document: its records, then its error if it failed.
struct Outcome {
  std::vector<Rec> records;
  std::string error;
};

Outcome read_outcome(const std::string& text, std::size_t chunk, std::size_t piece_bytes,
                     std::size_t max_record_bytes = 1 << 20) {
  Outcome out;
  catalog::feeds::ReaderOptions options;
  options.max_record_bytes = max_record_bytes;
  options.xml_piece_bytes = piece_bytes;
  auto reader = catalog::feeds::make_record_reader(Format::xml, options, [&](const catalog::csv::Record& r) {
    out.records.push_back(Rec{r.line, {r.fields.begin(), r.fields.end()}, r.error});
  });
  try {
    for (std::size_t i = 0; i < text.size(); i += chunk) reader->feed(std::string_view(text).substr(i, chunk));
    reader->finish();
  } catch (const FormatError& e) {
    out.error = e.what();  // after the records handed on before it
  }
  return out;
}

/// " at line L, column C; nothing was applied": where an error is.
std::string error_position(const std::string& error) { return error.substr(std::min(error.rfind(" at line "), error.size())); }

/// Every record and error of `text` read in pieces equals what one reader
/// on one thread says (piece_bytes 0), whatever the download's chunks.
/// `same_words`: libxml2's own wording of some errors depends on how the
/// bytes were cut, on one thread too; then only the position must agree.
void expect_pieces_read_as_one(const std::string& text, std::size_t max_record_bytes = 1 << 20,
                               bool same_words = true) {
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    const Outcome one = read_outcome(text, chunk, 0, max_record_bytes);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{60}, std::size_t{1024}}) {
      const Outcome split = read_outcome(text, chunk, piece, max_record_bytes);
      if (same_words) {
        EXPECT_EQ(split.error, one.error) << "piece " << piece << ", chunk " << chunk << "\n" << text;
      } else {
        EXPECT_EQ(split.error.empty(), one.error.empty());
        EXPECT_EQ(error_position(split.error), error_position(one.error)) << "piece " << piece << ", chunk " << chunk;
      }
      ASSERT_EQ(split.records.size(), one.records.size()) << "piece " << piece << ", chunk " << chunk << "\n" << text;
      for (std::size_t i = 0; i < one.records.size(); ++i) {
        EXPECT_EQ(split.records[i], one.records[i])
            << "record " << i << " (line " << one.records[i].line << "), piece " << piece << ", chunk " << chunk;
      }
    }
  }
}

}  // namespace

TEST(FeedXmlPieces, WellFormedFeedsReadInPiecesAsOneReaderReadsThem) {
  expect_pieces_read_as_one(kRss);
  // Markup that holds "</item>" or '>' without ending anything; items below
  // another element at the items' depth; an empty item; a prefixed item.
  expect_pieces_read_as_one(R"(<?xml version="1.0" encoding="utf-8"?>
<rss
  version="2.0"
  xmlns:g="http://base.google.com/ns/1.0"><channel><title>T</title>
<!-- </item><item> --><?pi </item> ?>
<item><g:id>A</g:id><description><![CDATA[ </item></channel> ]]></description></item><item><g:id a="x>y" b='/>'>B</g:id></item>
<item/>
<group><item><g:id>C</g:id></item></group>
<item><g:id>N</g:id><item><g:id>inner</g:id><item/></item><item >x</item ></item>
  <g:item><g:id>D</g:id><title>Caf&#233; 日本 &lt;x&gt;</title></g:item>
  </channel>
</rss>
)");
  // Atom with a default namespace; CRLF line ends; a byte order mark.
  expect_pieces_read_as_one("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                            "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:g=\"http://base.google.com/ns/1.0\">\r\n"
                            "<entry><id>x</id><g:id>A</g:id><link href=\"https://a.example/?a=1&amp;b=2\"/></entry>\r\n"
                            "<entry><g:id>B</g:id></entry>\r\n</feed>\r\n");
  // Encodings other than UTF-8 are read on one thread, with the same result.
  expect_pieces_read_as_one("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss><channel>\n"
                            "<item><title>caf\xE9</title></item>\n<item><title>b</title></item></channel></rss>");
  // An item longer than the limit is a reject and the next one is read.
  expect_pieces_read_as_one("<rss><channel>\n<item><title>" + std::string(3000, 'x') +
                                "</title></item>\n<item><title>ok</title></item>\n</channel></rss>",
                            1000);
  expect_pieces_read_as_one("<rss><channel><title>no items</title></channel></rss>");
}

TEST(FeedXmlPieces, MalformedFeedsFailWithTheErrorAndLineOneReaderNames) {
  const std::string items = "<item><title>A</title></item>\n<item><title>B</title></item>\n";
  const auto doc = [&](const std::string& middle) {
    return "<?xml version=\"1.0\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n" + items + middle +
           items + "</channel>\n</rss>\n";
  };
  expect_pieces_read_as_one(doc("<item><title>C</titel></item>\n"));
  expect_pieces_read_as_one(doc("<item><title>C</title></item><item><title>D &nbsp;</title></item>\n"));
  expect_pieces_read_as_one(doc("<item><title>C</title>\n"));       // never closed
  expect_pieces_read_as_one(doc("<item><title a=\"1\" a=\"2\">C</title></item>\n"));
  expect_pieces_read_as_one(doc("<item><!DOCTYPE x><title>C</title></item>\n"));
  expect_pieces_read_as_one(doc("<item><title>C</title></item></rss><item>\n"));
  expect_pieces_read_as_one(doc("<item><title>\x01</title></item>\n"));
  expect_pieces_read_as_one(doc("<item><title a=\"</item>\">C</title></item>\n"));
  expect_pieces_read_as_one(doc("<item><title>C</title></item  x>\n"));
  expect_pieces_read_as_one(doc("<item><title>\xC3(</title></item>\n"), 1 << 20, false);  // not UTF-8
  expect_pieces_read_as_one("<rss><channel>&nbsp;<item><title>A</title></item></channel></rss>");
  expect_pieces_read_as_one("<rss><channel>\n" + items + "<item><title>trunc");
  expect_pieces_read_as_one("<rss><channel>\n" + items + "</channel></rss><rss>");
  expect_pieces_read_as_one("<item><title>A</title></item><item><title>B</title></item>");  // two roots
  expect_pieces_read_as_one("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY e \"<item>\">]>\n<r>" + items + "</r>");
  // The prolog's end held back by libxml2 (an unfinished reference, a '<'
  // hiding a tag's end): its error comes first, at its own line.
  expect_pieces_read_as_one("<rss>&<channel>\n" + items + items + "</channel></rss>\n");
  expect_pieces_read_as_one("<r>\n<c a=\"<\" b=\"x\">\n" + items + "</c></r>");
  expect_pieces_read_as_one("<a><item><x>1</x></item>\n<item><x>2</x></item>&</a>");
  // A byte order mark takes no column.
  expect_pieces_read_as_one("\xEF\xBB\xBF<r><c><item><t>&</t></item></c></r>");
  expect_pieces_read_as_one("\xEF\xBB\xBF<r><c><item><t>1</t></item><item><t>2</t></item>&</c></r>");
  // libxml2 goes on after a namespace error: no record after it either way.
  expect_pieces_read_as_one("<rss><channel>\n<item><a>1</a></item>\n<item><b:a>2</b:a></item>\n" + items +
                            "</channel></rss>");
  expect_pieces_read_as_one("<rss xmlns:g=\"u 2\"><channel>\n" + items + "</channel></rss>");
}

TEST(FeedXmlPieces, AnEmptyFirstItemIsKeptWhenThePieceIsFullAtOnce) {
  // The piece could end after <item/> before the prolog had been handed on.
  expect_pieces_read_as_one("<rss><channel><item/>\n<item><t>2</t></item>\n</channel></rss>");
  expect_pieces_read_as_one("<rss><channel>" + std::string(300, ' ') +
                            "<item/>\n<item><t>2</t></item>\n</channel></rss>");
  const Outcome split = read_outcome("<rss><channel><item/>\n<item><t>2</t></item>\n</channel></rss>", 1, 1);
  EXPECT_EQ(split.records.size(), 2u);
}

TEST(FeedXmlPieces, ATagCutByTheDownloadIsSearchedFromItsStart) {
  // A nested item of the same name, a processing instruction or a comment
  // whose end arrives while the splitter waited for enough bytes to look
  // at: missing it found a false end of the item.
  expect_pieces_read_as_one("<r><c><item><item><item>a</item></item></item>\n<item><t>2</t></item>\n</c></r>");
  expect_pieces_read_as_one("<r><c><item><?a?>x<item><?b?></item></item>\n<item><t>3</t></item>\n</c></r>");
  expect_pieces_read_as_one(
      "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\"><a:entry><!--x-->y<a:entry><!--z--></a:entry></a:entry>\n"
      "<a:entry><a:id>3</a:id></a:entry>\n</a:feed>");
  expect_pieces_read_as_one(
      "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\"><a:entry><![CDATA[]]><a:entry/></a:entry>\n"
      "<a:entry><a:id>3</a:id></a:entry>\n</a:feed>");
}

TEST(FeedXmlPieces, ErrorColumnsAgreeWhereLibxml2CountsBytes) {
  // libxml2 counts a column in bytes in CDATA and end tags, in characters
  // elsewhere: a piece starts a line, so no column is carried into it.
  expect_pieces_read_as_one("<r><c><item><d><![CDATA[\xC3\xA9\xC3\xA9]]></d></item><item><d>&bad;</d></item></c></r>");
  expect_pieces_read_as_one("<r><c><d><![CDATA[\xC3\xA9\xC3\xA9]]></d><item><d>&bad;</d></item>\n"
                            "<item><t>1</t></item>\n</c></r>");
  expect_pieces_read_as_one(
      "<r><c><d><![CDATA[\xC3\xA9]]></d>\n<item><d>&bad;</d></item>\n<item><t>1</t></item>\n</c></r>");
  expect_pieces_read_as_one("<r><c><item><pr\xC3\xA9is>1</pr\xC3\xA9is></item>\n"
                            "<item><pr\xC3\xA9is>2</pr\xC3\xA9is><d>&bad;</d></item>\n</c></r>");
  // A feed on one line: the same error and column as one reader.
  std::string line = "<?xml version=\"1.0\"?><rss><channel>";
  for (int i = 0; i < 3000; ++i) {
    line += "<item><id>" + std::to_string(i) + "</id><d><![CDATA[Caf\xC3\xA9 cr\xC3\xA8me]]></d></item>";
  }
  line += "<item><id>x</id><d>a & b</d></item></channel></rss>";
  const Outcome one = read_outcome(line, 65536, 0);
  ASSERT_NE(one.error, "");
  const Outcome split = read_outcome(line, 65536, 16384);
  EXPECT_EQ(split.error, one.error);
  EXPECT_EQ(split.records.size(), one.records.size());
}

TEST(FeedXmlPieces, ACallbackWithStateSeesEveryRecord) {
  std::string doc = "<rss><channel>\n";
  for (int i = 0; i < 10; ++i) doc += "<item><t>" + std::to_string(i) + "</t></item>\n";
  // The last item shares its line with the items' parent's end, which ends
  // the split: the document's own reader hands it on.
  doc += "<item><t>x</t></item></channel></rss>";
  std::vector<int> seen;
  catalog::feeds::ParallelXmlReader reader(
      1 << 20, 1, [&seen, n = 0](const catalog::csv::Record&) mutable { seen.push_back(++n); });
  reader.feed(doc);
  reader.finish();
  ASSERT_EQ(seen.size(), 11u);
  EXPECT_EQ(seen.back(), 11) << "one callback counted every record";
}

TEST(FeedXmlPieces, ManyShortCommentsAreNotOneEndlessToken) {
  // What the parser holds unparsed counts, not how the bytes were cut: 1.3 MB
  // of empty comments between items, with a 1 MiB + 4,000 byte bound.
  std::string doc = "<r><c><item><t>1</t></item>";
  for (int i = 0; i < 190'000; ++i) doc += "<!---->";
  doc += "<item><t>2</t></item></c></r>";
  const Outcome one = read_outcome(doc, 65536, 0, 1000);
  EXPECT_EQ(one.error, "");
  EXPECT_EQ(one.records.size(), 2u);
  for (const std::size_t piece : {std::size_t{60}, std::size_t{256} << 10}) {
    const Outcome split = read_outcome(doc, 65536, piece, 1000);
    EXPECT_EQ(split.error, one.error);
    EXPECT_EQ(split.records.size(), one.records.size());
  }
}

TEST(FeedXmlPieces, ALargeFeedReadsTheSameOnEveryThreadAndStopsAtItsFirstError) {
  std::string feed = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n"
                     "<channel>\n<title>Big</title>\n";
  for (int i = 0; i < 3000; ++i) {
    feed += "<item>\n  <g:id>SKU-" + std::to_string(i) + "</g:id>\n  <title>Item " + std::to_string(i) +
            (i % 7 == 0 ? " &amp; co" : "") + "</title>\n";
    if (i % 11 == 0) feed += "  <!-- a comment </item> -->\n  <g:shipping><g:country>US</g:country></g:shipping>\n";
    feed += "  <g:price>" + std::to_string(i) + ".50 USD</g:price>\n</item>\n";
  }
  const std::string good = feed + "</channel>\n</rss>\n";
  const Outcome one = read_outcome(good, 65536, 0);
  ASSERT_EQ(one.error, "");
  ASSERT_EQ(one.records.size(), 3000u);
  for (const std::size_t piece : {std::size_t{512}, std::size_t{16384}}) {
    const Outcome split = read_outcome(good, 65536, piece);
    EXPECT_EQ(split.error, "");
    ASSERT_EQ(split.records.size(), 3000u);
    for (std::size_t i = 0; i < 3000; ++i) ASSERT_EQ(split.records[i], one.records[i]) << "record " << i;
  }
  // A mistake near the end: the records before it, then the same error.
  const std::size_t at = feed.rfind("<item>", feed.size() - 2000);
  std::string bad = good;
  bad.replace(feed.find("</title>", at), 8, "</titel>");
  const Outcome one_bad = read_outcome(bad, 65536, 0);
  ASSERT_NE(one_bad.error, "");
  const Outcome split_bad = read_outcome(bad, 65536, 512);
  EXPECT_EQ(split_bad.error, one_bad.error);
  EXPECT_EQ(split_bad.records.size(), one_bad.records.size());
}
