#include "catalog/csv/csv_reader.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "catalog/core/utf8.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// Spec: https://www.rfc-editor.org/rfc/rfc4180 (CSV) and
// https://www.rfc-editor.org/rfc/rfc3629#section-4 (well-formed UTF-8).
//
// The parser is one resumable state machine, so a chunk may end at any byte
// (inside quotes, between "\r" and "\n", inside a UTF-8 sequence or the BOM)
// without rescanning. Work is done per span, not per byte: inside a field we
// jump to the next byte that can change the state (delimiter, quote, CR, LF)
// and copy the span in one memcpy. Field values are accumulated in one record
// buffer that keeps its capacity, so steady state does no allocation.

namespace catalog::csv {

namespace {

/// First position in [p, end) holding a, b or c; `end` if none.
/// This is the hot loop: SSE2 (baseline on x86-64) compares 16 bytes at once.
inline const char* find_any3(const char* p, const char* end, char a, char b, char c) noexcept {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                   _mm_cmpeq_epi8(v, vc));
    const int mask = _mm_movemask_epi8(m);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char ch = *p;
    if (ch == a || ch == b || ch == c) return p;
  }
  return end;
}

constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};

}  // namespace

struct Reader::Impl {
  enum class State : unsigned char {
    kRecordStart,    ///< between records: empty lines are skipped here
    kFieldStart,     ///< after a delimiter
    kUnquoted,       ///< inside an unquoted field
    kQuoted,         ///< inside a quoted field
    kQuotedCr,       ///< inside quotes, just after '\r' (a following '\n' is the same line end)
    kQuoteInQuoted,  ///< inside quotes, just after a quote: closing or first half of ""
    kAfterStray,     ///< after garbage following a closing quote: skip to field end
    kSkipLf,         ///< after a record ended by '\r': swallow a following '\n'
  };

  Impl(Options options, RecordCallback on_record)
      : opts_(options), on_record_(std::move(on_record)) {
    if (opts_.delimiter == opts_.quote || opts_.delimiter == '\r' || opts_.delimiter == '\n' ||
        opts_.quote == '\r' || opts_.quote == '\n') {
      throw std::invalid_argument("csv::Options: delimiter and quote must differ and not be CR/LF");
    }
    if (opts_.max_record_bytes == 0) {
      throw std::invalid_argument("csv::Options: max_record_bytes must be positive");
    }
    if (!on_record_) throw std::invalid_argument("csv::Reader: on_record is empty");
  }

  void feed(std::string_view chunk) {
    consumed_ += chunk.size();
    if (chunk.empty()) return;
    if (!bom_done_) {
      chunk = consume_bom(chunk);
      if (chunk.empty()) return;
    }
    parse(chunk.data(), chunk.size());
  }

  void finish() {
    if (!bom_done_) {
      // Input shorter than a BOM: whatever matched so far is data.
      bom_done_ = true;
      parse(bom_buf_, bom_len_);
    }
    if (in_record()) check_size_at(parsed_);
    switch (state_) {
      case State::kRecordStart:
      case State::kSkipLf:
        break;
      case State::kFieldStart:  // "a," at EOF: the record ends with an empty field
      case State::kUnquoted:
      case State::kQuoteInQuoted:
      case State::kAfterStray:
        end_field();
        emit_record();
        break;
      case State::kQuoted:
      case State::kQuotedCr:
        set_error("unterminated quoted field " + std::to_string(ends_.size() + 1));
        end_field();
        emit_record();
        break;
    }
    state_ = State::kRecordStart;
  }

  /// Strips a UTF-8 BOM at the very start of input, even when it arrives
  /// split across chunks. Returns the part of `chunk` still to parse.
  std::string_view consume_bom(std::string_view chunk) {
    std::size_t i = 0;
    while (i < chunk.size() && bom_len_ < 3) {
      const auto b = static_cast<unsigned char>(chunk[i]);
      if (b != kBom[bom_len_]) {
        // Not a BOM: replay what was held back as ordinary data.
        bom_done_ = true;
        parse(bom_buf_, bom_len_);
        return chunk.substr(i);
      }
      bom_buf_[bom_len_++] = static_cast<char>(b);
      ++i;
    }
    if (bom_len_ == 3) {
      bom_done_ = true;
      bom_len_ = 0;
    }
    return chunk.substr(i);
  }

