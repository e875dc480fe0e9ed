#pragma once

// The handler fuzz targets compile a handler's .cpp into themselves (its
// parsing helpers live in an anonymous namespace) and drive its real request
// functions. The database and the job runner are not part of a fuzz run: the
// repository members those files reference are defined here to answer
// without one (fixed rows, nothing stored), so what is fuzzed is exactly the
// request parsing and validation in front of them.

#include <new>
#include <string>

#include "catalog/db/pool.hpp"
#include "fuzz_support.hpp"

namespace catalog::fuzz {

/// A Pool reference for repository constructors; never used (the stubs
/// below do not touch it), so no connection is ever opened.
inline db::Pool& unused_pool() {
  alignas(db::Pool) static unsigned char storage[sizeof(db::Pool)];
  return *std::launder(reinterpret_cast<db::Pool*>(storage));
}

/// libpq passes text as C strings: a value with a NUL would be stored cut
/// short, so reaching a repository with one is a finding.
inline void require_storable(const std::string& text) {
  if (text.find('\0') != std::string::npos) finding("a value with a NUL byte reached the database");
}

}  // namespace catalog::fuzz
