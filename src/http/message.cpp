#include "catalog/http/message.hpp"

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/core/utf8.hpp"

namespace catalog::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto [first, last] = query.equal_range(name);
  if (first == last) return std::nullopt;
  if (std::next(first) != last) throw BadRequest("query parameter '" + name + "' is given more than once");
  return first->second;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response json_text_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) throw BadRequest("malformed percent-encoding in URL");
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) throw BadRequest("malformed percent-encoding in URL");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  // Every decoded path segment and query parameter ends up in PostgreSQL
  // text, logs and JSON: refuse what none of them can hold here, once, as a
  // 400 instead of a database error later.
  if (out.find('\0') != std::string::npos) throw BadRequest("URL contains a NUL character");
  if (!valid_utf8(out)) throw BadRequest("URL contains invalid UTF-8");
  return out;
}

std::string percent_encode(std::string_view in) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace(percent_decode(pair, true), "");
      } else {
        auto key = percent_decode(pair.substr(0, eq), true);
        try {
          auto value = percent_decode(pair.substr(eq + 1), true);
          out.emplace(std::move(key), std::move(value));
        } catch (const BadRequest& e) {
          throw BadRequest("query parameter '" + key.substr(0, 64) + "': " + e.what());
        }
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace catalog::http
