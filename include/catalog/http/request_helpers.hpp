#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/http/message.hpp"

namespace catalog::http {

/// The body as a JSON object. Throws UnsupportedMediaType (415) unless the
/// Content-Type is application/json, BadRequest for malformed JSON (with the
/// byte position) and for anything but an object.
nlohmann::json json_object_body(const Request& request);

/// `?limit=`: default when absent, BadRequest unless an integer in 1..max.
std::size_t limit_param(const Request& request, std::size_t fallback, std::size_t max);

/// Optional boolean query flag (`true/false/1/0`); BadRequest otherwise.
bool flag_param(const Request& request, const std::string& name);

/// True for the canonical 8-4-4-4-12 hex form.
bool is_uuid(std::string_view text);
/// Throws BadRequest("malformed <what> id '...'") unless `text` is a uuid.
void require_uuid(std::string_view text, std::string_view what);

/// Opaque cursors: base64url without padding.
std::string base64url_encode(std::string_view bytes);
/// Throws BadRequest("malformed cursor") on bad input.
std::string base64url_decode(std::string_view text);

/// Number of Unicode code points of valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

}  // namespace catalog::http
