#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/http/message.hpp"

namespace catalog::http {

/// Deepest nesting of arrays/objects a client's JSON may have. Deeper
/// documents are refused while parsing, before the deeper levels exist, so no
/// recursive code (copy, dump, comparison) ever sees them.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// Parses JSON from a client, the one place every request body goes through:
/// - nesting deeper than kMaxJsonDepth → BadRequest (400);
/// - malformed JSON or invalid UTF-8 → BadRequest with the byte position;
/// - a number outside the range of a double (1e400), a string or key holding
///   a NUL character, or a key repeated in one object → ValidationError
///   (422) naming the field as a path ("options.header.sku", "tags[2]").
nlohmann::json parse_client_json(std::string_view text);

/// The body as a JSON object. Throws UnsupportedMediaType (415) unless the
/// Content-Type is application/json, then parses it with parse_client_json
/// and throws BadRequest for anything but an object.
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
