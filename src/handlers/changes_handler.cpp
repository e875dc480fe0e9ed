// The change log through the API (docs/change-log.md): GET /runs/{run_id}/changes
// (one run's changes, keyset-paged by sku like /products) and
// GET /products/{source}/{sku}/history (the runs that changed one product).
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/changes_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/cursor.hpp"
#include "catalog/http/request_helpers.hpp"
#include "handlers/query_params.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;
constexpr int kCursorVersion = 1;
const std::set<std::string> kChangeParams = {"kind", "limit", "cursor"};
const std::set<std::string> kHistoryParams = {"limit"};

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json change_json(const db::Change& c) {
  return {{"sku", c.sku}, {"kind", c.kind}, {"fields", c.fields}};
}

// Cursor: base64url of [version, last sku of the page].
std::string decode_cursor(const std::string& text) {
  const auto fields = http::decode_cursor(text, kCursorVersion, 1);
  if (!fields[0].is_string()) throw BadRequest("malformed cursor");
  auto sku = fields[0].get<std::string>();
  require_text(sku, "cursor");
  return sku;
}

db::ChangeQuery parse_change_query(const http::Request& request) {
  reject_unknown_params(request, kChangeParams);
  db::ChangeQuery query;
  query.run_id = request.params.at("run_id");
  http::require_uuid(query.run_id, "run");
  query.kind = choice_param(request, "kind", {"inserted", "updated", "deleted", "revived"});
  query.limit = http::limit_param(request, kDefaultLimit, kMaxLimit);
  if (auto cursor = request.query_param("cursor")) query.after_sku = decode_cursor(*cursor);
  return query;
}

http::Response list_changes(db::RunsRepository& runs, db::ChangesRepository& changes, const http::Request& request) {
  auto query = parse_change_query(request);
  const auto run = runs.find(query.run_id);
  if (!run) throw NotFound("run '" + query.run_id + "' does not exist");
  auth::require_follow(request.principal ? &*request.principal : nullptr, run->job_id);
  const auto limit = query.limit;
  query.limit = limit + 1;  // one more tells whether a next page exists
  auto page = changes.list(query);
  const bool more = page.size() > limit;
  if (more) page.pop_back();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : page) items.push_back(change_json(c));
  return http::json_response(
      200, {{"run_id", run->id},
            {"job_id", run->job_id},
            {"status", run->status},
            {"dry_run", run->dry_run},
            // A first load records only its count (counts.inserted), not its keys.
            {"first_load", run->first_load},
            {"items", std::move(items)},
            {"next_cursor",
             more ? nlohmann::json(http::encode_cursor(kCursorVersion, nlohmann::json::array({page.back().sku}))) : nlohmann::json(nullptr)}});
}

http::Response history(db::ChangesRepository& changes, const http::Request& request) {
  reject_unknown_params(request, kHistoryParams);
  const auto& source = request.params.at("source");
  const auto& sku = request.params.at("sku");
  require_text(source, "source");
  require_text(sku, "sku");
  const auto limit = http::limit_param(request, kDefaultLimit, kMaxLimit);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& p : changes.history(source, sku, limit)) {
    items.push_back({{"run_id", p.run_id},
                     {"job_id", p.job_id},
                     {"status", p.status},
                     {"started_at", or_null(p.started_at)},
                     {"finished_at", or_null(p.finished_at)},
                     {"kind", p.change.kind},
                     {"fields", p.change.fields}});
  }
  return http::json_response(200, {{"source", source}, {"sku", sku}, {"items", std::move(items)}});
}

}  // namespace

void add_change_routes(http::Router& router, db::RunsRepository& runs, db::ChangesRepository& changes) {
  // A feeds:<job> key reads its own job's runs' changes (checked after the
  // run is looked up); other jobs' changes need `read`.
  router.add("GET", "/runs/{run_id}/changes", http::Access::job_lookup,
             [&runs, &changes](const http::Request& r) { return list_changes(runs, changes, r); });
  // Not public like the rest of /products: a product's history names runs
  // and jobs, so it needs `read`.
  router.add("GET", "/products/{source}/{sku}/history", http::Access::by_method,
             [&changes](const http::Request& r) { return history(changes, r); });
}

}  // namespace catalog::handlers
