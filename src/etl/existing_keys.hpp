#pragma once
// The key load (private to src/etl): what the diff needs of each product the
// source already has, streamed with COPY, and how many to expect.

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "catalog/db/product_loader.hpp"

namespace catalog::etl {

/// The planner's row estimate for the source's products (statistics only,
/// nothing is read); 0 when unknown. Only a size hint: the key table grows.
std::size_t estimated_source_rows(pqxx::work& tx, const std::string& source);

/// One product of the source as the diff sees it.
struct ExistingKey {
  std::uint64_t key = 0;      ///< key_hash(sku)
  std::uint64_t content = 0;  ///< content_hash of its stored fields
  std::uint32_t check = 0;    ///< key_check(sku)
  std::uint32_t meta = 0;     ///< KeyTable::kInDb, plus kDeleted for a soft-deleted row
};

/// The source's products (catalog.etl_source, set by run_feed), one at a time.
class ExistingKeys {
 public:
  explicit ExistingKeys(pqxx::work& tx);
  /// False at the end; throws catalog::Error on output it cannot read.
  bool next(ExistingKey& out);

 private:
  db::CopyOut out_;
  std::string sku_buf_;
};

}  // namespace catalog::etl
