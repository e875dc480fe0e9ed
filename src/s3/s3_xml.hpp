#pragma once

// The XML bodies S3 sends and the one the client sends (CompleteMultipartUpload),
// apart from the transport so they can be tested and fuzzed without a server.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html

#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/s3/object_store.hpp"

namespace catalog::s3::xml {

/// <Error><Code/><Message/><RequestId/></Error>; all empty when the body is
/// empty, not XML or not an Error document.
struct ErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
};
ErrorBody parse_error_body(std::string_view body);

/// A ListBucketResult page. Throws S3Error(`context`: malformed XML in the
/// response / unexpected XML document, 200, "MalformedXML") otherwise.
ListPage parse_list_objects_v2(std::string_view body, const std::string& context);

/// InitiateMultipartUploadResult/UploadId; empty when absent or not XML.
std::string parse_upload_id(std::string_view body);

/// CompleteMultipartUploadResult/ETag; empty when absent or not XML.
std::string parse_complete_etag(std::string_view body);

/// Escapes & < > " for element text.
std::string escape(std::string_view text);

/// A decimal size or length; 0 when empty, signed, or not only digits.
std::uint64_t parse_u64(const std::string& text);

}  // namespace catalog::s3::xml
