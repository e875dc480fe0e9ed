#pragma once
// A run's rejected rows (private to src/etl): each counted, the first
// kMaxStoredRejects kept in line order with a sanitised reason and raw text,
// and max_rejects enforced as soon as a count can pass it.

#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/etl/engine.hpp"
#include "catalog/etl/job_options.hpp"

namespace catalog::etl {

/// Valid UTF-8 copy of `s`, at most `max` bytes (whole characters), with
/// invalid sequences and NULs replaced by U+FFFD: rejects are stored in text
/// columns and shown as JSON.
std::string sanitize_utf8(std::string_view s, std::size_t max);

class RejectLog {
 public:
  /// Raw text is stored up to this many bytes.
  static constexpr std::size_t kRawMax = 200;

  /// Counts into `result` (rejected, first_rejects; bytes and read are the
  /// progress a TooManyRejects reports).
  RejectLog(RunResult& result, const MaxRejects& limit) : result_(result), limit_(limit) {}

  /// A partitioned run finds duplicates out of line order: from now on a
  /// later line's reject may still displace a stored one, so each is kept
  /// until sort_by_line().
  void keep_out_of_order() noexcept { out_of_order_ = true; }
  /// Whether the next reject is stored (build its raw text only then).
  bool stores_next() const noexcept;
  /// Counts one reject and stores it if stores_next(); throws TooManyRejects
  /// once a count-type max_rejects is passed (a ratio waits for the end).
  void add(std::uint64_t line, std::string_view reason, std::string_view raw);
  /// Keeps the first kMaxStoredRejects by line, as an in-memory run stores them.
  void sort_by_line();
  /// Throws TooManyRejects if max_rejects is passed once the feed is read.
  void check_limit() const;

 private:
  [[noreturn]] void throw_too_many() const;

  RunResult& result_;
  const MaxRejects& limit_;
  bool out_of_order_ = false;
};

}  // namespace catalog::etl
