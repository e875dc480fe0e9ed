#pragma once

#include <cstdint>
#include <string_view>

namespace catalog::etl {

/// XXH64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md):
/// fast, well distributed and, unlike std::hash, stable across builds and
/// platforms. Content hashes are stored in `products.content_hash`, so the
/// function must never change silently (it is pinned by known-answer tests).
std::uint64_t xxh64(std::string_view data, std::uint64_t seed = 0) noexcept;

}  // namespace catalog::etl
