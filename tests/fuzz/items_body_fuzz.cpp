// JSON request bodies of POST /items and PATCH /items/{id}
// (src/handlers/items_handler.cpp + http::json_object_body), run through the
// real handler functions with the database stubbed out. Property: every body
// is either accepted or answered 4xx — nothing the server would turn into a
// 500 (an uncaught nlohmann exception, an out-of-range number, ...) — and no
// accepted text holds a NUL byte (PostgreSQL would store it cut short).
#include <cstdint>
#include <string>

#include "handlers/items_handler.cpp"

#include "fuzz_support.hpp"
#include "items_stubs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  catalog::db::ItemsRepository items(catalog::fuzz::unused_pool());
  catalog::http::Request request;
  request.method = (flags & 1) ? "PATCH" : "POST";
  request.headers.emplace_back("Content-Type", (flags & 2) ? "application/json; charset=utf-8" : "application/json");
  request.params["id"] = "00000000-0000-4000-8000-000000000000";
  request.body = std::string(in.rest());
  try {
    const auto response = (flags & 1) ? catalog::handlers::patch(items, request)
                                      : catalog::handlers::create(items, request);
    if (response.status >= 300) catalog::fuzz::finding("unexpected status " + std::to_string(response.status));
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "items body");
  }
  return 0;
}
