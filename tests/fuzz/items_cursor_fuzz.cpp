// The GET /items cursor codec (src/handlers/item_body.cpp): any text as
// `?cursor=`. Properties: a malformed cursor is a 400, never another error; a
// cursor that decodes re-encodes to the same position.
#include <cstdint>
#include <string>

#include "catalog/core/errors.hpp"
#include "handlers/item_body.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  catalog::db::ItemCursor cursor;
  try {
    cursor = catalog::handlers::decode_item_cursor(text);
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "items cursor");
    return 0;
  }
  catalog::db::Item last;
  try {
    last.created_at = catalog::db::UtcTimestamp(cursor.created_at);
  } catch (const catalog::Error&) {
    return 0;  // only timestamps read from the database are ever encoded
  }
  last.id = cursor.id;
  const auto again = catalog::handlers::decode_item_cursor(catalog::handlers::encode_item_cursor(last));
  if (again.created_at != cursor.created_at || again.id != cursor.id) {
    catalog::fuzz::finding("items cursor does not survive encode/decode");
  }
  return 0;
}
