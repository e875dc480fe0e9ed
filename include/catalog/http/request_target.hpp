#pragma once

#include "catalog/http/message.hpp"

namespace catalog::http {

/// The one parser of a request-target: fills `request.path` (percent-decoded,
/// without the query) and `request.query` (decoded parameters) from
/// `request.target`. Throws BadRequest on bad escapes, invalid UTF-8 or NUL;
/// the server answers those before any route sees the request.
void parse_request_target(Request& request);

}  // namespace catalog::http
