#pragma once
// Records copied out of a reader's buffers, to be read later or on another
// thread: every field's bytes back to back in one string. The reading thread
// (src/etl/read_ahead) and the XML pieces parsed side by side
// (src/feeds/parallel_xml_reader) hand records over this way.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/csv/csv_reader.hpp"

namespace catalog::csv {

class RecordBatch {
 public:
  /// Copies `record` (its fields' bytes, line and error) to the end.
  void add(const Record& record);
  std::size_t records() const noexcept { return entries_.size(); }
  std::size_t bytes() const noexcept { return text_.size(); }
  void clear() noexcept;
  void swap(RecordBatch& other) noexcept;

  /// Reads the batch's records in order. `next` fills `out` with views into
  /// the batch, valid while it is not changed.
  class Cursor {
   public:
    explicit Cursor(const RecordBatch& batch) : batch_(&batch) {}
    bool next(Record& out);

   private:
    const RecordBatch* batch_;
    std::size_t entry_ = 0;
    std::size_t field_ = 0;
  };

 private:
  struct Entry {
    std::uint64_t line = 0;
    std::size_t fields = 0;
    std::string error;
  };
  std::string text_;                     ///< every field's bytes, back to back
  std::vector<std::size_t> field_ends_;  ///< where each field ends in text_
  std::vector<Entry> entries_;
};

}  // namespace catalog::csv
