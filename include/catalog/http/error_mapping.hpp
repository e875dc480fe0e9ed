#pragma once

#include <exception>
#include <string>

#include "catalog/http/message.hpp"

namespace catalog::http {

/// The one JSON error body (docs/openapi.json, schema Error):
/// {"error":{"code","message","request_id"[,"field"]}}.
Response error_response(int status, const std::string& code, const std::string& message,
                        const std::string& request_id, const std::string& field = {});

/// Status and code for a thrown exception (catalog::Error subclasses, pqxx
/// connection failures, anything else = 500 without internals).
struct MappedError {
  int status;
  std::string code;
  std::string message;  ///< safe for the client
  std::string field;    ///< set for validation errors
  std::string internal; ///< for the log only
};
MappedError map_exception(std::exception_ptr error);

/// map_exception + error_response.
Response exception_response(std::exception_ptr error, const std::string& request_id);

}  // namespace catalog::http
