#include "s3/s3_xml.hpp"

#include <charconv>
#include <exception>

#include <tinyxml2.h>

namespace catalog::s3::xml {
namespace {

const tinyxml2::XMLElement* child(const tinyxml2::XMLElement* e, const char* name) {
  return e == nullptr ? nullptr : e->FirstChildElement(name);
}

std::string child_text(const tinyxml2::XMLElement* e, const char* name) {
  const auto* c = child(e, name);
  return c != nullptr && c->GetText() != nullptr ? std::string(c->GetText()) : std::string();
}

// The named child of the root element `root`, or "" when the body is not that document.
std::string document_text(std::string_view body, const char* root, const char* name) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(body.data(), body.size()) != tinyxml2::XML_SUCCESS) return {};
  return child_text(doc.FirstChildElement(root), name);
}

}  // namespace

ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  if (body.empty()) return out;
  tinyxml2::XMLDocument doc;
  if (doc.Parse(body.data(), body.size()) != tinyxml2::XML_SUCCESS) return out;
  const auto* root = doc.FirstChildElement("Error");
  if (root == nullptr) return out;
  out.code = child_text(root, "Code");
  out.message = child_text(root, "Message");
  out.request_id = child_text(root, "RequestId");
  return out;
}

ListPage parse_list_objects_v2(std::string_view body, const std::string& context) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(body.data(), body.size()) != tinyxml2::XML_SUCCESS) {
    throw S3Error(context + ": malformed XML in the response", 200, "MalformedXML");
  }
  const auto* root = doc.FirstChildElement("ListBucketResult");
  if (root == nullptr) throw S3Error(context + ": unexpected XML document", 200, "MalformedXML");
  ListPage page;
  for (const auto* c = root->FirstChildElement("Contents"); c != nullptr; c = c->NextSiblingElement("Contents")) {
    ObjectInfo o;
    o.key = child_text(c, "Key");
    o.size = parse_u64(child_text(c, "Size"));
    o.etag = child_text(c, "ETag");
    o.last_modified = child_text(c, "LastModified");
    page.objects.push_back(std::move(o));
  }
  for (const auto* p = root->FirstChildElement("CommonPrefixes"); p != nullptr;
       p = p->NextSiblingElement("CommonPrefixes")) {
    page.common_prefixes.push_back(child_text(p, "Prefix"));
  }
  page.truncated = child_text(root, "IsTruncated") == "true";
  page.next_continuation_token = child_text(root, "NextContinuationToken");
  return page;
}

std::string parse_upload_id(std::string_view body) {
  return document_text(body, "InitiateMultipartUploadResult", "UploadId");
}

std::string parse_complete_etag(std::string_view body) {
  return document_text(body, "CompleteMultipartUploadResult", "ETag");
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::uint64_t parse_u64(const std::string& text) {
  // Digits only: std::stoull would take "-1" as 2^64 - 1 and "12abc" as 12.
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end ? value : 0;
}

}  // namespace catalog::s3::xml
