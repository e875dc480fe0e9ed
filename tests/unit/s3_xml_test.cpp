// Sizes S3 sends (ListObjectsV2 <Size>, Content-Length, Content-Range) are
// untrusted text: anything but plain digits reads as 0, never as a huge size.
#include "s3/s3_xml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace catalog::s3 {
namespace {

TEST(S3Xml, SizesAreDigitsOnly) {
  EXPECT_EQ(xml::parse_u64("0"), 0u);
  EXPECT_EQ(xml::parse_u64("1048576"), 1048576u);
  EXPECT_EQ(xml::parse_u64("18446744073709551615"), 18446744073709551615u);
  for (const std::string bad : {"", "-1", "+5", " 12", "12 ", "12abc", "0x10", "1e3", "18446744073709551616"}) {
    EXPECT_EQ(xml::parse_u64(bad), 0u) << '"' << bad << '"';
  }
}

TEST(S3Xml, ListingWithANegativeSizeDoesNotWrap) {
  const auto page = xml::parse_list_objects_v2(
      "<ListBucketResult><Contents><Key>a.csv</Key><Size>-1</Size></Contents></ListBucketResult>",
      "ListObjectsV2 s3://test/");
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].key, "a.csv");
  EXPECT_EQ(page.objects[0].size, 0u);
}

}  // namespace
}  // namespace catalog::s3
