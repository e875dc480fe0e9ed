#pragma once

#include <cstddef>
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

/// Parser settings. `delimiter` and `quote` must differ from each other and
/// from '\r' and '\n' (the constructor throws std::invalid_argument otherwise).
struct Options {
  char delimiter = ',';
  char quote = '"';
  /// Largest accepted record, counted in raw input bytes (quotes, delimiters
  /// and the line end included). A longer record is delivered with no fields
  /// and an error, and parsing resumes at the next record; this is what keeps
  /// memory bounded on hostile input such as an unterminated quote.
  std::size_t max_record_bytes = std::size_t{1} << 20;
  /// Check every field for well-formed UTF-8 (RFC 3629).
  bool validate_utf8 = true;
};

/// Streaming RFC 4180 parser (push style): feed it chunks of any size, in order,
/// and it calls `on_record` for every complete record. Handles quoted fields,
/// doubled quotes, embedded delimiters and newlines, CRLF or LF, an optional
/// UTF-8 BOM at the very start, and a last record without a trailing newline.
/// Memory is bounded by the longest record, not by the input size.
/// Empty lines (outside quotes) are skipped; they still advance line numbers.
/// A quote inside an unquoted field is kept literally (`12" pizza`).
/// If `on_record` throws, the exception propagates and the Reader must not be
/// used again. See docs/csv.md for the exact dialect and error texts.
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
  /// field becomes a record with an error). Call it once; feed() must not be
  /// called afterwards.
  void finish();

  /// Total bytes passed to feed() so far (BOM included).
  std::uint64_t bytes_consumed() const noexcept;
  /// Records delivered to on_record so far (error records included).
  std::uint64_t records_emitted() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::csv
