#pragma once

// Query-parameter parsing shared by the list endpoints (GET /products,
// GET /runs): unknown names are a 400, text must be storable, timestamps are
// RFC 3339. Private to the handlers.

#include <initializer_list>
#include <optional>
#include <set>
#include <string>

#include "catalog/http/message.hpp"

namespace catalog::handlers {

/// Throws BadRequest naming every parameter not in `allowed`: a typo would
/// otherwise silently return an unfiltered list.
void reject_unknown_params(const http::Request& request, const std::set<std::string>& allowed);

/// Throws BadRequest unless `value` is valid UTF-8 without NUL (what
/// PostgreSQL can take as a text parameter).
void require_text(const std::string& value, const std::string& what);

/// An optional, non-empty text parameter (BadRequest when empty or not text).
std::optional<std::string> text_param(const http::Request& request, const std::string& name);

/// An optional parameter that must be one of `allowed` (BadRequest naming
/// them all otherwise, e.g. `?status=` of GET /runs).
std::optional<std::string> choice_param(const http::Request& request, const std::string& name,
                                        std::initializer_list<const char*> allowed);

/// RFC 3339 date-time (https://www.rfc-editor.org/rfc/rfc3339#section-5.6):
/// YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM). Returns it with `T`/`Z` upper-cased
/// for PostgreSQL, or nullopt when malformed or out of range.
std::optional<std::string> rfc3339(std::string text);

/// An optional RFC 3339 parameter; BadRequest naming it when malformed.
std::optional<std::string> rfc3339_param(const http::Request& request, const std::string& name);

}  // namespace catalog::handlers
