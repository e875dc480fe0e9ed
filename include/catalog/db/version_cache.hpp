#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "catalog/db/catalog_versions.hpp"

namespace catalog::db {

/// The catalog_versions table in memory, so that an If-None-Match on
/// GET /items* and /products* can be answered without a query (the I/O
/// thread fast path, docs/products-api.md "Caching").
///
/// A thread holds one dedicated connection (not from a pool: LISTEN is a
/// session property) that LISTENs on catalog_versions (migration 9's
/// trigger) and re-reads the whole table every `poll_every`. The cache is
/// usable only while that is working:
///  - "confirmed" = the start time of the last full read that succeeded;
///    version() answers only within `valid_for` of it, whatever the thread
///    is doing (a hung connection cannot keep stale versions alive);
///  - a lost connection (error, terminated backend) invalidates at once;
///    after reconnecting, LISTEN comes before the full read, so nothing
///    committed in between is missed.
/// Versions of a scope only grow in commit order (migration 9 draws them
/// under the row lock, whoever writes), so every source of news
/// (notifications, full reads, this process's own commits through
/// observe()) is merged with max() — except a connection's first full read,
/// which replaces the lot: after a failover or a restore the database may be
/// behind what was remembered.
class VersionCache {
 public:
  /// application_name of the listener's session (pg_stat_activity).
  static constexpr const char* kListenerApplicationName = "catalog-api version listener";

  struct Options {
    std::string dsn;  ///< the primary's (DATABASE_URL), with connect_timeout
    std::chrono::milliseconds poll_every{1000};
    std::chrono::milliseconds valid_for{3000};
    std::chrono::milliseconds retry_every{500};  ///< after a failed connect or read
    std::chrono::milliseconds statement_timeout{2000};
  };
  explicit VersionCache(Options options);
  ~VersionCache();
  VersionCache(const VersionCache&) = delete;
  VersionCache& operator=(const VersionCache&) = delete;

  /// Starts the listener thread (idempotent). Call once migration 9 is in.
  void start();
  /// Stops and joins it; the cache is invalid from then on.
  void stop();

  /// The scope's version (0 when it has none), or nullopt when the cache
  /// cannot vouch for it: not confirmed within valid_for, or listener down.
  /// Never blocks on the database.
  std::optional<std::int64_t> version(std::string_view scope) const;
  bool valid() const noexcept;

  /// Versions a transaction of this process has just committed: merged at
  /// once, so the same client's next revalidation sees its own write before
  /// the notification arrives (read-your-writes).
  void observe(const ScopeVersions& versions);

  /// Also LISTEN on `channel` on the same connection: `handler(payload)` runs
  /// on the listener thread for each notification. Call before start().
  void subscribe(std::string channel, std::function<void(const std::string&)> handler);

  /// Non-zero while the listener is connected, LISTENing and confirmed, the
  /// same value for as long as that connection lasts; 0 otherwise. Whoever
  /// reads the database while it is e, and still sees e later, has been
  /// handed (through subscribe()) every notification committed in between.
  std::uint64_t live_epoch() const noexcept;

  /// Test hook: called on the listener thread after each event
  /// ("connected", "confirmed", "lost").
  void set_event_hook(std::function<void(const char*)> hook);

 private:
  void run();
  bool stopping();
  void serve_connection();
  void merge(std::string_view scope, std::int64_t version);
  void replace_all(const ScopeVersions& versions);
  void invalidate(const char* reason, const std::string& error);
  void wait_for(std::chrono::milliseconds delay);
  void event(const char* name);

  const Options options_;
  mutable std::mutex mutex_;  // guards versions_
  std::map<std::string, std::int64_t, std::less<>> versions_;
  // steady_clock ns until which the last confirmed read vouches; 0 = invalid.
  std::atomic<std::int64_t> valid_until_ns_{0};
  std::mutex run_mutex_;  // guards stopping_, hook_, socket_
  std::condition_variable wake_;
  bool stopping_ = false;
  int socket_ = -1;  // the listener connection's socket while it is open
  bool reported_down_ = false;  // listener thread only
  std::function<void(const char*)> hook_;
  // Set before start(), read by the listener thread only.
  std::vector<std::pair<std::string, std::function<void(const std::string&)>>> subscriptions_;
  std::atomic<std::uint64_t> epoch_{0};  // the current connection's, 0 = none
  std::uint64_t connections_ = 0;        // listener thread only
  std::thread thread_;
};

}  // namespace catalog::db
