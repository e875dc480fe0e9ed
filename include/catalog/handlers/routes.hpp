#pragma once

#include <atomic>
#include <chrono>

#include "catalog/http/router.hpp"

namespace catalog::db {
class Pool;
class ItemsRepository;
}  // namespace catalog::db

namespace catalog::handlers {

/// GET/HEAD /health: 200 when PostgreSQL answers within `timeout`, 503 when
/// it does not, and while `not_serving` is set (before migrations, draining).
void add_health_routes(http::Router& router, db::Pool& pool, const std::atomic<bool>& not_serving,
                       std::chrono::milliseconds timeout);

/// /items CRUD.
void add_item_routes(http::Router& router, db::ItemsRepository& items);

}  // namespace catalog::handlers
