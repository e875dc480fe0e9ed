#pragma once
// Cuts an XML feed into pieces of whole items, so that the pieces can be
// parsed side by side (private to src/feeds, used by parallel_xml_reader).
// It reads markup only as far as it needs to find where items end: tags,
// comments, CDATA sections and processing instructions, and the depth. Every
// byte is still parsed by libxml2, the prolog by the document's own reader
// and each piece inside a copy of its enclosing start tags, so a document is
// accepted or refused exactly as one parser would.
//
// Whatever the splitter does not follow (a DOCTYPE or any other `<!`
// declaration, an encoding other than UTF-8, a piece growing past its bound,
// the end of the items' parent) makes it give up: from then on the
// document's own reader takes every remaining byte, as if there had been no
// split.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace catalog::feeds {

class XmlSplitter {
 public:
  struct Piece {
    /// A document to parse: wrapper_open(), whole items (and what lies
    /// between them), wrapper_close(). next_piece() swaps it with the
    /// splitter's buffer, so a buffer passed back in is reused.
    std::string document;
    std::uint64_t line = 1;    ///< the line of the piece's first byte in the feed
    std::uint64_t column = 1;  ///< the column (in characters) of its first byte
  };

  /// Pieces of at least `piece_bytes` (as soon as an item ends past that);
  /// gives up when more than `max_pending_bytes` are held without an end.
  XmlSplitter(std::size_t piece_bytes, std::size_t max_pending_bytes);

  void append(std::string_view data);
  /// Scans on: the next piece into `out`, or false when the bytes so far hold none.
  bool next_piece(Piece& out);
  /// Splits no more (the document's end, or the owner's choice): the rest
  /// goes to the document's reader (take_rest).
  void stop();

  /// The bytes before the first item, once, as soon as it has been seen
  /// (no piece is given out before it is taken); empty before that and after.
  std::string take_prolog();
  bool gave_up() const noexcept { return phase_ == Phase::given_up; }
  /// After giving up: every byte not yet in a piece or the prolog, once.
  std::string take_rest();
  /// Lines in the pieces given out so far.
  std::uint64_t piece_lines() const noexcept { return piece_lines_; }
  /// The column of the first byte not given out (in a piece or the prolog).
  std::uint64_t column() const noexcept { return column_; }
  bool any_piece() const noexcept { return pieces_ != 0; }

  /// What a piece is parsed inside of: the XML declaration and the start
  /// tags enclosing the items (their namespace declarations apply), on one
  /// line, and the matching end tags.
  const std::string& wrapper_open() const noexcept { return wrapper_open_; }
  const std::string& wrapper_close() const noexcept { return wrapper_close_; }
  std::uint64_t wrapper_columns() const noexcept { return wrapper_columns_; }

 private:
  enum class Phase { prolog, items, given_up };
  /// `wait`: the markup was searched to the end of the bytes and goes on;
  /// `more`: too few bytes to look at yet (nothing was searched).
  enum class Step { done, wait, more, give_up };

  void scan();
  Step markup(std::string_view rest);
  Step inside_item(std::string_view rest);
  Step start_tag_end(std::string_view rest, std::size_t& end);
  Step start_tag(std::string_view tag, std::size_t at);
  Step end_tag();
  /// Text at the items' depth from `from` to `to`: a piece may end after its last line end.
  void text_at_items_depth(std::size_t from, std::size_t to);
  bool begin_items(std::size_t at);
  /// Moves line_ and column_ over `bytes`; returns the lines in them.
  std::uint64_t advance(std::string_view bytes);
  void give_up();

  const std::size_t piece_bytes_;
  const std::size_t max_pending_bytes_;
  Phase phase_ = Phase::prolog;
  /// The document's bytes from its start (prolog) or from the end of the
  /// last piece (items), after `base_` bytes of wrapper_open_.
  std::string buf_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;  ///< scanned up to here in buf_ (at a '<' while a markup is incomplete)
  /// Where the pieces so far may end: the start of the last line that began
  /// in text at the items' depth. A piece that starts a line starts at its
  /// column 1, which needs no counting: libxml2 counts a column in bytes in
  /// some places (CDATA, end tags) and in characters elsewhere.
  std::size_t cut_ = 0;
  std::size_t wait_from_ = 0;   ///< an unfinished markup was searched up to here (0: none)
  char quote_ = 0;              ///< the quote open in an unfinished start tag
  std::size_t bom_ = 0;         ///< a UTF-8 byte order mark's length
  std::size_t prolog_end_ = 0;  ///< the end of the prolog's last markup
  std::size_t depth_ = 0;
  std::size_t item_depth_ = 0;  ///< the depth of the first item's parent
  // Inside an item only its own end tag matters (and comments, CDATA and
  // processing instructions, which could hide one): other tags are skipped.
  bool in_item_ = false;
  std::string item_name_;        ///< the open item's qualified name
  std::size_t item_nested_ = 0;  ///< elements of the same name open inside it
  std::size_t item_outer_ = 0;   ///< the depth outside the open item
  std::uint64_t line_ = 1;      ///< line and column of buf_'s first byte
  std::uint64_t column_ = 1;
  std::uint64_t piece_lines_ = 0;
  std::uint64_t pieces_ = 0;
  bool checked_start_ = false;
  std::string declaration_;
  struct Open {
    std::string name;
    std::string tag;
  };
  std::vector<Open> open_;  ///< the prolog's open elements: the first item's ancestors
  std::string prolog_;
  std::string wrapper_open_;
  std::string wrapper_close_;
  std::uint64_t wrapper_columns_ = 0;
};

}  // namespace catalog::feeds
