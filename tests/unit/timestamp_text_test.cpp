#include "db/timestamp_text.hpp"

#include <gtest/gtest.h>

#include "catalog/core/errors.hpp"

namespace {

using catalog::db::rfc3339_utc;

TEST(TimestampText, UtcWithAndWithoutFraction) {
  EXPECT_EQ(rfc3339_utc("2026-11-23 10:00:00.123456+00"), "2026-11-23T10:00:00.123456Z");
  EXPECT_EQ(rfc3339_utc("2026-11-23 10:00:00.12+00"), "2026-11-23T10:00:00.120000Z");
  EXPECT_EQ(rfc3339_utc("2026-11-23 10:00:00+00"), "2026-11-23T10:00:00.000000Z");
  EXPECT_EQ(rfc3339_utc("2026-11-23 10:00:00.000001+00"), "2026-11-23T10:00:00.000001Z");
}

TEST(TimestampText, OtherSessionTimeZonesAreConvertedToUtc) {
  EXPECT_EQ(rfc3339_utc("2026-11-23 10:00:00.5+01"), "2026-11-23T09:00:00.500000Z");
  EXPECT_EQ(rfc3339_utc("2026-01-01 03:00:00-05"), "2026-01-01T08:00:00.000000Z");
  // Across a day, a month, a year and a leap day.
  EXPECT_EQ(rfc3339_utc("2026-01-01 02:15:00+05:30"), "2025-12-31T20:45:00.000000Z");
  EXPECT_EQ(rfc3339_utc("2028-02-28 23:30:00-01"), "2028-02-29T00:30:00.000000Z");
  EXPECT_EQ(rfc3339_utc("1901-12-13 20:45:52+00:19:32"), "1901-12-13T20:26:20.000000Z");
}

TEST(TimestampText, RejectsOtherDateStylesAndSpecialValues) {
  for (const char* text : {"infinity", "-infinity", "Mon Nov 23 10:00:00 2026 UTC", "11/23/2026 10:00:00 UTC",
                           "2026-11-23T10:00:00Z", "2026-11-23 10:00:00.1234567+00", "2026-11-23 10:00:00"}) {
    EXPECT_THROW(rfc3339_utc(text), catalog::Error) << text;
  }
}

}  // namespace
