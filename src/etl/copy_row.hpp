#pragma once
// One product row in COPY text format, in the column order of the insert and
// staging COPY statements (private to src/etl).

#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/etl/normalizer.hpp"

namespace catalog::etl {

/// Appends `row` as one COPY line: source, sku, name, description, brand,
/// category, price, currency, availability, attributes (a JSON object),
/// content_hash, last_run_id. `source_escaped` and `run_id_escaped` are
/// already COPY-escaped; `json` is scratch space.
void append_copy_row(std::string& out, std::string_view source_escaped, const ProductRow& row, std::uint64_t hash,
                     std::string_view run_id_escaped, std::string& json);

}  // namespace catalog::etl
