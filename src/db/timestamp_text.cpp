#include "db/timestamp_text.hpp"

#include <cstdint>

#include "catalog/core/errors.hpp"

namespace catalog::db {
namespace {

[[noreturn]] void bad(std::string_view text) {
  throw Error("internal error", "unexpected timestamp text '" + std::string(text.substr(0, 64)) +
                                    "' (PostgreSQL DateStyle must be ISO)");
}

/// Digits text[pos, pos+n) as a number; throws on anything else.
int digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) bad(text);
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') bad(text);
    value = value * 10 + (c - '0');
  }
  return value;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

/// Writes `value` as exactly `width` digits at `out`, returns the end.
char* put(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

/// Writes the UtcTimestamp::kSize bytes of rfc3339_utc(t) at `out`.
void write_rfc3339_utc(char* out, std::string_view t) {
  // "YYYY-MM-DD HH:MM:SS"
  if (t.size() < 22 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':') bad(t);
  int year = digits(t, 0, 4), month = digits(t, 5, 2), day = digits(t, 8, 2);
  int hour = digits(t, 11, 2), minute = digits(t, 14, 2), second = digits(t, 17, 2);
  std::size_t pos = 19;
  int micros = 0;
  if (t[pos] == '.') {
    ++pos;
    int scale = 100000;
    const std::size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (pos - start >= 6) bad(t);
      micros += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) bad(t);
  }
  if (pos >= t.size() || (t[pos] != '+' && t[pos] != '-')) bad(t);
  const int sign = t[pos] == '+' ? 1 : -1;
  int offset = digits(t, pos + 1, 2) * 3600;
  pos += 3;
  if (pos < t.size()) {
    if (t[pos] != ':') bad(t);
    offset += digits(t, pos + 1, 2) * 60;
    pos += 3;
  }
  if (pos < t.size()) {
    if (t[pos] != ':') bad(t);
    offset += digits(t, pos + 1, 2);
    pos += 3;
  }
  if (pos != t.size()) bad(t);
  if (offset != 0) {
    std::int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                        sign * static_cast<std::int64_t>(offset);
    std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    std::int64_t rest = secs - days * 86400;
    civil_from_days(days, year, month, day);
    hour = static_cast<int>(rest / 3600);
    minute = static_cast<int>(rest % 3600 / 60);
    second = static_cast<int>(rest % 60);
    if (year < 1 || year > 9999) bad(t);
  }
  out = put(out, year, 4);
  *out++ = '-';
  out = put(out, month, 2);
  *out++ = '-';
  out = put(out, day, 2);
  *out++ = 'T';
  out = put(out, hour, 2);
  *out++ = ':';
  out = put(out, minute, 2);
  *out++ = ':';
  out = put(out, second, 2);
  *out++ = '.';
  out = put(out, micros, 6);
  *out = 'Z';
}

}  // namespace

UtcTimestamp utc_timestamp(std::string_view pg_text) {
  UtcTimestamp out;
  write_rfc3339_utc(out.data(), pg_text);
  return out;
}

void append_rfc3339_utc(std::string& out, std::string_view pg_text) {
  char text[UtcTimestamp::kSize];
  write_rfc3339_utc(text, pg_text);
  out.append(text, sizeof text);
}

std::string rfc3339_utc(std::string_view pg_text) {
  std::string out;
  append_rfc3339_utc(out, pg_text);
  return out;
}

}  // namespace catalog::db