  /// The state machine over one contiguous block.
  void parse(const char* data, std::size_t n) {
    const char* p = data;
    const char* const end = data + n;
    block_ = data;
    block_pos_ = parsed_;
    const char delim = opts_.delimiter;
    const char quote = opts_.quote;

    while (p < end) {
      switch (state_) {
        case State::kSkipLf:
          if (*p == '\n') ++p;
          state_ = State::kRecordStart;
          break;

        case State::kRecordStart: {
          const char c = *p;
          if (c == '\n' || c == '\r') {  // empty line: skipped, but it is a line
            ++p;
            ++line_;
            state_ = c == '\r' ? State::kSkipLf : State::kRecordStart;
            break;
          }
          record_line_ = line_;
          record_start_ = pos(p);
          state_ = State::kFieldStart;
          break;
        }

        case State::kFieldStart:
          if (*p == quote) {
            ++p;
            state_ = State::kQuoted;
            break;
          }
          state_ = State::kUnquoted;
          [[fallthrough]];

        case State::kUnquoted:
        case State::kAfterStray: {
          const char* q = find_any3(p, end, delim, '\n', '\r');
          if (state_ == State::kUnquoted) append(p, q);
          p = q;
          if (p == end) break;
          const char c = *p++;
          if (c == delim) {
            check_size(p);
            end_field();
            state_ = State::kFieldStart;
          } else {
            check_size(p - 1);  // the line end itself does not count
            end_field();
            end_line(c);
          }
          break;
        }

        case State::kQuoted: {
          const char* q = find_any3(p, end, quote, '\n', '\r');
          append(p, q);
          p = q;
          if (p == end) break;
          const char c = *p++;
          if (c == quote) {
            state_ = State::kQuoteInQuoted;
          } else {
            // Embedded line break: part of the value, and it advances the
            // physical line count. "\r\n" counts once (see kQuotedCr).
            append(p - 1, p);
            ++line_;
            if (c == '\r') state_ = State::kQuotedCr;
          }
          break;
        }

        case State::kQuotedCr:
          if (*p == '\n') {
            append(p, p + 1);
            ++p;
          }
          state_ = State::kQuoted;
          break;

        case State::kQuoteInQuoted: {
          const char c = *p;
          if (c == quote) {  // "" is an escaped quote
            append(p, p + 1);
            ++p;
            state_ = State::kQuoted;
          } else if (c == delim) {
            ++p;
            check_size(p);
            end_field();
            state_ = State::kFieldStart;
          } else if (c == '\n' || c == '\r') {
            check_size(p);
            ++p;
            end_field();
            end_line(c);
          } else {
            // RFC 4180 allows only a delimiter or line end after the closing
            // quote. Keep the quoted part, drop the rest up to the field end.
            set_error("unexpected character after closing quote in field " +
                      std::to_string(ends_.size() + 1));
            state_ = State::kAfterStray;
          }
          break;
        }
      }
    }
    // Also at the block end, so a record that never ends (a lost quote) is
    // cut off at the limit instead of growing with the input.
    if (in_record()) check_size(end);
    parsed_ += n;
  }

  bool in_record() const noexcept {
    return state_ != State::kRecordStart && state_ != State::kSkipLf;
  }

  std::uint64_t pos(const char* p) const noexcept {
    return block_pos_ + static_cast<std::uint64_t>(p - block_);
  }

  /// Record ended by '\n' or '\r' (already consumed).
  void end_line(char c) {
    emit_record();
    ++line_;
    state_ = c == '\r' ? State::kSkipLf : State::kRecordStart;
  }

  /// Switches to overflow mode once the raw record passes the limit: from then
  /// on nothing is stored until the record ends, so memory stays bounded.
  /// The raw size is measured at every point where it can be observed (field
  /// end, record end, block end, before storing bytes); since it only grows,
  /// the verdict does not depend on where chunks were cut.
  void check_size(const char* p) { check_size_at(pos(p)); }

  void check_size_at(std::uint64_t offset) {
    if (!overflow_ && offset - record_start_ > opts_.max_record_bytes) {
      overflow_ = true;
      buf_size_ = 0;
      ends_.clear();
    }
  }

