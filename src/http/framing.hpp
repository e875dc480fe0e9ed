#pragma once
// Request framing rules that Beast 1.74's parser leaves to its user
// (RFC 9112 §6): which Transfer-Encoding a request may carry, and how many
// bytes chunk extensions may take.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace catalog::http {

/// Bytes of chunk extensions one request may carry in total (we ignore
/// them; a client has no reason to send more than a few).
inline constexpr std::size_t kMaxChunkExtensionBytes = 4 * 1024;

/// Read-buffer room beyond the header limit: one chunk-size line with its
/// extensions, or the trailer section, must fit in it, since Beast needs
/// either whole before it consumes anything.
inline constexpr std::size_t kChunkLineBytes = 8 * 1024;

/// Why a request's framing cannot be trusted, or nothing when it can.
/// `transfer_encodings`: the values of every Transfer-Encoding field, in
/// order. The only accepted form is exactly one coding, `chunked`, on
/// HTTP/1.1 without Content-Length: anything else (gzip, identity, an
/// unknown coding, chunked not alone) leaves the body's length unknown,
/// and guessing it is how a second request gets smuggled in.
std::optional<std::string> transfer_encoding_error(const std::vector<std::string_view>& transfer_encodings,
                                                   bool has_content_length, unsigned version);

}  // namespace catalog::http
