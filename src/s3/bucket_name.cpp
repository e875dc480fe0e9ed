#include "catalog/s3/bucket_name.hpp"

#include <arpa/inet.h>

#include <array>

namespace catalog::s3 {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Reserved by AWS for other features (access points, directory buckets, ...).
constexpr std::array<std::string_view, 3> kReservedPrefixes = {"xn--", "sthree-", "amzn-s3-demo-"};
constexpr std::array<std::string_view, 5> kReservedSuffixes = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};

}  // namespace

std::string bucket_name_problem(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return "must be 3 to 63 characters long";
  for (char c : name) {
    if (!is_lower_or_digit(c) && c != '.' && c != '-') {
      return "may contain only lower-case letters, digits, dots and hyphens";
    }
  }
  if (!is_lower_or_digit(name.front()) || !is_lower_or_digit(name.back())) {
    return "must begin and end with a letter or digit";
  }
  if (name.find("..") != std::string_view::npos) return "must not contain two adjacent dots";
  const std::string text(name);
  in_addr addr{};
  if (::inet_aton(text.c_str(), &addr) != 0) return "must not be an IP address";
  for (const auto prefix : kReservedPrefixes) {
    if (starts_with(name, prefix)) return "must not start with the reserved prefix '" + std::string(prefix) + "'";
  }
  for (const auto suffix : kReservedSuffixes) {
    if (ends_with(name, suffix)) return "must not end with the reserved suffix '" + std::string(suffix) + "'";
  }
  return {};
}

}  // namespace catalog::s3
