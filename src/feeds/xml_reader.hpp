#pragma once
// XML feeds (RSS 2.0 channel/item, Atom 1.0 feed/entry, as Google Merchant
// Center uses them) read with expat, streaming (private to src/feeds).
// https://support.google.com/merchants/answer/160589 (feed formats)

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "catalog/feeds/record_reader.hpp"

struct XML_ParserStruct;

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
  XmlReader(std::size_t max_item_bytes, Callback on_record);
  ~XmlReader() override;
  XmlReader(const XmlReader&) = delete;
  XmlReader& operator=(const XmlReader&) = delete;

  void feed(std::string_view chunk) override;
  void finish() override;

  struct Frame {  // an element open inside the current item
    std::string name;
    bool google = false;
    bool has_children = false;
    std::string text;
    std::string members;  ///< "k":v,... of a nested group
    std::string href;     ///< Atom <link href=...>
  };
  struct Value {
    std::string name;
    bool google = false;
    bool json = false;  ///< the text is a JSON object, not plain text
    std::string text;
  };

  // expat callbacks (static trampolines in the .cpp call these).
  void on_start(const char* name, const char** attributes);
  void on_end();
  void on_text(const char* text, int length);
  void refuse_dtd();

 private:
  void parse(const char* data, std::size_t size, bool last);
  void check_progress();
  void emit_item();
  void grow(std::size_t bytes);

  XML_ParserStruct* parser_ = nullptr;
  Callback on_record_;
  const std::size_t max_item_bytes_;
  std::uint64_t depth_ = 0;
  bool in_item_ = false;
  std::uint64_t item_depth_ = 0;
  std::uint64_t item_line_ = 0;
  std::size_t item_bytes_ = 0;
  bool item_too_long_ = false;
  std::vector<Frame> frames_;  ///< reused: only frames_[0..open_) are live
  std::size_t open_ = 0;
  std::vector<Value> values_;
  std::size_t value_count_ = 0;
  std::vector<std::string> fields_text_;
  csv::Record record_;
  std::string refused_;              ///< why a handler stopped the parser
  std::exception_ptr callback_error_;  ///< thrown by on_record_, rethrown after XML_Parse
  std::uint64_t fed_ = 0;
  std::uint64_t last_event_ = 0;
};

}  // namespace catalog::feeds
