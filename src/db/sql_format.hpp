#pragma once

#include <string>

namespace catalog::db {

/// SQL expression rendering a timestamptz column as RFC 3339 UTC with
/// microseconds ("2026-11-23T10:00:00.123456Z"); NULL stays NULL.
inline std::string rfc3339(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

}  // namespace catalog::db
