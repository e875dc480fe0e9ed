#include "catalog/csv/record_batch.hpp"

#include <string_view>

namespace catalog::csv {

void RecordBatch::add(const Record& record) {
  for (const std::string_view field : record.fields) {
    text_.append(field);
    field_ends_.push_back(text_.size());
  }
  entries_.push_back(Entry{record.line, record.fields.size(), record.error});
}

void RecordBatch::clear() noexcept {
  text_.clear();
  field_ends_.clear();
  entries_.clear();
}

void RecordBatch::swap(RecordBatch& other) noexcept {
  text_.swap(other.text_);
  field_ends_.swap(other.field_ends_);
  entries_.swap(other.entries_);
}

bool RecordBatch::Cursor::next(Record& out) {
  const RecordBatch& b = *batch_;
  if (entry_ == b.entries_.size()) return false;
  const Entry& e = b.entries_[entry_++];
  out.line = e.line;
  out.error = e.error;
  out.fields.clear();
  for (std::size_t i = 0; i < e.fields; ++i, ++field_) {
    const std::size_t begin = field_ == 0 ? 0 : b.field_ends_[field_ - 1];
    out.fields.emplace_back(b.text_.data() + begin, b.field_ends_[field_] - begin);
  }
  return true;
}

}  // namespace catalog::csv
