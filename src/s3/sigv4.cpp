#include "catalog/s3/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <stdexcept>

#include "s3/crypto.hpp"

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html

namespace catalog::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim, and collapse runs of spaces/tabs into one space (aws-c-auth rule).
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers that proxies and clients change in flight, and the ones the signer owns.
bool never_signed(const std::string& lname) {
  return lname == "user-agent" || lname == "expect" || lname == "connection" || lname == "authorization" ||
         lname == "x-amzn-trace-id" || lname == "host" || lname == "x-amz-date" ||
         lname == "x-amz-content-sha256" || lname == "x-amz-security-token";
}

}  // namespace

std::string uri_encode(std::string_view raw, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() * 3 / 2 + 8);
  for (unsigned char c : raw) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int hi = hex_value(encoded[i + 1]);
      const int lo = hex_value(encoded[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(encoded[i]);
  }
  return out;
}

std::vector<QueryParam> parse_query(std::string_view encoded_query) {
  std::vector<QueryParam> params;
  std::size_t start = 0;
  while (start <= encoded_query.size()) {
    std::size_t end = encoded_query.find('&', start);
    if (end == std::string_view::npos) end = encoded_query.size();
    const std::string_view pair = encoded_query.substr(start, end - start);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        params.push_back({uri_decode(pair), ""});
      } else {
        params.push_back({uri_decode(pair.substr(0, eq)), uri_decode(pair.substr(eq + 1))});
      }
    }
    start = end + 1;
  }
  return params;
}

std::string canonical_query_string(const std::vector<QueryParam>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& p : params) encoded.emplace_back(uri_encode(p.name, false), uri_encode(p.value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                               std::string_view service) {
  const std::string k_date = crypto::hmac_sha256("AWS4" + std::string(secret), date);
  const std::string k_region = crypto::hmac_sha256(k_date, region);
  const std::string k_service = crypto::hmac_sha256(k_region, service);
  return crypto::hmac_sha256(k_service, "aws4_request");
}

SignedRequest sign_v4(const SigningInput& in, const Credentials& credentials) {
  if (in.method.empty() || in.host.empty() || in.region.empty() || in.service.empty() ||
      in.payload_hash.empty()) {
    throw std::invalid_argument("sign_v4: method, host, region, service and payload hash are required");
  }
  if (in.canonical_path.empty() || in.canonical_path.front() != '/') {
    throw std::invalid_argument("sign_v4: canonical path must start with '/'");
  }
  const std::string date_time = amz_date(in.time);
  const std::string date = date_time.substr(0, 8);

  // Lowercased names; repeated headers joined with ',' in the order given.
  std::map<std::string, std::string> canonical;
  canonical["host"] = canonical_header_value(in.host);
  for (const auto& [name, value] : in.headers) {
    const std::string lname = lower(name);
    if (never_signed(lname)) continue;
    auto [it, inserted] = canonical.emplace(lname, canonical_header_value(value));
    if (!inserted) it->second += "," + canonical_header_value(value);
  }
  canonical["x-amz-date"] = date_time;
  if (in.content_sha256_header) canonical["x-amz-content-sha256"] = in.payload_hash;
  if (!credentials.session_token.empty()) {
    canonical["x-amz-security-token"] = canonical_header_value(credentials.session_token.reveal());
  }

  SignedRequest out;
  std::string canonical_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  out.canonical_query = canonical_query_string(in.query);

  out.canonical_request = in.method + "\n" + in.canonical_path + "\n" + out.canonical_query + "\n" +
                          canonical_headers + "\n" + out.signed_headers + "\n" + in.payload_hash;

  const std::string scope = date + "/" + in.region + "/" + in.service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + date_time + "\n" + scope + "\n" +
                       crypto::sha256_hex(out.canonical_request);

  const std::string key =
      derive_signing_key(credentials.secret_access_key.reveal(), date, in.region, in.service);
  out.signature = crypto::to_hex(crypto::hmac_sha256(key, out.string_to_sign));
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;

  out.headers.emplace_back("authorization", out.authorization);
  out.headers.emplace_back("x-amz-date", date_time);
  if (in.content_sha256_header) out.headers.emplace_back("x-amz-content-sha256", in.payload_hash);
  if (!credentials.session_token.empty()) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token.reveal());
  }
  return out;
}

}  // namespace catalog::s3
