#pragma once
// Small text helpers shared by the ETL sources (private to src/etl).

#include <string>
#include <string_view>

namespace catalog::etl::text {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Header names are matched after trimming and lower-casing (ASCII only, so
/// multi-byte UTF-8 sequences are left intact).
inline std::string normalize_header(std::string_view s) {
  s = trim(s);
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace catalog::etl::text
