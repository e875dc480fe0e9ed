#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace catalog::csv {

/// One parsed record. `fields` views stay valid only during the callback.
struct Record {
  std::uint64_t line = 0;                ///< 1-based physical line where the record starts
  std::vector<std::string_view> fields;  ///< unquoted field values
  /// Non-empty when the record is malformed (e.g. "invalid UTF-8 in field 3",
  /// "unexpected character after closing quote"). Such a record is still
  /// delivered so the caller can reject it with its line number.
  std::string error;
};

struct Options {
  char delimiter = ',';
  char quote = '"';
};

/// Streaming RFC 4180 parser (push style): feed it chunks of any size, in order,
/// and it calls `on_record` for every complete record. Handles quoted fields,
/// doubled quotes, embedded delimiters and newlines, CRLF or LF, an optional
/// UTF-8 BOM at the very start, and a last record without a trailing newline.
/// Memory is bounded by the longest record, not by the input size.
/// Spec: https://www.rfc-editor.org/rfc/rfc4180
class Reader {
 public:
  using RecordCallback = std::function<void(const Record&)>;

  Reader(Options options, RecordCallback on_record);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Parses `chunk`; may call on_record zero or more times.
  void feed(std::string_view chunk);
  /// Signals end of input: flushes the last record (an unterminated quoted
  /// field becomes a record with an error).
  void finish();

  std::uint64_t bytes_consumed() const noexcept;
  std::uint64_t records_emitted() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::csv
