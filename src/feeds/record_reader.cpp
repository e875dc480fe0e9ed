#include "catalog/feeds/record_reader.hpp"

#include <string>

#include "feeds/ndjson_reader.hpp"
#include "feeds/parallel_xml_reader.hpp"
#include "feeds/xml_reader.hpp"

namespace catalog::feeds {
namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = (s[i] >= 'A' && s[i] <= 'Z') ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != suffix[i]) return false;
  }
  return true;
}

/// csv and tsv: the RFC 4180 reader, with the delimiter of the format.
class DelimitedReader final : public RecordReader {
 public:
  DelimitedReader(char delimiter, std::size_t max_record_bytes, Callback on_record)
      : reader_(make_options(delimiter, max_record_bytes), std::move(on_record)) {}
  void feed(std::string_view chunk) override { reader_.feed(chunk); }
  void finish() override { reader_.finish(); }

 private:
  static csv::Options make_options(char delimiter, std::size_t max_record_bytes) {
    csv::Options o;
    o.delimiter = delimiter;
    o.max_record_bytes = max_record_bytes;
    return o;
  }
  csv::Reader reader_;
};

}  // namespace

const char* format_name(Format format) noexcept {
  switch (format) {
    case Format::csv: return "csv";
    case Format::tsv: return "tsv";
    case Format::ndjson: return "ndjson";
    case Format::xml: return "xml";
  }
  return "csv";
}

std::optional<Format> parse_format(std::string_view name) noexcept {
  for (Format f : {Format::csv, Format::tsv, Format::ndjson, Format::xml}) {
    if (name == format_name(f)) return f;
  }
  return std::nullopt;
}

Format format_for_object(std::string_view name) noexcept {
  if (ends_with_ci(name, ".gz")) name.remove_suffix(3);
  if (ends_with_ci(name, ".tsv") || ends_with_ci(name, ".txt")) return Format::tsv;
  if (ends_with_ci(name, ".ndjson") || ends_with_ci(name, ".jsonl")) return Format::ndjson;
  if (ends_with_ci(name, ".xml")) return Format::xml;
  return Format::csv;
}

std::unique_ptr<RecordReader> make_record_reader(Format format, const ReaderOptions& options,
                                                 RecordReader::Callback on_record) {
  switch (format) {
    case Format::tsv:
      return std::make_unique<DelimitedReader>('\t', options.max_record_bytes, std::move(on_record));
    case Format::ndjson:
      return std::make_unique<NdjsonReader>(options.max_record_bytes, std::move(on_record));
    case Format::xml:
      if (options.xml_piece_bytes == 0) return std::make_unique<XmlReader>(options.max_record_bytes, std::move(on_record));
      return std::make_unique<ParallelXmlReader>(options.max_record_bytes, options.xml_piece_bytes,
                                                 std::move(on_record), options.on_batch);
    case Format::csv:
      break;
  }
  return std::make_unique<DelimitedReader>(options.delimiter, options.max_record_bytes, std::move(on_record));
}

}  // namespace catalog::feeds
