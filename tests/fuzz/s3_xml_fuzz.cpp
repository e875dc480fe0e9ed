// S3 XML bodies (src/s3/s3_xml.cpp): ListObjectsV2 pages, error bodies and the
// multipart upload answers, any bytes. Properties: a body that is not a
// ListBucketResult is an S3Error "MalformedXML" (never another exception);
// escape() output parses back to its input inside an element.
#include <cstdint>
#include <string>

#include <tinyxml2.h>

#include "catalog/s3/object_store.hpp"
#include "fuzz_support.hpp"
#include "s3/s3_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  namespace xml = catalog::s3::xml;
  try {
    (void)xml::parse_list_objects_v2(body, "ListObjectsV2 s3://fuzz/");
  } catch (const catalog::s3::S3Error& e) {
    if (e.code() != "MalformedXML") catalog::fuzz::finding("unexpected S3Error code " + e.code());
  }
  (void)xml::parse_error_body(body);
  (void)xml::parse_upload_id(body);
  (void)xml::parse_complete_etag(body);

  // What CompleteMultipartUpload sends: an ETag escaped into element text must
  // read back unchanged. Only printable ASCII with something besides spaces
  // is compared: XML forbids control characters, normalises line ends and
  // tinyxml2 drops whitespace-only text.
  bool plain = body.find_first_not_of(' ') != std::string_view::npos;
  for (char c : body) plain = plain && c >= 0x20 && c < 0x7f;
  if (plain) {
    const std::string doc = "<E>" + xml::escape(body) + "</E>";
    tinyxml2::XMLDocument parsed;
    if (parsed.Parse(doc.data(), doc.size()) == tinyxml2::XML_SUCCESS && parsed.FirstChildElement("E") != nullptr) {
      const char* text = parsed.FirstChildElement("E")->GetText();
      if (std::string(text == nullptr ? "" : text) != body) {
        catalog::fuzz::finding("escape() does not round-trip: " + std::string(body.substr(0, 100)));
      }
    }
  }
  return 0;
}
