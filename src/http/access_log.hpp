#pragma once

// What every answered request leaves behind: one access-log line and the
// request metrics.

#include <chrono>
#include <string>
#include <string_view>

#include "catalog/http/message.hpp"

namespace catalog::metrics {
class Registry;
}

namespace catalog::http {

/// Records `response` to `request` (matched `route`, or "unmatched") in
/// `metrics` (when set) and the access log (error level for 5xx, with
/// `internal_error`; nothing built when that level is off). Logs the key's
/// name, never its secret.
void record_request(const Request& request, const Response& response, std::string_view route,
                    const std::string& internal_error, std::chrono::steady_clock::time_point received_at,
                    metrics::Registry* metrics);

}  // namespace catalog::http
