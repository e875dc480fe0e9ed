// Row normaliser (src/etl/normalizer): a header and rows of any bytes, with a
// few job option shapes. Properties: the constructor throws only FeedError,
// normalize() never throws, an accepted row has a non-empty sku and a price
// that prints and parses back to the same cents, and hashing never fails.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"
#include "fuzz_support.hpp"

namespace {

// Fields separated by '\x1f' (so any byte a CSV field may hold, ',' and '\n'
// included, can reach the normaliser), records by '\x1e'.
std::vector<std::string_view> fields_of(std::string_view record) {
  std::vector<std::string_view> out;
  catalog::fuzz::Input in(reinterpret_cast<const std::uint8_t*>(record.data()), record.size());
  do out.push_back(in.until('\x1f'));
  while (!in.empty());
  return out;
}

catalog::etl::JobOptions options_for(std::uint8_t flags) {
  nlohmann::json o = nlohmann::json::object();
  if (flags & 1) o["key"] = "id";
  if (flags & 2) o["header"] = {{"title", "product_name"}, {"cost", "price"}};
  if (flags & 4) o["missing_rows"] = "soft_delete";
  return catalog::etl::JobOptions::from_json(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto options = options_for(in.byte());
  const auto header = fields_of(in.until('\x1e'));
  std::optional<catalog::etl::RowNormalizer> normalizer;
  try {
    normalizer.emplace(header, options);
  } catch (const catalog::etl::FeedError&) {
    return 0;
  }
  (void)normalizer->attribute_columns();
  catalog::etl::ProductRow row;
  std::string reason;
  std::string scratch;
  while (!in.empty()) {
    const auto fields = fields_of(in.until('\x1e'));
    reason.clear();
    if (!normalizer->normalize(fields, row, reason)) {
      if (reason.empty()) catalog::fuzz::finding("row rejected without a reason");
      continue;
    }
    if (row.sku.empty()) catalog::fuzz::finding("row accepted with an empty sku");
    if (row.has_price) {
      std::int64_t cents = 0;
      const auto text = row.price_text();
      if (!catalog::etl::parse_price(text, cents) || cents != row.price_cents) {
        catalog::fuzz::finding("price_text '" + text + "' does not parse back to " + std::to_string(row.price_cents));
      }
    }
    (void)catalog::etl::content_hash(row, scratch);
    (void)catalog::etl::key_hash(row.sku);
    (void)catalog::etl::key_check(row.sku);
  }
  // The standalone helpers take any text too.
  std::int64_t cents = 0;
  (void)catalog::etl::parse_price(header.empty() ? std::string_view{} : header.front(), cents);
  (void)catalog::etl::normalize_availability(header.empty() ? std::string_view{} : header.back());
  return 0;
}
