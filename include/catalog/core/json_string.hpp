#pragma once
// JSON string literals written straight into a buffer, for hot paths that
// build JSON without a tree: GET /products pages, the ETL's attributes.

#include <string>
#include <string_view>

namespace catalog {

/// Appends `text` as a JSON string literal: quoted, escaped as nlohmann::json
/// dumps it, invalid UTF-8 replaced by U+FFFD (as nlohmann's `replace`
/// error handler does).
void append_json_string(std::string& out, std::string_view text);

/// Appends the valid JSON text `json` without the whitespace between its
/// tokens (PostgreSQL prints jsonb as `{"a": 1, "b": [1, 2]}`); whitespace
/// inside strings is kept. No validation: `json` must already be JSON.
void append_compact_json(std::string& out, std::string_view json);

}  // namespace catalog
