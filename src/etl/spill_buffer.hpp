#pragma once
// Changed rows of a run, in COPY text format, held in memory up to a limit and
// then spilled to an unnamed temporary file in TMPDIR (private to src/etl).

#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/db/product_loader.hpp"

namespace catalog::etl {

/// The directory temporary files go to: `configured` if not empty, else
/// $TMPDIR if set and not empty, else /tmp. std::tmpfile() ignores TMPDIR,
/// which on Fargate (read-only root, a root-owned /tmp volume) made every
/// spilling run fail; this honours it.
std::string temp_directory(const std::string& configured);

class SpillBuffer {
 public:
  /// Rows beyond `mem_limit` bytes go to a file created in `dir` on the first
  /// spill (nothing is created for a run that stays under the limit).
  SpillBuffer(std::string dir, std::size_t mem_limit);
  ~SpillBuffer();
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;

  /// Append rows here, then call count_row() and maybe_spill().
  std::string& buffer() { return mem_; }
  void count_row() { ++rows_; }
  /// Moves the buffered rows to the file once they reach the limit. Throws
  /// catalog::Error naming the directory if the file cannot be created or written.
  void maybe_spill();
  bool empty() const { return rows_ == 0; }
  std::uint64_t rows() const { return rows_; }
  /// Bytes written to the temporary file so far (0 = never spilled).
  std::uint64_t spilled_bytes() const { return spilled_; }
  /// Writes every buffered row, in order, into `copy`.
  void replay(db::CopyIn& copy);

 private:
  [[noreturn]] void fail(const std::string& what, int err) const;

  const std::string dir_;
  const std::size_t mem_limit_;
  std::string mem_;
  int fd_ = -1;
  std::uint64_t spilled_ = 0;
  std::uint64_t rows_ = 0;
};

}  // namespace catalog::etl
