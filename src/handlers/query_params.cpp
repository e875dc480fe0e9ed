#include "handlers/query_params.hpp"

#include <charconv>

#include "catalog/core/errors.hpp"
#include "catalog/core/utf8.hpp"

namespace catalog::handlers {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  return ec == std::errc() && end == s.data() + pos + n && s[pos] != '-' && s[pos] != '+';
}

}  // namespace

void reject_unknown_params(const http::Request& request, const std::set<std::string>& allowed) {
  std::set<std::string> unknown;
  for (const auto& [name, value] : request.query) {
    if (allowed.count(name) == 0) unknown.insert(name);
  }
  if (unknown.empty()) return;
  std::string names;
  for (const auto& name : unknown) names += (names.empty() ? "'" : ", '") + name.substr(0, 64) + "'";
  std::string expected;
  for (const auto& name : allowed) expected += (expected.empty() ? "" : ", ") + name;
  throw BadRequest((unknown.size() == 1 ? "unknown query parameter " : "unknown query parameters ") + names +
                   (allowed.empty() ? "; this route takes none" : "; expected " + expected));
}

void require_text(const std::string& value, const std::string& what) {
  if (value.find('\0') != std::string::npos || !valid_utf8(value)) {
    throw BadRequest(what + " must be valid UTF-8 text without NUL characters");
  }
}

std::optional<std::string> text_param(const http::Request& request, const std::string& name) {
  auto value = request.query_param(name);
  if (!value) return std::nullopt;
  if (value->empty()) throw BadRequest("query parameter '" + name + "' must not be empty");
  require_text(*value, "query parameter '" + name + "'");
  return value;
}

std::optional<std::string> choice_param(const http::Request& request, const std::string& name,
                                        std::initializer_list<const char*> allowed) {
  auto value = text_param(request, name);
  if (!value) return std::nullopt;
  std::string known;
  for (const char* choice : allowed) {
    if (*value == choice) return value;
    known += known.empty() ? choice : std::string(", ") + choice;
  }
  throw BadRequest("query parameter '" + name + "' must be one of " + known + ", got '" + value->substr(0, 64) + "'");
}

std::optional<std::string> rfc3339(std::string text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const auto start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  if (pos == text.size() - 1 && (text[pos] == 'Z' || text[pos] == 'z')) {
    text[pos] = 'Z';
  } else {
    int off_hour, off_minute;
    if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || !digits(text, pos + 1, 2, off_hour) ||
        text[pos + 3] != ':' || !digits(text, pos + 4, 2, off_minute) || off_hour > 23 || off_minute > 59) {
      return std::nullopt;
    }
  }
  text[10] = 'T';
  return text;
}

std::optional<std::string> rfc3339_param(const http::Request& request, const std::string& name) {
  const auto text = request.query_param(name);
  if (!text) return std::nullopt;
  auto value = rfc3339(*text);
  if (!value) {
    throw BadRequest("query parameter '" + name + "' must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z, got '" +
                     text->substr(0, 64) + "'");
  }
  return value;
}

}  // namespace catalog::handlers
