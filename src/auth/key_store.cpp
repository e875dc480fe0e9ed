#include "catalog/auth/key_store.hpp"

#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "catalog/core/errors.hpp"
#include "catalog/db/keys_repository.hpp"
#include "catalog/log/logging.hpp"

namespace catalog::auth {
namespace {

constexpr std::string_view kPrefix = "cat_";
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kEncodedBytes = 43;  // unpadded base64url of 32 bytes

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string generate_secret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error("internal error", "RAND_bytes failed");
  unsigned char encoded[4 * ((kSecretBytes + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, bytes, sizeof bytes);
  OPENSSL_cleanse(bytes, sizeof bytes);
  std::string out(kPrefix);
  for (int i = 0; i < n; ++i) {
    char c = static_cast<char>(encoded[i]);
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  OPENSSL_cleanse(encoded, sizeof encoded);
  return out;
}

std::string secret_digest_hex(std::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool looks_like_key_secret(std::string_view token) {
  if (token.size() != kPrefix.size() + kEncodedBytes || token.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : token.substr(kPrefix.size())) {
    if (!is_base64url(c)) return false;
  }
  return true;
}

KeyStore::KeyStore(db::KeysRepository& keys, Options options) : keys_(keys), options_(options) {}

KeyStore::~KeyStore() { stop(); }

std::uint64_t KeyStore::live_epoch() const { return options_.live_epoch ? options_.live_epoch() : 0; }

bool KeyStore::fresh(const Entry& e, std::chrono::steady_clock::time_point now, std::uint64_t epoch) const {
  // A key's creation is not announced: "no such key" lives for ttl only.
  if (!e.found) return now - e.fetched_at < options_.ttl;
  // Listener live: an entry read under it has been told of every change
  // since; one read before it (or while it was down) is read again, so a
  // revocation made during an outage takes effect once the listener is back.
  if (epoch != 0) return e.epoch == epoch;
  // Listener down: ttl bounds how late a revocation made elsewhere is seen.
  return now - e.fetched_at < options_.ttl;
}

std::optional<Principal> KeyStore::authenticate(std::string_view token) {
  if (!looks_like_key_secret(token)) return std::nullopt;
  const std::string digest = secret_digest_hex(token);
  const auto now = std::chrono::steady_clock::now();
  // Taken before the read: a revocation committed after the read's snapshot
  // is then heard by the listener of this epoch.
  const auto epoch = live_epoch();
  bool cached = false;
  std::uint64_t invalidations = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(digest);
    cached = it != cache_.end() && fresh(it->second, now, epoch);
    invalidations = invalidations_;
  }
  if (!cached) {
    // Outside the lock: a database round trip must not serialise every request.
    Entry entry;
    entry.fetched_at = now;
    entry.epoch = epoch;
    if (auto key = keys_.find_by_digest(digest)) {
      entry.found = true;
      entry.revoked = key->revoked_at.has_value();
      entry.digest = key->secret_sha256;
      entry.expires_epoch = key->expires_epoch;
      entry.principal = principal_from_scopes(key->name, key->scopes);
    }
    std::lock_guard lock(mutex_);
    if (invalidations != invalidations_) {
      // A revocation arrived while we read: our row may predate it. Answer
      // this request with it, but let the next one read again.
      entry.fetched_at = now - options_.ttl;
      entry.epoch = 0;
    }
    auto existing = cache_.find(digest);
    if (existing != cache_.end()) {
      entry.touched_at = existing->second.touched_at;
      existing->second = std::move(entry);
    } else {
      make_room();
      cache_.emplace(digest, std::move(entry));
    }
  }
  std::lock_guard lock(mutex_);
  auto it = cache_.find(digest);
  if (it == cache_.end()) return std::nullopt;  // evicted in between: treat as unknown this once
  return admit(it->second, digest, now);
}

std::optional<Principal> KeyStore::try_cached(std::string_view token) {
  if (!looks_like_key_secret(token)) return std::nullopt;
  const std::string digest = secret_digest_hex(token);
  const auto now = std::chrono::steady_clock::now();
  const auto epoch = live_epoch();
  std::lock_guard lock(mutex_);
  auto it = cache_.find(digest);
  if (it == cache_.end() || !fresh(it->second, now, epoch)) return std::nullopt;
  return admit(it->second, digest, now);
}

std::optional<Principal> KeyStore::remembered(std::string_view token) {
  if (!looks_like_key_secret(token)) return std::nullopt;
  const std::string digest = secret_digest_hex(token);
  std::lock_guard lock(mutex_);
  auto it = cache_.find(digest);
  if (it == cache_.end() || !valid(it->second, digest)) return std::nullopt;
  return it->second.principal;
}

bool KeyStore::valid(const Entry& e, const std::string& digest) {
  if (!e.found || e.revoked) return false;
  // The map found the entry by digest; compare the digests once more in
  // constant time so no early-exit string compare decides access.
  if (e.digest.size() != digest.size() || CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) != 0) {
    return false;
  }
  return !(e.expires_epoch && now_epoch() >= *e.expires_epoch);
}

std::optional<Principal> KeyStore::admit(Entry& e, const std::string& digest,
                                         std::chrono::steady_clock::time_point now) {
  if (!valid(e, digest)) return std::nullopt;
  if (now - e.touched_at >= options_.ttl) {
    e.touched_at = now;
    pending_touch_.insert(e.principal.name);
  }
  return e.principal;
}

void KeyStore::make_room() {
  if (cache_.size() < options_.max_entries) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = now - it->second.fetched_at >= options_.ttl ? cache_.erase(it) : std::next(it);
  }
  if (cache_.size() < options_.max_entries) return;
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = !it->second.found ? cache_.erase(it) : std::next(it);
  }
  if (cache_.size() >= options_.max_entries) cache_.clear();
}

void KeyStore::invalidate(const std::string& name) {
  std::lock_guard lock(mutex_);
  ++invalidations_;
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->second.found && it->second.principal.name == name ? cache_.erase(it) : std::next(it);
  }
}

std::size_t KeyStore::cached_entries() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

void KeyStore::flush_last_used() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    names.assign(pending_touch_.begin(), pending_touch_.end());
    pending_touch_.clear();
  }
  if (names.empty()) return;
  try {
    keys_.touch(names);
  } catch (const std::exception& e) {
    // Bookkeeping only: a missed last_used_at must not affect requests.
    log::warn("auth", "could not record key use", {{"keys", names.size()}, {"error", e.what()}});
  }
}

void KeyStore::start() {
  writer_.start(options_.ttl, [this] { flush_last_used(); }, PeriodicThread::OnStop::run_once_more);
}

void KeyStore::stop() { writer_.stop(); }

}  // namespace catalog::auth
