// HTTP/1.1 request framing as the server reads it (src/http/session.cpp,
// framing.cpp): bytes of any kind, fed in pieces of any size, into Beast's
// request parser with the session's limits — header limit, body limit, the
// bounded read buffer (header limit + kChunkLineBytes), the chunk-extension
// budget and the Transfer-Encoding rule.
// Properties: the read buffer never exceeds its bound (an endless chunk
// extension or trailer is an error, not growth); a completed request with a
// Transfer-Encoding has exactly `chunked`; its body is within the body limit
// and its chunk extensions within kMaxChunkExtensionBytes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "fuzz_support.hpp"
#include "http/framing.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::size_t kHeaderLimit = 2048;  // small, so the fuzzer reaches it
constexpr std::size_t kBodyLimit = 64 * 1024;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "finding: %s\n", what);
  std::abort();
}

}  // namespace

// BOOST_ENABLE_ASSERT_HANDLER (tests/fuzz/CMakeLists.txt): Beast's asserts
// land here. Every one is a finding except `n >= 5` in
// basic_parser::parse_chunk_header, which Boost 1.74 asserts wrongly: a
// chunked body's "0\r\n" can arrive before its last CRLF (n == 3 or 4), and
// the code below the assert answers need_more, as it should (fixed upstream,
// boostorg/beast#2861). Release builds define NDEBUG and never assert.
namespace boost {
void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  const bool known_wrong =
      std::string_view(expr) == "n >= 5" && std::string_view(function).find("parse_chunk_header") != std::string_view::npos;
  if (known_wrong) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}
void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}
}  // namespace boost

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input input(data, size);
  const std::size_t piece = 1 + input.byte() % 64;  // bytes per "read"
  const std::string_view bytes = input.rest();

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  std::size_t extension_bytes = 0;
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_header =
      [&](std::uint64_t, beast::string_view extensions, beast::error_code& ec) {
        extension_bytes += extensions.size();
        if (extension_bytes > catalog::http::kMaxChunkExtensionBytes) ec = bhttp::error::bad_chunk_extension;
      };
  parser.on_chunk_header(on_chunk_header);
  const std::size_t buffer_limit = kHeaderLimit + catalog::http::kChunkLineBytes;
  beast::flat_buffer buffer(buffer_limit);

  std::size_t offset = 0;
  bool header_checked = false;
  while (!parser.is_done()) {
    // The session's read step: more bytes into the bounded buffer...
    if (offset < bytes.size()) {
      const std::size_t room = buffer.max_size() - buffer.size();
      if (room == 0) return 0;  // Beast's read answers buffer_overflow: 400, connection closed
      const std::size_t n = std::min({piece, room, bytes.size() - offset});
      const auto dest = buffer.prepare(n);
      std::memcpy(dest.data(), bytes.data() + offset, n);
      buffer.commit(n);
      offset += n;
    } else if (buffer.size() == 0) {
      return 0;  // the client stopped: a timeout
    }
    if (buffer.size() > buffer_limit) finding("read buffer beyond its bound");
    // ...then the parser consumes what it can.
    beast::error_code ec;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      if (offset >= bytes.size()) return 0;
      continue;
    }
    if (ec) return 0;  // a 4xx and a closed connection
    if (parser.is_header_done() && !header_checked) {
      header_checked = true;
      const auto& req = parser.get();
      std::vector<std::string_view> codings;
      for (auto [it, end] = req.equal_range(bhttp::field::transfer_encoding); it != end; ++it) {
        codings.emplace_back(it->value().data(), it->value().size());
      }
      const bool has_length = req.count(bhttp::field::content_length) > 0;
      if (catalog::http::transfer_encoding_error(codings, has_length, req.version())) return 0;  // 400
      if (!codings.empty() && !parser.chunked()) finding("accepted Transfer-Encoding that is not chunked");
    }
  }
  if (parser.get().body().size() > kBodyLimit) finding("body beyond the body limit");
  if (extension_bytes > catalog::http::kMaxChunkExtensionBytes) finding("chunk extensions beyond their budget");
  return 0;
}
