#pragma once
// Feed bytes → records, one reader per feed format (docs/formats.md). Every
// reader produces the row stream the CSV reader always has (csv::Record:
// line, fields, error), so the ETL pipeline after it does not depend on the
// format. Two record shapes:
// - delimited (csv, tsv): a header record, then records of positional fields;
// - keyed (ndjson, xml): no header; each record's fields are name/value pairs
//   (name0, value0, name1, value1, ...), one record per object or item.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "catalog/core/errors.hpp"
#include "catalog/csv/csv_reader.hpp"
#include "catalog/csv/record_batch.hpp"

namespace catalog::feeds {

enum class Format { csv, tsv, ndjson, xml };

/// The feed cannot be read at all in its format (malformed XML, a refused
/// DTD): the run fails with this message, naming the line.
class FormatError : public catalog::Error {
  using Error::Error;
};

/// "csv", "tsv", "ndjson", "xml".
const char* format_name(Format format) noexcept;
/// The format named by a job's `format` option, or nullopt for anything else.
std::optional<Format> parse_format(std::string_view name) noexcept;
/// The format an object's name implies once a `.gz` suffix is stripped:
/// `.tsv`/`.txt` → tsv, `.ndjson`/`.jsonl` → ndjson, `.xml` → xml, else csv
/// (case-insensitive).
Format format_for_object(std::string_view object_name) noexcept;
/// True for the formats whose records are name/value pairs (no header record).
inline bool is_keyed(Format format) noexcept { return format == Format::ndjson || format == Format::xml; }

/// Push-style reader: feed() chunks of any size in order, then finish().
/// Calls the callback once per record; a record with a non-empty error is a
/// reject with its line. A document that cannot be read at all throws
/// FormatError. An exception thrown by the callback propagates unchanged.
class RecordReader {
 public:
  using Callback = csv::Reader::RecordCallback;
  virtual ~RecordReader() = default;
  virtual void feed(std::string_view chunk) = 0;
  virtual void finish() = 0;
};

struct ReaderOptions {
  char delimiter = ',';  ///< csv only; tsv always uses a tab
  /// Largest record (CSV row, NDJSON line, XML item), in bytes: a longer one
  /// is a reject and reading goes on, so memory stays bounded by this.
  std::size_t max_record_bytes = std::size_t{1} << 20;
  /// xml only: the items are parsed on two more threads, in pieces of about
  /// this many bytes (docs/etl.md "XML pieces"); 0 parses on the caller's
  /// thread alone.
  std::size_t xml_piece_bytes = std::size_t{256} << 10;
  /// Optional. A reader that parses on other threads (xml) hands its records
  /// over here in whole batches, taking the batch's contents by a swap,
  /// instead of one by one through the record callback.
  std::function<void(csv::RecordBatch&)> on_batch;
};

std::unique_ptr<RecordReader> make_record_reader(Format format, const ReaderOptions& options,
                                                 RecordReader::Callback on_record);

}  // namespace catalog::feeds
