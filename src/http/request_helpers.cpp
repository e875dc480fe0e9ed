#include "catalog/http/request_helpers.hpp"

#include <charconv>

#include "catalog/core/errors.hpp"
#include "catalog/http/http_errors.hpp"

namespace catalog::http {

nlohmann::json json_object_body(const Request& request) {
  const auto type = request.header("Content-Type");
  const std::string_view media = type ? type->substr(0, type->find(';')) : std::string_view{};
  if (!iequals(media, "application/json")) {
    throw UnsupportedMediaType("Content-Type must be application/json");
  }
  auto body = parse_client_json(request.body);
  if (!body.is_object()) throw BadRequest("JSON body must be an object");
  return body;
}

std::size_t limit_param(const Request& request, std::size_t fallback, std::size_t max) {
  const auto text = request.query_param("limit");
  if (!text) return fallback;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || value < 1 || value > max) {
    throw BadRequest("query parameter 'limit' must be an integer in 1.." + std::to_string(max) + ", got '" +
                     *text + "'");
  }
  return value;
}

bool flag_param(const Request& request, const std::string& name) {
  const auto text = request.query_param(name);
  if (!text) return false;
  if (*text == "true" || *text == "1" || text->empty()) return true;
  if (*text == "false" || *text == "0") return false;
  throw BadRequest("query parameter '" + name + "' must be true or false, got '" + *text + "'");
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

void require_uuid(std::string_view text, std::string_view what) {
  if (!is_uuid(text)) {
    std::string shown(text.substr(0, 64));
    throw BadRequest("malformed " + std::string(what) + " id '" + shown + "': expected a UUID");
  }
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    value = (value << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(value >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(value << (6 - bits)) & 63];
  return out;
}

std::string base64url_decode(std::string_view text) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : text) {
    int digit;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '-') digit = 62;
    else if (c == '_') digit = 63;
    else throw BadRequest("malformed cursor");
    value = (value << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace catalog::http
