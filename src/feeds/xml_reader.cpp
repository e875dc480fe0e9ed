#include "feeds/xml_reader.hpp"

#include <algorithm>
#include <cstring>

#include <expat.h>

#include "catalog/core/json_string.hpp"

namespace catalog::feeds {
namespace {

// Expat reports a namespaced name as "<uri><kNsSep><local>".
constexpr char kNsSep = '\x01';
constexpr std::string_view kGoogleNs = "http://base.google.com/ns/1.0";

XmlReader* self(void* user_data) { return static_cast<XmlReader*>(user_data); }

void XMLCALL start_element(void* ud, const XML_Char* name, const XML_Char** attributes) {
  self(ud)->on_start(name, attributes);
}
void XMLCALL end_element(void* ud, const XML_Char*) { self(ud)->on_end(); }
void XMLCALL character_data(void* ud, const XML_Char* s, int len) { self(ud)->on_text(s, len); }
void XMLCALL start_doctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  self(ud)->refuse_dtd();
}
void XMLCALL entity_decl(void* ud, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                         const XML_Char*, const XML_Char*) {
  self(ud)->refuse_dtd();
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// `text` as a JSON value: a nested group is JSON already, plain text is quoted.
void append_json_value(std::string& out, const std::string& text, bool json) {
  if (json) {
    out.append(text);
  } else {
    append_json_string(out, text);
  }
}

}  // namespace

XmlReader::XmlReader(std::size_t max_item_bytes, Callback on_record)
    : on_record_(std::move(on_record)), max_item_bytes_(max_item_bytes) {
  parser_ = XML_ParserCreateNS(nullptr, kNsSep);
  if (parser_ == nullptr) throw FormatError("XML feed: cannot create the parser");
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, start_element, end_element);
  XML_SetCharacterDataHandler(parser_, character_data);
  // No DTD processing at all: a DOCTYPE (internal subset, entity
  // declarations, an external DTD) stops the parse. No external entity
  // handler is ever set, so expat never opens a file or a URL; parameter
  // entities are not parsed.
  XML_SetStartDoctypeDeclHandler(parser_, start_doctype);
  XML_SetEntityDeclHandler(parser_, entity_decl);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
}

XmlReader::~XmlReader() { XML_ParserFree(parser_); }

void XmlReader::feed(std::string_view chunk) { parse(chunk.data(), chunk.size(), false); }

void XmlReader::finish() { parse("", 0, true); }

void XmlReader::parse(const char* data, std::size_t size, bool last) {
  // XML_Parse takes an int length: feed huge chunks in pieces.
  constexpr std::size_t kPiece = 1 << 20;
  do {
    const std::size_t n = std::min(size, kPiece);
    const bool final = last && n == size;
    fed_ += n;
    const auto status = XML_Parse(parser_, data, static_cast<int>(n), final ? XML_TRUE : XML_FALSE);
    if (callback_error_) std::rethrow_exception(callback_error_);
    if (status != XML_STATUS_OK) {
      const auto line = XML_GetCurrentLineNumber(parser_);
      if (!refused_.empty()) throw FormatError("XML feed line " + std::to_string(line) + ": " + refused_);
      throw FormatError("XML feed is malformed: " + std::string(XML_ErrorString(XML_GetErrorCode(parser_))) +
                        " at line " + std::to_string(line) + ", column " +
                        std::to_string(XML_GetCurrentColumnNumber(parser_)) + "; nothing was applied");
    }
    check_progress();
    data += n;
    size -= n;
  } while (size > 0);
}

/// Expat keeps an unfinished token (a tag, a comment) in its buffer: a token
/// far longer than any item would grow it without bound, so stop there.
void XmlReader::check_progress() {
  if (fed_ - last_event_ > 4 * max_item_bytes_ + (1 << 20)) {
    throw FormatError("XML feed line " + std::to_string(XML_GetCurrentLineNumber(parser_)) +
                      ": a tag, comment or declaration longer than " + std::to_string(4 * max_item_bytes_) +
                      " bytes; nothing was applied");
  }
}

void XmlReader::refuse_dtd() {
  refused_ =
      "a DOCTYPE declaration is not accepted: feeds are read without DTD processing (no entity declarations, "
      "no external entities or DTDs)";
  XML_StopParser(parser_, XML_FALSE);
}

void XmlReader::grow(std::size_t bytes) {
  item_bytes_ += bytes;
  if (item_bytes_ > max_item_bytes_) item_too_long_ = true;
}

