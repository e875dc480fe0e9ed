#include "catalog/http/request_id.hpp"

#include <cstdint>
#include <cstring>
#include <random>

namespace catalog::http {

std::string choose_request_id(std::optional<std::string_view> client_value) {
  if (client_value && !client_value->empty() && client_value->size() <= 128) {
    bool sane = true;
    for (char c : *client_value) sane = sane && c > 32 && c < 127 && c != '"';
    if (sane) return std::string(*client_value);
  }
  // Ids need to be unique, not secret: a per-thread generator seeded once from
  // the OS is ~50x cheaper than RAND_bytes on every request.
  thread_local std::mt19937_64 random(std::random_device{}());
  unsigned char bytes[16];
  const std::uint64_t hi = random(), lo = random();
  std::memcpy(bytes, &hi, 8);
  std::memcpy(bytes + 8, &lo, 8);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 15];
  }
  return id;
}

}  // namespace catalog::http
