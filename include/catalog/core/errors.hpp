#pragma once

#include <stdexcept>
#include <string>

namespace catalog {

/// Base of every domain and infrastructure failure. `what()` is the external
/// message (safe to show a client); `internal()` is the detail for the log.
/// Services throw these and never pick HTTP codes: http/error_mapping does.
class Error : public std::runtime_error {
 public:
  Error(std::string external, std::string internal = {})
      : std::runtime_error(std::move(external)), internal_(std::move(internal)) {}
  const std::string& internal() const noexcept { return internal_; }

 private:
  std::string internal_;
};

/// Malformed input: bad JSON, bad parameter, bad id format (HTTP 400).
class BadRequest : public Error {
  using Error::Error;
};

/// Well-formed input that fails validation; names the offending field (422).
class ValidationError : public Error {
 public:
  ValidationError(std::string field, std::string message)
      : Error(std::move(message)), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

class NotFound : public Error {
  using Error::Error;
};

class Conflict : public Error {
  using Error::Error;
};

/// Authenticated, but the caller's scopes do not allow this (403); the
/// message names the scope needed.
class Forbidden : public Error {
  using Error::Error;
};

/// The database cannot be reached or refused service (503).
class DatabaseUnavailable : public Error {
  using Error::Error;
};

/// A statement ran past DB_STATEMENT_TIMEOUT and was cancelled (503 `timeout`).
class StatementTimeout : public Error {
  using Error::Error;
};

/// No capacity right now, e.g. every pooled connection is busy (503
/// `overloaded` with Retry-After).
class Overloaded : public Error {
  using Error::Error;
};

/// A dependency (S3, credentials endpoint) failed (502).
class UpstreamError : public Error {
  using Error::Error;
};

/// Invalid configuration: stops start-up with one line naming the variable.
class ConfigError : public Error {
  using Error::Error;
};

}  // namespace catalog
