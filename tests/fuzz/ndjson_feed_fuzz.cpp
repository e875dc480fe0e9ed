// NDJSON feed reader (src/feeds/ndjson_reader): any bytes, read whole and in
// two chunks. Properties: feed_fuzz_support.hpp; a bad line is a record with
// an error, never an exception.
#include "feed_fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return catalog::fuzz::run_feed_target(catalog::feeds::Format::ndjson, data, size);
}
