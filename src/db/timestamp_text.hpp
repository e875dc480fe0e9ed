#pragma once

#include <string>
#include <string_view>

#include "catalog/db/utc_timestamp.hpp"

namespace catalog::db {

/// A timestamptz as PostgreSQL prints it with DateStyle ISO (the default),
/// "2026-11-23 10:00:00.1234+01" (fraction trimmed, offset of the session's
/// TimeZone as ±HH[:MM[:SS]]), as RFC 3339 in UTC with six fraction digits:
/// "2026-11-23T09:00:00.123400Z". Selecting the plain column and converting
/// here costs PostgreSQL a third of what to_char(... AT TIME ZONE 'UTC') does
/// (docs/performance.md). Throws catalog::Error on any other form (another
/// DateStyle, infinity, years outside 0001..9999).
std::string rfc3339_utc(std::string_view pg_text);

/// Appends rfc3339_utc(pg_text) to `out` without a temporary.
void append_rfc3339_utc(std::string& out, std::string_view pg_text);

/// rfc3339_utc(pg_text), held inline (no allocation).
UtcTimestamp utc_timestamp(std::string_view pg_text);

}  // namespace catalog::db
