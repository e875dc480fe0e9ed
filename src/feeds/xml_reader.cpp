#include "feeds/xml_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <libxml/parser.h>
#include <libxml/SAX2.h>

#include "catalog/core/json_string.hpp"

namespace catalog::feeds {
namespace {

constexpr std::string_view kGoogleNs = "http://base.google.com/ns/1.0";

XmlReader* self(void* user_data) { return static_cast<XmlReader*>(user_data); }
const char* chars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

// libxml2's SAX2 callbacks (the context's user data is the reader).
void start_element(void* ud, const xmlChar* local, const xmlChar*, const xmlChar* uri, int, const xmlChar**,
                   int attribute_count, int, const xmlChar** attributes) {
  self(ud)->on_start(chars(local), uri != nullptr ? chars(uri) : "", attribute_count,
                     reinterpret_cast<const char**>(attributes));
}
void end_element(void* ud, const xmlChar*, const xmlChar*, const xmlChar*) { self(ud)->on_end(); }
void character_data(void* ud, const xmlChar* s, int len) { self(ud)->on_text(chars(s), len); }
void start_doctype(void* ud, const xmlChar*, const xmlChar*, const xmlChar*) { self(ud)->refuse_dtd(); }
void entity_decl(void* ud, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) { self(ud)->refuse_dtd(); }
void structured_error(void* ud, xmlErrorPtr error) {
  // A warning (an unknown XML version, a relative namespace URI) is not a reason to refuse a feed.
  if (error != nullptr && error->level != XML_ERR_WARNING) {
    self(ud)->on_error(error->message != nullptr ? error->message : "unknown error", error->line, error->int2);
  }
}
/// Errors libxml2 raises without the parser's context (a byte the declared
/// encoding cannot convert) go to this thread's handlers: the reader's, while
/// it parses, never stderr.
void silent(void*, const char*, ...) {}

/// An attribute value as the document means it: without entity substitution
/// (never asked for: no DTD is read) libxml2 hands `&amp;` and `&#38;` over
/// as "&#38;", and every other `&` arrives that way too.
void assign_attribute(std::string& out, const char* begin, const char* end) {
  out.clear();
  constexpr std::string_view kAmp = "&#38;";
  for (std::string_view rest(begin, static_cast<std::size_t>(end - begin)); !rest.empty();) {
    const std::size_t at = rest.find(kAmp);
    out.append(rest.substr(0, at));
    if (at == std::string_view::npos) break;
    out.push_back('&');
    rest.remove_prefix(at + kAmp.size());
  }
}

/// Once per process, before any thread parses (libxml2's rule for threads).
void init_libxml2() {
  static const bool done = [] {
    xmlInitParser();
    return true;
  }();
  (void)done;
}

/// Tells names apart cheaply before they are compared (FNV-1a).
std::uint32_t name_hash(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// `text` as a JSON value: a nested group is JSON already, plain text is quoted.
void append_json_value(std::string& out, std::string_view text, bool json) {
  if (json) {
    out.append(text);
  } else {
    append_json_string(out, text);
  }
}

}  // namespace

XmlReader::XmlReader(std::size_t max_item_bytes, Callback on_record, Origin origin)
    : on_record_(std::move(on_record)), max_item_bytes_(max_item_bytes), origin_(origin) {
  init_libxml2();
  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;  // the namespace-aware callbacks below
  sax.startElementNs = start_element;
  sax.endElementNs = end_element;
  sax.characters = character_data;
  sax.cdataBlock = character_data;
  // No DTD processing at all: a DOCTYPE (internal subset, entity
  // declarations, an external DTD) stops the parse where it starts. Nothing
  // is ever loaded: no DTD loading or entity substitution is asked for, and
  // the network is off (XML_PARSE_NONET). Errors come here, not to stderr.
  sax.internalSubset = start_doctype;
  sax.entityDecl = entity_decl;
  sax.serror = structured_error;
  xmlSetGenericErrorFunc(nullptr, silent);  // per thread in libxml2 2.9; the reader parses on this one
  xmlSetStructuredErrorFunc(this, structured_error);
  parser_ = xmlCreatePushParserCtxt(&sax, this, nullptr, 0, nullptr);
  if (parser_ == nullptr) throw FormatError("XML feed: cannot create the parser");
  xmlCtxtUseOptions(parser_, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  skip_lines(origin.line - 1);
}

void XmlReader::skip_lines(std::uint64_t lines) {
  // libxml2 counts lines in its input (an int): start it further on, so that
  // its own errors name the document's line too.
  if (lines == 0 || parser_->input == nullptr) return;
  const std::uint64_t line = static_cast<std::uint64_t>(std::max(parser_->input->line, 0)) + lines;
  parser_->input->line = static_cast<int>(std::min<std::uint64_t>(line, std::numeric_limits<int>::max()));
}

void XmlReader::skip_to(std::uint64_t lines, std::uint64_t column) {
  skip_lines(lines);
  if (parser_->input == nullptr) return;
  parser_->input->col = static_cast<int>(std::min<std::uint64_t>(column, std::numeric_limits<int>::max()));
}

XmlReader::~XmlReader() {
  xmlFreeParserCtxt(parser_);
  xmlSetStructuredErrorFunc(nullptr, nullptr);  // this reader is gone
}

void XmlReader::feed(std::string_view chunk) { parse(chunk.data(), chunk.size(), false); }

void XmlReader::finish() { parse("", 0, true); }

void XmlReader::parse(const char* data, std::size_t size, bool last) {
  // xmlParseChunk takes an int length: feed huge chunks in pieces.
  constexpr std::size_t kPiece = 1 << 20;
  do {
    const std::size_t n = std::min(size, kPiece);
    const bool final = last && n == size;
    const int status = xmlParseChunk(parser_, data, static_cast<int>(n), final ? 1 : 0);
    if (callback_error_) std::rethrow_exception(callback_error_);
    if (!refused_.empty()) throw FormatError("XML feed line " + std::to_string(refused_line_) + ": " + refused_);
    if (status != 0 && error_.empty()) {
      // Raised outside the context's handler (an encoding failure): its last error says what.
      const xmlError* last = xmlCtxtGetLastError(parser_);
      on_error(last != nullptr && last->message != nullptr ? last->message : "the parser stopped (libxml2 error " +
                                                                                 std::to_string(status) + ")",
               last != nullptr && last->line > 0 ? last->line : xmlSAX2GetLineNumber(parser_),
               last != nullptr ? last->int2 : 0);
    }
    if (!error_.empty()) {
      throw FormatError("XML feed is malformed: " + error_ + " at line " + std::to_string(error_line_) +
                        ", column " + std::to_string(error_column_) + "; nothing was applied");
    }
    check_held();
    data += n;
    size -= n;
  } while (size > 0);
}

std::size_t XmlReader::held_bytes() const noexcept {
  const auto* in = parser_->input;
  return in == nullptr || in->cur == nullptr || in->end == nullptr ? 0 : static_cast<std::size_t>(in->end - in->cur);
}

/// The parser keeps an unfinished token (a tag, a comment) in its buffer: a
/// token far longer than any item would grow it without bound, so stop there.
/// What counts is what it holds, not how the bytes were cut.
void XmlReader::check_held() {
  if (held_bytes() > max_held_bytes(max_item_bytes_)) {
    throw FormatError("XML feed line " + std::to_string(xmlSAX2GetLineNumber(parser_)) +
                      ": a tag, comment or declaration longer than " + std::to_string(4 * max_item_bytes_) +
                      " bytes; nothing was applied");
  }
}

void XmlReader::refuse_dtd() {
  if (refused_.empty()) {
    refused_ =
        "a DOCTYPE declaration is not accepted: feeds are read without DTD processing (no entity declarations, "
        "no external entities or DTDs)";
    refused_line_ = static_cast<std::uint64_t>(xmlSAX2GetLineNumber(parser_));
  }
  xmlStopParser(parser_);
}

void XmlReader::on_error(const std::string& message, int line, int column) {
  if (!error_.empty() || !refused_.empty() || callback_error_) return;  // the first cause, not its echoes
  std::string_view text = message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  error_.assign(text);
  // An error raised outside the context carries no line: where the parser is.
  error_line_ = static_cast<std::uint64_t>(line > 0 ? line : std::max(xmlSAX2GetLineNumber(parser_), 0));
  error_column_ = column > 0 ? static_cast<std::uint64_t>(column) : 0;
  // On a piece's first line the wrapper's start tags come before it.
  if (error_line_ == origin_.line && error_column_ > origin_.wrapper_columns) {
    error_column_ = error_column_ - origin_.wrapper_columns + origin_.column - 1;
  }
}

void XmlReader::grow(std::size_t bytes) {
  item_bytes_ += bytes;
  if (item_bytes_ > max_item_bytes_) item_too_long_ = true;
}

void XmlReader::on_start(const char* local_name, const char* uri, int attribute_count, const char** attributes) {
  ++depth_;
  const std::string_view local(local_name);
  if (!in_item_) {
    // RSS 2.0 <item> and Atom 1.0 <entry> (any namespace: Atom's is the default one).
    if (local == "item" || local == "entry") {
      in_item_ = true;
      item_depth_ = depth_;
      item_line_ = static_cast<std::uint64_t>(xmlSAX2GetLineNumber(parser_));
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
  f.name_hash = name_hash(local);
  // libxml2 hands every element of one namespace the same interned URI.
  if (uri != last_uri_) {
    last_uri_ = uri;
    last_uri_google_ = std::string_view(uri) == kGoogleNs;
  }
  f.google = last_uri_google_;
  f.has_children = false;
  f.text.clear();
  f.members.clear();
  f.href.clear();
  // Five pointers per attribute: local name, prefix, URI, value, value end.
  for (int i = 0; i < attribute_count; ++i) {
    const char** a = attributes + 5 * i;
    if (std::strcmp(a[0], "href") == 0) assign_attribute(f.href, a[3], a[4]);  // Atom <link href>
  }
  grow(local.size() + f.href.size());
}

void XmlReader::on_text(const char* text, int length) {
  if (open_ == 0) return;  // outside items, or between an item's elements
  grow(static_cast<std::size_t>(length));
  if (!item_too_long_) frames_[open_ - 1].text.append(text, static_cast<std::size_t>(length));
}

void XmlReader::on_end() {
  const std::uint64_t depth = depth_--;
  if (!in_item_) return;
  if (depth == item_depth_) {
    in_item_ = false;
    // libxml2 goes on after some errors (a namespace one) until the chunk
    // ends: no record after the first error, so that the records before a
    // failure do not depend on where the input was cut. (xmlStopParser from
    // the error handler can hang libxml2 2.9 on an encoding error.)
    if (!error_.empty()) return;
    try {
      emit_item();
    } catch (...) {
      // Never unwind through libxml2's C frames: stop it and rethrow after xmlParseChunk.
      callback_error_ = std::current_exception();
      xmlStopParser(parser_);
    }
    return;
  }
  Frame& f = frames_[--open_];
  if (item_too_long_) return;
  const bool json = f.has_children;
  const std::string_view text = trim(f.text);
  // A nested group's value is its members as a JSON object; an empty element
  // takes Atom's <link href=...>.
  const std::string_view value = json ? std::string_view() : text.empty() ? std::string_view(f.href) : text;
  if (open_ > 0) {
    // A member of a nested group (g:shipping → {"country":"US",...}).
    std::string& members = frames_[open_ - 1].members;
    members.push_back(members.empty() ? '{' : ',');
    append_json_string(members, f.name);
    members.push_back(':');
    if (json) {
      members.append(f.members).push_back('}');
    } else {
      append_json_string(members, value);
    }
    grow(f.name.size() + 4);
    return;
  }
  // The frame's buffers become the value's by a swap (the frame takes the
  // value's old ones to reuse): no bytes are copied.
  if (value_count_ == values_.size()) values_.emplace_back();
  Value& v = values_[value_count_++];
  v.name.swap(f.name);
  v.name_hash = f.name_hash;
  v.google = f.google;
  v.json = json;
  std::string& source = json ? f.members : text.empty() ? f.href : f.text;
  if (json) source.push_back('}');
  const std::size_t begin = json || text.empty() ? 0 : static_cast<std::size_t>(text.data() - f.text.data());
  const std::size_t length = json ? source.size() : value.size();
  v.text.swap(source);
  v.begin = begin;
  v.length = length;
}

void XmlReader::emit_item() {
  record_.line = item_line_;
  record_.error.clear();
  record_.fields.clear();
  std::size_t arrays = 0;
  if (item_too_long_) {
    record_.error = "item longer than " + std::to_string(max_item_bytes_) + " bytes";
    on_record_(record_);
    return;
  }
  // One field per distinct name, in document order. A g: element wins over
  // a plain one of the same name (Atom's <id> beside <g:id>); a name given
  // more than once becomes a JSON array of its values. Names are compared by
  // their hash first: an item's names are nearly always all different.
  const auto same_name = [&](std::size_t i, std::size_t j) {
    return i == j || (values_[i].name_hash == values_[j].name_hash && values_[i].name == values_[j].name);
  };
  for (std::size_t i = 0; i < value_count_; ++i) {
    const Value& v = values_[i];
    bool seen = false;
    bool google = false;
    std::size_t count = 0;
    for (std::size_t j = 0; j < value_count_; ++j) {
      if (!same_name(i, j)) continue;
      if (j < i && values_[j].google == v.google) seen = true;
      google = google || values_[j].google;
      if (j >= i && values_[j].google == v.google) ++count;
    }
    if (seen || (google && !v.google)) continue;
    record_.fields.emplace_back(v.name);
    if (count == 1) {
      record_.fields.emplace_back(v.value());
      continue;
    }
    if (arrays == arrays_text_.size()) arrays_text_.emplace_back();
    std::string& value = arrays_text_[arrays++];
    value = "[";
    for (std::size_t j = i; j < value_count_; ++j) {
      if (!same_name(i, j) || values_[j].google != v.google) continue;
      if (value.size() > 1) value.push_back(',');
      append_json_value(value, values_[j].value(), values_[j].json);
    }
    value.push_back(']');
    record_.fields.emplace_back(value);
  }
  on_record_(record_);
}

}  // namespace catalog::feeds
