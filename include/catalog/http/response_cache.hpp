#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "catalog/http/message.hpp"

namespace catalog::http {

/// 200 list pages (GET /items, GET /products) in memory, so that a page
/// asked again while its catalog version is unchanged is answered on the I/O
/// thread without a query (docs/products-api.md "Caching").
///
/// A page is named by its route and canonical query (everything else that
/// shapes a body) and kept with the catalog version it was read at. A lookup
/// names the version the version cache vouches for now and hits only that
/// version, so a hit is exactly as fresh as a fast 304 and stale for at most
/// the same bound. One entry per page: a page read at a newer version
/// replaces the older one, and a lookup at a newer version drops it, so
/// writes do not fill the cache with pages nobody can ask for again. Bounded
/// by bytes (names, pages and bookkeeping), least recently used first;
/// thread-safe.
class ResponseCache {
 public:
  struct Stats {
    std::uint64_t hits = 0, misses = 0, evictions = 0;
    std::size_t bytes = 0, entries = 0, capacity = 0;
  };

  /// `capacity_bytes` 0 keeps nothing (every lookup misses).
  explicit ResponseCache(std::size_t capacity_bytes);
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  /// A page's name: `kind` names the route ('i', 'p').
  static std::string name(char kind, std::string_view canonical_query);

  /// The page `name` as read at `version` (status, headers, body), or null;
  /// counts a hit or a miss. A page kept at an older version is dropped.
  std::shared_ptr<const Response> find(const std::string& name, std::int64_t version);

  /// Keeps a 200 `page` read at `version` unless a newer one is kept,
  /// evicting the least recently used pages to make room; anything but a 200
  /// is not kept. Neither is a page larger than an eighth of the capacity:
  /// one huge page must not empty the cache of many small ones.
  void insert(std::string name, std::int64_t version, const Response& page);

  Stats stats() const;

  /// Its counters and gauges in the Prometheus text format (GET /metrics).
  std::string render_metrics() const;

 private:
  struct Entry {
    std::string name;
    std::int64_t version = 0;
    std::shared_ptr<const Response> page;
    std::size_t bytes = 0;
  };
  static std::size_t cost(const std::string& name, const Response& page);
  void erase(std::list<Entry>::iterator it);  // mutex_ held

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  ///< most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  ///< views into lru_'s names
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

}  // namespace catalog::http
