#pragma once

// Scratch directories and file-descriptor counts for tests of code that
// spills to disk (the ETL's partition and spill files).

#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace catalog::testing {

/// A fresh directory under the system temp directory, named `<prefix>-XXXXXX`.
inline std::string make_temp_dir(const std::string& prefix = "catalog-test") {
  std::string path = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return path;
}

/// How many file descriptors this process has open now.
inline std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace catalog::testing
