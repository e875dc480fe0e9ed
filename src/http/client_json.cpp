// parse_client_json: nlohmann's SAX parser (iterative, no recursion) feeding
// its own DOM builder through a filter that enforces the limits of
// request_helpers.hpp while the tree is being built.
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::http {
namespace {

using Json = nlohmann::json;

class LimitedDomBuilder {
 public:
  explicit LimitedDomBuilder(Json& root) : dom_(root, true) {}

  bool null() { return scalar(dom_.null()); }
  bool boolean(bool value) { return scalar(dom_.boolean(value)); }
  bool number_integer(Json::number_integer_t value) { return scalar(dom_.number_integer(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return scalar(dom_.number_unsigned(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t& text) {
    return scalar(dom_.number_float(value, text));
  }
  bool string(Json::string_t& value) {
    // PostgreSQL text cannot hold NUL and libpq would cut the value there:
    // refuse rather than store a silently truncated string.
    if (value.find('\0') != std::string::npos) {
      const auto field = path();
      throw ValidationError(field, field + " must not contain NUL characters");
    }
    return scalar(dom_.string(value));
  }
  bool binary(Json::binary_t& value) { return scalar(dom_.binary(value)); }

  bool start_object(std::size_t size) {
    enter();
    frames_.push_back(Frame{false, 0, {}, {}});
    return dom_.start_object(size);
  }
  bool key(Json::string_t& name) {
    auto& frame = frames_.back();
    frame.key = name;
    if (name.find('\0') != std::string::npos) {
      throw ValidationError(path(), "field names must not contain NUL characters");
    }
    if (!frame.keys.insert(name).second) {
      const auto field = path();
      throw ValidationError(field, "field '" + field + "' is given more than once");
    }
    return dom_.key(name);
  }
  bool end_object() {
    frames_.pop_back();
    return scalar(dom_.end_object());
  }
  bool start_array(std::size_t size) {
    enter();
    frames_.push_back(Frame{true, 0, {}, {}});
    return dom_.start_array(size);
  }
  bool end_array() {
    frames_.pop_back();
    return scalar(dom_.end_array());
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string&, const Exception& error) {
    // 406: a number literal that overflows a double ("1e400").
    if (error.id == 406) {
      const auto field = path();
      throw ValidationError(field, field + " is a number out of range");
    }
    std::string reason;
    if (std::string_view(error.what()).find("UTF-8") != std::string_view::npos) reason = " (invalid UTF-8)";
    throw BadRequest("malformed JSON body at byte " + std::to_string(position) + reason);
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;            // of the next element, for arrays
    std::string key;              // of the current member, for objects
    std::set<std::string> keys;   // seen so far, for objects
  };

  void enter() {
    if (frames_.size() >= kMaxJsonDepth) {
      throw BadRequest("JSON body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
  }

  // After a complete value: the next array element gets the next index.
  bool scalar(bool ok) {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return ok;
  }

  // Where the current value sits: "name", "options.header.sku", "tags[2]";
  // "body" for the document itself.
  std::string path() const {
    std::string out;
    for (const auto& frame : frames_) {
      if (frame.array) {
        out += "[" + std::to_string(frame.index) + "]";
      } else {
        if (!out.empty()) out += '.';
        out += frame.key.substr(0, 64);
      }
    }
    return out.empty() ? "body" : out;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::vector<Frame> frames_;
};

}  // namespace

nlohmann::json parse_client_json(std::string_view text) {
  Json result;
  LimitedDomBuilder builder(result);
  Json::sax_parse(text.begin(), text.end(), &builder);
  return result;
}

}  // namespace catalog::http
