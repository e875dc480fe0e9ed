#include "etl/key_partitions.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "catalog/core/errors.hpp"

namespace catalog::etl {
namespace {

// Record layout (host byte order: the files never leave the process):
//   'K' Slot (24 bytes)
//   'R' key u64, content u64, line u64, check u32, fields length u32, then the encoded fields
constexpr char kKeyTag = 'K';
constexpr char kRowTag = 'R';
constexpr std::size_t kRowHeader = 8 * 3 + 4 * 2;
constexpr std::size_t kWriteBuffer = 64 * 1024;
constexpr std::size_t kReadChunk = 1 << 20;

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void encode_fields(const std::vector<std::string_view>& fields, std::string& out) {
  out.clear();
  for (const std::string_view f : fields) {
    put(out, static_cast<std::uint32_t>(f.size()));
    out.append(f);
  }
}

void decode_fields(std::string_view encoded, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i + 4 <= encoded.size()) {
    const auto n = get<std::uint32_t>(encoded.data() + i);
    if (n > encoded.size() - i - 4) break;
    out.push_back(encoded.substr(i + 4, n));
    i += 4 + n;
  }
  if (i != encoded.size()) throw catalog::Error("a deferred feed row read back from TMPDIR is damaged");
}

unsigned partition_bits(std::uint64_t expected_keys, std::uint64_t max_keys) {
  const std::uint64_t per_partition = max_keys / 2 == 0 ? 1 : max_keys / 2;
  unsigned bits = kMinPartitionBits;
  while (bits < kMaxPartitionBits && (std::uint64_t{1} << bits) * per_partition < expected_keys) ++bits;
  return bits;
}

PartitionFiles::PartitionFiles(const std::string& dir, unsigned bits) : dir_(dir), bits_(bits), parts_(count()) {
  std::string pattern = dir_;
  if (pattern.empty() || pattern.back() != '/') pattern.push_back('/');
  pattern += "catalog-etl-part-XXXXXX";
  for (std::uint32_t p = 1; p < count(); ++p) {
    // mkstemp then unlink: the file has no name while it is used, and the
    // kernel frees it when the descriptor closes, even if the process dies.
    std::string path = pattern;
    const int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      for (Part& part : parts_) {
        if (part.fd >= 0) ::close(part.fd);  // no destructor for a constructor that throws
      }
      fail("cannot create a temporary file for key partitions", err);
    }
    ::unlink(path.c_str());
    parts_[p].fd = fd;
  }
}

PartitionFiles::~PartitionFiles() {
  for (Part& part : parts_) {
    if (part.fd >= 0) ::close(part.fd);
  }
}

void PartitionFiles::fail(const std::string& what, int err) const {
  throw catalog::Error(what + " in TMPDIR=" + dir_ + ": " + std::strerror(err));
}

void PartitionFiles::add_key(std::uint32_t p, const KeyTable::Slot& slot) {
  Part& part = parts_[p];
  part.buf.push_back(kKeyTag);
  put(part.buf, slot);
  ++part.keys;
  if (part.buf.size() >= kWriteBuffer) flush(part);
}

void PartitionFiles::add_row(std::uint32_t p, const DeferredRow& row) {
  Part& part = parts_[p];
  std::string& b = part.buf;
  b.push_back(kRowTag);
  put(b, row.key);
  put(b, row.content);
  put(b, row.line);
  put(b, row.check);
  put(b, static_cast<std::uint32_t>(row.fields.size()));
  b.append(row.fields);
  ++part.rows;
  if (b.size() >= kWriteBuffer) flush(part);
}

void PartitionFiles::flush(Part& part) {
  std::size_t done = 0;
  while (done < part.buf.size()) {
    const ssize_t n = ::write(part.fd, part.buf.data() + done, part.buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write to a temporary file for key partitions", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  part.written += part.buf.size();
  bytes_ += part.buf.size();
  part.buf.clear();
}

void PartitionFiles::replay(std::uint32_t p, const std::function<void(const KeyTable::Slot&)>& on_key,
                            const std::function<void(const DeferredRow&)>& on_row) {
  Part& part = parts_[p];
  flush(part);
  std::string buf;
  std::size_t pos = 0;
  off_t offset = 0;
  // Makes `n` bytes from `pos` available; false at the end of the file.
  const auto ensure = [&](std::size_t n) {
    while (buf.size() - pos < n) {
      if (pos != 0) {
        buf.erase(0, pos);
        pos = 0;
      }
      const std::size_t have = buf.size();
      buf.resize(have + std::max(kReadChunk, n));
      const ssize_t got = ::pread(part.fd, buf.data() + have, buf.size() - have, offset);
      if (got < 0) {
        buf.resize(have);
        if (errno == EINTR) continue;
        fail("cannot read back a temporary file for key partitions", errno);
      }
      buf.resize(have + static_cast<std::size_t>(got));
      offset += got;
      if (got == 0) return false;
    }
    return true;
  };
  std::uint64_t keys = 0;
  std::uint64_t rows = 0;
  while (ensure(1)) {
    const char tag = buf[pos];
    if (tag == kKeyTag && ensure(1 + sizeof(KeyTable::Slot))) {
      on_key(get<KeyTable::Slot>(buf.data() + pos + 1));
      pos += 1 + sizeof(KeyTable::Slot);
      ++keys;
      continue;
    }
    if (tag != kRowTag || !ensure(1 + kRowHeader)) break;
    const char* h = buf.data() + pos + 1;
    DeferredRow row;
    row.key = get<std::uint64_t>(h);
    row.content = get<std::uint64_t>(h + 8);
    row.line = get<std::uint64_t>(h + 16);
    row.check = get<std::uint32_t>(h + 24);
    const auto fields_len = get<std::uint32_t>(h + 28);
    const std::size_t total = 1 + kRowHeader + fields_len;
    if (!ensure(total)) break;
    row.fields = std::string_view(buf.data() + pos + 1 + kRowHeader, fields_len);
    on_row(row);
    pos += total;
    ++rows;
  }
  if (keys != part.keys || rows != part.rows || static_cast<std::uint64_t>(offset) != part.written) {
    throw catalog::Error("key partition read back from its temporary file in TMPDIR=" + dir_ +
                         " does not match what was written");
  }
  ::close(part.fd);
  part.fd = -1;
}

}  // namespace catalog::etl
