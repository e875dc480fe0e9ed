#include "etl/spill_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "catalog/core/errors.hpp"

namespace catalog::etl {

std::string temp_directory(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = std::getenv("TMPDIR");
  if (env != nullptr && *env != '\0') return env;
  return "/tmp";
}

SpillBuffer::SpillBuffer(std::string dir, std::size_t mem_limit) : dir_(std::move(dir)), mem_limit_(mem_limit) {}

SpillBuffer::~SpillBuffer() {
  if (fd_ >= 0) ::close(fd_);
}

void SpillBuffer::fail(const std::string& what, int err) const {
  throw catalog::Error(what + " in TMPDIR=" + dir_ + ": " + std::strerror(err));
}

void SpillBuffer::maybe_spill() {
  if (mem_.size() < mem_limit_) return;
  if (fd_ < 0) {
    // mkstemp then unlink: the file has no name while it is used, and the
    // kernel frees it when the descriptor closes, even if the process dies.
    std::string path = dir_;
    if (path.empty() || path.back() != '/') path.push_back('/');
    path += "catalog-etl-XXXXXX";
    fd_ = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd_ < 0) fail("cannot create a temporary file", errno);
    ::unlink(path.c_str());
  }
  std::size_t done = 0;
  while (done < mem_.size()) {
    const ssize_t n = ::write(fd_, mem_.data() + done, mem_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write to a temporary file", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  spilled_ += mem_.size();
  mem_.clear();
}

void SpillBuffer::replay(db::CopyIn& copy) {
  if (fd_ >= 0) {
    std::vector<char> chunk(1 << 20);
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(fd_, chunk.data(), chunk.size(), offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot read back a temporary file", errno);
      }
      if (n == 0) break;
      copy.write_raw(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
      offset += n;
    }
    if (static_cast<std::uint64_t>(offset) != spilled_) {
      throw catalog::Error("changed rows read back from the temporary file in TMPDIR=" + dir_ +
                           " are shorter than written");
    }
  }
  copy.write_raw(mem_);
}

}  // namespace catalog::etl
