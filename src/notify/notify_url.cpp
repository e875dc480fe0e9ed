#include "catalog/notify/notify_url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "catalog/core/errors.hpp"

namespace catalog::notify {
namespace {

enum class Range { public_, private_, link_local };

Range classify_v4(std::uint32_t host_order) {
  const auto in = [host_order](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (host_order & mask) == net;
  };
  if (in(0xA9FE0000, 16)) return Range::link_local;  // 169.254/16: instance and ECS task metadata
  if (in(0x00000000, 8) || in(0x7F000000, 8) || in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) ||
      in(0x64400000, 10) || in(0xE0000000, 4) || in(0xF0000000, 4)) {
    return Range::private_;  // this network, loopback, RFC 1918, CGNAT, multicast, reserved
  }
  return Range::public_;
}

Range classify_v6(const in6_addr& a) {
  const unsigned char* b = a.s6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    std::uint32_t v4;
    std::memcpy(&v4, b + 12, 4);
    return classify_v4(ntohl(v4));
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return Range::link_local;  // fe80::/10
  // fd00:ec2::254 is the instance metadata service over IPv6.
  if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a) || (b[0] & 0xfe) == 0xfc || b[0] == 0xff) {
    return Range::private_;  // loopback, unspecified, unique local (fc00::/7), multicast
  }
  return Range::public_;
}

bool allowed(Range r, const UrlPolicy& policy) {
  if (r == Range::link_local) return false;
  return r == Range::public_ || policy.allow_private;
}

[[noreturn]] void invalid(const std::string& field, const std::string& url, const std::string& why) {
  throw ValidationError(field, field + ": '" + url + "' " + why);
}

}  // namespace

void validate_url(const std::string& url, const UrlPolicy& policy, const std::string& field) {
  if (url.size() > 2048) throw ValidationError(field, field + " must be at most 2048 bytes");
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    if (!policy.allow_http) invalid(field, url, "is plain http: use https (NOTIFY_ALLOW_HTTP=1 allows http for local use)");
    rest = url.substr(7);
  } else {
    invalid(field, url, "is not an https:// URL");
  }
  for (unsigned char ch : url) {
    if (ch <= 0x20 || ch >= 0x7f) invalid(field, url, "has a space, control or non-ASCII character");
  }
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (url.find('#') != std::string::npos) invalid(field, url, "has a fragment");
  if (authority.find('@') != std::string::npos) invalid(field, url, "has user information (put credentials in the path, not the host)");
  std::string host = authority;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) invalid(field, url, "has an unterminated IPv6 address");
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty()) invalid(field, url, "has no host");
  in_addr v4{};
  in6_addr v6{};
  Range range = Range::public_;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    range = classify_v4(ntohl(v4.s_addr));
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    range = classify_v6(v6);
  } else if (host == "localhost" || (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) {
    range = Range::private_;
  }
  if (range == Range::link_local) invalid(field, url, "targets a link-local address (instance and task metadata live there)");
  if (!allowed(range, policy)) {
    invalid(field, url, "targets a private or loopback address (NOTIFY_ALLOW_PRIVATE=1 allows them for local use)");
  }
}

bool address_allowed(const struct sockaddr* address, const UrlPolicy& policy) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return allowed(classify_v4(ntohl(in->sin_addr.s_addr)), policy);
  }
  if (address->sa_family == AF_INET6) {
    return allowed(classify_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr), policy);
  }
  return false;
}

}  // namespace catalog::notify
