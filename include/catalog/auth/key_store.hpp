#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "catalog/auth/principal.hpp"
#include "catalog/core/periodic_thread.hpp"

namespace catalog::db {
class KeysRepository;
}

namespace catalog::auth {

/// Turns a presented token into a principal; nullopt when it opens nothing.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::optional<Principal> authenticate(std::string_view token) = 0;
  /// The principal when it is known without waiting for anything (a fresh
  /// cache entry); nullopt when unknown, not cached, stale or refused: the
  /// caller then asks authenticate() off the I/O thread.
  virtual std::optional<Principal> try_cached(std::string_view) { return std::nullopt; }
  /// The principal of a key this store has seen valid, even if its entry is
  /// no longer fresh: an identity (one key, one share of the upload slots),
  /// never a grant. Without it a key's identity flickered with the cache's
  /// freshness, and two of its uploads could count as two clients.
  virtual std::optional<Principal> remembered(std::string_view) { return std::nullopt; }
};

/// A fresh key secret: `cat_` + 32 random bytes (OpenSSL RAND_bytes) in
/// unpadded base64url, 47 characters; the prefix lets secret scanners find leaks.
std::string generate_secret();
/// Lower-case hex SHA-256 of a secret: the only form the database holds.
std::string secret_digest_hex(std::string_view secret);
/// Whether `token` has the shape of a key secret (cheap, before any look-up).
bool looks_like_key_secret(std::string_view token);

/// The api_keys look-up behind the Dispatcher, cached in memory so that a
/// busy server does not ask PostgreSQL on every request:
///  - digest -> key record (or "no such key"). Revocations made anywhere
///    (another task, `catalog-api keys revoke`) arrive as notifications
///    (migration 13, through db::VersionCache's listener) and call
///    invalidate() at once. An entry is used for `ttl`, and beyond it for as
///    long as the listener that was live when it was read stays live
///    (`live_epoch`); while the listener is down, `ttl` bounds how late a
///    revocation made elsewhere takes effect. Expiry is checked on every
///    request against the cached expires_at;
///  - at most `max_entries` entries, so random tokens cannot grow memory;
///  - last_used_at is written at most once per `ttl` per key, by a
///    background thread (start()), never on the request path.
class KeyStore : public Authenticator {
 public:
  struct Options {
    std::chrono::milliseconds ttl{5000};
    std::size_t max_entries = 10000;
    /// db::VersionCache::live_epoch of the listener that delivers revocations
    /// to invalidate(); unset (or 0) = none, entries live for `ttl` only.
    std::function<std::uint64_t()> live_epoch;
  };
  KeyStore(db::KeysRepository& keys, Options options);
  ~KeyStore() override;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  std::optional<Principal> authenticate(std::string_view token) override;
  /// Never touches the database: a principal only from an entry younger
  /// than `ttl` (with the same revocation, expiry and digest checks).
  std::optional<Principal> try_cached(std::string_view token) override;
  std::optional<Principal> remembered(std::string_view token) override;
  /// Forgets cached entries of the key `name` (revoked or changed, here or
  /// elsewhere).
  void invalidate(const std::string& name);
  /// Starts / stops the last_used_at writer. stop() writes what is pending.
  void start();
  void stop();
  /// Writes pending last_used_at updates now (the writer thread's work).
  void flush_last_used();
  std::size_t cached_entries() const;

 private:
  struct Entry {
    bool found = false;
    bool revoked = false;
    std::string digest;
    std::optional<double> expires_epoch;
    Principal principal;
    std::chrono::steady_clock::time_point fetched_at;
    std::chrono::steady_clock::time_point touched_at;
    std::uint64_t epoch = 0;  ///< live_epoch() before the read; 0 = none
  };
  std::uint64_t live_epoch() const;
  /// Whether `e` may answer now: read within ttl, or still under the live
  /// listener it was read under. Caller holds mutex_.
  bool fresh(const Entry& e, std::chrono::steady_clock::time_point now, std::uint64_t epoch) const;
  void make_room();  // caller holds mutex_
  /// Whether a cached entry names a live key: found, not revoked, not
  /// expired, its digest equal in constant time. Caller holds mutex_.
  static bool valid(const Entry& entry, const std::string& digest);
  /// The principal of a cached entry after every check; caller holds mutex_.
  std::optional<Principal> admit(Entry& entry, const std::string& digest, std::chrono::steady_clock::time_point now);

  db::KeysRepository& keys_;
  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;  ///< by digest
  std::set<std::string> pending_touch_;
  std::uint64_t invalidations_ = 0;  ///< invalidate() calls so far
  PeriodicThread writer_;  ///< writes last_used_at every ttl
};

}  // namespace catalog::auth
