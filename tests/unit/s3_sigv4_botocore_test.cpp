// Independent check of the signer: a few hundred generated S3 requests (keys
// and query values built from the characters that break naive signers, session
// tokens, odd header spacing) signed here and by botocore's S3SigV4Auth
// (scripts/sigv4_botocore_sign.py). No network: botocore runs as a subprocess.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/s3/sigv4.hpp"
#include "s3/crypto.hpp"

namespace catalog::s3 {
namespace {

const std::vector<std::string> kAlphabet = {
    "a", "Z", "0", "9", "-", "_", ".", "~", " ", "+", "=", "&", "*", "'", "/", "%", "!", "(", ")", ",", ";", ":",
    "@", "$", "?", "#", "[", "]", "\"", "<", ">", "\xC3\xBC", "\xE2\x82\xAC", "\xE1\x88\xB4", "\xF0\x9F\x98\x80"};

std::string random_text(std::mt19937& rng, int min_len, int max_len) {
  std::uniform_int_distribution<int> len(min_len, max_len);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string s;
  for (int i = len(rng); i > 0; --i) s += kAlphabet[pick(rng)];
  return s;
}

std::string python() {
  const char* p = std::getenv("CATALOG_TEST_PYTHON");
  return p != nullptr && *p != '\0' ? p : "python3";
}

TEST(Sigv4Botocore, GeneratedRequestsMatchBotocore) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> methods = {"GET", "PUT", "HEAD", "DELETE", "POST"};
  const std::vector<std::string> query_names = {"prefix", "continuation-token", "list-type", "uploadId",
                                                "partNumber", "max-keys", "delimiter", "uploads", "x-id"};
  nlohmann::json cases = nlohmann::json::array();
  std::vector<SignedRequest> ours;
  constexpr int kCases = 400;
  for (int i = 0; i < kCases; ++i) {
    const bool path_style = rng() % 2 == 0;
    const std::string bucket = "bucket-" + std::to_string(rng() % 1000);
    const std::string region = rng() % 2 ? "us-east-1" : "eu-central-1";
    std::string host = path_style ? "127.0.0.1:" + std::to_string(1024 + rng() % 60000)
                                  : bucket + ".s3." + region + ".amazonaws.com";
    std::string key = random_text(rng, 1, 24);
    std::vector<QueryParam> query;
    for (int q = static_cast<int>(rng() % 4); q > 0; --q) {
      query.push_back({query_names[rng() % query_names.size()], rng() % 4 == 0 ? "" : random_text(rng, 1, 12)});
    }
    HeaderList headers;
    if (rng() % 3 == 0) headers.emplace_back("Range", "bytes=" + std::to_string(rng() % 1000) + "-");
    if (rng() % 3 == 0) headers.emplace_back("Content-Type", "text/csv;   charset=utf-8 ");
    if (rng() % 4 == 0) headers.emplace_back("If-Match", "\"" + crypto::sha256_hex(key).substr(0, 32) + "\"");
    const std::string token = rng() % 2 ? random_text(rng, 20, 60) : "";
    Credentials creds{"AKIA" + std::to_string(rng()), Secret(random_text(rng, 20, 40)), Secret(token), std::nullopt,
                      "static"};
    SigningInput in;
    in.method = methods[rng() % methods.size()];
    in.canonical_path = (path_style ? "/" + uri_encode(bucket, false) + "/" : std::string("/")) + uri_encode(key, true);
    in.query = query;
    in.host = host;
    in.headers = headers;
    in.region = region;
    in.time = std::chrono::system_clock::from_time_t(1420070400 + static_cast<std::time_t>(rng() % 500000000));
    in.payload_hash = rng() % 2 ? std::string(kUnsignedPayload) : crypto::sha256_hex(random_text(rng, 0, 50));
    ours.push_back(sign_v4(in, creds));

    nlohmann::json q = nlohmann::json::array();
    for (const auto& p : query) q.push_back({p.name, p.value});
    nlohmann::json h = nlohmann::json::array();
    for (const auto& [k, v] : headers) h.push_back({k, v});
    cases.push_back({{"method", in.method}, {"bucket", bucket}, {"key", key}, {"path_style", path_style},
                     {"host", host}, {"query", q}, {"headers", h}, {"token", token},
                     {"access_key", creds.access_key_id}, {"secret", creds.secret_access_key.reveal()},
                     {"region", region}, {"amz_date", amz_date(in.time)}, {"payload_hash", in.payload_hash}});
  }

  const auto dir = std::filesystem::temp_directory_path() /
                   ("sigv4-botocore-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto in_path = dir / "in.json";
  const auto out_path = dir / "out.json";
  std::ofstream(in_path) << cases.dump();
  const std::string cmd = python() + " " + std::string(CATALOG_SOURCE_DIR) + "/scripts/sigv4_botocore_sign.py " +
                          in_path.string() + " " + out_path.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "botocore reference failed (python3-botocore installed?): " << cmd;
  std::ifstream out(out_path);
  const auto theirs = nlohmann::json::parse(out);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(theirs.size(), static_cast<std::size_t>(kCases));
  int mismatches = 0;
  for (int i = 0; i < kCases; ++i) {
    if (ours[i].signature != theirs[i]["signature"].get<std::string>()) {
      if (++mismatches <= 3) {
        ADD_FAILURE() << "case " << i << " key " << cases[i]["key"] << "\nours:\n" << ours[i].canonical_request
                      << "\nbotocore:\n" << theirs[i]["canonical_request"].get<std::string>();
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace catalog::s3
