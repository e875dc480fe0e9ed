// S3 bucket naming rules: job uris, S3_RAW_BUCKET and the client's
// virtual-hosted host all depend on them.
#include "catalog/s3/bucket_name.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/core/clock.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"

namespace catalog::s3 {
namespace {

TEST(S3BucketName, ValidNames) {
  const std::vector<std::string> names = {"catalog-test", "raw-feeds", "abc",        "my.dotted.bucket",
                                         "a1-b2.c3",     "123abc",    "0a1",        std::string(63, 'a')};
  for (const auto& name : names) {
    EXPECT_EQ(bucket_name_problem(name), "") << name;
  }
}

TEST(S3BucketName, InvalidNamesSayWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"ab", "must be 3 to 63 characters long"},
      {std::string(64, 'a'), "must be 3 to 63 characters long"},
      {"", "must be 3 to 63 characters long"},
      {"localhost:9444#", "may contain only lower-case letters, digits, dots and hyphens"},
      {"localhost:9444", "may contain only lower-case letters, digits, dots and hyphens"},
      {"user@evil.example", "may contain only lower-case letters, digits, dots and hyphens"},
      {"Upper-Case", "may contain only lower-case letters, digits, dots and hyphens"},
      {"under_score", "may contain only lower-case letters, digits, dots and hyphens"},
      {"a?b=c", "may contain only lower-case letters, digits, dots and hyphens"},
      {"[::1]", "may contain only lower-case letters, digits, dots and hyphens"},
      {"-leading", "must begin and end with a letter or digit"},
      {"trailing.", "must begin and end with a letter or digit"},
      {"two..dots", "must not contain two adjacent dots"},
      {"192.168.5.4", "must not be an IP address"},
      {"127.0.0.1", "must not be an IP address"},
      {"2130706433", "must not be an IP address"},  // decimal 127.0.0.1
      {"0x7f000001", "must not be an IP address"},  // hex
      {"127.1", "must not be an IP address"},       // short form
      {"0177.0.0.1", "must not be an IP address"},  // octal
      {"xn--bucket", "must not start with the reserved prefix 'xn--'"},
      {"sthree-bucket", "must not start with the reserved prefix 'sthree-'"},
      {"amzn-s3-demo-bucket", "must not start with the reserved prefix 'amzn-s3-demo-'"},
      {"bucket-s3alias", "must not end with the reserved suffix '-s3alias'"},
      {"bucket--ol-s3", "must not end with the reserved suffix '--ol-s3'"},
      {"bucket.mrap", "must not end with the reserved suffix '.mrap'"},
      {"bucket--x-s3", "must not end with the reserved suffix '--x-s3'"},
  };
  for (const auto& [name, why] : cases) EXPECT_EQ(bucket_name_problem(name), why) << name;
}

TEST(S3BucketName, ClientNeverPutsAnInvalidBucketIntoTheHost) {
  SystemClock clock;
  auto creds = std::make_shared<StaticCredentialsProvider>(Credentials{"AKIDEXAMPLE", Secret("x"), {}, {}, "static"});
  S3Config aws;
  aws.region = "eu-west-1";
  CurlS3Client client(aws, creds, clock);
  EXPECT_EQ(client.object_url("raw-feeds", "k.csv"), "https://raw-feeds.s3.eu-west-1.amazonaws.com/k.csv");
  // object_url shares the requests' addressing (no request is sent from a unit test).
  for (const char* bad : {"localhost:9444#", "2130706433:9444#", "2130706433", "evil@host", "x"}) {
    EXPECT_THROW(client.object_url(bad, "k.csv"), BadRequest) << bad;
  }
}

}  // namespace
}  // namespace catalog::s3
