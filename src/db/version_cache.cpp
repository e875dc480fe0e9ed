#include "catalog/db/version_cache.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <pqxx/pqxx>

#include "catalog/log/logging.hpp"

namespace catalog::db {
namespace {

constexpr std::chrono::milliseconds kMaxWaitSlice{200};  // how soon stop() is noticed

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t to_ns(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

/// The listener's side of LISTEN catalog_versions: "<version> <scope>" is
/// merged; anything else (the empty "re-read" payload) asks for a full read.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, std::function<void(std::string_view, std::int64_t)> merge)
      : pqxx::notification_receiver(conn, kVersionsChannel), merge_(std::move(merge)) {}

  void operator()(const std::string& payload, int) override {
    const auto space = payload.find(' ');
    std::int64_t version = 0;
    if (space != std::string::npos && space + 1 < payload.size()) {
      const auto [end, ec] = std::from_chars(payload.data(), payload.data() + space, version);
      if (ec == std::errc() && end == payload.data() + space) {
        merge_(std::string_view(payload).substr(space + 1), version);
        return;
      }
    }
    reread = true;
  }

  bool reread = false;

 private:
  std::function<void(std::string_view, std::int64_t)> merge_;
};

/// A subscribe()d channel: every payload goes to its handler.
class ChannelReceiver final : public pqxx::notification_receiver {
 public:
  ChannelReceiver(pqxx::connection_base& conn, const std::string& channel,
                  const std::function<void(const std::string&)>& handler)
      : pqxx::notification_receiver(conn, channel), handler_(handler) {}

  void operator()(const std::string& payload, int) override { handler_(payload); }

