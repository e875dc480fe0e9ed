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

}  // namespace catalog
