#pragma once

// SHA-256, HMAC-SHA256 and hex through OpenSSL's EVP API. Private to the S3
// module (the signer and the client); unit tests include it from src/.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace catalog::s3::crypto {

/// Raw 32-byte SHA-256 digest of `data`.
std::string sha256(std::string_view data);
/// Lowercase hex SHA-256 of `data`, as SigV4 wants it.
std::string sha256_hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256(key, data).
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Lowercase hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

/// Incremental SHA-256 for bodies that arrive in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t n);
  /// Lowercase hex digest; the object can be reused after reset().
  std::string finish_hex();
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::s3::crypto
