#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/core/json_string.hpp"
#include "catalog/db/items_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/request_helpers.hpp"
#include "handlers/etag.hpp"
#include "handlers/item_body.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;

/// One item as a JSON object, keys in the sorted order nlohmann::json
/// dumped them in before.
void append_item(std::string& out, const db::Item& item) {
  JsonObjectWriter json(out);
  json.string("created_at", item.created_at.text());
  json.nullable("description", item.description);
  json.string("id", item.id);
  json.string("name", item.name);
  json.close();
}

http::Response item_response(int status, const db::Item& item) {
  std::string body;
  body.reserve(128 + item.name.size() + (item.description ? item.description->size() : 0));
  append_item(body, item);
  return http::json_text_response(status, std::move(body));
}

http::Response create(db::ItemsRepository& items, const http::Request& request) {
  const auto fields = parse_item_body(request, true);
  const auto item = items.create(*fields.name, fields.description.value_or(std::nullopt));
  auto response = item_response(201, item);
  response.set_header("Location", "/items/" + std::string(item.id));
  return response;
}

struct ListQuery {
  std::size_t limit;
  std::optional<db::ItemCursor> after;
  std::string canonical;  ///< of the ETag
};

ListQuery parse_list(const http::Request& request) {
  ListQuery q{http::limit_param(request, kDefaultLimit, kMaxLimit), std::nullopt, "items?"};
  if (const auto cursor = request.query_param("cursor")) q.after = decode_item_cursor(*cursor);
  add_canonical_field(q.canonical, std::to_string(q.limit));
  if (q.after) {
    add_canonical_field(q.canonical, q.after->created_at);
    add_canonical_field(q.canonical, q.after->id);
  }
  return q;
}

std::string one_canonical(const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  std::string canonical = "item/";
  add_canonical_field(canonical, id);
  return canonical;
}

// The I/O thread's half of the GET routes (http::FastHandler): 304 when
// If-None-Match names the ETag at the items' version held in memory, or a
// list page kept at that version; parsing as below, and anything else
// declines to the pool.
std::optional<http::Response> fast_304(const db::ItemsRepository& items, const std::string& cache_control,
                                       const http::Request& request, std::string (*canonical)(const http::Request&)) {
  if (!has_if_none_match(request)) return std::nullopt;
  const auto text = canonical(request);
  const auto version = items.cached_version();
  if (!version) return std::nullopt;
  const auto etag = make_etag('i', *version, text);
  if (!if_none_match(request, etag, false)) return std::nullopt;
  return not_modified(etag, cache_control);
}

std::optional<http::Response> list_fast(const db::ItemsRepository& items, http::ResponseCache* pages,
                                        const std::string& cache_control, const http::Request& request) {
  if (pages == nullptr && !has_if_none_match(request)) return std::nullopt;
  const auto canonical = parse_list(request).canonical;
  const auto version = items.cached_version();
  if (!version) return std::nullopt;
  return fast_list_page(pages, 'i', *version, canonical, cache_control, request);
}

http::Response list(db::ItemsRepository& items, http::ResponseCache* pages, const std::string& cache_control,
                    const http::Request& request) {
  const auto [limit, after, canonical] = parse_list(request);
  if (has_if_none_match(request)) {
    const auto etag = make_etag('i', items.version(), canonical);
    if (if_none_match(request, etag, true)) return not_modified(etag, cache_control);
  }
  // One extra row tells whether a next page exists without a count query.
  std::int64_t version = 0;
  auto page = items.list(limit + 1, after, &version);
  const bool more = page.size() > limit;
  if (more) page.pop_back();
  // Keys, punctuation, timestamp and uuid take 110 bytes an item.
  std::size_t size_hint = 2;
  for (const auto& item : page) size_hint += 128 + item.name.size() + (item.description ? item.description->size() : 0);
  std::string body;
  body.reserve(size_hint);
  body += '[';
  for (std::size_t i = 0; i < page.size(); ++i) {
    if (i > 0) body += ',';
    append_item(body, page[i]);
  }
  body += ']';
  auto response = http::json_text_response(200, std::move(body));
  if (more) {
    response.set_header("Link", "</items?limit=" + std::to_string(limit) + "&cursor=" + encode_item_cursor(page.back()) +
                                    ">; rel=\"next\"");
  }
  set_cache_headers(response, make_etag('i', version, canonical), cache_control);
  keep_list_page(pages, 'i', version, canonical, response);
  return response;
}

http::Response get_one(db::ItemsRepository& items, const std::string& cache_control, const http::Request& request) {
  const auto canonical = one_canonical(request);
  const auto& id = request.params.at("id");
  if (has_if_none_match(request)) {
    // `*` needs the row to exist: that takes the query, below.
    const auto etag = make_etag('i', items.version(), canonical);
    if (if_none_match(request, etag, false)) return not_modified(etag, cache_control);
  }
  std::int64_t version = 0;
  auto item = items.find(id, &version);
  if (!item) throw NotFound("item '" + id + "' does not exist");
  const auto etag = make_etag('i', version, canonical);
  if (if_none_match(request, etag, true)) return not_modified(etag, cache_control);
  auto response = item_response(200, *item);
  set_cache_headers(response, etag, cache_control);
  return response;
}

http::Response patch(db::ItemsRepository& items, const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  const auto fields = parse_item_body(request, false);
  auto item = items.update(id, fields.name, fields.description);
  if (!item) throw NotFound("item '" + id + "' does not exist");
  return item_response(200, *item);
}

http::Response remove(db::ItemsRepository& items, const http::Request& request) {
  const auto& id = request.params.at("id");
  http::require_uuid(id, "item");
  if (!items.remove(id)) throw NotFound("item '" + id + "' does not exist");
  return http::no_content();
}

}  // namespace

void add_item_routes(http::Router& router, db::ItemsRepository& items, const std::string& cache_control,
                     http::ResponseCache* pages) {
  router.add("POST", "/items", [&items](const http::Request& r) { return create(items, r); });
  router.add(
      "GET", "/items",
      [&items, pages, cache_control](const http::Request& r) { return list(items, pages, cache_control, r); },
      [&items, pages, cache_control](const http::Request& r) { return list_fast(items, pages, cache_control, r); },
      http::Access::public_read);
  router.add(
      "GET", "/items/{id}",
      [&items, cache_control](const http::Request& r) { return get_one(items, cache_control, r); },
      [&items, cache_control](const http::Request& r) { return fast_304(items, cache_control, r, one_canonical); },
      http::Access::public_read);
  router.add("PATCH", "/items/{id}", [&items](const http::Request& r) { return patch(items, r); });
  router.add("DELETE", "/items/{id}", [&items](const http::Request& r) { return remove(items, r); });
}

}  // namespace catalog::handlers
