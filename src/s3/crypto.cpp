#include "s3/crypto.hpp"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace catalog::s3::crypto {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL failure: ") + what);
}

}  // namespace

std::string sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr), "EVP_Digest");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) == nullptr) {
    throw std::runtime_error("OpenSSL failure: HMAC");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

struct Sha256::Impl {
  MdCtx ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw std::runtime_error("OpenSSL failure: EVP_MD_CTX_new");
  reset();
}
Sha256::~Sha256() = default;

void Sha256::reset() { check(EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex"); }

void Sha256::update(const void* data, std::size_t n) {
  check(EVP_DigestUpdate(impl_->ctx.get(), data, n), "EVP_DigestUpdate");
}

std::string Sha256::finish_hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(impl_->ctx.get(), out, &len), "EVP_DigestFinal_ex");
  reset();
  return to_hex(std::string_view(reinterpret_cast<const char*>(out), len));
}

}  // namespace catalog::s3::crypto