 private:
  const std::function<void(const std::string&)>& handler_;
};

// TCP keepalives (an idle connection) and a user timeout (a read in flight,
// unacknowledged for 10 s) on the listener's connection: a peer that vanished
// without closing is noticed in about 10 s and the listener reconnects,
// instead of blocking for the kernel's retransmission timeout (minutes).
// Correctness does not depend on it: the cache is unusable 3 s after its last
// confirmed read whatever the thread is doing; stop() does not either (it
// shuts the socket down).
std::string with_keepalives(const std::string& dsn) {
  if (dsn.find("keepalives") != std::string::npos) return dsn;
  if (dsn.rfind("postgres://", 0) == 0 || dsn.rfind("postgresql://", 0) == 0) {
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") +
           "keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=2&tcp_user_timeout=10000";
  }
  return dsn + " keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=2 tcp_user_timeout=10000";
}

}  // namespace

VersionCache::VersionCache(Options options) : options_(std::move(options)) {}

VersionCache::~VersionCache() { stop(); }

void VersionCache::start() {
  std::lock_guard lock(run_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void VersionCache::stop() {
  {
    std::lock_guard lock(run_mutex_);
    stopping_ = true;
    // A read blocked on a silent server (or a frozen backend that still
    // acknowledges) would hold the join, and shutdown, for ever: break it.
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  valid_until_ns_.store(0, std::memory_order_release);
  epoch_.store(0, std::memory_order_release);
}

bool VersionCache::valid() const noexcept { return now_ns() < valid_until_ns_.load(std::memory_order_acquire); }

void VersionCache::subscribe(std::string channel, std::function<void(const std::string&)> handler) {
  std::lock_guard lock(run_mutex_);
  if (thread_.joinable()) throw std::logic_error("VersionCache::subscribe after start()");
  subscriptions_.emplace_back(std::move(channel), std::move(handler));
}

std::uint64_t VersionCache::live_epoch() const noexcept {
  // Read twice: a reconnect between the reads must not lend the new
  // connection's validity to the old epoch.
  const auto epoch = epoch_.load(std::memory_order_acquire);
  const bool confirmed = valid();
  return confirmed && epoch_.load(std::memory_order_acquire) == epoch ? epoch : 0;
}

std::optional<std::int64_t> VersionCache::version(std::string_view scope) const {
  if (!valid()) return std::nullopt;
  std::lock_guard lock(mutex_);
  const auto it = versions_.find(scope);
  return it == versions_.end() ? 0 : it->second;
}

void VersionCache::observe(const ScopeVersions& versions) {
  for (const auto& v : versions) merge(v.scope, v.version);
}

void VersionCache::replace_all(const ScopeVersions& versions) {
  std::lock_guard lock(mutex_);
  versions_.clear();
  for (const auto& v : versions) versions_.emplace(v.scope, v.version);
}

void VersionCache::merge(std::string_view scope, std::int64_t version) {
  std::lock_guard lock(mutex_);
  const auto it = versions_.find(scope);
  if (it == versions_.end()) versions_.emplace(std::string(scope), version);
  else it->second = std::max(it->second, version);
}

void VersionCache::set_event_hook(std::function<void(const char*)> hook) {
  std::lock_guard lock(run_mutex_);
  hook_ = std::move(hook);
}

void VersionCache::event(const char* name) {
  std::function<void(const char*)> hook;
  {
    std::lock_guard lock(run_mutex_);
    hook = hook_;
  }
  if (hook) hook(name);
}

void VersionCache::invalidate(const char* reason, const std::string& error) {
  valid_until_ns_.store(0, std::memory_order_release);
  epoch_.store(0, std::memory_order_release);
  if (!reported_down_) {
    reported_down_ = true;
    // libpq's messages name host and port, never the password.
    log::warn("db", "catalog version listener down: revalidations read versions from the database",
              {{"reason", reason}, {"error", error}});
  }
  event("lost");
}

void VersionCache::wait_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(run_mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_; });
}

bool VersionCache::stopping() {
  std::lock_guard lock(run_mutex_);
  return stopping_;
}

void VersionCache::run() {
  while (!stopping()) {
    try {
      serve_connection();
      return;  // stopping
    } catch (const std::exception& e) {
      // stop() shuts the socket down to break a blocked read: that error is
      // the shutdown itself, not an outage worth a warning.
      if (stopping()) break;
      invalidate("connection lost", e.what());
    } catch (...) {
      if (stopping()) break;
      invalidate("connection lost", "unknown error");
    }
    wait_for(options_.retry_every);
  }
}

// One connection's life: returns when stopping, throws when it breaks.
void VersionCache::serve_connection() {
  pqxx::connection conn(with_keepalives(options_.dsn));
  // libpqxx 6 would silently reconnect a broken connection on next use,
  // losing LISTEN and every notification in between: break loudly instead.
  conn.inhibit_reactivation(true);
  {
    pqxx::nontransaction tx(conn);
    // The name lets an operator (and the tests) find this session in pg_stat_activity.
    tx.exec("SET application_name = '" + std::string(kListenerApplicationName) + "'; SET statement_timeout = " +
            std::to_string(options_.statement_timeout.count()));
  }
  // LISTEN before the first full read: a write committed in between is in
  // the read or in a notification, never in neither.
  Receiver receiver(conn, [this](std::string_view scope, std::int64_t version) { merge(scope, version); });
  std::vector<std::unique_ptr<ChannelReceiver>> channels;
  for (const auto& [channel, handler] : subscriptions_) {
    channels.push_back(std::make_unique<ChannelReceiver>(conn, channel, handler));
  }
  // Every LISTEN is in: from here on this connection hears every commit.
  epoch_.store(++connections_, std::memory_order_release);
  const int backend = conn.backendpid();
  struct SocketSlot {  // stop() may shut the socket down while it is ours
    VersionCache& cache;
    SocketSlot(VersionCache& c, int fd) : cache(c) {
      std::lock_guard lock(cache.run_mutex_);
      cache.socket_ = fd;
    }
    ~SocketSlot() {
      std::lock_guard lock(cache.run_mutex_);
      cache.socket_ = -1;
    }
  } socket_slot(*this, conn.sock());
  bool first_read = true;
  event("connected");
  log::debug("db", "catalog version listener connected", {});
  auto next_read = std::chrono::steady_clock::now();
  while (!stopping()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_read || receiver.reread) {
      receiver.reread = false;
      // Vouch from the moment the read was sent: its snapshot is no older.
      const auto started_ns = now_ns();
      ScopeVersions all;
      {
        pqxx::nontransaction tx(conn);
        all = read_all_versions(tx);
      }
      if (conn.backendpid() != backend) throw std::runtime_error("listener connection was replaced");
      // The first read on a connection replaces what the cache held: after a
      // failover or a restore the database may be at versions lower than
      // those remembered. Later reads merge (a notification handled while a
      // read was in flight is newer than its snapshot).
      if (first_read) {
        replace_all(all);
        first_read = false;
      } else {
        observe(all);
      }
      valid_until_ns_.store(started_ns + to_ns(options_.valid_for), std::memory_order_release);
      if (reported_down_) {
        reported_down_ = false;
        log::info("db", "catalog version listener up: revalidations answered from memory", {});
      }
      event("confirmed");
      next_read = now + options_.poll_every;
      now = std::chrono::steady_clock::now();
    }
    const auto slice = std::clamp(std::chrono::duration_cast<std::chrono::microseconds>(next_read - now),
                                  std::chrono::microseconds(0), std::chrono::microseconds(kMaxWaitSlice));
    // Wakes on a notification or when the connection breaks (the socket
    // turns readable and get_notifs throws broken_connection).
    conn.await_notification(static_cast<long>(slice.count() / 1000000), static_cast<long>(slice.count() % 1000000));
    if (!conn.is_open()) throw std::runtime_error("listener connection closed");
  }
}

}  // namespace catalog::db
