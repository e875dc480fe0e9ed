#include "catalog/http/error_mapping.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/except>

#include "catalog/core/errors.hpp"
#include "catalog/http/http_errors.hpp"

namespace catalog::http {

Response error_response(int status, const std::string& code, const std::string& message,
                        const std::string& request_id, const std::string& field) {
  nlohmann::json error = {{"code", code}, {"message", message}, {"request_id", request_id}};
  if (!field.empty()) error["field"] = field;
  auto response = json_response(status, {{"error", error}});
  // Every 503 (database away, busy, a statement timeout) is worth retrying soon.
  if (status == 503) response.set_header("Retry-After", "1");
  return response;
}

MappedError map_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const ValidationError& e) {
    return {422, "validation_failed", e.what(), e.field(), e.internal()};
  } catch (const BadRequest& e) {
    return {400, "bad_request", e.what(), {}, e.internal()};
  } catch (const NotFound& e) {
    return {404, "not_found", e.what(), {}, e.internal()};
  } catch (const Forbidden& e) {
    return {403, "forbidden", e.what(), {}, e.internal()};
  } catch (const Conflict& e) {
    return {409, "conflict", e.what(), {}, e.internal()};
  } catch (const DatabaseUnavailable& e) {
    return {503, "database_unavailable", e.what(), {}, e.internal()};
  } catch (const StatementTimeout& e) {
    return {503, "timeout", e.what(), {}, e.internal()};
  } catch (const Overloaded& e) {
    return {503, "overloaded", e.what(), {}, e.internal()};
  } catch (const UpstreamError& e) {
    return {502, "upstream_error", e.what(), {}, e.internal()};
  } catch (const UnsupportedMediaType& e) {
    return {415, "unsupported_media_type", e.what(), {}, e.internal()};
  } catch (const PayloadTooLarge& e) {
    return {413, "payload_too_large", e.what(), {}, e.internal()};
  } catch (const Error& e) {
    return {500, "internal", "internal error", {}, std::string(e.what()) + " " + e.internal()};
  } catch (const pqxx::broken_connection& e) {
    return {503, "database_unavailable", "database unavailable", {}, e.what()};
  } catch (const pqxx::sql_error& e) {
    // Class 08 (connection exception) and 57P (operator intervention, e.g. the
    // server shutting down) mean the database is away, not that we are wrong.
    const std::string state = e.sqlstate();
    if (state == "57014") return {503, "timeout", "the database took too long to answer; retry shortly", {}, e.what()};
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
      return {503, "database_unavailable", "database unavailable", {}, e.what()};
    }
    return {500, "internal", "internal error", {}, std::string(e.what()) + " sqlstate=" + state};
  } catch (const std::exception& e) {
    return {500, "internal", "internal error", {}, e.what()};
  } catch (...) {
    return {500, "internal", "internal error", {}, "unknown exception"};
  }
}

Response exception_response(std::exception_ptr error, const std::string& request_id) {
  const auto m = map_exception(std::move(error));
  return error_response(m.status, m.code, m.message, request_id, m.field);
}

}  // namespace catalog::http
