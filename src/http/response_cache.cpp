#include "catalog/http/response_cache.hpp"

#include <iterator>

namespace catalog::http {
namespace {

// What a page costs beyond its key and body: the list node, the index slot,
// the shared body's control block (an estimate; it keeps the bound honest
// for many small pages).
constexpr std::size_t kEntryOverhead = 160;

}  // namespace

ResponseCache::ResponseCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

std::string ResponseCache::name(char kind, std::string_view canonical_query) {
  std::string name(1, kind);
  name += canonical_query;
  return name;
}

std::size_t ResponseCache::cost(const std::string& name, const Response& page) {
  std::size_t bytes = name.size() + page.body_view().size() + kEntryOverhead;
  for (const auto& [header, value] : page.headers) bytes += header.size() + value.size() + 64;
  return bytes;
}

void ResponseCache::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->name);
  lru_.erase(it);
}

std::shared_ptr<const Response> ResponseCache::find(const std::string& name, std::int64_t version) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(name);
  if (it == index_.end() || it->second->version != version) {
    // Versions only grow: a page read before `version` is never asked again.
    if (it != index_.end() && it->second->version < version) erase(it->second);
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->page;
}

void ResponseCache::insert(std::string name, std::int64_t version, const Response& page) {
  if (page.status != 200 || page.head_only) return;
  const std::size_t bytes = cost(name, page);
  if (bytes > capacity_ / 8) return;
  auto shared = std::make_shared<const Response>(page);
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(name); it != index_.end()) {
    // Two misses computed the same page, or a replica behind the primary
    // answered an older one: keep the newest.
    if (it->second->version >= version) return;
    erase(it->second);
  }
  while (!lru_.empty() && bytes_ + bytes > capacity_) {
    erase(std::prev(lru_.end()));
    ++evictions_;
  }
  lru_.push_front(Entry{std::move(name), version, std::move(shared), bytes});
  index_.emplace(lru_.front().name, lru_.begin());
  bytes_ += bytes;
}

ResponseCache::Stats ResponseCache::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{hits_, misses_, evictions_, bytes_, lru_.size(), capacity_};
}

std::string ResponseCache::render_metrics() const {
  const Stats s = stats();
  std::string out;
  const auto metric = [&out](const char* name, const char* type, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' + name + ' ' +
           std::to_string(value) + '\n';
  };
  metric("catalog_response_cache_hits_total", "counter",
         "List pages (GET /items, /products) answered from the response cache.", s.hits);
  metric("catalog_response_cache_misses_total", "counter",
         "List pages looked up in the response cache and computed instead (not counted while the catalog versions "
         "are unknown: those go to the database).",
         s.misses);
  metric("catalog_response_cache_evictions_total", "counter",
         "Pages dropped from the response cache to stay within RESPONSE_CACHE_BYTES.", s.evictions);
  metric("catalog_response_cache_bytes", "gauge", "Bytes the response cache holds (keys, bodies, bookkeeping).",
         s.bytes);
  metric("catalog_response_cache_entries", "gauge", "Pages the response cache holds.", s.entries);
  metric("catalog_response_cache_capacity_bytes", "gauge", "RESPONSE_CACHE_BYTES: what the cache may hold.",
         s.capacity);
  return out;
}

}  // namespace catalog::http
