#pragma once
// Key-hash partitions of a run whose key table would not fit its memory
// budget (private to src/etl; docs/etl.md "Large sources"). Partition 0 stays
// in the in-memory table; every other partition's existing keys and feed rows
// go, in arrival order, to one unnamed temporary file per partition, and are
// replayed partition by partition once the feed has been read.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/key_table.hpp"

namespace catalog::etl {

/// The partition of `key` among 2^bits: its top bits (the key table indexes
/// slots by the low bits, which therefore stay evenly spread in a partition).
inline std::uint32_t partition_of(std::uint64_t key, unsigned bits) noexcept {
  return bits == 0 ? 0 : static_cast<std::uint32_t>(key >> (64 - bits));
}

inline constexpr unsigned kMinPartitionBits = 4;  ///< 16 partitions
inline constexpr unsigned kMaxPartitionBits = 6;  ///< 64 (one open file each)

/// Partition bits for `expected_keys` when one partition's table may hold
/// `max_keys`: each partition gets at most half of that (room for new keys and
/// for an estimate that is low), at least kMinPartitionBits, at most kMaxPartitionBits.
unsigned partition_bits(std::uint64_t expected_keys, std::uint64_t max_keys);

/// One feed row deferred to its partition's replay: what its decision
/// (duplicate, insert, update, unchanged) needs, and its CSV fields, from
/// which the (deterministic) normaliser rebuilds the row only when it is
/// written or rejected: an unchanged row costs no formatting and few bytes.
struct DeferredRow {
  std::uint64_t key = 0;
  std::uint32_t check = 0;
  std::uint64_t content = 0;  ///< content hash
  std::uint64_t line = 0;     ///< physical line where the record starts
  std::string_view fields;    ///< encode_fields() of the record
};

/// Fields as one string: each as a 4-byte length and its bytes.
void encode_fields(const std::vector<std::string_view>& fields, std::string& out);
/// The inverse; the views point into `encoded`.
void decode_fields(std::string_view encoded, std::vector<std::string_view>& out);

class PartitionFiles {
 public:
  /// Creates 2^bits - 1 unnamed temporary files in `dir` (partition 0 has
  /// none). Throws catalog::Error naming the directory when it cannot.
  PartitionFiles(const std::string& dir, unsigned bits);
  ~PartitionFiles();
  PartitionFiles(const PartitionFiles&) = delete;
  PartitionFiles& operator=(const PartitionFiles&) = delete;

  unsigned bits() const noexcept { return bits_; }
  std::uint32_t count() const noexcept { return 1u << bits_; }
  std::uint32_t partition(std::uint64_t key) const noexcept { return partition_of(key, bits_); }

  /// Appends a key (an existing product, or a key moved out of the in-memory
  /// table with its state) to partition `p` (>= 1).
  void add_key(std::uint32_t p, const KeyTable::Slot& slot);
  void add_row(std::uint32_t p, const DeferredRow& row);

  std::uint64_t keys(std::uint32_t p) const { return parts_[p].keys; }
  std::uint64_t rows(std::uint32_t p) const { return parts_[p].rows; }
  /// Bytes written to all files so far.
  std::uint64_t bytes() const noexcept { return bytes_; }

  /// Reads partition p's records back in the order they were added, then
  /// closes its file (its disk space is freed at once).
  void replay(std::uint32_t p, const std::function<void(const KeyTable::Slot&)>& on_key,
              const std::function<void(const DeferredRow&)>& on_row);

 private:
  struct Part {
    int fd = -1;
    std::string buf;
    std::uint64_t written = 0;
    std::uint64_t keys = 0;
    std::uint64_t rows = 0;
  };
  void append(Part& part, const void* data, std::size_t n);
  void flush(Part& part);
  [[noreturn]] void fail(const std::string& what, int err) const;

  const std::string dir_;
  const unsigned bits_;
  std::vector<Part> parts_;
  std::uint64_t bytes_ = 0;
};

}  // namespace catalog::etl
