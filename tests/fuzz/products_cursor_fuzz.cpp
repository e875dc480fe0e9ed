// The GET /products cursor decoder (src/handlers/product_cursor.cpp): any
// text as `?cursor=` under each sort and order. Properties: a malformed cursor
// is a 400, never another error; what decodes is valid UTF-8 text without NUL
// (it becomes a query parameter) and re-encodes to the same position.
#include <cstdint>
#include <string>

#include "catalog/core/utf8.hpp"
#include "catalog/http/request_helpers.hpp"
#include "fuzz_support.hpp"
#include "handlers/product_cursor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  const catalog::db::ProductSort sorts[] = {catalog::db::ProductSort::sku, catalog::db::ProductSort::name,
                                            catalog::db::ProductSort::price, catalog::db::ProductSort::updated_at};
  const auto sort = sorts[flags % 4];
  const auto order = (flags & 4) ? catalog::db::SortOrder::desc : catalog::db::SortOrder::asc;
  // Fuzzed JSON arrays reach the decoder more often when the fuzzer may
  // write them in clear: flag 8 base64url-encodes the rest first.
  std::string text(in.rest());
  if (flags & 8) text = catalog::http::base64url_encode(text);
  catalog::db::ProductCursor cursor;
  try {
    cursor = catalog::handlers::decode_product_cursor(text, sort, order);
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "products cursor");
    return 0;
  }
  for (const auto* value : {&cursor.source, &cursor.sku}) {
    if (value->find('\0') != std::string::npos || !catalog::valid_utf8(*value)) {
      catalog::fuzz::finding("cursor decoded to text PostgreSQL cannot take");
    }
  }
  const auto again =
      catalog::handlers::decode_product_cursor(catalog::handlers::encode_product_cursor(cursor, sort, order), sort, order);
  if (again.value != cursor.value || again.source != cursor.source || again.sku != cursor.sku) {
    catalog::fuzz::finding("products cursor does not survive encode/decode");
  }
  return 0;
}
