#pragma once
// XML feeds (RSS 2.0 channel/item, Atom 1.0 feed/entry, as Google Merchant
// Center uses them) read with libxml2's SAX2 push parser, streaming (private
// to src/feeds). libxml2 rather than expat: the same document parses in about
// half expat's time (docs/performance.md, "Google Merchant XML").
// https://support.google.com/merchants/answer/160589 (feed formats)

#include <cstdint>
#include <deque>
#include <exception>
#include <string>
#include <vector>

#include "catalog/feeds/record_reader.hpp"

struct _xmlParserCtxt;

namespace catalog::feeds {

/// One record per <item>/<entry>: its child elements as name/value pairs,
/// names without their namespace prefix (a g: element wins over a plain one
/// of the same name), a nested group as one compact JSON object, repeated
/// elements as one JSON array. Memory is bounded by the longest item (a
/// longer one is a reject), never by the document. No DTD is processed: any
/// DOCTYPE fails the document, so no entity is expanded beyond the predefined
/// and numeric ones and nothing external is ever loaded.
class XmlReader final : public RecordReader {
 public:
  /// Where the bytes fed start in the whole document, for a reader that
  /// parses one piece of it (parallel_xml_reader.hpp): the line and column
  /// of the piece's first byte, and the columns taken on that line by the
  /// wrapper fed before it (the piece's enclosing start tags). Line numbers
  /// of records and errors are then the document's.
  struct Origin {
    std::uint64_t line = 1;
    std::uint64_t column = 1;
    std::uint64_t wrapper_columns = 0;
  };

  XmlReader(std::size_t max_item_bytes, Callback on_record) : XmlReader(max_item_bytes, std::move(on_record), Origin()) {}
  XmlReader(std::size_t max_item_bytes, Callback on_record, Origin origin);
  ~XmlReader() override;
  XmlReader(const XmlReader&) = delete;
  XmlReader& operator=(const XmlReader&) = delete;

  void feed(std::string_view chunk) override;
  void finish() override;
  /// Counts `lines` more, as if they had been fed: the lines of the pieces
  /// parsed by other readers, before this one takes the rest.
  void skip_lines(std::uint64_t lines);
  /// As skip_lines, then the next byte fed is at `column` of its line.
  void skip_to(std::uint64_t lines, std::uint64_t column);
  /// Bytes fed that the parser holds unparsed (an unfinished token).
  std::size_t held_bytes() const noexcept;
  /// The most it may hold before the feed fails (an endless tag or comment).
  static constexpr std::size_t max_held_bytes(std::size_t max_item_bytes) noexcept {
    return 4 * max_item_bytes + (std::size_t{1} << 20);
  }

  struct Frame {  // an element open inside the current item
    std::string name;
    std::uint32_t name_hash = 0;
    bool google = false;
    bool has_children = false;
    std::string text;
    std::string members;  ///< {"k":v,... of a nested group (its closing brace added at the end)
    std::string href;     ///< Atom <link href=...>
  };
  struct Value {
    std::string name;
    std::uint32_t name_hash = 0;
    bool google = false;
    bool json = false;  ///< the value is a JSON object, not plain text
    std::string text;   ///< the buffer the value lies in (taken from the element's frame)
    std::size_t begin = 0, length = 0;  ///< where the value (trimmed text, href, JSON) lies in text
    std::string_view value() const { return std::string_view(text).substr(begin, length); }
  };

  // libxml2 callbacks (static trampolines in the .cpp call these).
  void on_start(const char* local_name, const char* uri, int attribute_count, const char** attributes);
  void on_end();
  void on_text(const char* text, int length);
  void refuse_dtd();
  void on_error(const std::string& message, int line, int column);

 private:
  void parse(const char* data, std::size_t size, bool last);
  void check_held();
  void emit_item();
  void grow(std::size_t bytes);

  _xmlParserCtxt* parser_ = nullptr;
  Callback on_record_;
  const std::size_t max_item_bytes_;
  const Origin origin_;
  std::uint64_t depth_ = 0;
  bool in_item_ = false;
  std::uint64_t item_depth_ = 0;
  std::uint64_t item_line_ = 0;
  std::size_t item_bytes_ = 0;
  bool item_too_long_ = false;
  const char* last_uri_ = nullptr;  ///< the namespace URI of the last element started
  bool last_uri_google_ = false;
  std::vector<Frame> frames_;  ///< reused: only frames_[0..open_) are live
  std::size_t open_ = 0;
  std::vector<Value> values_;
  std::size_t value_count_ = 0;
  std::deque<std::string> arrays_text_;  ///< a repeated name's values as one JSON array (a deque: fields point into it)
  csv::Record record_;
  std::string refused_;              ///< why a handler stopped the parser
  std::uint64_t refused_line_ = 0;
  std::string error_;                ///< the parser's first error
  std::uint64_t error_line_ = 0;
  std::uint64_t error_column_ = 0;
  std::exception_ptr callback_error_;  ///< thrown by on_record_, rethrown after xmlParseChunk
};

}  // namespace catalog::feeds
