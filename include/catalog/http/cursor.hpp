#pragma once

// The one codec of opaque page cursors: base64url (no padding) of a JSON
// array whose first element is the cursor format's version. Handlers put
// what their keyset needs after the version and check its types.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace catalog::http {

/// base64url of `[version, fields...]`.
std::string encode_cursor(int version, const nlohmann::json& fields);

/// The fields after the version of a cursor made by encode_cursor with this
/// `version` and `field_count` fields. Throws BadRequest("malformed cursor")
/// for anything else (bad base64url, bad JSON, another version or length).
nlohmann::json decode_cursor(std::string_view text, int version, std::size_t field_count);

}  // namespace catalog::http
