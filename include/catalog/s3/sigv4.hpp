#pragma once

// AWS Signature Version 4 as one pure function: every input is explicit and the
// output is the headers to add, plus the intermediate strings for tests.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/s3/credentials.hpp"

namespace catalog::s3 {

/// x-amz-content-sha256 value for bodies that are streamed and not hashed.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// RFC 3986 percent-encoding as SigV4 defines it: everything except
/// A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase hex, UTF-8 bytes). With
/// `keep_slash`, '/' is left alone (object key paths). Never decodes first:
/// a '%' in the input is encoded to %25, so nothing is double-decoded.
std::string uri_encode(std::string_view raw, bool keep_slash);

/// Percent-decoding of %XX sequences. '+' stays '+' (it is not a space in SigV4).
std::string uri_decode(std::string_view encoded);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// One query parameter, *decoded* (raw bytes). An empty value signs as `name=`.
struct QueryParam {
  std::string name;
  std::string value;
};

/// Splits an encoded query string ("a=1&b=%20") into decoded parameters.
std::vector<QueryParam> parse_query(std::string_view encoded_query);

/// Canonical query string: each name and value strictly encoded, sorted by
/// encoded name then value, joined with '&'. This exact string is also what the
/// client puts on the wire, so the URL sent is the URL signed.
std::string canonical_query_string(const std::vector<QueryParam>& params);

/// "YYYYMMDDTHHMMSSZ" in UTC.
std::string amz_date(std::chrono::system_clock::time_point t);

/// Everything the signature depends on.
struct SigningInput {
  std::string method;          ///< "GET", "PUT", ...
  std::string canonical_path;  ///< already encoded, e.g. "/bucket/my%20key" (S3: no normalisation)
  std::vector<QueryParam> query;  ///< decoded parameters
  std::string host;            ///< Host header value, with ":port" when not the scheme default
  HeaderList headers;          ///< other headers to sign (any case); host and x-amz-* the signer owns are added
  std::string region;          ///< "us-east-1"
  std::string service = "s3";
  std::chrono::system_clock::time_point time;
  std::string payload_hash;    ///< lowercase hex SHA-256 of the body, or kUnsignedPayload
  /// Send and sign x-amz-content-sha256 (S3 requires it; the generic AWS test
  /// suite vectors do not have it).
  bool content_sha256_header = true;
};

/// The result: headers to add to the request, and the pieces for tests.
struct SignedRequest {
  HeaderList headers;  ///< authorization, x-amz-date, x-amz-content-sha256?, x-amz-security-token?
  std::string canonical_query;  ///< put this after '?' on the wire, verbatim
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
  std::string authorization;
};

/// Signs a request. Pure: same inputs, same output. The signer owns
/// authorization, x-amz-date, x-amz-content-sha256 and x-amz-security-token
/// (values passed for them in `headers` are ignored) and never signs
/// user-agent, expect or connection.
SignedRequest sign_v4(const SigningInput& input, const Credentials& credentials);

/// HMAC chain: kSecret → kDate → kRegion → kService → kSigning.
std::string derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                               std::string_view service);

}  // namespace catalog::s3
