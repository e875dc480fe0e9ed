#pragma once
// Google Merchant Center feeds as partners export them (RSS 2.0 XML, TSV,
// NDJSON), the same `n` products in each: G-1..G-n, "Widget <i> & Co".

#include <string>

namespace catalog::testing {

/// `n` Google Merchant products as RSS 2.0 items, plus `extra` items verbatim.
inline std::string merchant_xml(int n, const std::string& extra = "") {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
<channel>
<title>Acme</title>
)";
  for (int i = 1; i <= n; ++i) {
    const std::string id = std::to_string(i);
    xml += "<item>\n<g:id>G-" + id + "</g:id>\n<title>Widget " + id + " &amp; Co</title>\n" +
           "<description><![CDATA[Fits <b>everything</b>]]></description>\n" +
           "<link>https://acme.example/p/" + id + "</link>\n<g:price>1,2" + std::to_string(10 + i % 90) +
           ".50 USD</g:price>\n<g:availability>in stock</g:availability>\n<g:brand>Acme</g:brand>\n" +
           "<g:google_product_category>Hardware &gt; Tools</g:google_product_category>\n" +
           "<g:shipping><g:country>US</g:country><g:price>4.95 USD</g:price></g:shipping>\n</item>\n";
  }
  return xml + extra + "</channel>\n</rss>\n";
}

/// The same products as a Google Merchant TSV feed.
inline std::string merchant_tsv(int n) {
  std::string tsv = "id\ttitle\tdescription\tlink\tprice\tavailability\tbrand\tgoogle_product_category\tshipping\n";
  for (int i = 1; i <= n; ++i) {
    const std::string id = std::to_string(i);
    tsv += "G-" + id + "\tWidget " + id + " & Co\tFits <b>everything</b>\thttps://acme.example/p/" + id + "\t1,2" +
           std::to_string(10 + i % 90) + ".50 USD\tin_stock\tAcme\tHardware > Tools\t" +
           R"({"country":"US","price":"4.95 USD"})" + "\n";
  }
  return tsv;
}

/// And as NDJSON (prices as numbers, availability as Google spells it).
inline std::string merchant_ndjson(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    const std::string id = std::to_string(i);
    out += R"({"id":"G-)" + id + R"(","title":"Widget )" + id + R"( & Co","description":"Fits <b>everything</b>",)" +
           R"("link":"https://acme.example/p/)" + id + R"(","price":"USD 1,2)" + std::to_string(10 + i % 90) +
           R"(.50","availability":"In Stock","brand":"Acme","google_product_category":"Hardware > Tools",)" +
           R"("shipping":{"country":"US","price":"4.95 USD"}})" + "\n";
  }
  return out;
}

}  // namespace catalog::testing
