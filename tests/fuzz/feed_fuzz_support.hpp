#pragma once

// Shared by the feed-format targets (xml_feed, ndjson_feed): read the input
// whole and in two chunks split where the first byte says, and require the
// same records (or the same FormatError) both ways; XML is also read in
// pieces of a few bytes parsed side by side, which must read as one reader
// does (the same records, or a failure too); then normalise every
// record with the google_merchant profile and check what an accepted row
// promises. Only feeds::FormatError may escape a reader.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/feeds/record_reader.hpp"
#include "fuzz_support.hpp"

namespace catalog::fuzz {

struct ReadOutcome {
  std::vector<std::string> records;  ///< line, error and fields, flattened
  std::string error;                 ///< FormatError text, or empty
};

inline ReadOutcome read_feed(feeds::Format format, std::string_view text, std::size_t split,
                             const etl::RowMapper& mapper, std::size_t xml_piece_bytes = 0) {
  ReadOutcome out;
  etl::ProductRow row;
  std::string reason;
  std::string scratch;
  std::uint64_t last_line = 0;
  feeds::ReaderOptions options;
  options.max_record_bytes = 4096;  // small, so the overlong paths are reached
  options.xml_piece_bytes = xml_piece_bytes;
  auto reader = feeds::make_record_reader(format, options, [&](const csv::Record& r) {
    if (r.line == 0 || r.line < last_line) finding("record line " + std::to_string(r.line) + " after " + std::to_string(last_line));
    last_line = r.line;
    std::string flat = std::to_string(r.line) + "|" + r.error;
    for (auto f : r.fields) flat.append("|").append(f);
    out.records.push_back(std::move(flat));
    if (!r.error.empty()) return;
    if (r.fields.size() % 2 != 0) finding("a keyed record with an odd number of fields");
    if (mapper.normalize(r.fields, row, reason)) {
      if (row.sku.empty()) finding("row accepted with an empty sku");
      (void)etl::content_hash(row, scratch);
    } else if (reason.empty()) {
      finding("row rejected without a reason");
    }
    (void)mapper.raw_text(r.fields, 200);
  });
  try {
    split = std::min(split, text.size());
    reader->feed(text.substr(0, split));
    reader->feed(text.substr(split));
    reader->finish();
  } catch (const feeds::FormatError& e) {
    out.error = e.what();
    if (out.error.empty()) finding("FormatError without a message");
  }
  return out;
}

inline int run_feed_target(feeds::Format format, const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::size_t split = in.byte() * 7u;
  const std::string_view text = in.rest();
  static const etl::JobOptions options = etl::JobOptions::from_json({{"profile", "google_merchant"}});
  etl::KeyedRowNormalizer mapper(options);
  const auto whole = read_feed(format, text, text.size(), mapper);
  const auto split_read = read_feed(format, text, split, mapper);
  // A FormatError may surface at a different record count (the parser stops
  // mid-chunk), but it must surface both ways, and records before it agree.
  if (whole.error.empty() != split_read.error.empty()) {
    finding("chunking changed the outcome: '" + whole.error + "' vs '" + split_read.error + "'");
  }
  if (whole.error.empty() && whole.records != split_read.records) finding("chunking changed the records");
  if (format == feeds::Format::xml) {
    const auto pieces = read_feed(format, text, split, mapper, 1 + split % 61);
    if (whole.error.empty() != pieces.error.empty()) {
      finding("pieces changed the outcome: '" + whole.error + "' vs '" + pieces.error + "'");
    }
    if (whole.error.empty() && whole.records != pieces.records) finding("pieces changed the records");
  }
  return 0;
}

}  // namespace catalog::fuzz