  void append(const char* from, const char* to) {
    const auto n = static_cast<std::size_t>(to - from);
    if (n == 0 || overflow_) return;
    // Raw bytes of the record so far: everything up to `to` plus nothing more.
    check_size(to);
    if (overflow_) return;
    if (buf_size_ + n > buf_cap_) grow(buf_size_ + n);
    std::memcpy(buf_.get() + buf_size_, from, n);
    buf_size_ += n;
  }

  void grow(std::size_t need) {
    std::size_t cap = buf_cap_ ? buf_cap_ * 2 : 4096;
    while (cap < need) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (buf_size_) std::memcpy(bigger.get(), buf_.get(), buf_size_);
    buf_ = std::move(bigger);
    buf_cap_ = cap;
  }

  void end_field() {
    if (!overflow_) ends_.push_back(buf_size_);
  }

  void set_error(std::string message) {
    if (record_.error.empty()) record_.error = std::move(message);
  }

  /// All fields valid UTF-8? One pass over the concatenated values, then a
  /// check that no field starts with a continuation byte: a valid
  /// concatenation whose pieces all start on a character boundary is valid
  /// piece by piece, and this is what catches a sequence split by a delimiter.
  bool record_utf8_ok() const noexcept {
    const char* base = buf_.get();
    if (!catalog::valid_utf8(std::string_view(base, buf_size_))) return false;
    for (const std::size_t e : ends_) {
      if (e < buf_size_ && (static_cast<unsigned char>(base[e]) & 0xC0) == 0x80) return false;
    }
    return true;
  }

  void emit_record() {
    record_.line = record_line_;
    record_.fields.clear();
    if (overflow_) {
      record_.error = "record exceeds the maximum size of " +
                      std::to_string(opts_.max_record_bytes) + " bytes";
    } else {
      const char* base = buf_.get();
      std::size_t start = 0;
      for (const std::size_t e : ends_) {
        record_.fields.emplace_back(base + start, e - start);
        start = e;
      }
      if (opts_.validate_utf8 && record_.error.empty() && !record_utf8_ok()) {
        // Rare path: find the field to name in the error.
        for (std::size_t i = 0; i < record_.fields.size(); ++i) {
          const auto f = record_.fields[i];
          if (!catalog::valid_utf8(f)) {
            record_.error = "invalid UTF-8 in field " + std::to_string(i + 1);
            break;
          }
        }
      }
    }
    ++records_;
    // Reset before the callback so a throwing callback leaves no half record.
    buf_size_ = 0;
    ends_.clear();
    overflow_ = false;
    on_record_(record_);
    record_.error.clear();
  }

  Options opts_;
  RecordCallback on_record_;
  State state_ = State::kRecordStart;

  std::unique_ptr<char[]> buf_;  ///< unescaped values of the current record
  std::size_t buf_size_ = 0;
  std::size_t buf_cap_ = 0;
  std::vector<std::size_t> ends_;  ///< end offset in buf_ of each finished field
  bool overflow_ = false;
  Record record_;  ///< reused so its vector and string keep their capacity

  std::uint64_t line_ = 1;         ///< physical line at the parse position
  std::uint64_t record_line_ = 1;  ///< line where the current record started
  std::uint64_t record_start_ = 0; ///< input offset where the current record started
  std::uint64_t consumed_ = 0;     ///< bytes given to feed()
  std::uint64_t parsed_ = 0;       ///< bytes given to parse(): the offset space of pos()
  std::uint64_t records_ = 0;
  const char* block_ = nullptr;  ///< block being parsed and its input offset, for pos()
  std::uint64_t block_pos_ = 0;

  bool bom_done_ = false;
  char bom_buf_[3] = {};
  std::size_t bom_len_ = 0;
};

Reader::Reader(Options options, RecordCallback on_record)
    : impl_(std::make_unique<Impl>(options, std::move(on_record))) {}

Reader::~Reader() = default;

void Reader::feed(std::string_view chunk) { impl_->feed(chunk); }

void Reader::finish() { impl_->finish(); }

std::uint64_t Reader::bytes_consumed() const noexcept { return impl_->consumed_; }

std::uint64_t Reader::records_emitted() const noexcept { return impl_->records_; }

}  // namespace catalog::csv
