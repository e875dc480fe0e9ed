#include "feeds/xml_splitter.hpp"

#include <algorithm>
#include <cstring>

namespace catalog::feeds {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
/// `s` is shorter than `whole` and may still become it as more bytes come.
bool may_become(std::string_view s, std::string_view whole) {
  return s.size() < whole.size() && whole.substr(0, s.size()) == s;
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Characters, as libxml2 counts columns: UTF-8 continuation bytes do not count.
std::uint64_t characters(std::string_view s) {
  std::uint64_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

/// '\n' bytes in `s`, eight at a time: the splitter counts every byte of
/// the feed, on the thread that also downloads it.
std::uint64_t newlines(std::string_view s) {
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  constexpr std::uint64_t kNewlines = 0x0A0A0A0A0A0A0A0AULL;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    const std::uint64_t x = word ^ kNewlines;                // a zero byte where '\n' was
    const std::uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);  // its high bit, exactly
    n += ((zero >> 7) * kOnes) >> 56;
  }
  for (; i < s.size(); ++i) n += s[i] == '\n' ? 1 : 0;
  return n;
}

/// Markup copied onto the wrapper's one line: a line end inside a tag is white space to XML.
std::string one_line(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

/// The encoding an XML declaration names is UTF-8 (or none is named): the
/// only one whose markup can be found byte by byte that is worth splitting.
bool declares_utf8(std::string_view declaration) {
  std::size_t i = declaration.find("encoding");
  if (i == std::string_view::npos) return true;
  i += 8;
  while (i < declaration.size() && is_space(declaration[i])) ++i;
  if (i == declaration.size() || declaration[i] != '=') return false;
  ++i;
  while (i < declaration.size() && is_space(declaration[i])) ++i;
  if (i == declaration.size() || (declaration[i] != '"' && declaration[i] != '\'')) return false;
  const std::size_t end = declaration.find(declaration[i], i + 1);
  if (end == std::string_view::npos) return false;
  const std::string_view name = declaration.substr(i + 1, end - i - 1);
  constexpr std::string_view kUtf8 = "utf-8";
  return name.size() == kUtf8.size() &&
         std::equal(name.begin(), name.end(), kUtf8.begin(), [](char a, char b) { return lower(a) == b; });
}

}  // namespace

XmlSplitter::XmlSplitter(std::size_t piece_bytes, std::size_t max_pending_bytes)
    : piece_bytes_(std::max<std::size_t>(piece_bytes, 1)), max_pending_bytes_(max_pending_bytes) {}

void XmlSplitter::append(std::string_view data) { buf_.append(data); }

void XmlSplitter::give_up() { phase_ = Phase::given_up; }

void XmlSplitter::stop() { give_up(); }

std::string XmlSplitter::take_prolog() { return std::move(prolog_); }

std::string XmlSplitter::take_rest() {
  buf_.erase(0, base_);
  base_ = pos_ = cut_ = wait_from_ = 0;
  return std::move(buf_);
}

bool XmlSplitter::next_piece(Piece& out) {
  if (phase_ == Phase::given_up) return false;
  scan();
  // The prolog goes to the document's reader before the first piece.
  if (phase_ != Phase::items || !prolog_.empty() || cut_ - base_ < piece_bytes_) return false;
  // The piece leaves in the buffer it was read into (no copy): the bytes
  // after it move to the buffer handed in, after the wrapper.
  out.document.swap(buf_);
  buf_.assign(wrapper_open_);
  buf_.append(out.document, cut_, std::string::npos);
  out.line = line_;
  out.column = column_;
  piece_lines_ += advance(std::string_view(out.document).substr(base_, cut_ - base_));
  ++pieces_;
  out.document.resize(cut_);
  out.document.append(wrapper_close_);
  pos_ = base_ + (pos_ - cut_);
  if (wait_from_ != 0) wait_from_ = base_ + (wait_from_ - cut_);
  cut_ = base_;
  return true;
}

std::uint64_t XmlSplitter::advance(std::string_view bytes) {
  const std::uint64_t lines = newlines(bytes);
  const std::size_t last = bytes.rfind('\n');
  if (last == std::string_view::npos) {
    column_ += characters(bytes);
  } else {
    column_ = 1 + characters(bytes.substr(last + 1));
  }
  line_ += lines;
  return lines;
}

void XmlSplitter::scan() {
  if (!checked_start_) {
    // Found byte by byte, markup must be ASCII: a UTF-16 or EBCDIC document
    // (no '<' first, after a UTF-8 byte order mark) is not split.
    if (buf_.size() < 4) return;
    bom_ = starts_with(buf_, "\xEF\xBB\xBF") ? 3 : 0;
    if (buf_[bom_] != '<') return give_up();
    checked_start_ = true;
    pos_ = bom_;
  }
  while (phase_ != Phase::given_up && pos_ < buf_.size()) {
    if (phase_ == Phase::items && cut_ - base_ >= piece_bytes_) return;  // a piece is ready
    if (!prolog_.empty()) return;  // the owner reads the prolog before any piece
    if (buf_[pos_] != '<') {
      const void* lt = std::memchr(buf_.data() + pos_, '<', buf_.size() - pos_);
      const std::size_t text_end =
          lt == nullptr ? buf_.size() : static_cast<std::size_t>(static_cast<const char*>(lt) - buf_.data());
      if (phase_ == Phase::items && !in_item_ && depth_ == item_depth_) text_at_items_depth(pos_, text_end);
      pos_ = text_end;
      if (lt == nullptr) break;
      continue;  // a piece may be ready
    }
    const std::string_view rest = std::string_view(buf_).substr(pos_);
    const Step step = in_item_ ? inside_item(rest) : markup(rest);
    if (step == Step::wait || step == Step::more) {
      // A markup searched to the end goes on from there when more comes.
      wait_from_ = step == Step::wait ? buf_.size() : 0;
      break;
    }
    wait_from_ = 0;
    quote_ = 0;
    if (step == Step::give_up) return give_up();
  }
  if (phase_ != Phase::given_up && buf_.size() - cut_ > max_pending_bytes_) give_up();
}

/// One markup at the start of `rest`; `pos_` moves past it when it is whole.
XmlSplitter::Step XmlSplitter::markup(std::string_view rest) {
  // Where an unfinished markup was searched up to (a terminator may straddle it).
  const std::size_t searched = wait_from_ > pos_ ? wait_from_ - pos_ : 0;
  const auto find_end = [&](std::string_view terminator, std::size_t from) {
    const std::size_t at = rest.find(terminator, std::max(from, searched >= 2 ? searched - 2 : 0));
    return at == std::string_view::npos ? at : at + terminator.size();
  };
  if (rest.size() < 2) return Step::more;
  std::size_t end = 0;
  switch (rest[1]) {
    case '!':
      if (starts_with(rest, "<!--")) {
        end = find_end("-->", 4);
      } else if (starts_with(rest, "<![CDATA[")) {
        end = find_end("]]>", 9);
      } else if (may_become(rest, "<!--") || may_become(rest, "<![CDATA[")) {
        return Step::more;
      } else {
        return Step::give_up;  // a DOCTYPE, or no XML at all: the document's reader says which
      }
      if (end == std::string_view::npos) return Step::wait;
      pos_ += end;
      if (phase_ == Phase::prolog) prolog_end_ = pos_;
      return Step::done;
    case '?':
      end = find_end("?>", 2);
      if (end == std::string_view::npos) return Step::wait;
      if (pos_ == bom_ && starts_with(rest, "<?xml") && is_space(rest[5])) {
        declaration_ = one_line(rest.substr(0, end));
        if (!declares_utf8(declaration_)) return Step::give_up;
      }
      pos_ += end;
      if (phase_ == Phase::prolog) prolog_end_ = pos_;
      return Step::done;
    case '/':
      end = rest.find('>', std::max<std::size_t>(2, searched));
      if (end == std::string_view::npos) return Step::wait;
      pos_ += end + 1;
      return end_tag();
    default:
      break;
  }
  if (start_tag_end(rest, end) == Step::wait) return Step::wait;
  const std::size_t at = pos_;
  pos_ += end;
  return start_tag(rest.substr(0, end), at);
}

/// A start tag ends at the first '>' outside a quoted attribute value.
XmlSplitter::Step XmlSplitter::start_tag_end(std::string_view rest, std::size_t& end) {
  const std::size_t searched = wait_from_ > pos_ ? wait_from_ - pos_ : 0;
  std::size_t i = std::max<std::size_t>(1, searched);
  for (; i < rest.size(); ++i) {
    const char c = rest[i];
    if (quote_ != 0) {
      if (c == quote_) quote_ = 0;
    } else if (c == '"' || c == '\'') {
      quote_ = c;
    } else if (c == '>') {
      break;
    }
  }
  if (i == rest.size()) return Step::wait;
  end = i + 1;
  return Step::done;
}

/// Inside an item: its end tag, one of the same name nested in it, or markup
/// that could hide either; any other tag is skipped at its '<'.
XmlSplitter::Step XmlSplitter::inside_item(std::string_view rest) {
  const std::size_t n = item_name_.size();
  if (rest.size() < n + 3) return Step::more;
  if (rest[1] == '!' || rest[1] == '?') return markup(rest);
  const bool closing = rest[1] == '/';
  const std::size_t name_at = closing ? 2 : 1;
  const char after = rest[name_at + n];
  if (rest[name_at] != item_name_[0] || rest.compare(name_at, n, item_name_) != 0 ||
      !(after == '>' || after == '/' || is_space(after))) {
    pos_ += name_at;
    return Step::done;
  }
  std::size_t end = 0;
  if (closing) {
    const std::size_t searched = wait_from_ > pos_ ? wait_from_ - pos_ : 0;
    end = rest.find('>', std::max(name_at + n, searched));
    if (end == std::string_view::npos) return Step::wait;
    ++end;
  } else if (start_tag_end(rest, end) == Step::wait) {
    return Step::wait;
  }
  pos_ += end;
  if (!closing) {
    if (rest[end - 2] != '/') ++item_nested_;
  } else if (item_nested_ > 0) {
    --item_nested_;
  } else {
    in_item_ = false;
    depth_ = item_outer_;
  }
  return Step::done;
}

XmlSplitter::Step XmlSplitter::start_tag(std::string_view tag, std::size_t at) {
  const bool empty = tag.size() >= 3 && tag[tag.size() - 2] == '/';
  std::size_t n = 1;
  while (n < tag.size() && !is_space(tag[n]) && tag[n] != '/' && tag[n] != '>') ++n;
  const std::string_view name = tag.substr(1, n - 1);
  if (name.empty()) return Step::give_up;
  const std::size_t colon = name.rfind(':');
  const std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
  const bool item = local == "item" || local == "entry";
  if (!empty && item) item_name_.assign(name);  // before begin_items rewrites buf_, where `name` lies
  if (phase_ == Phase::prolog) {
    if (!item) {
      if (!empty) open_.push_back(Open{std::string(name), one_line(tag)});
      prolog_end_ = pos_;
      return Step::done;
    }
    // An item as the root: nothing worth splitting, and a second root must
    // stay the document's reader's error.
    if (open_.empty() || !begin_items(at)) return Step::give_up;
  }
  if (empty) return Step::done;
  if (item) {
    in_item_ = true;
    item_nested_ = 0;
    item_outer_ = depth_;
  }
  ++depth_;
  return Step::done;
}

XmlSplitter::Step XmlSplitter::end_tag() {
  if (phase_ == Phase::prolog) {
    if (open_.empty()) return Step::give_up;
    open_.pop_back();
    prolog_end_ = pos_;
    return Step::done;
  }
  // The items' parent ends: what follows is the document's reader's.
  if (depth_ == item_depth_) return Step::give_up;
  --depth_;
  return Step::done;
}

void XmlSplitter::text_at_items_depth(std::size_t from, std::size_t to) {
  const void* line_end = ::memrchr(buf_.data() + from, '\n', to - from);
  if (line_end != nullptr) cut_ = static_cast<std::size_t>(static_cast<const char*>(line_end) - buf_.data()) + 1;
}

/// The first item starts at `at`. The prolog ends with the markup before it,
/// so that libxml2 holds nothing of it back: the text up to the item opens
/// the first piece, at the column where the prolog ends. That column is
/// counted in characters; libxml2 counts bytes in CDATA and end tags, so a
/// first piece that opens with more than white space after a prolog line
/// holding other than ASCII is not split (false: give up).
bool XmlSplitter::begin_items(std::size_t at) {
  const std::size_t end = std::min(prolog_end_, at);
  const std::string_view head = std::string_view(buf_).substr(bom_, end - bom_);
  const std::string_view last_line = head.substr(head.rfind('\n') + 1);  // npos + 1 == 0: all of it
  const bool ascii = std::all_of(last_line.begin(), last_line.end(), [](char c) { return (c & 0x80) == 0; });
  if (!ascii) {
    const std::string_view opening = std::string_view(buf_).substr(end, at - end);
    const std::size_t line_end = opening.find('\n');
    if (line_end == std::string_view::npos ||
        !std::all_of(opening.begin(), opening.begin() + static_cast<std::ptrdiff_t>(line_end), is_space)) {
      return false;
    }
  }
  prolog_.assign(buf_, 0, end);
  advance(std::string_view(prolog_).substr(bom_));  // libxml2 counts no column for a byte order mark
  item_depth_ = depth_ = open_.size();
  wrapper_open_ = declaration_;
  wrapper_close_.clear();
  for (const Open& o : open_) wrapper_open_ += o.tag;
  for (auto o = open_.rbegin(); o != open_.rend(); ++o) wrapper_close_ += "</" + o->name + ">";
  wrapper_columns_ = characters(wrapper_open_);
  buf_.replace(0, end, wrapper_open_);
  base_ = wrapper_open_.size();
  pos_ = pos_ - end + base_;
  cut_ = base_;
  wait_from_ = 0;
  phase_ = Phase::items;
  return true;
}

}  // namespace catalog::feeds
