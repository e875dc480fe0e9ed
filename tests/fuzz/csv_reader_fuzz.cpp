// CSV reader (src/csv): any bytes, fed in chunks of any size, with either
// delimiter and a small record limit. Properties: no crash, no exception
// other than from the callback, the same records whatever the chunking,
// records never larger than the limit, line numbers increasing.
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/csv/csv_reader.hpp"
#include "fuzz_support.hpp"

namespace {

struct Parsed {
  std::vector<std::uint64_t> lines;
  std::vector<std::vector<std::string>> fields;
  std::vector<std::string> errors;
  bool operator==(const Parsed& o) const { return lines == o.lines && fields == o.fields && errors == o.errors; }
};

Parsed parse(std::string_view input, const catalog::csv::Options& options, std::size_t chunk) {
  Parsed out;
  catalog::csv::Reader reader(options, [&](const catalog::csv::Record& r) {
    if (!out.lines.empty() && r.line <= out.lines.back()) catalog::fuzz::finding("line numbers do not increase");
    std::size_t bytes = 0;
    std::vector<std::string> fields;
    for (auto f : r.fields) {
      bytes += f.size();
      fields.emplace_back(f);
    }
    if (bytes > options.max_record_bytes) catalog::fuzz::finding("record larger than max_record_bytes");
    out.lines.push_back(r.line);
    out.fields.push_back(std::move(fields));
    out.errors.push_back(r.error);
  });
  for (std::size_t at = 0; at < input.size(); at += chunk) reader.feed(input.substr(at, chunk));
  reader.finish();
  if (reader.bytes_consumed() != input.size()) catalog::fuzz::finding("bytes_consumed differs from the input size");
  if (reader.records_emitted() != out.lines.size()) catalog::fuzz::finding("records_emitted differs");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  const auto chunk = std::size_t{1} + in.byte() % 64;
  catalog::csv::Options options;
  if (flags & 1) options.delimiter = ';';
  if (flags & 2) options.delimiter = '\t';
  if (flags & 4) options.max_record_bytes = 64;
  options.validate_utf8 = (flags & 8) == 0;
  const auto text = in.rest();
  const auto whole = parse(text, options, text.size() + 1);
  if (!(parse(text, options, chunk) == whole)) catalog::fuzz::finding("records depend on how the input is chunked");
  return 0;
}
