// SigV4 canonicalisation (src/s3/sigv4.cpp): object keys, query strings and
// header values of any bytes. Properties: uri_encode emits only unreserved
// characters and upper-case %XX (and '/' when kept) and uri_decode undoes it;
// the canonical query string is a fixed point of parse + canonicalise; signing
// is pure (same input, same signature) and the signature is 64 hex digits.
#include <chrono>
#include <cstdint>
#include <string>

#include "catalog/s3/sigv4.hpp"
#include "fuzz_support.hpp"

namespace {

using catalog::fuzz::finding;

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void check_encoding(std::string_view raw, bool keep_slash) {
  const auto encoded = catalog::s3::uri_encode(raw, keep_slash);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (unreserved(c) || (keep_slash && c == '/')) continue;
    const bool hex = i + 2 < encoded.size() && c == '%' &&
                     std::string_view("0123456789ABCDEF").find(encoded[i + 1]) != std::string_view::npos &&
                     std::string_view("0123456789ABCDEF").find(encoded[i + 2]) != std::string_view::npos;
    if (!hex) finding("uri_encode left '" + std::string(1, c) + "' in " + encoded);
    i += 2;
  }
  if (catalog::s3::uri_decode(encoded) != raw) finding("uri_decode(uri_encode(x)) != x for " + encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  const auto key = in.until('\n');
  const auto query = in.until('\n');
  const auto header_value = in.rest();

  check_encoding(key, true);
  check_encoding(key, false);
  (void)catalog::s3::uri_decode(query);

  const auto params = catalog::s3::parse_query(query);
  const auto canonical = catalog::s3::canonical_query_string(params);
  if (catalog::s3::canonical_query_string(catalog::s3::parse_query(canonical)) != canonical) {
    finding("canonical query string is not stable: " + canonical);
  }

  catalog::s3::SigningInput input;
  input.method = (flags & 1) ? "PUT" : "GET";
  input.canonical_path = "/bucket/" + catalog::s3::uri_encode(key, true);
  input.query = params;
  input.host = "bucket.s3.us-east-1.amazonaws.com";
  input.headers.emplace_back((flags & 2) ? "X-Amz-Meta-Note" : "content-type", std::string(header_value));
  input.headers.emplace_back("x-amz-meta-note", std::string(key));
  input.region = "us-east-1";
  input.time = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  input.payload_hash = std::string(catalog::s3::kUnsignedPayload);
  input.content_sha256_header = (flags & 4) == 0;
  catalog::s3::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = catalog::Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  if (flags & 8) credentials.session_token = catalog::Secret(std::string(query));
  const auto first = catalog::s3::sign_v4(input, credentials);
  const auto second = catalog::s3::sign_v4(input, credentials);
  if (first.authorization != second.authorization) finding("sign_v4 is not deterministic");
  if (first.signature.size() != 64 ||
      first.signature.find_first_not_of("0123456789abcdef") != std::string::npos) {
    finding("signature is not 64 lower-case hex digits: " + first.signature);
  }
  return 0;
}
