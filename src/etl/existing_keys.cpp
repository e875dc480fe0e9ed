#include "etl/existing_keys.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/etl/normalizer.hpp"
#include "etl/key_table.hpp"

namespace catalog::etl {
namespace {

// The source travels as a transaction-local setting: COPY takes no parameters.
constexpr const char* kCopyExisting =
    "COPY (SELECT sku, content_hash, deleted_at IS NOT NULL FROM products "
    "WHERE source = (SELECT current_setting('catalog.etl_source'))) TO STDOUT";
constexpr const char* kEstimateKeys = "EXPLAIN (FORMAT JSON) SELECT 1 FROM products WHERE source = $1";

}  // namespace

std::size_t estimated_source_rows(pqxx::work& tx, const std::string& source) {
  try {
    const auto plan = nlohmann::json::parse(tx.exec_params1(kEstimateKeys, source)[0].c_str());
    return plan.at(0).at("Plan").at("Plan Rows").get<std::size_t>();
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
}

ExistingKeys::ExistingKeys(pqxx::work& tx) : out_(tx, kCopyExisting) {}

bool ExistingKeys::next(ExistingKey& out) {
  std::string_view line;
  if (!out_.next(line)) return false;
  // sku \t content_hash \t t|f   (sku is the only field that can carry escapes)
  const auto t2 = line.rfind('\t');
  const auto t1 = t2 == std::string_view::npos || t2 == 0 ? std::string_view::npos : line.rfind('\t', t2 - 1);
  if (t1 == std::string_view::npos) throw catalog::Error("unexpected COPY output while reading existing products");
  const std::string_view raw_sku = line.substr(0, t1);
  std::string_view sku = raw_sku;
  if (raw_sku.find('\\') != std::string_view::npos) {
    sku_buf_ = db::unescape_copy_text(raw_sku);
    sku = sku_buf_;
  }
  const std::string_view hash_text = line.substr(t1 + 1, t2 - t1 - 1);
  std::int64_t signed_hash = 0;
  const auto parsed = std::from_chars(hash_text.data(), hash_text.data() + hash_text.size(), signed_hash);
  if (parsed.ec != std::errc() || parsed.ptr != hash_text.data() + hash_text.size()) {
    throw catalog::Error("unexpected content_hash in products: " + std::string(hash_text));
  }
  out.key = key_hash(sku);
  out.check = key_check(sku);
  out.content = static_cast<std::uint64_t>(signed_hash);
  out.meta = KeyTable::kInDb | (line.substr(t2 + 1) == "t" ? KeyTable::kDeleted : 0);
  return true;
}

}  // namespace catalog::etl
