#include "http/access_log.hpp"

#include <cmath>

#include "catalog/log/logging.hpp"
#include "catalog/metrics/metrics.hpp"

namespace catalog::http {

void record_request(const Request& request, const Response& response, std::string_view route,
                    const std::string& internal_error, std::chrono::steady_clock::time_point received_at,
                    metrics::Registry* metrics) {
  const auto latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received_at);
  if (metrics != nullptr) metrics->record_request(route, request.method, response.status, latency.count() / 1000.0);
  const auto level = response.status >= 500 ? spdlog::level::err : spdlog::level::info;
  if (!log::enabled(level)) return;  // LOG_LEVEL=warn: no access log, so build none of it
  nlohmann::json fields = {{"request_id", request.request_id},
                           {"method", request.method},
                           {"route", route},
                           {"path", request.path},
                           {"status", response.status},
                           {"latency_ms", std::round(latency.count() * 1000) / 1000},
                           {"bytes", response.body_view().size()}};
  if (request.principal) fields["key"] = request.principal->name;  // the key's name, never its secret
  if (auto trace = request.header("X-Amzn-Trace-Id")) fields["trace_id"] = *trace;
  if (!internal_error.empty()) fields["error"] = internal_error;
  log::write(level, "http", "request", fields);
}

}  // namespace catalog::http
