#include "catalog/http/multipart_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "catalog/core/errors.hpp"
#include "catalog/http/message.hpp"

namespace catalog::http {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::size_t kMaxPartHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

[[noreturn]] void truncated() { throw BadRequest("multipart body ended before its closing boundary"); }

}  // namespace

std::optional<std::string> header_param(std::string_view header, std::string_view name) {
  std::size_t i = 0;
  while (i < header.size()) {
    // One `key[=value]` element; quoted values may contain ';'.
    const std::size_t key_start = i;
    while (i < header.size() && header[i] != '=' && header[i] != ';') ++i;
    const auto key = trim(header.substr(key_start, i - key_start));
    std::string value;
    const bool has_value = i < header.size() && header[i] == '=';
    if (has_value) {
      ++i;
      while (i < header.size() && is_space(header[i])) ++i;
      if (i < header.size() && header[i] == '"') {
        for (++i; i < header.size() && header[i] != '"'; ++i) {
          if (header[i] == '\\' && i + 1 < header.size()) ++i;
          value += header[i];
        }
        while (i < header.size() && header[i] != ';') ++i;
      } else {
        const std::size_t value_start = i;
        while (i < header.size() && header[i] != ';') ++i;
        value = std::string(trim(header.substr(value_start, i - value_start)));
      }
    }
    if (has_value && iequals(key, name)) return value;
    ++i;  // past ';'
  }
  return std::nullopt;
}

MultipartReader::MultipartReader(std::string_view content_type, Source source) : source_(std::move(source)) {
  const auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > kMaxBoundaryLength) {
    throw BadRequest("multipart/form-data needs a boundary parameter of 1 to 70 characters");
  }
  delimiter_ = "\r\n--" + *boundary;
  // The first delimiter may open the body without a CRLF before it.
  buffer_ = "\r\n";
}

bool MultipartReader::fill() {
  if (source_done_) return false;
  buffer_.erase(0, start_);
  start_ = 0;
  const auto old_size = buffer_.size();
  buffer_.resize(old_size + kChunkBytes);
  const auto n = source_(buffer_.data() + old_size, kChunkBytes);
  buffer_.resize(old_size + n);
  if (n == 0) source_done_ = true;
  return n > 0;
}

void MultipartReader::skip_to_next_delimiter() {
  for (;;) {
    const auto pos = pending().find(delimiter_);
    if (pos != std::string_view::npos) {
      consume(pos + delimiter_.size());
      return;
    }
    // Keep a tail that could be the start of a delimiter split across reads.
    consume(pending().size() - std::min(pending().size(), delimiter_.size() - 1));
    if (!fill()) truncated();
  }
}

bool MultipartReader::after_delimiter() {
  for (;;) {
    while (!pending().empty() && is_space(pending().front())) consume(1);  // transport padding
    if (pending().size() >= 2) break;
    if (!fill()) truncated();
  }
  if (pending().substr(0, 2) == "--") {
    consume(2);  // the closing delimiter; an epilogue, if any, is ignored
    return false;
  }
  if (pending().substr(0, 2) != "\r\n") throw BadRequest("malformed multipart body: a boundary line has trailing bytes");
  consume(2);
  return true;
}

std::string MultipartReader::read_part_headers() {
  for (;;) {
    if (pending().substr(0, 2) == "\r\n") {  // a part without headers
      consume(2);
      return {};
    }
    const auto end = pending().find("\r\n\r\n");
    if (end != std::string_view::npos) {
      std::string headers(pending().substr(0, end + 2));
      consume(end + 4);
      return headers;
    }
    if (pending().size() > kMaxPartHeaderBytes) {
      throw BadRequest("multipart part headers are larger than 16 KiB");
    }
    if (!fill()) truncated();
  }
}

MultipartReader::Part MultipartReader::open(std::string_view part_name) {
  skip_to_next_delimiter();  // the preamble
  while (after_delimiter()) {
    const auto headers = read_part_headers();
    std::optional<std::string> disposition;
    std::string content_type;
    for (std::size_t line_start = 0; line_start < headers.size();) {
      const auto line_end = headers.find("\r\n", line_start);
      const std::string_view line = std::string_view(headers).substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const auto name = trim(line.substr(0, colon));
      const auto value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) disposition = std::string(value);
      if (iequals(name, "Content-Type")) content_type = lower(trim(value.substr(0, value.find(';'))));
    }
    if (disposition && header_param(*disposition, "name") == std::string(part_name)) {
      return Part{header_param(*disposition, "filename"), content_type};
    }
    skip_to_next_delimiter();
  }
  throw ValidationError(std::string(part_name),
                        "multipart/form-data body has no part named '" + std::string(part_name) + "'");
}

std::size_t MultipartReader::read(char* buffer, std::size_t capacity) {
  if (part_done_ || capacity == 0) return 0;
  for (;;) {
    // Only the bytes that could be handed out now, plus a delimiter's length,
    // are searched, so small reads stay linear in the body size.
    const auto window = pending().substr(0, capacity + delimiter_.size() - 1);
    const auto pos = window.find(delimiter_);
    std::size_t ready = 0;
    if (pos != std::string_view::npos) {
      ready = pos;
    } else if (window.size() < pending().size()) {
      ready = capacity;
    } else {
      ready = pending().size() - std::min(pending().size(), delimiter_.size() - 1);
    }
    if (ready > 0) {
      const auto n = std::min(capacity, ready);
      std::memcpy(buffer, pending().data(), n);
      consume(n);
      return n;
    }
    if (pos == 0) {
      consume(delimiter_.size());
      part_done_ = true;
      drain_remaining_parts();
      return 0;
    }
    if (!fill()) truncated();
  }
}

void MultipartReader::drain_remaining_parts() {
  while (after_delimiter()) {
    read_part_headers();
    skip_to_next_delimiter();
  }
}

}  // namespace catalog::http
