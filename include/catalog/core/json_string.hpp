#pragma once
// JSON string literals written straight into a buffer, for hot paths that
// build JSON without a tree: GET /products pages, the ETL's attributes.

#include <optional>
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

/// One JSON object written member by member straight into `out`, without a
/// tree: the list pages (GET /items, GET /products) spent more CPU on
/// nlohmann::json trees than on their query. Members come out in call
/// order; keys are the caller's literals, written unescaped.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  JsonObjectWriter(const JsonObjectWriter&) = delete;
  JsonObjectWriter& operator=(const JsonObjectWriter&) = delete;

  /// Writes `"key":` and returns the buffer for a value the caller appends.
  std::string& member(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return out_;
  }
  void string(std::string_view key, std::string_view value) { append_json_string(member(key), value); }
  /// A string, or null.
  void nullable(std::string_view key, const std::optional<std::string_view>& value) {
    if (value) {
      string(key, *value);
    } else {
      member(key) += "null";
    }
  }
  /// Closes the object; the writer is done.
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace catalog
