// Which jobs an S3 object belongs to (run-object, POST /events/s3).
#include <gtest/gtest.h>

#include "catalog/etl/object_match.hpp"

namespace catalog::etl {
namespace {

TEST(ObjectMatch, ParsesOnlyObjectUris) {
  const auto o = parse_object_uri("s3://raw-bucket/partners/acme/2026-12-06.csv");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->bucket, "raw-bucket");
  EXPECT_EQ(o->key, "partners/acme/2026-12-06.csv");
  EXPECT_EQ(o->uri(), "s3://raw-bucket/partners/acme/2026-12-06.csv");
  EXPECT_FALSE(parse_object_uri("s3://raw-bucket/partners/"));
  EXPECT_FALSE(parse_object_uri("s3://raw-bucket"));
  EXPECT_FALSE(parse_object_uri("partners/acme.csv"));
  EXPECT_FALSE(parse_object_uri("https://raw-bucket/a.csv"));
}

TEST(ObjectMatch, ExactKeysPrefixesAndBareKeys) {
  const ObjectRef object{"raw", "partners/acme/daily.csv"};
  EXPECT_TRUE(job_takes_object("s3://raw/partners/acme/daily.csv", "", object));
  EXPECT_TRUE(job_takes_object("s3://raw/partners/acme/", "", object));
  EXPECT_TRUE(job_takes_object("s3://raw/partners/", "", object));
  EXPECT_FALSE(job_takes_object("s3://raw/partners/acme/daily.csv.gz", "", object));
  EXPECT_FALSE(job_takes_object("s3://raw/partners/acme", "", object)) << "a key, not a prefix";
  EXPECT_FALSE(job_takes_object("s3://other/partners/acme/", "", object));
  EXPECT_TRUE(job_takes_object("partners/acme/", "raw", object));
  EXPECT_FALSE(job_takes_object("partners/acme/", "", object)) << "a bare key needs S3_RAW_BUCKET";
}

TEST(ObjectMatch, MatchingJobsComeInIdOrder) {
  std::vector<db::Job> jobs(3);
  jobs[0].id = "zeta";
  jobs[0].uri = "s3://raw/partners/";
  jobs[1].id = "alpha";
  jobs[1].uri = "s3://raw/partners/acme/daily.csv";
  jobs[2].id = "other";
  jobs[2].uri = "s3://raw/elsewhere/";
  const auto found = jobs_for_object(jobs, "", {"raw", "partners/acme/daily.csv"});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].id, "alpha");
  EXPECT_EQ(found[1].id, "zeta");
}

}  // namespace
}  // namespace catalog::etl
