#include "feeds/ndjson_reader.hpp"

#include <nlohmann/json.hpp>

#include "catalog/core/json_string.hpp"

namespace catalog::feeds {
namespace {

using Json = nlohmann::json;
// As deep as a request body may nest (http/request_helpers.hpp kMaxJsonDepth).
constexpr std::size_t kMaxDepth = 64;

/// SAX handler for one line: collects the top-level members as name/value
/// texts and writes nested values back as compact JSON, keeping each
/// number's source text.
class LineHandler {
 public:
  explicit LineHandler(std::vector<std::string>& texts) : texts_(texts) {}

  std::size_t used = 0;
  std::string error;

  bool null() { return scalar("null", false); }
  bool boolean(bool v) { return scalar(v ? "true" : "false", false); }
  bool number_integer(Json::number_integer_t v) { return scalar(std::to_string(v), false); }
  bool number_unsigned(Json::number_unsigned_t v) { return scalar(std::to_string(v), false); }
  bool number_float(Json::number_float_t, const Json::string_t& text) { return scalar(text, false); }
  bool string(Json::string_t& v) { return scalar(v, true); }
  bool binary(Json::binary_t&) { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      top_object_ = true;
      return true;
    }
    return open('{');
  }
  bool key(Json::string_t& name) {
    if (depth_ == 1) {
      text() = name;
      value_ = &text();
      value_->clear();
      first_.clear();
      return true;
    }
    comma();
    append_json_string(*value_, name);
    value_->push_back(':');
    first_.back() = true;  // the value follows the colon without a comma
    return true;
  }
  bool end_object() { return close('}'); }
  bool start_array(std::size_t) {
    if (depth_ == 0) return fail("the line is a JSON array, not an object");
    return open('[');
  }
  bool end_array() { return close(']'); }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string&, const Exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." → the part after the id.
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return fail("not valid JSON at byte " + std::to_string(position) + ": " + what);
  }

  bool top_object() const { return top_object_; }

 private:
  std::string& text() {
    if (used == texts_.size()) texts_.emplace_back();
    return texts_[used++];
  }
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
  void comma() {
    if (!first_.back()) value_->push_back(',');
    first_.back() = false;
  }
  bool scalar(const std::string& v, bool quoted) {
    if (depth_ == 0) return fail("the line is a JSON " + std::string(quoted ? "string" : "value") + ", not an object");
    if (depth_ == 1) {
      // null at the top level: the member is absent (an empty value).
      if (v != "null" || quoted) value_->assign(v);
      return true;
    }
    comma();
    if (quoted) {
      append_json_string(*value_, v);
    } else {
      value_->append(v);
    }
    return true;
  }
  bool open(char bracket) {
    if (++depth_ > kMaxDepth) return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (depth_ > 2) comma();
    value_->push_back(bracket);
    first_.push_back(true);
    return true;
  }
  bool close(char bracket) {
    if (depth_-- > 1) {
      value_->push_back(bracket);
      first_.pop_back();
    }
    return true;
  }

  std::vector<std::string>& texts_;
  std::string* value_ = nullptr;
  std::size_t depth_ = 0;
  bool top_object_ = false;
  std::vector<bool> first_;  ///< per open nested level: no member written yet
};

}  // namespace

NdjsonReader::NdjsonReader(std::size_t max_line_bytes, Callback on_record)
    : on_record_(std::move(on_record)), max_line_bytes_(max_line_bytes) {}

void NdjsonReader::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const auto nl = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, nl);
    if (!too_long_) {
      if (line_.size() + piece.size() > max_line_bytes_) {
        too_long_ = true;
        line_.clear();
        line_.shrink_to_fit();
      } else {
        line_.append(piece);
      }
    }
    if (nl == std::string_view::npos) return;
    end_line();
    chunk.remove_prefix(nl + 1);
  }
}

void NdjsonReader::finish() {
  if (too_long_ || !line_.empty()) end_line();
}

void NdjsonReader::end_line() {
  const std::uint64_t line_no = line_no_++;
  std::string_view line = line_;
  if (line_no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  record_.line = line_no;
  record_.fields.clear();
  record_.error.clear();
  if (too_long_) {
    record_.error = "line longer than " + std::to_string(max_line_bytes_) + " bytes";
  } else {
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      line_.clear();
      return;  // blank lines separate nothing; they still count for line numbers
    }
    LineHandler handler(texts_);
    const bool ok = Json::sax_parse(line, &handler, Json::input_format_t::json, true);
    if (!ok || !handler.top_object()) {
      record_.error = "not a JSON object: " + (handler.error.empty() ? std::string("no object") : handler.error);
      record_.fields.emplace_back(line.substr(0, 256));  // shown with the reject
    } else {
      for (std::size_t i = 0; i < handler.used; ++i) record_.fields.emplace_back(texts_[i]);
    }
  }
  too_long_ = false;
  line_.clear();
  on_record_(record_);
}

}  // namespace catalog::feeds
