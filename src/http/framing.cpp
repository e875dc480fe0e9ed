#include "http/framing.hpp"

namespace catalog::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

// RFC 9112 §6.1 (Transfer-Encoding) and §6.3 (message body length).
std::optional<std::string> transfer_encoding_error(const std::vector<std::string_view>& transfer_encodings,
                                                   bool has_content_length, unsigned version) {
  if (transfer_encodings.empty()) return std::nullopt;
  if (version < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request";
  if (has_content_length) return "Transfer-Encoding and Content-Length together are not allowed";
  std::vector<std::string_view> codings;
  for (auto value : transfer_encodings) {
    while (!value.empty()) {  // a comma-separated list; empty elements are allowed
      const auto comma = value.find(',');
      const auto element = trim(value.substr(0, comma));
      if (!element.empty()) codings.push_back(element);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  if (codings.size() == 1 && iequals(codings.front(), "chunked")) return std::nullopt;
  if (codings.empty()) return "Transfer-Encoding is empty";
  // The value is not echoed: it is the client's bytes, not necessarily UTF-8.
  return "unsupported Transfer-Encoding: only 'chunked' alone is accepted";
}

}  // namespace catalog::http
