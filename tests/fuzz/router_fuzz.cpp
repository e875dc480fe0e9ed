// Router, path decoding and the dispatcher (src/http/router.cpp, message.cpp):
// a method and a request-target of any bytes, plus optional auth headers,
// through the same steps the server takes (percent_decode of the path,
// parse_query, Dispatcher::handle with the service's route table).
// Properties: the request is answered, never with a 5xx from the routing
// layer itself; every answer is a JSON body; a matched path parameter is
// never empty.
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/http/message.hpp"
#include "catalog/http/router.hpp"
#include "catalog/log/logging.hpp"
#include "fuzz_support.hpp"

namespace {

// The service's route table (src/handlers/*.cpp add_*_routes). The handlers
// here only echo what routing gave them.
const char* const kRoutes[][2] = {
    {"GET", "/health"},          {"GET", "/metrics"},          {"GET", "/openapi.json"},
    {"GET", "/docs"},            {"GET", "/docs/assets/{name}"}, {"GET", "/runs"},
    {"POST", "/items"},           {"GET", "/items"},
    {"GET", "/items/{id}"},      {"PATCH", "/items/{id}"},     {"DELETE", "/items/{id}"},
    {"GET", "/products"},        {"GET", "/products/{source}/{sku}"},
    {"PUT", "/jobs/{id}"},       {"GET", "/jobs"},             {"GET", "/jobs/{id}"},
    {"DELETE", "/jobs/{id}"},    {"POST", "/jobs/{id}/run"},   {"GET", "/jobs/{id}/runs"},
    {"GET", "/runs/{run_id}"},   {"POST", "/runs/{run_id}/cancel"}, {"POST", "/feeds"},
    {"GET", "/feeds"},           {"GET", "/feeds/{feed_id}"}};

const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"};

const catalog::http::Dispatcher& dispatcher() {
  static const catalog::http::Dispatcher instance = [] {
    catalog::http::Router router;
    for (const auto& route : kRoutes) {
      const std::string pattern = route[1];
      router.add(route[0], pattern, [](const catalog::http::Request& request) {
        nlohmann::json params = nlohmann::json::object();
        for (const auto& [name, value] : request.params) params[name] = value;
        return catalog::http::json_response(
            200, {{"params", params}, {"query", request.query.size()}});
      });
    }
    catalog::http::Dispatcher::Options options;
    options.api_token = catalog::Secret("fuzz-token");
    return catalog::http::Dispatcher(std::move(router), std::move(options));
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Access log lines go through the real JSON writer (hostile paths included)
  // but not to the terminal.
  if (std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
  catalog::log::init(catalog::log::Format::json, spdlog::level::info);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  catalog::http::Request request;
  request.method = kMethods[flags % 8];
  request.target = std::string(in.until('\n'));
  if (flags & 8) request.headers.emplace_back("Authorization", "Bearer fuzz-token");
  if (flags & 16) request.headers.emplace_back("X-API-Key", std::string(in.until('\n')));
  if (flags & 32) request.headers.emplace_back("X-Request-Id", std::string(in.until('\n')));

  // What the server does before dispatching: a bad escape is a 400 there.
  const std::string_view target = request.target;
  const auto q = target.find('?');
  try {
    request.path = catalog::http::percent_decode(target.substr(0, q), false);
    if (q != std::string_view::npos) request.query = catalog::http::parse_query(target.substr(q + 1));
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "request-target decoding");
    return 0;
  }
  (void)dispatcher().runs_inline(request.method, target);

  const auto response = dispatcher().handle(request, std::chrono::steady_clock::now());
  if (response.status >= 500) catalog::fuzz::finding("routing answered " + std::to_string(response.status));
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded()) catalog::fuzz::finding("response body is not JSON: " + response.body.substr(0, 200));
  if (response.status == 200) {
    for (const auto& [name, value] : body["params"].items()) {
      if (!value.is_string() || value.get<std::string>().empty()) catalog::fuzz::finding("empty path parameter " + name);
    }
  }
  return 0;
}