void XmlReader::on_start(const char* qname, const char** attributes) {
  last_event_ = static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser_));
  ++depth_;
  const char* sep = std::strchr(qname, kNsSep);
  const std::string_view local = sep != nullptr ? std::string_view(sep + 1) : std::string_view(qname);
  if (!in_item_) {
    // RSS 2.0 <item> and Atom 1.0 <entry> (any namespace: Atom's is the default one).
    if (local == "item" || local == "entry") {
      in_item_ = true;
      item_depth_ = depth_;
      item_line_ = XML_GetCurrentLineNumber(parser_);
      item_bytes_ = 0;
      item_too_long_ = false;
      value_count_ = 0;
      open_ = 0;
    }
    return;
  }
  if (open_ > 0) frames_[open_ - 1].has_children = true;
  if (open_ == frames_.size()) frames_.emplace_back();
  Frame& f = frames_[open_++];
  f.name.assign(local.data(), local.size());
  f.google = sep != nullptr && std::string_view(qname, static_cast<std::size_t>(sep - qname)) == kGoogleNs;
  f.has_children = false;
  f.text.clear();
  f.members.clear();
  f.href.clear();
  for (const char** a = attributes; a[0] != nullptr; a += 2) {
    if (std::strcmp(a[0], "href") == 0) f.href = a[1];  // Atom <link href="..."/>
  }
  grow(local.size() + f.href.size());
}

void XmlReader::on_text(const char* text, int length) {
  last_event_ = static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser_));
  if (open_ == 0) return;  // outside items, or between an item's elements
  grow(static_cast<std::size_t>(length));
  if (!item_too_long_) frames_[open_ - 1].text.append(text, static_cast<std::size_t>(length));
}

void XmlReader::on_end() {
  last_event_ = static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser_));
  const std::uint64_t depth = depth_--;
  if (!in_item_) return;
  if (depth == item_depth_) {
    in_item_ = false;
    try {
      emit_item();
    } catch (...) {
      // Never unwind through expat's C frames: stop it and rethrow after XML_Parse.
      callback_error_ = std::current_exception();
      XML_StopParser(parser_, XML_FALSE);
    }
    return;
  }
  Frame& f = frames_[--open_];
  const bool json = f.has_children;
  std::string value;
  if (json) {
    value = "{" + f.members + "}";
  } else {
    const std::string_view t = trim(f.text);
    value.assign(t.empty() ? std::string_view(f.href) : t);
  }
  if (item_too_long_) return;
  if (open_ > 0) {
    // A member of a nested group (g:shipping → {"country":"US",...}).
    std::string& members = frames_[open_ - 1].members;
    if (!members.empty()) members.push_back(',');
    append_json_string(members, f.name);
    members.push_back(':');
    append_json_value(members, value, json);
    grow(f.name.size() + 4);
    return;
  }
  if (value_count_ == values_.size()) values_.emplace_back();
  Value& v = values_[value_count_++];
  v.name = f.name;
  v.google = f.google;
  v.json = json;
  v.text = std::move(value);
}

void XmlReader::emit_item() {
  record_.line = item_line_;
  record_.error.clear();
  record_.fields.clear();
  std::size_t used = 0;
  auto slot = [&]() -> std::string& {
    if (used == fields_text_.size()) fields_text_.emplace_back();
    return fields_text_[used++];
  };
  if (item_too_long_) {
    record_.error = "item longer than " + std::to_string(max_item_bytes_) + " bytes";
  } else {
    // One field per distinct name, in document order. A g: element wins over
    // a plain one of the same name (Atom's <id> beside <g:id>); a name given
    // more than once becomes a JSON array of its values.
    for (std::size_t i = 0; i < value_count_; ++i) {
      const Value& v = values_[i];
      bool seen = false;
      bool google = false;
      std::size_t count = 0;
      for (std::size_t j = 0; j < value_count_; ++j) {
        if (values_[j].name != v.name) continue;
        if (j < i && values_[j].google == v.google) seen = true;
        google = google || values_[j].google;
      }
      if (seen || (google && !v.google)) continue;
      for (std::size_t j = i; j < value_count_; ++j) {
        if (values_[j].name == v.name && values_[j].google == v.google) ++count;
      }
      slot() = v.name;
      std::string& value = slot();
      if (count == 1) {
        value = v.text;
      } else {
        value = "[";
        for (std::size_t j = i; j < value_count_; ++j) {
          if (values_[j].name != v.name || values_[j].google != v.google) continue;
          if (value.size() > 1) value.push_back(',');
          append_json_value(value, values_[j].text, values_[j].json);
        }
        value.push_back(']');
      }
    }
  }
  for (std::size_t i = 0; i < used; ++i) record_.fields.emplace_back(fields_text_[i]);
  on_record_(record_);
}

}  // namespace catalog::feeds
