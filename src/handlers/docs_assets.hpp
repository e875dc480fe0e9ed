#pragma once

// The Swagger UI files that CMake embeds in the binary for GET /docs
// (cmake/docs_ui.cmake generates the definitions from docs/ui).

#include <string_view>
#include <vector>

namespace catalog::handlers {

struct DocsAsset {
  std::string_view name;          ///< file name under /docs/assets/
  std::string_view content_type;  ///< Content-Type header value
  std::string_view etag;          ///< strong ETag, quoted: a prefix of the file's SHA-256
  std::string_view body;
  std::string_view gzip;          ///< the body gzip-compressed; empty when not worth it (images)
};

/// Every embedded file, in a fixed order.
const std::vector<DocsAsset>& embedded_docs_assets();

}  // namespace catalog::handlers
