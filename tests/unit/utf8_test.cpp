// The one UTF-8 definition the CSV reader, the API's parameter checks, the
// JSON writer and the stored rejects share: every boundary of RFC 3629, at
// every offset the ASCII fast paths can leave it at.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/core/utf8.hpp"

namespace catalog {
namespace {

const std::vector<std::string> kValid = {
    "\x7F",              // U+007F
    "\xC2\x80",          // U+0080, the first 2-byte code point
    "\xDF\xBF",          // U+07FF
    "\xE0\xA0\x80",      // U+0800, the first 3-byte code point
    "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
    "\xEE\x80\x80",      // U+E000, just above them
    "\xEF\xBF\xBF",      // U+FFFF
    "\xF0\x90\x80\x80",  // U+10000, the first 4-byte code point
    "\xF4\x8F\xBF\xBF",  // U+10FFFF, the last code point
};

const std::vector<std::string> kInvalid = {
    "\x80",              // stray continuation byte
    "\xBF",
    "\xC0\xAF",          // overlong '/'
    "\xC1\xBF",          // overlong U+007F
    "\xE0\x9F\xBF",      // overlong U+07FF
    "\xED\xA0\x80",      // U+D800, a surrogate
    "\xED\xBF\xBF",      // U+DFFF
    "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
    "\xF4\x90\x80\x80",  // U+110000
    "\xF5\x80\x80\x80",  // lead byte past U+10FFFF
    "\xFF",
    "\xC2",              // truncated
    "\xE2\x82",
    "\xF0\x9F\x98",
    "\xC2\x41",          // continuation missing
    "\xE2\x28\xA1",
};

TEST(Utf8, EveryBoundaryAtEveryOffset) {
  for (std::size_t pad = 0; pad <= 33; ++pad) {
    const std::string before(pad, 'a');
    for (const auto& s : kValid) {
      EXPECT_TRUE(valid_utf8(before + s)) << "pad " << pad;
      EXPECT_TRUE(valid_utf8(before + s + "tail after it, long enough for the fast path")) << "pad " << pad;
    }
    for (const auto& s : kInvalid) {
      EXPECT_FALSE(valid_utf8(before + s)) << "pad " << pad;
      EXPECT_FALSE(valid_utf8(before + s + "tail after it, long enough for the fast path")) << "pad " << pad;
    }
  }
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8(std::string("nul \0 is ASCII", 14)));
}

TEST(Utf8, SequenceLengthIsTheWholeCharacterOrZero) {
  for (const auto& s : kValid) {
    if (static_cast<unsigned char>(s[0]) < 0x80) continue;
    EXPECT_EQ(utf8_sequence_length(s, 0), s.size());
    EXPECT_EQ(utf8_sequence_length("x" + s + "y", 1), s.size());
  }
  for (const auto& s : kInvalid) EXPECT_EQ(utf8_sequence_length(s, 0), 0u);
  // A valid character cut short by the end of the view.
  EXPECT_EQ(utf8_sequence_length(std::string_view("\xE2\x82\xAC", 2), 0), 0u);
}

}  // namespace
}  // namespace catalog
