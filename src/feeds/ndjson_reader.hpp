#pragma once
// NDJSON feeds (https://github.com/ndjson/ndjson-spec): one JSON object per
// line (private to src/feeds).

#include <string>
#include <vector>

#include "catalog/feeds/record_reader.hpp"

namespace catalog::feeds {

/// One record per non-blank line: the object's members as name/value pairs.
/// Strings as they are, numbers as their exact source text (never through a
/// binary float), booleans as true/false, null as an empty value, nested
/// arrays and objects as their compact JSON text. A line that is not one JSON
/// object is a record with an error (a reject with its line number).
class NdjsonReader final : public RecordReader {
 public:
  NdjsonReader(std::size_t max_line_bytes, Callback on_record);

  void feed(std::string_view chunk) override;
  void finish() override;

 private:
  void end_line();

  Callback on_record_;
  const std::size_t max_line_bytes_;
  std::string line_;
  bool too_long_ = false;
  std::uint64_t line_no_ = 1;
  std::vector<std::string> texts_;  ///< names and values of the current line
  csv::Record record_;
};

}  // namespace catalog::feeds
