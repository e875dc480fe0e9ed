// Pins the SigV4 signer to AWS's published test-suite vectors and to the worked
// S3 examples (tests/data/sigv4/), each stage checked on its own so a failure
// says whether the canonical request, the string to sign or the key chain broke.

#include "catalog/s3/sigv4.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "s3/crypto.hpp"

namespace catalog::s3 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const fs::path kVectors = fs::path(CATALOG_TEST_DATA_DIR) / "sigv4";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

system_clock::time_point parse_amz(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
  return system_clock::from_time_t(timegm(&tm));
}

Credentials suite_credentials(std::string token = {}) {
  return Credentials{"AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), Secret(std::move(token)),
                     std::nullopt, "static"};
}

// Turns a suite `.req` file into signer input and credentials.
std::pair<SigningInput, Credentials> load_request(const std::string& name) {
  const std::string text = read_file(kVectors / name / (name + ".req"));
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  SigningInput input;
  input.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string raw_query;
  if (auto q = target.find('?'); q != std::string::npos) {
    raw_query = target.substr(q + 1);
    target.resize(q);
  }
  input.canonical_path = uri_encode(uri_decode(target), true);
  input.query = parse_query(raw_query);
  input.region = "us-east-1";
  input.service = "service";
  input.content_sha256_header = false;
  std::string token;
  while (std::getline(in, line) && !line.empty()) {
    const auto colon = line.find(':');
    std::string name_part = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    std::string lname = name_part;
    for (auto& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lname == "host") {
      input.host = value;
    } else if (lname == "x-amz-date") {
      input.time = parse_amz(value);
    } else if (lname == "x-amz-security-token") {
      token = value;
    } else {
      input.headers.emplace_back(name_part, value);
    }
  }
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  input.payload_hash = crypto::sha256_hex(body);
  return {input, suite_credentials(token)};
}

class AwsSuiteVector : public ::testing::TestWithParam<std::string> {};

TEST_P(AwsSuiteVector, MatchesPublishedStages) {
  const std::string name = GetParam();
  const auto [input, creds] = load_request(name);
  const SignedRequest signed_request = sign_v4(input, creds);
  const fs::path dir = kVectors / name;
  if (fs::exists(dir / (name + ".creq"))) {
    EXPECT_EQ(signed_request.canonical_request, read_file(dir / (name + ".creq")));
  }
  if (fs::exists(dir / (name + ".sts"))) {
    EXPECT_EQ(signed_request.string_to_sign, read_file(dir / (name + ".sts")));
  }
  EXPECT_EQ(signed_request.authorization, read_file(dir / (name + ".authz")));
}

