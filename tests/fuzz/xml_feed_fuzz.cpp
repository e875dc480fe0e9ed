// XML feed reader (src/feeds/xml_reader, expat): any bytes, read whole and in
// two chunks. Properties: feed_fuzz_support.hpp; the process stays small on
// entity bombs because no DTD is processed (libFuzzer's -rss_limit_mb catches
// growth).
#include "feed_fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return catalog::fuzz::run_feed_target(catalog::feeds::Format::xml, data, size);
}
