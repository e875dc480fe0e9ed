// JSON request bodies of POST /items and PATCH /items/{id}
// (handlers::parse_item_body, src/handlers/item_body.cpp, the function the
// handlers call before the database). Property: every body is either
// accepted or answered 4xx — nothing the server would turn into a 500 (an
// uncaught nlohmann exception, an out-of-range number, ...) — an accepted
// POST names the item, and no accepted text holds a NUL byte (PostgreSQL
// would store it cut short).
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "handlers/item_body.hpp"

namespace {

void require_storable(const std::string& text) {
  if (text.find('\0') != std::string::npos) catalog::fuzz::finding("an accepted item text holds a NUL byte");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  const bool create = (flags & 1) == 0;
  catalog::http::Request request;
  request.method = create ? "POST" : "PATCH";
  request.headers.emplace_back("Content-Type", (flags & 2) ? "application/json; charset=utf-8" : "application/json");
  request.body = std::string(in.rest());
  try {
    const auto fields = catalog::handlers::parse_item_body(request, create);
    if (create && !fields.name) catalog::fuzz::finding("a POST body without a name was accepted");
    if (fields.name) require_storable(*fields.name);
    if (fields.description && *fields.description) require_storable(**fields.description);
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "items body");
  }
  return 0;
}
