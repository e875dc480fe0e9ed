#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace catalog::http {

/// A parameter of a header like Content-Disposition or Content-Type
/// (`form-data; name="file"; filename="a.csv"`), quoted or token form,
/// name compared case-insensitively. `filename*` is not decoded.
std::optional<std::string> header_param(std::string_view header, std::string_view name);

/// Streams one part of a multipart/form-data body (RFC 7578) without holding
/// the body in memory: `open()` skips to the part named `part_name` and
/// returns its headers; `read()` then yields that part's bytes only, and at
/// its end drains the remaining parts and checks the closing boundary, so a
/// truncated upload is an error rather than a short file.
///
/// Memory stays at one read chunk plus the boundary, whatever the body size.
/// Malformed bodies throw BadRequest; a body without the part throws
/// ValidationError naming the part.
class MultipartReader {
 public:
  using Source = std::function<std::size_t(char* buffer, std::size_t capacity)>;

  struct Part {
    std::optional<std::string> file_name;  ///< Content-Disposition filename
    std::string content_type;              ///< lower-cased, without parameters; "" when absent
  };

  /// `content_type` is the request's Content-Type header (its `boundary`
  /// parameter is required); `source` returns body bytes, 0 at the end.
  MultipartReader(std::string_view content_type, Source source);

  Part open(std::string_view part_name);
  /// Up to `capacity` bytes of the part; 0 once it and the body are done.
  std::size_t read(char* buffer, std::size_t capacity);

 private:
  std::string_view pending() const { return std::string_view(buffer_).substr(start_); }
  void consume(std::size_t count) { start_ += count; }
  bool fill();
  bool after_delimiter();
  std::string read_part_headers();
  void skip_to_next_delimiter();
  void drain_remaining_parts();

  std::string delimiter_;  ///< "\r\n--" + boundary
  Source source_;
  std::string buffer_;
  std::size_t start_ = 0;
  bool source_done_ = false;
  bool part_done_ = false;
};

}  // namespace catalog::http
