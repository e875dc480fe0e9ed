// JSON job definitions of PUT /jobs/{id} (handlers::parse_job_definition,
// src/handlers/job_definition.cpp: the id slug, body fields, uri rules,
// etl::JobOptions::from_json, options.notify under the URL policy), the
// function the handler calls before the database; the job id comes from the
// input too. Property: every definition is either accepted or answered 4xx,
// and no accepted text (id, source, uri, options) holds a NUL byte.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "handlers/job_definition.hpp"

namespace {

void require_storable(const std::string& text, const char* what) {
  if (text.find('\0') != std::string::npos) catalog::fuzz::finding(std::string("an accepted job ") + what + " holds a NUL byte");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  catalog::fuzz::Input in(data, size);
  const auto flags = in.byte();
  catalog::http::Request request;
  request.method = "PUT";
  request.headers.emplace_back("Content-Type", "application/json");
  request.params["id"] = (flags & 1) ? std::string(in.until('\n')) : std::string("acme-daily");
  request.body = std::string(in.rest());
  const std::string raw_bucket = (flags & 2) ? "" : "catalog-raw";
  // options.notify is checked against the service's rules: with and without a
  // NOTIFY_SECRET, strict or permissive address policy.
  catalog::handlers::JobNotifyRules notify_rules;
  notify_rules.can_sign = (flags & 4) != 0;
  notify_rules.policy.allow_http = (flags & 8) != 0;
  notify_rules.policy.allow_private = (flags & 16) != 0;
  try {
    const auto job = catalog::handlers::parse_job_definition(request, raw_bucket, notify_rules);
    require_storable(job.id, "id");
    require_storable(job.source, "source");
    require_storable(job.uri, "uri");
    if (job.options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).find("\\u0000") !=
        std::string::npos) {
      catalog::fuzz::finding("job options with a NUL character were accepted");
    }
  } catch (...) {
    catalog::fuzz::require_client_error(std::current_exception(), "job definition");
  }
  return 0;
}
