// Multipart reader (src/http/multipart_reader): a Content-Type header and a
// body of any bytes, read in slices of any size. Properties: only BadRequest /
// ValidationError (4xx), never more part bytes than the body holds, the same
// bytes whatever the slicing.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "catalog/http/multipart_reader.hpp"
#include "fuzz_support.hpp"

namespace {

struct Outcome {
  bool ok = false;
  std::string bytes;
  std::optional<std::string> file_name;
  std::string content_type;
};

Outcome read_part(std::string_view content_type, std::string_view body, std::size_t slice, std::size_t capacity) {
  Outcome out;
  std::size_t offset = 0;
  catalog::http::MultipartReader::Source source = [&](char* buffer, std::size_t size) {
    const auto n = std::min({size, slice, body.size() - offset});
    std::memcpy(buffer, body.data() + offset, n);
    offset += n;
    return n;
  };
  try {
    catalog::http::MultipartReader reader(content_type, source);
    const auto part = reader.open("file");
    out.file_name = part.file_name;
    out.content_type = part.content_type;
    std::string buffer(capacity, '\0');
    while (const auto n = reader.read(buffer.data(), capacity)) {
      if (n > capacity) catalog::fuzz::finding("read() returned more than its capacity");
      out.bytes.append(buffer.data(), n);
      if (out.bytes.size() > body.size()) catalog::fuzz::finding("part longer than the body");
    }
    out.ok = true;
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "multipart body");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto slice = std::size_t{1} + in.byte() % 97;
  const auto capacity = std::size_t{1} + in.byte() % 61;
  const auto content_type = in.until('\n');
  const auto body = in.rest();
  (void)catalog::http::header_param(content_type, "boundary");
  (void)catalog::http::header_param(content_type, "filename");
  const auto whole = read_part(content_type, body, body.size() + 1, 1 << 16);
  const auto sliced = read_part(content_type, body, slice, capacity);
  if (whole.ok != sliced.ok || whole.bytes != sliced.bytes || whole.file_name != sliced.file_name) {
    catalog::fuzz::finding("the part read depends on how the body arrives");
  }
  return 0;
}
