#include "catalog/db/root_cert.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/core/errors.hpp"

namespace catalog::db {
namespace {

std::string hex64(std::uint64_t v) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(v));
  return out;
}

/// FNV-1a: names the file by its content (not a security property: the file
/// is written whole and renamed into place every time).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw ConfigError("DB_SSL_ROOT_CERT_PEM: cannot " + what + " '" + path + "': " + std::strerror(error));
}

}  // namespace

std::string use_root_cert(const std::string& pem) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  const std::string path =
      dir + "/catalog-db-ca-" + std::to_string(::getuid()) + "-" + hex64(fnv1a(pem)) + ".pem";
  // Written to a fresh private file, then renamed over the name: a reader
  // never sees half a bundle, and nothing someone else placed at the name
  // (a symlink included) is ever written through.
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());  // mode 0600
  if (fd < 0) fail("create a file in", dir, errno);
  std::size_t written = 0;
  while (written < pem.size()) {
    const ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;  // write() returning 0: nothing could be written
      ::close(fd);
      ::unlink(temp.c_str());
      fail("write", temp, error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail("write", temp, error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail("rename a file to", path, error);
  }
  ::setenv("PGSSLROOTCERT", path.c_str(), 1);
  ::setenv("PGSSLMODE", "verify-full", 0);  // config::load refused a weaker mode
  return path;
}

}  // namespace catalog::db