std::vector<std::string> suite_cases() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kVectors)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Sigv4, AwsSuiteVector, ::testing::ValuesIn(suite_cases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(Sigv4Suite, HasTheVectorsOnDisk) {
  // Guards against an empty parameter list silently passing.
  EXPECT_GE(suite_cases().size(), 10u);
}

TEST(Sigv4S3Examples, MatchTheS3ApiReference) {
  const auto doc = nlohmann::json::parse(read_file(kVectors / "s3_examples.json"));
  const Credentials creds{doc["access_key_id"], Secret(doc["secret_access_key"].get<std::string>()), Secret(),
                          std::nullopt, "static"};
  ASSERT_EQ(doc["examples"].size(), 4u);
  for (const auto& ex : doc["examples"]) {
    SCOPED_TRACE(ex["name"].get<std::string>());
    SigningInput in;
    in.method = ex["method"];
    in.host = ex["host"];
    in.canonical_path = uri_encode(ex["path"].get<std::string>(), true);
    in.query = parse_query(ex["query"].get<std::string>());
    for (const auto& h : ex["headers"]) in.headers.emplace_back(h[0], h[1]);
    in.region = doc["region"];
    in.service = "s3";
    in.time = parse_amz(doc["time"]);
    in.payload_hash = ex["payload_hash"];
    if (ex.contains("payload")) {
      EXPECT_EQ(crypto::sha256_hex(ex["payload"].get<std::string>()), in.payload_hash);
    }
    const SignedRequest out = sign_v4(in, creds);
    EXPECT_EQ(out.signed_headers, ex["signed_headers"].get<std::string>());
    if (ex.contains("canonical_request_hash")) {
      EXPECT_EQ(crypto::sha256_hex(out.canonical_request), ex["canonical_request_hash"].get<std::string>());
    }
    if (ex.contains("string_to_sign_hash")) {
      EXPECT_EQ(out.string_to_sign.substr(out.string_to_sign.rfind('\n') + 1),
                ex["string_to_sign_hash"].get<std::string>());
    }
    EXPECT_EQ(out.signature, ex["signature"].get<std::string>());
  }
}

TEST(Sigv4KeyChain, MatchesAwsDerivationExample) {
  // AWS's documented key derivation example (IAM, 20120215).
  EXPECT_EQ(crypto::to_hex(derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                              "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(Sigv4Encoding, EncodesEveryHardKeyCharacterOnceAndKeepsSlashes) {
  EXPECT_EQ(uri_encode("a b+c=d&e~f*g'h/i", true), "a%20b%2Bc%3Dd%26e~f%2Ag%27h/i");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("caf\xC3\xA9", true), "caf%C3%A9");
  // An already-encoded-looking key is a literal key: its '%' is encoded, never decoded.
  EXPECT_EQ(uri_encode("100%25", true), "100%2525");
  // No normalisation of S3 paths.
  EXPECT_EQ(uri_encode("a/./b//../c", true), "a/./b//../c");
}

TEST(Sigv4Encoding, QueryIsDecodedReencodedAndSortedWithEmptyValues) {
  const auto params = parse_query("prefix=a+b%2Fc&list-type=2&continuation-token=x%3D%3D&uploads");
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].value, "a+b/c");  // '+' is not a space
  EXPECT_EQ(canonical_query_string(params),
            "continuation-token=x%3D%3D&list-type=2&prefix=a%2Bb%2Fc&uploads=");
}

TEST(Sigv4Headers, SignerOwnsItsHeadersAndSkipsHopByHopOnes) {
  SigningInput in;
  in.method = "GET";
  in.host = "b.s3.eu-west-1.amazonaws.com";
  in.canonical_path = "/k";
  in.region = "eu-west-1";
  in.time = parse_amz("20240102T030405Z");
  in.payload_hash = std::string(kUnsignedPayload);
  in.headers = {{"User-Agent", "x"}, {"Expect", "100-continue"}, {"x-amz-date", "bogus"},
                {"Range", "  bytes=5-  "}, {"If-Match", "\"abc\""}};
  const auto out = sign_v4(in, Credentials{"AK", Secret("SK"), Secret("TOKEN"), std::nullopt, "static"});
  EXPECT_EQ(out.signed_headers, "host;if-match;range;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_NE(out.canonical_request.find("range:bytes=5-\n"), std::string::npos);
  EXPECT_NE(out.canonical_request.find("x-amz-date:20240102T030405Z\n"), std::string::npos);
  EXPECT_EQ(out.canonical_request.substr(out.canonical_request.rfind('\n') + 1), "UNSIGNED-PAYLOAD");
  bool has_token = false;
  for (const auto& [k, v] : out.headers) has_token |= (k == "x-amz-security-token" && v == "TOKEN");
  EXPECT_TRUE(has_token);
  EXPECT_EQ(out.authorization.find("SK"), std::string::npos);
}

TEST(Sigv4Purity, SameInputSameSignatureDifferentTimeDifferentSignature) {
  SigningInput in;
  in.method = "GET";
  in.host = "h";
  in.canonical_path = "/";
  in.region = "us-east-1";
  in.time = parse_amz("20240102T030405Z");
  in.payload_hash = std::string(kEmptyPayloadHash);
  const Credentials c{"AK", Secret("SK"), Secret(), std::nullopt, "static"};
  EXPECT_EQ(sign_v4(in, c).signature, sign_v4(in, c).signature);
  const auto first = sign_v4(in, c).signature;
  in.time += seconds(1);
  EXPECT_NE(sign_v4(in, c).signature, first);
}

}  // namespace
}  // namespace catalog::s3
